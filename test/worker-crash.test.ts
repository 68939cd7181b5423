import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { systemAccountId } from '../domain/types';
import { errorWithLog, isGroupAlive, spawnManaged, type ManagedProcess } from '../scripts/lib/processes';
import { actorsOf, type Actor } from './support/actors';
import { expectLedgerInvariants, type LedgerInvariants } from './support/own-sagas';
import { startStackWith, startWorkersOf, stopWorkers, waitFor, type RunningWorkers, type TestStack } from './support/stack';

/**
 * docs/architecture.md, "Processes": killing any worker with SIGKILL at any moment must lose nothing.
 *
 * The payments worker runs here as a real child process (`node --import tsx workers/payments.ts`). The test
 * kills it at the worst moment for money: debit_payer has committed (the payer's money sits in
 * `clearing`) and credit_merchant is inside its database transaction. To stop it exactly there,
 * the test holds a shared lock on the merchant's wallet row: credit_merchant's
 * `SELECT … FOR UPDATE` waits for it, while nothing before it does (the payment row's foreign
 * key check on that wallet only needs a shared lock). No sleeps: every wait polls a fact with a
 * deadline. After the kill a new worker takes over; Temporal retries credit_merchant once the
 * dead attempt's 10 s start-to-close timeout has passed.
 *
 * `clearing` and `fees` are shared with every saga of the run (and of earlier runs against a kept
 * database), so the test checks what this payment's own entries moved on them, never their balances.
 * The payment is in GBP so the dead worker's locks on them block few other tests' payments.
 */
const ROOT = resolve(__dirname, '..');
const CURRENCY = 'GBP';
const OVERRIDES = { FEE_BPS: '200' };
const AMOUNT = 1_234;
const FEE = 25;
const NET = AMOUNT - FEE;
const PROMO_CREDIT = 10_000;

let stack: TestStack | undefined;
let actors: ReturnType<typeof actorsOf>;
let logDir: string | undefined;
let childWorker: ManagedProcess | undefined;
let replacement: RunningWorkers | undefined;

interface PaymentBody {
  id: string;
  status: string;
  workflowId: string;
  steps: Array<{ name: string; status: string }>;
}

/** The real payments worker process, polling the stack's task queue; resolves once it polls. */
async function spawnPaymentsWorker(on: TestStack, logFile: string): Promise<ManagedProcess> {
  const queue = on.config.temporal.paymentsTaskQueue;
  const worker = spawnManaged('payments worker', process.execPath, ['--import', 'tsx', 'workers/payments.ts'], {
    cwd: ROOT,
    logFile,
    env: {
      ...process.env,
      ...OVERRIDES,
      NODE_ENV: 'test',
      LOG_LEVEL: 'silent',
      TASK_QUEUE_PAYMENTS: queue,
      TASK_QUEUE_NOTIFICATIONS: on.config.temporal.notificationsTaskQueue,
    },
  });
  await waitFor(
    () => {
      if (worker.hasExited()) throw errorWithLog('the payments worker exited before it polled', logFile);
      return readFileSync(logFile, 'utf8').includes(`polling task queue "${queue}"`);
    },
    { timeoutMs: 30_000, intervalMs: 100, what: `the payments worker to poll "${queue}" (log: ${logFile})` },
  );
  return worker;
}

/** SIGKILL to the worker's whole process group, then waits until it is gone. */
async function killWorker(worker: ManagedProcess): Promise<void> {
  if (isGroupAlive(worker.pid)) process.kill(-worker.pid, 'SIGKILL');
  await worker.exited;
  await waitFor(() => !isGroupAlive(worker.pid), { timeoutMs: 10_000, what: `process group ${worker.pid} to be gone` });
}

/**
 * A database session of our own user (PROCESSLIST shows those without the PROCESS privilege)
 * running a locking read of `accountId`: that is credit_merchant's lock request while it waits.
 */
async function lockRequestOn(accountId: string): Promise<{ id: number; info: string } | undefined> {
  if (!stack) throw new Error('no stack');
  const rows = (await stack.db('information_schema.PROCESSLIST')
    .select({ id: 'ID', info: 'INFO' })
    .whereRaw('ID <> CONNECTION_ID()')
    .andWhere('INFO', 'like', `%${accountId}%`)
    .andWhere('INFO', 'like', '%for update%')) as Array<{ id: number | string; info: string }>;
  const [row] = rows;
  return row ? { id: Number(row.id), info: row.info } : undefined;
}

async function sessionExists(id: number): Promise<boolean> {
  if (!stack) throw new Error('no stack');
  const row: unknown = await stack.db('information_schema.PROCESSLIST').select('ID').where('ID', id).first();
  return row !== undefined;
}

