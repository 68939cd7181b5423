import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { newId } from '../domain/ids';
import { shardOfSaga } from '../domain/ledger-shards';
import { systemAccountId } from '../domain/types';
import { isGroupAlive, type ManagedProcess } from '../scripts/lib/processes';
import { actorsOf, type Actor } from './support/actors';
import { expectLedgerInvariants } from './support/own-sagas';
import type { ReconciliationReport } from '../store/reconciliation';
import { startStackWith, waitFor, type TestStack } from './support/stack';
import { stepActivitiesOf, type StepActivity } from './support/step-activities';
import { WebhookReceiver } from './support/webhook-receiver';
import { spawnWorkerProcess } from './support/worker-process';
import { INTERRUPTED_ATTEMPT } from '../activities/delivery-attempts';

/**
 * docs/architecture.md, "Processes": killing any worker with SIGKILL at any moment must lose nothing.
 *
 * Each case makes one payment and SIGKILLs a real worker process (`node --import tsx
 * workers/<kind>.ts`) while one step of the saga is inside its database transaction; then a new
 * worker process takes over, and the case checks that every minor unit, journal, timeline entry
 * and notification is where it belongs, once.
 *
 * How a step is stopped inside its transaction: the test claims, in an open transaction of its
 * own, the unique key of a row that exactly that step inserts (its journal, its timeline entry or
 * its notification), so the step's INSERT waits for the test's lock after the step has locked the
 * payment row and its accounts. An account row cannot single out most steps: refund_payer locks
 * exactly debit_payer's accounts, reverse_merchant_credit exactly credit_merchant's, and
 * write_ledger the merchant wallet that credit_merchant locked just before. The key can only be
 * claimed once the payment id is known, so until then the test holds a shared lock on the payer's
 * wallet, which validate (the first step) waits for.
 *
 * Once the worker's statement shows in PROCESSLIST, the worker is killed and the claim rolled
 * back; the server then rolls the dead worker's transaction back. Temporal retries the step on the
 * new worker once the dead attempt's start-to-close timeout has passed (10 s for money steps, 30 s
 * for notify). The workers get DATABASE_LOCK_WAIT_TIMEOUT_S=5 so they still wait when they die.
 * No sleeps: every wait polls a fact with a deadline.
 *
 * The payments are in GBP, which no other test file uses: a waiting step holds the GBP clearing
 * (and fees) rows. Those are shared with every saga of the run, so the test checks what this
 * payment's own entries moved on them, never their balances.
 */
const CURRENCY = 'GBP';
const OVERRIDES = { FEE_BPS: '200', SAGA_FAULTS: 'enabled' };
const AMOUNT = 1_234;
const FEE = 25;
const NET = AMOUNT - FEE;
const PROMO_CREDIT = 10_000;
/**
 * Long enough to be still waiting when killed; the recovery schedule is not what these cases are
 * about. A short delivery lease: a send cut off by the kill is claimed again after 3 s, not 2 minutes.
 */
const WORKER_ENV = { DATABASE_LOCK_WAIT_TIMEOUT_S: '5', SAGA_RECOVERY: 'false', DELIVERY_LEASE_MS: '3000', WEBHOOK_ALLOW_PRIVATE: 'true' };

type WorkerKind = 'payments' | 'notifications';

/** Whether the saga runs an activity as a local one: every step but notify, which goes to the notifications worker. */
const isLocal = (activity: string) => !activity.startsWith('notify');
type Party = 'payer' | 'merchant' | 'clearing' | 'fees';
type JournalKey = 'debit_payer' | 'credit_merchant' | 'reverse_merchant_credit' | 'refund_payer';

/** The entries each journal of a payment posts, in the order it posts them. */
const JOURNAL_ENTRIES: Record<JournalKey, Array<[Party, number, string]>> = {
  debit_payer: [
    ['payer', -AMOUNT, 'payment_debit'],
    ['clearing', AMOUNT, 'payment_debit'],
  ],
  credit_merchant: [
    ['clearing', -AMOUNT, 'payment_credit'],
    ['merchant', NET, 'payment_credit'],
    ['fees', FEE, 'fee'],
  ],
  reverse_merchant_credit: [
    ['merchant', -NET, 'reversal'],
    ['clearing', AMOUNT, 'reversal'],
    ['fees', -FEE, 'reversal'],
  ],
  refund_payer: [
    ['clearing', -AMOUNT, 'payment_refund'],
    ['payer', AMOUNT, 'payment_refund'],
  ],
};

