import { actorsOf } from './support/actors';
import { startStackWith, startWorkersOf, stopWorkers, waitFor, type RunningWorkers, type TestStack } from './support/stack';
import { WebhookReceiver } from './support/webhook-receiver';

/**
 * The notifications worker scales (and fails) on its own: with it stopped, money
 * still moves; its in-app notifications, e-mails and webhooks catch up when it returns.
 * The stack runs only the notifications worker; this file runs the payments worker.
 */
let stack: TestStack;
let payments: RunningWorkers;
let notificationsAgain: RunningWorkers | undefined;
let receiver: WebhookReceiver;

beforeAll(async () => {
  stack = await startStackWith({}, { paymentsWorker: false });
  payments = await startWorkersOf(stack.config, stack.db, stack.workerConnection, { payments: true, notifications: false });
  receiver = await WebhookReceiver.open();
});

afterAll(async () => {
  if (notificationsAgain) await stopWorkers(notificationsAgain);
  await stopWorkers(payments);
  await stack.stop();
  await receiver.close();
});

it('when the notifications worker is stopped, then a payment still succeeds, and its notifications arrive once the worker is back', async () => {
  const actors = actorsOf(stack);
  const [payer, merchant] = await Promise.all([actors.signUp({ name: 'Ada' }), actors.signUp({ role: 'merchant', name: 'Acme' })]);
  await stack.mailbox.waitForMail(payer.email);
  const webhook = await actors.call<{ secret: string }>('PUT', '/v1/merchant/webhook', { token: merchant.token, body: { url: receiver.url } });
  receiver.secret = webhook.body.secret;
  await stopWorkers(stack.workers);

  const response = await actors.call<{ id: string; status: string; steps: Array<{ name: string }> }>('POST', '/v1/payments', {
    token: payer.token,
    body: { merchantId: merchant.user.id, amount: 1_500, currency: 'USD' },
  });

  expect({ status: response.status, payment: response.body.status }).toEqual({ status: 201, payment: 'succeeded' });
  expect(response.body.steps.map((step) => step.name)).not.toContain('notify');
  expect(await actors.balanceOf(merchant.token, merchant.wallet.id)).toBe(1_470);
  const paymentId = response.body.id;
  expect(await stack.db('notifications').where('dedupe_key', 'like', `${paymentId}:%`)).toEqual([]);

  notificationsAgain = await startWorkersOf(stack.config, stack.db, stack.workerConnection, { payments: false, notifications: true });

  const receipt = await stack.mailbox.waitForMail(payer.email, (mail) => mail.text.includes(paymentId));
  expect(receipt.subject).toBe('Receipt: you paid 15.00 USD to Acme');
  await stack.mailbox.waitForMail(merchant.email, (mail) => mail.text.includes(paymentId));
  const event = await waitFor(() => receiver.accepted()[0], { what: 'the payment.succeeded webhook' });
  expect(event).toMatchObject({ signatureValid: true, event: { type: 'payment.succeeded', data: { id: paymentId } } });
  const inApp = await stack.db('notifications').select('user_id', 'type').where({ channel: 'in_app' }).andWhere('dedupe_key', 'like', `${paymentId}:%`).orderBy('seq');
  expect(inApp.map((row) => [row.user_id, row.type])).toEqual([
    [payer.user.id, 'payment_succeeded'],
    [merchant.user.id, 'payment_received'],
  ]);
  const final = await waitFor(
    async () => {
      const payment = await actors.call<{ steps: Array<{ name: string; status: string }> }>('GET', `/v1/payments/${paymentId}`, { token: payer.token });
      return payment.body.steps.some((step) => step.name === 'notify') ? payment.body : undefined;
    },
    { what: 'the notify step' },
  );
  expect(final.steps.at(-1)).toMatchObject({ name: 'notify', status: 'completed' });
});
