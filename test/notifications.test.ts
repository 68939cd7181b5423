import { WorkflowNotFoundError } from '@temporalio/client';
import { emailWorkflowId } from '../domain/workflow-ids';
import { actorsOf, expectError, type Actor } from './support/actors';
import { uniqueEmail } from './support/fixtures';
import { startStack, waitFor, type TestStack } from './support/stack';

/**
 * Notifications on the real stack: every in-app notification also goes out by
 * e-mail, over SMTP, to the stack's own SMTP server (test/support/mailbox.ts), sent by
 * the notifications worker's delivery dispatcher; no workflow is started per e-mail.
 */
let stack: TestStack;
let actors: ReturnType<typeof actorsOf>;
let merchant: Actor;

interface NotificationBody {
  id: string;
  type: string;
  channel: 'in_app' | 'email';
  title: string;
  body: string;
  data: Record<string, unknown>;
  status: string;
  createdAt: string;
}

interface ListBody<T> {
  data: T[];
  hasMore: boolean;
  nextCursor: string | null;
}

beforeAll(async () => {
  stack = await startStack();
  actors = actorsOf(stack);
  merchant = await actors.signUp({ role: 'merchant', name: 'Acme' });
});

afterAll(async () => {
  // The file moves money: it ends with the ledger's invariants.
  await actors.expectReconciled(await actors.admin());
  await stack.stop();
});

function pay(payer: Actor, amount: number) {
  return actors.call<{ id: string; status: string; workflowId: string }>('POST', '/v1/payments', {
    token: payer.token,
    body: { merchantId: merchant.user.id, amount, currency: 'USD', description: 'Coffee <beans>' },
  });
}

/** The `email` notification row of a user's notification of one type about one resource. */
async function emailRow(userId: string, dedupePrefix: string) {
  return stack.db('notifications').where({ user_id: userId, channel: 'email' }).andWhere('dedupe_key', 'like', `${dedupePrefix}%`).first();
}

/** Fails unless Temporal never heard of `email-<id>`: the dispatcher sends e-mails without a workflow each. */
async function expectNoDeliveryWorkflow(notificationId: string): Promise<void> {
  await expect(stack.temporal.workflow.getHandle(emailWorkflowId(notificationId)).describe()).rejects.toBeInstanceOf(WorkflowNotFoundError);
}

/** Waits until that row is sent; returns it. */
function sentEmailRow(userId: string, dedupePrefix: string) {
  return waitFor(async () => {
    const row = await emailRow(userId, dedupePrefix);
    return row?.status === 'sent' ? row : undefined;
  }, { what: `the e-mail ${dedupePrefix} to be sent` });
}