/** The payment's journals: key (without the payment id) → how many journals carry it. */
async function journalCountsOf(paymentId: string): Promise<Record<string, number>> {
  if (!stack) throw new Error('no stack');
  const rows = await stack.db('journals').select('journal_key').count({ journals: '*' }).where({ reference_id: paymentId }).groupBy('journal_key');
  return Object.fromEntries(rows.map((row) => [row.journal_key.slice(paymentId.length + 1), Number(row.journals)]));
}

async function entriesOf(paymentId: string): Promise<Array<[string, string, number, string]>> {
  if (!stack) throw new Error('no stack');
  const rows = (await stack.db('entries as e')
    .join('journals as j', 'j.id', 'e.journal_id')
    .select('j.journal_key', 'e.account_id', 'e.amount', 'e.type')
    .where('j.reference_id', paymentId)
    .orderBy('e.seq', 'asc')) as Array<{ journal_key: string; account_id: string; amount: number | string; type: string }>;
  return rows.map((row) => [row.journal_key.slice(paymentId.length + 1), row.account_id, Number(row.amount), row.type]);
}

async function notificationTypes(userId: string, paymentId: string): Promise<string[]> {
  if (!stack) throw new Error('no stack');
  const rows = (await stack.db('notifications').select('type').where({ user_id: userId, channel: 'in_app' }).andWhere('dedupe_key', 'like', `${paymentId}:%`)) as Array<{ type: string }>;
  return rows.map((row) => row.type);
}

/** What one payment's entries moved on an account (shared accounts move for other sagas too). */
async function movedBy(paymentId: string, accountId: string): Promise<number> {
  if (!stack) throw new Error('no stack');
  const row = (await stack.db('entries').sum({ total: 'amount' }).where({ account_id: accountId, reference_id: paymentId }).first()) as
    | { total: string | number | null }
    | undefined;
  return Number(row?.total ?? 0);
}

beforeAll(async () => {
  stack = await startStackWith(OVERRIDES, { paymentsWorker: false });
  actors = actorsOf(stack);
  logDir = mkdtempSync(join(tmpdir(), 'sagapay-worker-crash-'));
  childWorker = await spawnPaymentsWorker(stack, join(logDir, 'payments-worker.log'));
}, 60_000);

afterAll(async () => {
  try {
    if (childWorker) await killWorker(childWorker);
    if (replacement) await stopWorkers(replacement);
    await stack?.stop();
  } finally {
    if (logDir) rmSync(logDir, { recursive: true, force: true });
  }
}, 30_000);