/** A payment's state as the database and the API show it. */
interface Snapshot {
  status: 'processing' | 'succeeded' | 'failed';
  /** Whether the compensating path has marked the payment. */
  compensating: boolean;
  /** The timeline, `name:status`. */
  steps: string[];
  /** The journals posted, once each. */
  journals: JournalKey[];
  /** What the merchant's wallet holds for the payment (credited, not yet released by write_ledger). */
  merchantHeld: number;
  /** The in-app notification types each party got. */
  notifications: { payer: string[]; merchant: string[] };
}

/** How a saga ends: its state, the workflow's result, the activities it ran in order, and the e-mails' subjects. */
interface Ending extends Snapshot {
  result: unknown;
  activities: string[];
  mails: { payer: string; merchant: string | null };
}

const SUCCEEDED: Ending = {
  status: 'succeeded',
  compensating: false,
  steps: ['validate:completed', 'risk_check:completed', 'debit_payer:completed', 'credit_merchant:completed', 'write_ledger:completed', 'notify:completed'],
  journals: ['debit_payer', 'credit_merchant'],
  merchantHeld: 0,
  notifications: { payer: ['payment_succeeded'], merchant: ['payment_received'] },
  result: { status: 'succeeded', failure: null, compensated: [], notified: true },
  activities: ['validatePayment', 'checkPaymentRisk', 'debitPayer', 'creditMerchant', 'writeLedger', 'notifyPayment'],
  mails: { payer: 'Receipt: you paid 12.34 GBP', merchant: 'Payment received: 12.34 GBP' },
};

/** write_ledger failed on purpose (the fault drill): the merchant credit is reversed, then the payer refunded. */
const COMPENSATED: Ending = {
  status: 'failed',
  compensating: true,
  steps: ['validate:completed', 'risk_check:completed', 'debit_payer:compensated', 'credit_merchant:compensated', 'write_ledger:failed', 'notify:completed'],
  journals: ['debit_payer', 'credit_merchant', 'reverse_merchant_credit', 'refund_payer'],
  merchantHeld: 0,
  notifications: { payer: ['payment_failed'], merchant: [] },
  result: {
    status: 'failed',
    failure: { code: 'injected_fault', message: expect.stringContaining('write_ledger') as unknown },
    compensated: ['reverse_merchant_credit', 'refund_payer'],
    notified: true,
  },
  activities: ['validatePayment', 'checkPaymentRisk', 'debitPayer', 'creditMerchant', 'writeLedger', 'beginPaymentCompensation', 'reverseMerchantCredit', 'refundPayer', 'failPayment', 'notifyPayment'],
  mails: { payer: 'Payment failed: 12.34 GBP', merchant: null },
};

/** A row the test inserts and keeps uncommitted: the step's own INSERT of the same key waits for it. */
interface Claim {
  table: string;
  row: Record<string, unknown>;
  /** How the step's waiting statement begins, and what it names. */
  statement: string;
  mentions: string[];
}

/** The step's timeline entry: the last row a forward step writes, after its journal and balances. */
function timelineEntry(paymentId: string, step: string): Claim {
  return {
    table: 'saga_steps',
    row: { saga_id: paymentId, name: step, status: 'completed', at: new Date() },
    statement: 'insert into `saga_steps`',
    mentions: [`'${paymentId}'`, `'${step}'`],
  };
}

/** The step's journal. A compensation's timeline entry already exists (it marks the step it undoes), so it is claimed here. */
function journal(paymentId: string, step: JournalKey): Claim {
  const key = `${paymentId}:${step}`;
  return {
    table: 'journals',
    row: { id: newId('jnl'), journal_key: key, type: step, reference_id: paymentId, created_at: new Date() },
    statement: 'insert into `journals`',
    mentions: [`'${key}'`],
  };
}

