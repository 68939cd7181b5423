import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ManagedProcess } from '../scripts/lib/processes';
import { actorsOf } from './support/actors';
import { startStackWith, startWorkersOf, stopWorkers, waitFor, type RunningWorkers, type TestStack } from './support/stack';
import { WebhookReceiver } from './support/webhook-receiver';
import { jsonLinesOf, spawnWorkerProcess } from './support/worker-process';

/**
 * The notifications worker scales (and fails) on its own: with it stopped, money
 * still moves; its in-app notifications, e-mails and webhooks catch up when it returns;
 * two of them share the deliveries without sending one twice.
 * The stack runs only the notifications worker; this file runs the payments worker.
 */
let stack: TestStack;
let payments: RunningWorkers;
let notificationsAgain: RunningWorkers | undefined;
let secondNotifications: ManagedProcess | undefined;
let logDir: string;
let receiver: WebhookReceiver;
/** The merchant whose webhook points at `receiver` (set by the first test). */
let hooked: { token: string; userId: string; email: string } | undefined;

beforeAll(async () => {
  stack = await startStackWith({}, { paymentsWorker: false });
  payments = await startWorkersOf(stack.config, stack.db, stack.workerConnection, { payments: true, notifications: false });
  receiver = await WebhookReceiver.open();
  logDir = mkdtempSync(join(tmpdir(), 'sagapay-notifications-scaling-'));
});

afterAll(async () => {
  // The file moves money: it ends with the ledger's invariants, while its payments worker still runs.
  const actors = actorsOf(stack);
  await actors.expectReconciled(await actors.admin());
  if (secondNotifications) await secondNotifications.stop(10_000);
  rmSync(logDir, { recursive: true, force: true });
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
  hooked = { token: merchant.token, userId: merchant.user.id, email: merchant.email };
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

it('when two notifications workers run, then every e-mail and webhook event of many payments is delivered exactly once', async () => {
  if (!notificationsAgain || !hooked) throw new Error('the first test did not leave a notifications worker and a merchant');
  const merchant = hooked;
  // The second one is a process of its own, as in production (one process may not run two workers of one task queue).
  const logFile = join(logDir, 'second-notifications-worker.log');
  secondNotifications = await spawnWorkerProcess('notifications', stack, {
    logFile,
    env: { SMTP_URL: stack.mailbox.url, WEBHOOK_ALLOW_PRIVATE: 'true', DELIVERY_POLL_INTERVAL_MS: '100' },
  });
  const actors = actorsOf(stack);
  const payer = await actors.signUp({ name: 'Bo' });
  const acceptedBefore = receiver.accepted().length;

  const responses = await Promise.all(
    Array.from({ length: 12 }, () =>
      actors.call<{ id: string; status: string }>('POST', '/v1/payments', { token: payer.token, body: { merchantId: merchant.userId, amount: 100, currency: 'USD' } }),
    ),
  );

  expect(responses.map((response) => response.body.status)).toEqual(responses.map(() => 'succeeded'));
  const paymentIds = responses.map((response) => response.body.id);
  const emailKeys = paymentIds.flatMap((paymentId) => [`${paymentId}:payment_succeeded:email`, `${paymentId}:payment_received:email`]);
  await waitFor(async () => (await stack.db('notifications').whereIn('dedupe_key', emailKeys).andWhere({ status: 'sent' })).length === emailKeys.length, {
    what: 'every e-mail of the payments to be sent',
  });
  await waitFor(async () => (await stack.db('webhook_events').whereIn('dedupe_key', paymentIds.map((paymentId) => `${paymentId}:webhook`)).andWhere({ status: 'delivered' })).length === paymentIds.length, {
    what: 'every webhook event of the payments to be delivered',
  });

  for (const paymentId of paymentIds) {
    expect(stack.mailbox.mailsTo(payer.email).filter((mail) => mail.text.includes(paymentId))).toHaveLength(1);
    expect(stack.mailbox.mailsTo(merchant.email).filter((mail) => mail.text.includes(paymentId))).toHaveLength(1);
  }
  const events = receiver.accepted().slice(acceptedBefore).map((request) => request.event.data.id);
  expect([...events].sort()).toEqual([...paymentIds].sort());
  const rows = await stack.db('notifications').select('attempts').whereIn('dedupe_key', emailKeys);
  expect(rows.every((row) => row.attempts === 1)).toBe(true);
  const sentBySecond = jsonLinesOf(logFile).filter((line) => line.msg === 'delivery sent').length;
  console.log(`two notifications workers: the second process sent ${sentBySecond} of ${emailKeys.length + paymentIds.length} deliveries`);
});