describe('e-mails of notifications', () => {
  it('when a customer signs up, then a welcome e-mail with the promotional credit reaches their address', async () => {
    const customer = await actors.signUp({ name: 'Ada Lovelace' });

    const mail = await stack.mailbox.waitForMail(customer.email);

    expect(mail.to).toEqual([customer.email]);
    expect(mail.subject).toBe('Welcome to SagaPay');
    expect(mail.text).toContain('Hi Ada Lovelace,');
    expect(mail.text).toContain('your USD wallet is ready');
    expect(mail.text).toContain('We added 100.00 USD to your wallet');
    expect(mail.html).toContain('<p>Hi Ada Lovelace,</p>');
    const row = await sentEmailRow(customer.user.id, 'welcome:');
    expect(row).toMatchObject({ type: 'welcome', status: 'sent', attempts: 1, title: 'Welcome to SagaPay', delivery_queue: stack.config.temporal.notificationsTaskQueue, locked_until: null });
    expect(mail.messageId).toBe(`<${row.id}@notifications.sagapay>`);
    await expectNoDeliveryWorkflow(row.id);
  });

  it('when a payment succeeds, then the payer gets a receipt and the merchant a payment-received e-mail', async () => {
    const payer = await actors.signUp({ name: 'Ada' });

    const response = await pay(payer, 1_234);

    expect(response.body.status).toBe('succeeded');
    const paymentId = response.body.id;
    const receipt = await stack.mailbox.waitForMail(payer.email, (mail) => mail.text.includes(paymentId));
    expect(receipt.subject).toBe('Receipt: you paid 12.34 USD to Acme');
    expect(receipt.text).toContain('You paid 12.34 USD to Acme.');
    expect(receipt.text).toContain('For: Coffee <beans>');
    expect(receipt.html).toContain('For: Coffee &lt;beans&gt;');
    const received = await stack.mailbox.waitForMail(merchant.email, (mail) => mail.text.includes(paymentId));
    expect(received.to).toEqual([merchant.email]);
    expect(received.subject).toBe('Payment received: 12.34 USD');
    expect(received.text).toContain('SagaPay fee: 0.25 USD. Credited to your wallet: 12.09 USD.');
    expect(await sentEmailRow(payer.user.id, `${paymentId}:payment_succeeded`)).toMatchObject({ attempts: 1 });
    expect(await sentEmailRow(merchant.user.id, `${paymentId}:payment_received`)).toMatchObject({ attempts: 1 });
  });

  it('when a payment fails for lack of funds, then the payer gets a payment-failed e-mail and the merchant nothing', async () => {
    const payer = await actors.signUp({ name: 'Bea' });

    const response = await pay(payer, 10_001);

    expect(response.body.status).toBe('failed');
    const paymentId = response.body.id;
    const mail = await stack.mailbox.waitForMail(payer.email, (candidate) => candidate.text.includes(paymentId));
    expect(mail.subject).toBe('Payment failed: 100.01 USD to Acme');
    expect(mail.text).toContain('did not go through because there was not enough money in your wallet. No money left your wallet.');
    await stack.temporal.workflow.getHandle(response.body.workflowId).result();
    expect(await emailRow(merchant.user.id, `${paymentId}:`)).toBeUndefined();
    expect(stack.mailbox.mailsTo(merchant.email).filter((candidate) => candidate.text.includes(paymentId))).toEqual([]);
  });

  it('when a customer sends money to another, then the sender and the recipient each get an e-mail', async () => {
    const [sender, recipient] = await Promise.all([actors.signUp({ name: 'Cy' }), actors.signUp({ name: 'Di' })]);

    const response = await actors.call<{ id: string; status: string }>('POST', '/v1/transfers', {
      token: sender.token,
      body: { toUserId: recipient.user.id, amount: 2_550, currency: 'USD' },
    });

    expect(response.body.status).toBe('succeeded');
    const transferId = response.body.id;
    const sent = await stack.mailbox.waitForMail(sender.email, (mail) => mail.text.includes(transferId));
    expect(sent.subject).toBe('You sent 25.50 USD');
    expect(sent.text).toContain('Hi Cy,');
    const received = await stack.mailbox.waitForMail(recipient.email, (mail) => mail.text.includes(transferId));
    expect(received.subject).toBe('You received 25.50 USD');
    expect(received.text).toContain('Hi Di,');
  });
});

describe('when the SMTP server is down', () => {
  it('then the payment still succeeds, the e-mail is retried with its attempts counted, and it is sent once the server is back', async () => {
    const payer = await actors.signUp({ name: 'Eve' });
    await stack.mailbox.waitForMail(payer.email);
    await stack.mailbox.stop();

    let paymentId: string;
    try {
      const response = await pay(payer, 700);
      expect({ status: response.status, payment: response.body.status }).toEqual({ status: 201, payment: 'succeeded' });
      paymentId = response.body.id;
      await expect(stack.temporal.workflow.getHandle(response.body.workflowId).result()).resolves.toMatchObject({ status: 'succeeded', notified: true });
      expect(await actors.balanceOf(payer.token, payer.wallet.id)).toBe(10_000 - 700);
      await waitFor(
        async () => {
          const row = await emailRow(payer.user.id, `${paymentId}:payment_succeeded`);
          // Three attempts failed and recorded, none in flight (no lease): the send that succeeds is a later one.
          return (
            row &&
            row.status === 'pending' &&
            row.attempts >= 3 &&
            row.locked_until === null &&
            typeof row.last_error === 'string' &&
            row.last_error.startsWith('SMTP send failed')
          );
        },
        { what: 'three failed SMTP attempts' },
      );
    } finally {
      await stack.mailbox.start();
    }

    const mail = await stack.mailbox.waitForMail(payer.email, (candidate) => candidate.text.includes(paymentId));
    expect(mail.subject).toBe('Receipt: you paid 7.00 USD to Acme');
    const row = await sentEmailRow(payer.user.id, `${paymentId}:payment_succeeded`);
    expect(row.attempts).toBeGreaterThanOrEqual(4);
    expect(row.last_error).toBeNull();
    await expectNoDeliveryWorkflow(row.id);
    expect(stack.mailbox.mailsTo(payer.email).filter((candidate) => candidate.text.includes(paymentId))).toHaveLength(1);
  });
});