/** The merchant's in-app notification: notify records the payer's first, and it commits. */
function merchantNotification(paymentId: string, merchantId: string): Claim {
  const key = `${paymentId}:payment_received`;
  const now = new Date();
  return {
    table: 'notifications',
    row: {
      id: newId('ntf'),
      user_id: merchantId,
      type: 'payment_received',
      channel: 'in_app',
      title: 'claimed by the crash test',
      body: '',
      data: '{}',
      status: 'delivered',
      attempts: 0,
      dedupe_key: key,
      created_at: now,
      updated_at: now,
    },
    statement: 'insert ignore into `notifications`',
    mentions: [`'${key}'`],
  };
}

interface CrashCase {
  /** The step the worker dies in. */
  step: string;
  /** The activity that runs it, as the workflow history names it. */
  activity: string;
  /** The worker process that runs it, and is killed. */
  worker: WorkerKind;
  /** The fault drill's step, sending the saga into compensation. */
  fault: 'write_ledger' | null;
  claim: (paymentId: string, merchantId: string) => Claim;
  /** What had committed when the worker died (its own transaction rolled back). */
  committed: Snapshot;
  ending: Ending;
}

const CASES: CrashCase[] = [
  {
    step: 'debit_payer',
    activity: 'debitPayer',
    worker: 'payments',
    fault: null,
    claim: (paymentId) => timelineEntry(paymentId, 'debit_payer'),
    committed: { status: 'processing', compensating: false, steps: ['validate:completed', 'risk_check:completed'], journals: [], merchantHeld: 0, notifications: { payer: [], merchant: [] } },
    ending: SUCCEEDED,
  },
  {
    step: 'credit_merchant',
    activity: 'creditMerchant',
    worker: 'payments',
    fault: null,
    claim: (paymentId) => timelineEntry(paymentId, 'credit_merchant'),
    committed: {
      status: 'processing',
      compensating: false,
      steps: ['validate:completed', 'risk_check:completed', 'debit_payer:completed'],
      journals: ['debit_payer'],
      merchantHeld: 0,
      notifications: { payer: [], merchant: [] },
    },
    ending: SUCCEEDED,
  },
  {
    step: 'write_ledger',
    activity: 'writeLedger',
    worker: 'payments',
    fault: null,
    claim: (paymentId) => timelineEntry(paymentId, 'write_ledger'),
    committed: {
      status: 'processing',
      compensating: false,
      steps: ['validate:completed', 'risk_check:completed', 'debit_payer:completed', 'credit_merchant:completed'],
      journals: ['debit_payer', 'credit_merchant'],
      merchantHeld: NET,
      notifications: { payer: [], merchant: [] },
    },
    ending: SUCCEEDED,
  },
  {
    step: 'reverse_merchant_credit',
    activity: 'reverseMerchantCredit',
    worker: 'payments',
    fault: 'write_ledger',
    claim: (paymentId) => journal(paymentId, 'reverse_merchant_credit'),
    committed: {
      status: 'processing',
      compensating: true,
      steps: ['validate:completed', 'risk_check:completed', 'debit_payer:completed', 'credit_merchant:completed'],
      journals: ['debit_payer', 'credit_merchant'],
      merchantHeld: NET,
      notifications: { payer: [], merchant: [] },
    },
    ending: COMPENSATED,
  },
  {
    step: 'refund_payer',
    activity: 'refundPayer',
    worker: 'payments',
    fault: 'write_ledger',
    claim: (paymentId) => journal(paymentId, 'refund_payer'),
    committed: {
      status: 'processing',
      compensating: true,
      steps: ['validate:completed', 'risk_check:completed', 'debit_payer:completed', 'credit_merchant:compensated'],
      journals: ['debit_payer', 'credit_merchant', 'reverse_merchant_credit'],
      merchantHeld: 0,
      notifications: { payer: [], merchant: [] },
    },
    ending: COMPENSATED,
  },
  {
    step: 'notify',
    activity: 'notifyPayment',
    worker: 'notifications',
    fault: null,
    claim: merchantNotification,
    committed: {
      status: 'succeeded',
      compensating: false,
      steps: ['validate:completed', 'risk_check:completed', 'debit_payer:completed', 'credit_merchant:completed', 'write_ledger:completed'],
      journals: ['debit_payer', 'credit_merchant'],
      merchantHeld: 0,
      notifications: { payer: ['payment_succeeded'], merchant: [] },
    },
    ending: SUCCEEDED,
  },
];