describe('a payments worker killed with SIGKILL', () => {
  it('when it dies inside credit_merchant, after debit_payer, then a new worker finishes the saga and every minor unit is where it belongs', async () => {
    if (!stack || !childWorker) throw new Error('the stack did not start');
    const { db, temporal } = stack;
    const dead = childWorker;
    const adminToken = await actors.admin();
    // The sign-ups' onboarding sagas run on the child worker: it works before it is killed.
    const merchant: Actor = await actors.signUp({ role: 'merchant', currency: CURRENCY, name: 'Crash Test Cafe' });
    const payer: Actor = await actors.signUp({ currency: CURRENCY });
    const clearing = systemAccountId('clearing', CURRENCY);
    const fees = systemAccountId('fees', CURRENCY);
    const merchantBefore = await actors.balanceOf(merchant.token, merchant.wallet.id);
    expect(await actors.balanceOf(payer.token, payer.wallet.id)).toBe(PROMO_CREDIT);

    const blocker = await db.transaction();
    let payment: PaymentBody;
    let stuckSession: { id: number; info: string };
    let deadIdentity: string;
    try {
      await blocker('accounts').where({ id: merchant.wallet.id }).forShare();

      const response = await actors.call<PaymentBody>('POST', '/v1/payments', {
        token: payer.token,
        headers: { Prefer: 'respond-async' },
        body: { merchantId: merchant.user.id, amount: AMOUNT, currency: CURRENCY, description: 'worker crash drill' },
      });
      expect(response.status).toBe(202);
      payment = response.body;

      await waitFor(async () => (await db('saga_steps').where({ saga_id: payment.id, name: 'debit_payer', status: 'completed' }).first()) as unknown, {
        what: 'debit_payer to complete',
      });
      stuckSession = await waitFor(() => lockRequestOn(merchant.wallet.id), { what: "credit_merchant's lock request on the merchant wallet" });
      expect(stuckSession.info).toContain(clearing);
      const pending = await waitFor(
        async () => {
          const activities = (await temporal.workflow.getHandle(payment.workflowId).describe()).raw.pendingActivities ?? [];
          return activities.find((activity) => activity.activityType?.name === 'creditMerchant' && activity.lastWorkerIdentity);
        },
        { what: 'creditMerchant to be started by the child worker' },
      );
      expect(pending.attempt).toBe(1);
      deadIdentity = pending.lastWorkerIdentity ?? '';

      await killWorker(dead);
      expect(await dead.exited).toEqual({ code: null, signal: 'SIGKILL' });
    } finally {
      if (!blocker.isCompleted()) await blocker.rollback();
    }

    // The server rolls the dead worker's transaction back once it is granted the lock and finds the client gone.
    await waitFor(async () => !(await sessionExists(stuckSession.id)), { what: "the dead worker's database session to end" });

    // Money in flight: the payer is debited, clearing holds it, the merchant has nothing yet; the ledger balances.
    expect(await actors.balanceOf(payer.token, payer.wallet.id)).toBe(PROMO_CREDIT - AMOUNT);
    expect(await movedBy(payment.id, clearing)).toBe(AMOUNT);
    expect(await actors.balanceOf(merchant.token, merchant.wallet.id)).toBe(merchantBefore);
    expect(await movedBy(payment.id, fees)).toBe(0);
    expect(await journalCountsOf(payment.id)).toEqual({ debit_payer: 1 });
    const inFlight = await actors.call<PaymentBody>('GET', `/v1/payments/${payment.id}`, { token: payer.token });
    expect(inFlight.body.status).toBe('processing');
    expect(inFlight.body.steps.map((step) => `${step.name}:${step.status}`)).toEqual(['validate:completed', 'debit_payer:completed']);
    const midway = await actors.call<LedgerInvariants>('GET', '/v1/admin/reconciliation', { token: adminToken });
    expectLedgerInvariants(midway.body);

    // A new worker on the same task queue takes over the saga.
    replacement = await startWorkersOf(stack.config, db, stack.workerConnection, { payments: true, notifications: false });
    const handle = temporal.workflow.getHandle(payment.workflowId);
    await waitFor(async () => (await handle.describe()).status.name === 'COMPLETED', { timeoutMs: 45_000, intervalMs: 200, what: 'the saga to complete on the new worker' });
    await expect(handle.result()).resolves.toEqual({ status: 'succeeded', failure: null, compensated: [], notified: true });

    const final = await actors.call<PaymentBody>('GET', `/v1/payments/${payment.id}`, { token: payer.token });
    expect(final.body.status).toBe('succeeded');
    expect(final.body.steps.map((step) => `${step.name}:${step.status}`)).toEqual([
      'validate:completed',
      'debit_payer:completed',
      'credit_merchant:completed',
      'write_ledger:completed',
      'notify:completed',
    ]);
    expect(await actors.balanceOf(payer.token, payer.wallet.id)).toBe(PROMO_CREDIT - AMOUNT);
    expect(await actors.balanceOf(merchant.token, merchant.wallet.id)).toBe(merchantBefore + NET);
    expect(await movedBy(payment.id, fees)).toBe(FEE);
    expect(await movedBy(payment.id, clearing)).toBe(0);
    expect(await journalCountsOf(payment.id)).toEqual({ debit_payer: 1, credit_merchant: 1 });
    expect(await entriesOf(payment.id)).toEqual([
      ['debit_payer', payer.wallet.id, -AMOUNT, 'payment_debit'],
      ['debit_payer', clearing, AMOUNT, 'payment_debit'],
      ['credit_merchant', clearing, -AMOUNT, 'payment_credit'],
      ['credit_merchant', merchant.wallet.id, NET, 'payment_credit'],
      ['credit_merchant', fees, FEE, 'fee'],
    ]);
    expect(await notificationTypes(payer.user.id, payment.id)).toEqual(['payment_succeeded']);
    expect(await notificationTypes(merchant.user.id, payment.id)).toEqual(['payment_received']);

    // The history tells the story: the dead worker debited the payer, the new one retried the credit.
    const events = (await handle.fetchHistory()).events ?? [];
    const activityOf = new Map<string, string | null | undefined>();
    for (const event of events) {
      if (event.activityTaskScheduledEventAttributes) activityOf.set(String(event.eventId), event.activityTaskScheduledEventAttributes.activityType?.name);
    }
    const started = events.flatMap(({ activityTaskStartedEventAttributes: attributes }) =>
      attributes ? [{ activity: activityOf.get(String(attributes.scheduledEventId)), attempt: attributes.attempt, identity: attributes.identity }] : [],
    );
    expect(started.map(({ activity }) => activity)).toEqual(['validatePayment', 'debitPayer', 'creditMerchant', 'writeLedger', 'notifyPayment']);
    const byActivity = new Map(started.map((entry) => [entry.activity, entry]));
    expect(deadIdentity).not.toBe('');
    expect(byActivity.get('debitPayer')).toMatchObject({ attempt: 1, identity: deadIdentity });
    const retried = byActivity.get('creditMerchant');
    expect(retried?.attempt).toBe(2);
    expect(retried?.identity).not.toBe(deadIdentity);
    expect(retried?.identity).toMatch(new RegExp(`^${process.pid}@`));

    await actors.expectReconciled(adminToken);
  }, 60_000);
});