describe('when the SMTP server refuses a recipient for good', () => {
  it('then the e-mail is not retried and ends failed after one attempt', async () => {
    stack.mailbox.refuseRecipients(/^bounce\./);
    const email = uniqueEmail('bounce');
    const registered = await actors.call<{ user: { id: string } }>('POST', '/v1/auth/register', {
      body: { email, password: 'correct horse battery', name: 'Bounce' },
    });
    expect(registered.status).toBe(201);

    const row = await waitFor(
      async () => {
        const candidate = await emailRow(registered.body.user.id, 'welcome:');
        return candidate?.status === 'failed' ? candidate : undefined;
      },
      { what: 'the refused welcome e-mail to be marked failed' },
    );

    expect(row.attempts).toBe(1);
    expect(row.last_error).toMatch(/^the SMTP server refused the e-mail: /);
    await expectNoDeliveryWorkflow(row.id);
    expect(stack.mailbox.mailsTo(email)).toEqual([]);
  });
});

describe('GET /v1/notifications', () => {
  it('when a customer has paid, then they see their own in-app and e-mail notifications, newest first, page by page', async () => {
    const payer = await actors.signUp({ name: 'Fay' });
    const payment = await pay(payer, 250);
    await sentEmailRow(payer.user.id, `${payment.body.id}:payment_succeeded`);

    const all = await actors.call<ListBody<NotificationBody>>('GET', '/v1/notifications', { token: payer.token });

    expect(all.status).toBe(200);
    expect(all.body.data.map((item) => `${item.type}/${item.channel}/${item.status}`)).toEqual([
      'payment_succeeded/email/sent',
      'payment_succeeded/in_app/delivered',
      'welcome/email/sent',
      'welcome/in_app/delivered',
    ]);
    expect(all.body).toMatchObject({ hasMore: false, nextCursor: null });
    const [email, inApp] = all.body.data;
    expect(inApp).toEqual({
      id: expect.stringMatching(/^ntf_/) as string,
      type: 'payment_succeeded',
      channel: 'in_app',
      title: 'Payment sent',
      body: 'You paid 2.50 USD to Acme.',
      data: { paymentId: payment.body.id, amount: 250, currency: 'USD', merchantName: 'Acme', description: 'Coffee <beans>' },
      status: 'delivered',
      createdAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT.*Z$/) as string,
    });
    expect(email).toMatchObject({ channel: 'email', title: 'Receipt: you paid 2.50 USD to Acme', data: inApp?.data });

    const first = await actors.call<ListBody<NotificationBody>>('GET', '/v1/notifications?limit=3', { token: payer.token });
    expect(first.body).toMatchObject({ hasMore: true, nextCursor: first.body.data[2]?.id });
    const rest = await actors.call<ListBody<NotificationBody>>('GET', `/v1/notifications?limit=3&startingAfter=${first.body.nextCursor}`, { token: payer.token });
    expect(rest.body.data.map((item) => item.id)).toEqual([all.body.data[3]?.id]);
    const emails = await actors.call<ListBody<NotificationBody>>('GET', '/v1/notifications?channel=email', { token: payer.token });
    expect(emails.body.data.map((item) => item.type)).toEqual(['payment_succeeded', 'welcome']);

    const merchantView = await actors.call<ListBody<NotificationBody>>('GET', '/v1/notifications?limit=100', { token: merchant.token });
    expect(merchantView.body.data.some((item) => item.type === 'payment_succeeded')).toBe(false);
  });

  it('when the query or the token is bad, then it answers the contract’s errors', async () => {
    const customer = await actors.signUp();
    expectError(await actors.call('GET', '/v1/notifications?channel=sms', { token: customer.token }), 400, 'validation_error');
    expectError(await actors.call('GET', '/v1/notifications?limit=0', { token: customer.token }), 400, 'validation_error');
    expectError(await actors.call('GET', '/v1/notifications?startingAfter=ntf_nope', { token: customer.token }), 404, 'not_found');
    expectError(await actors.call('GET', '/v1/notifications'), 401, 'unauthorized');
  });
});