interface PaymentBody {
  id: string;
  status: string;
  workflowId: string;
  steps: Array<{ name: string; status: string }>;
}

interface Parties {
  payer: Actor;
  merchant: Actor;
  merchantBefore: number;
}

let stack: TestStack | undefined;
let actors: ReturnType<typeof actorsOf>;
let adminToken: string;
let logDir: string | undefined;
let logFiles = 0;
/** The worker processes serving the stack's task queues now. */
const workers: Partial<Record<WorkerKind, ManagedProcess>> = {};

function requireStack(): TestStack {
  if (!stack) throw new Error('the stack did not start');
  return stack;
}

function spawnWorker(kind: WorkerKind): Promise<ManagedProcess> {
  if (!logDir) throw new Error('no log dir');
  logFiles += 1;
  const on = requireStack();
  return spawnWorkerProcess(kind, on, { logFile: join(logDir, `${kind}-worker-${logFiles}.log`), env: { ...WORKER_ENV, SMTP_URL: on.mailbox.url } });
}

/** SIGKILL to the worker's whole process group, then waits until it is gone. */
async function killWorker(worker: ManagedProcess): Promise<void> {
  if (isGroupAlive(worker.pid)) process.kill(-worker.pid, 'SIGKILL');
  await worker.exited;
  await waitFor(() => !isGroupAlive(worker.pid), { timeoutMs: 10_000, what: `process group ${worker.pid} to be gone` });
}

/**
 * The database session running the step's statement that waits for the claim. PROCESSLIST shows
 * the sessions of our own user without the PROCESS privilege; it excludes this query's own session.
 */
async function sessionWaitingFor(claim: Claim): Promise<{ id: number; info: string } | undefined> {
  const query = requireStack()
    .db('information_schema.PROCESSLIST')
    .select({ id: 'ID', info: 'INFO' })
    .whereRaw('ID <> CONNECTION_ID()')
    .andWhere('INFO', 'like', `${claim.statement}%`);
  for (const mention of claim.mentions) void query.andWhere('INFO', 'like', `%${mention}%`);
  const [row] = (await query) as Array<{ id: number | string; info: string }>;
  return row ? { id: Number(row.id), info: row.info } : undefined;
}

async function sessionExists(id: number): Promise<boolean> {
  const row: unknown = await requireStack().db('information_schema.PROCESSLIST').select('ID').where('ID', id).first();
  return row !== undefined;
}

/** The payment's journals: key (without the payment id) → how many journals carry it. */
async function journalCountsOf(paymentId: string): Promise<Record<string, number>> {
  const rows = await requireStack().db('journals').select('journal_key').count({ journals: '*' }).where({ reference_id: paymentId }).groupBy('journal_key');
  return Object.fromEntries(rows.map((row) => [row.journal_key.slice(paymentId.length + 1), Number(row.journals)]));
}

async function entriesOf(paymentId: string): Promise<Array<[string, string, number, string]>> {
  const rows = (await requireStack()
    .db('entries as e')
    .join('journals as j', 'j.id', 'e.journal_id')
    .select('j.journal_key', 'e.account_id', 'e.amount', 'e.type')
    .where('j.reference_id', paymentId)
    .orderBy('e.seq', 'asc')) as Array<{ journal_key: string; account_id: string; amount: number | string; type: string }>;
  return rows.map((row) => [row.journal_key.slice(paymentId.length + 1), row.account_id, Number(row.amount), row.type]);
}

async function notificationTypes(userId: string, paymentId: string): Promise<string[]> {
  const rows = (await requireStack()
    .db('notifications')
    .select('type')
    .where({ user_id: userId, channel: 'in_app' })
    .andWhere('dedupe_key', 'like', `${paymentId}:%`)
    .orderBy('seq', 'asc')) as Array<{ type: string }>;
  return rows.map((row) => row.type);
}

/** What one payment's entries moved on an account (shared accounts move for other sagas too). */
async function movedBy(paymentId: string, accountId: string): Promise<number> {
  const row = (await requireStack().db('entries').sum({ total: 'amount' }).where({ account_id: accountId, reference_id: paymentId }).first()) as
    | { total: string | number | null }
    | undefined;
  return Number(row?.total ?? 0);
}

/** A party's account in one payment: the wallets, or the clearing and fee accounts of the payment's shard. */
function accountOf(party: Party, parties: Parties, paymentId: string): string {
  if (party === 'payer') return parties.payer.wallet.id;
  if (party === 'merchant') return parties.merchant.wallet.id;
  return systemAccountId(party, CURRENCY, shardOfSaga(paymentId, requireStack().config.ledgerSystemShards));
}

/** Asserts a payment's state: status, timeline, journals and their entries, balances, holds, notifications. */
async function expectPaymentState(paymentId: string, parties: Parties, expected: Snapshot): Promise<void> {
  const { db } = requireStack();
  const { payer, merchant } = parties;
  const payment = await actors.call<PaymentBody>('GET', `/v1/payments/${paymentId}`, { token: payer.token });
  expect(payment.body.status).toBe(expected.status);
  expect(payment.body.steps.map((step) => `${step.name}:${step.status}`)).toEqual(expected.steps);
  const row = (await db('payments').select('compensation_started_at').where({ id: paymentId }).first()) as { compensation_started_at: Date | null };
  expect(row.compensation_started_at !== null).toBe(expected.compensating);

  expect(await journalCountsOf(paymentId)).toEqual(Object.fromEntries(expected.journals.map((key) => [key, 1])));
  const entries = expected.journals.flatMap((key) => JOURNAL_ENTRIES[key].map(([party, amount, type]) => ({ key, party, amount, type })));
  expect(await entriesOf(paymentId)).toEqual(entries.map(({ key, party, amount, type }) => [key, accountOf(party, parties, paymentId), amount, type]));
  const moved = (party: Party) => entries.filter((entry) => entry.party === party).reduce((sum, entry) => sum + entry.amount, 0);
  expect(await actors.balanceOf(payer.token, payer.wallet.id)).toBe(PROMO_CREDIT + moved('payer'));
  expect(await actors.balanceOf(merchant.token, merchant.wallet.id)).toBe(parties.merchantBefore + moved('merchant'));
  expect(await movedBy(paymentId, accountOf('clearing', parties, paymentId))).toBe(moved('clearing'));
  expect(await movedBy(paymentId, accountOf('fees', parties, paymentId))).toBe(moved('fees'));
  const wallet = (await db('accounts').select('held').where({ id: merchant.wallet.id }).first()) as { held: number | string };
  expect(Number(wallet.held)).toBe(expected.merchantHeld);

  expect(await notificationTypes(payer.user.id, paymentId)).toEqual(expected.notifications.payer);
  expect(await notificationTypes(merchant.user.id, paymentId)).toEqual(expected.notifications.merchant);
}

/** The activities a workflow ran, in order (regular or local), with the attempt and the worker that ran the last one. */
async function startedActivities(workflowId: string): Promise<StepActivity[]> {
  return stepActivitiesOf(requireStack().temporal, workflowId);
}

/** The worker running the activity's first attempt, once it has started it. */
async function firstAttemptWorker(workflowId: string, activity: string): Promise<string> {
  const pending = await waitFor(
    async () => {
      const activities = (await requireStack().temporal.workflow.getHandle(workflowId).describe()).raw.pendingActivities ?? [];
      return activities.find((candidate) => candidate.activityType?.name === activity && candidate.lastWorkerIdentity);
    },
    { what: `${activity} to be started by a worker` },
  );
  expect(pending.attempt).toBe(1);
  return pending.lastWorkerIdentity ?? '';
}

/** Pays with the payer's wallet held (shared) until the step's row is claimed; answers once the step waits for the claim. */
async function payUntilStepWaits(crash: CrashCase, parties: Parties): Promise<{ payment: PaymentBody; session: { id: number }; deadPid: number | undefined }> {
  const { db } = requireStack();
  const gate = await db.transaction();
  const claim = await db.transaction();
  try {
    await gate('accounts').where({ id: parties.payer.wallet.id }).forShare();
    const response = await actors.call<PaymentBody>('POST', '/v1/payments', {
      token: parties.payer.token,
      headers: { Prefer: 'respond-async', ...(crash.fault ? { 'X-Saga-Fault': crash.fault } : {}) },
      body: { merchantId: parties.merchant.user.id, amount: AMOUNT, currency: CURRENCY, description: `crash inside ${crash.step}` },
    });
    expect(response.status).toBe(202);
    const payment = response.body;
    const claimed = crash.claim(payment.id, parties.merchant.user.id);
    await claim(claimed.table).insert(claimed.row);
    await gate.rollback();

    const session = await waitFor(() => sessionWaitingFor(claimed), { what: `${crash.step} to wait for the claimed ${claimed.table} row` });
    const worker = workers[crash.worker];
    if (!worker) throw new Error(`no ${crash.worker} worker runs`);
    // A regular activity is pending with the worker that started it; a local one runs inside a workflow task of the only payments worker.
    if (!isLocal(crash.activity)) expect(await firstAttemptWorker(payment.workflowId, crash.activity)).toMatch(new RegExp(`^${worker.pid}@`));
    await killWorker(worker);
    expect(await worker.exited).toEqual({ code: null, signal: 'SIGKILL' });
    return { payment, session, deadPid: worker.pid };
  } finally {
    if (!gate.isCompleted()) await gate.rollback();
    if (!claim.isCompleted()) await claim.rollback();
  }
}

beforeAll(async () => {
  stack = await startStackWith(OVERRIDES, { paymentsWorker: false, notificationsWorker: false });
  actors = actorsOf(stack);
  adminToken = await actors.admin();
  logDir = mkdtempSync(join(tmpdir(), 'sagapay-worker-crash-'));
}, 30_000);

// A case that failed between its kill and its replacement must not leave the next one without a worker.
beforeEach(async () => {
  for (const kind of ['payments', 'notifications'] as const) {
    if (!workers[kind] || workers[kind].hasExited()) workers[kind] = await spawnWorker(kind);
  }
}, 60_000);

afterAll(async () => {
  try {
    for (const worker of [workers.payments, workers.notifications]) if (worker) await killWorker(worker);
    await stack?.stop();
  } finally {
    if (logDir) rmSync(logDir, { recursive: true, force: true });
  }
}, 60_000);

describe('a worker killed with SIGKILL inside a step', () => {
  it.each(CASES)(
    'when the $worker worker dies inside $step, then a new worker finishes the saga and every minor unit is where it belongs, once',
    async (crash) => {
      const { temporal } = requireStack();
      const merchant = await actors.signUp({ role: 'merchant', currency: CURRENCY, name: 'Crash Test Cafe' });
      const payer = await actors.signUp({ currency: CURRENCY });
      const parties: Parties = { payer, merchant, merchantBefore: await actors.balanceOf(merchant.token, merchant.wallet.id) };
      expect(await actors.balanceOf(payer.token, payer.wallet.id)).toBe(PROMO_CREDIT);

      const { payment, session, deadPid } = await payUntilStepWaits(crash, parties);

      // The server rolls the dead worker's transaction back once it is granted the lock and finds the client gone.
      await waitFor(async () => !(await sessionExists(session.id)), { what: "the dead worker's database session to end" });
      await expectPaymentState(payment.id, parties, crash.committed);
      expectLedgerInvariants((await actors.call<ReconciliationReport>('GET', '/v1/admin/reconciliation', { token: adminToken })).body);

      workers[crash.worker] = await spawnWorker(crash.worker);
      const handle = temporal.workflow.getHandle(payment.workflowId);
      await waitFor(async () => (await handle.describe()).status.name === 'COMPLETED', {
        timeoutMs: 60_000,
        intervalMs: 200,
        what: 'the saga to complete on the new worker',
      });
      expect(await handle.result()).toEqual(crash.ending.result);
      await expectPaymentState(payment.id, parties, crash.ending);

      // The history tells the story: every activity ran once, but the killed one, which the new worker ran again:
      // a regular activity as its second attempt; a local one from its first, when the dead worker's workflow task timed out.
      const started = await startedActivities(payment.workflowId);
      expect(started.map(({ activity, attempt, local }) => `${activity}#${attempt}${local ? ' local' : ''}`)).toEqual(
        crash.ending.activities.map((activity) => `${activity}#${activity === crash.activity && !isLocal(activity) ? 2 : 1}${isLocal(activity) ? ' local' : ''}`),
      );
      const retried = started.find(({ activity }) => activity === crash.activity);
      expect(deadPid).toBeDefined();
      expect(workers[crash.worker]?.pid).not.toBe(deadPid);
      expect(retried?.identity).toMatch(new RegExp(`^${workers[crash.worker]?.pid}@`));

      // Each e-mail is delivered, the payer's too when the attempt that recorded it died before starting its delivery.
      const { mailbox } = requireStack();
      const { mails } = crash.ending;
      await mailbox.waitForMail(payer.email, (mail) => mail.subject.startsWith(mails.payer));
      if (mails.merchant !== null) await mailbox.waitForMail(merchant.email, (mail) => mail.subject.startsWith(mails.merchant ?? ''));

      await actors.expectReconciled(adminToken);
    },
    90_000,
  );
});

describe('a notifications worker killed with SIGKILL while it sends', () => {
  let receiver: WebhookReceiver | undefined;

  afterEach(async () => {
    receiver?.release();
    await receiver?.close();
  });

  it('when it dies with a webhook POST in flight, then another worker sends the event again once the lease ends, and the log shows the cut-off attempt', async () => {
    const { db } = requireStack();
    receiver = await WebhookReceiver.open();
    const merchant = await actors.signUp({ role: 'merchant', currency: CURRENCY, name: 'Crash Test Hooks' });
    const webhook = await actors.call<{ secret: string }>('PUT', '/v1/merchant/webhook', { token: merchant.token, body: { url: receiver.url } });
    receiver.secret = webhook.body.secret;
    const payer = await actors.signUp({ currency: CURRENCY });
    receiver.holding = true;

    const payment = await actors.call<PaymentBody>('POST', '/v1/payments', { token: payer.token, body: { merchantId: merchant.user.id, amount: AMOUNT, currency: CURRENCY } });
    expect(payment.body.status).toBe('succeeded');
    const open = receiver;
    await waitFor(() => open.held === 1, { what: 'the webhook POST to reach the receiver' });
    const dying = workers.notifications;
    if (!dying) throw new Error('no notifications worker runs');
    await killWorker(dying);
    const event = await db('webhook_events').where({ dedupe_key: `${payment.body.id}:webhook` }).first();
    expect(event).toMatchObject({ status: 'pending', attempts: 1 });
    await waitFor(() => open.heldConnected === 0, { what: 'the dead worker’s connection to close' });
    receiver.release();
    expect(receiver.received).toEqual([]);

    workers.notifications = await spawnWorker('notifications');
    const delivered = await waitFor(
      async () => {
        const row = await db('webhook_events').where({ id: event?.id ?? '' }).first();
        return row?.status === 'delivered' ? row : undefined;
      },
      { timeoutMs: 30_000, what: 'the event to be delivered by the new worker' },
    );

    expect(delivered).toMatchObject({ attempts: 2, locked_until: null });
    expect(receiver.accepted().map((request) => request.event.id)).toEqual([event?.id]);
    expect(await db('webhook_deliveries').select('attempt', 'status', 'response_status', 'error').where({ event_id: event?.id ?? '' }).orderBy('attempt')).toEqual([
      { attempt: 1, status: 'failed', response_status: null, error: INTERRUPTED_ATTEMPT },
      { attempt: 2, status: 'succeeded', response_status: 200, error: null },
    ]);
    await stack?.mailbox.waitForMail(payer.email, (mail) => mail.text.includes(payment.body.id));
  }, 90_000);
});
