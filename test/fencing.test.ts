import type { Payment } from '../store/payment-records';
import type { Transfer } from '../store/transfer-records';
import { ensureSystemAccounts } from '../store/ledger';
import { systemAccountId } from '../domain/types';
import { actorsOf, type Actor } from './support/actors';
import { balanceOf as accountBalance } from './support/fixtures';
import { holdRowLock, INNODB_VIEW_REFRESH_MS, lockWaitsBlockedBy, type LockMode } from './support/row-lock';
import { startStackWith, waitFor, type TestStack } from './support/stack';
import { stepActivitiesOf } from './support/step-activities';

/**
 * The fence on the real stack (issue 8): a forward money step whose row stays locked by another
 * session past every attempt Temporal makes moves no money, even when the lock is released
 * afterwards, and the saga ends failed with its money where it was.
 *
 * A second database session of the test's own locks a row the step needs: `FOR UPDATE` on the CHF
 * clearing accounts for the debit steps (all four shards, as the saga's shard follows from an id
 * not known yet; validate does not lock them), a shared lock on the payee's
 * wallet for the credit steps (validate reads it without a lock, and the new payment or transfer
 * row's foreign key check on it needs a shared lock, which an exclusive one would block; the
 * step's own `FOR UPDATE` waits for a shared lock all the same). The lock is held until the saga
 * is final. At that moment no lock wait may still be blocked by the test's session (an attempt
 * Temporal gave up on that still waited could commit later). Then the lock is released.
 *
 * The file pays in CHF, which no other test file uses, so its clearing accounts belong to this
 * file: their balance can be compared exactly and its lock blocks nobody else. Lock waits last 1 s
 * here, so each case takes about 20 s (5 activity attempts of a 3 s retry budget, plus backoff).
 */
const CURRENCY = 'CHF';
const PROMO_CREDIT = 10_000;
const AMOUNT = 1_234;
const CASE_TIMEOUT_MS = 60_000;
const SHARDS = 4;
/** Every CHF clearing shard: the saga's id, and so its shard, is known only once the test holds the lock. */
const CLEARING_SHARDS = Array.from({ length: SHARDS }, (_, shard) => systemAccountId('clearing', CURRENCY, shard));

let stack: TestStack;
let actors: ReturnType<typeof actorsOf>;
let adminToken: string;

beforeAll(async () => {
  stack = await startStackWith({
    CURRENCIES: 'USD,EUR,GBP,INR,CHF',
    DEFAULT_CURRENCY: CURRENCY,
    DATABASE_LOCK_WAIT_TIMEOUT_S: '1',
    LEDGER_SYSTEM_SHARDS: String(SHARDS),
  });
  // The global setup made system accounts for the default currencies only.
  await ensureSystemAccounts(stack.db, [CURRENCY], SHARDS);
  actors = actorsOf(stack);
  adminToken = await actors.admin();
}, 60_000);

afterAll(async () => {
  await stack.stop();
});

/** The CHF clearing accounts' balances, summed over the shards. */
async function clearingTotal(): Promise<number> {
  let total = 0;
  for (const accountId of CLEARING_SHARDS) total += await accountBalance(stack.db, accountId);
  return total;
}

async function journalCountsOf(sagaId: string): Promise<Record<string, number>> {
  const rows = await stack.db('journals').select('journal_key').count({ journals: '*' }).where({ reference_id: sagaId }).groupBy('journal_key');
  return Object.fromEntries(rows.map((row) => [String(row.journal_key).slice(sagaId.length + 1), Number(row.journals)]));
}

/** The attempt each activity of the saga's history ended on (its last, when it ran more than once). */
async function lastAttemptsOf(workflowId: string): Promise<Record<string, number>> {
  const steps = await stepActivitiesOf(stack.temporal, workflowId);
  return Object.fromEntries(steps.map(({ activity, attempt }) => [activity, attempt]));
}

interface ReconciliationBody {
  ok: boolean;
  sumOfAllAccounts: number;
  clearingMismatch: Array<{ currency: string }>;
  heldMismatch: Array<{ walletId: string }>;
  offendingSagas: string[];
}

/** What one case sends and expects; the payment and transfer cases differ only in these. */
interface FencedStep {
  step: string;
  activity: string;
  /** The rows the test locks: every clearing shard for debits, the payee's wallet for credits. */
  lockedRows: (payee: Actor) => string[];
  lockMode: LockMode;
  /** Signs up the payer (a customer) and the payee (a merchant or a customer). */
  parties: () => Promise<{ payer: Actor; payee: Actor }>;
  /** Sends the payment or transfer with `Prefer: respond-async`; answers its id and workflow id. */
  send: (payer: Actor, payee: Actor) => Promise<{ id: string; workflowId: string }>;
  read: (reader: Actor, id: string) => Promise<Payment | Transfer>;
  timeline: string[];
  journals: Record<string, number>;
  compensated: string[];
}

async function sendPayment(payer: Actor, merchant: Actor) {
  const response = await actors.call<Payment>('POST', '/v1/payments', {
    token: payer.token,
    headers: { Prefer: 'respond-async' },
    body: { merchantId: merchant.user.id, amount: AMOUNT, currency: CURRENCY, description: 'fenced' },
  });
  expect(response.status).toBe(202);
  return response.body;
}

async function sendTransfer(sender: Actor, recipient: Actor) {
  const response = await actors.call<Transfer>('POST', '/v1/transfers', {
    token: sender.token,
    headers: { Prefer: 'respond-async' },
    body: { toUserId: recipient.user.id, amount: AMOUNT, currency: CURRENCY, note: 'fenced' },
  });
  expect(response.status).toBe(202);
  return response.body;
}

const readPayment = async (reader: Actor, id: string) => (await actors.call<Payment>('GET', `/v1/payments/${id}`, { token: reader.token })).body;
const readTransfer = async (reader: Actor, id: string) => (await actors.call<Transfer>('GET', `/v1/transfers/${id}`, { token: reader.token })).body;
const paymentParties = async () => ({ payer: await actors.signUp(), payee: await actors.signUp({ role: 'merchant', name: 'Fence Cafe' }) });
const transferParties = async () => ({ payer: await actors.signUp({ name: 'Ada' }), payee: await actors.signUp({ name: 'Bea' }) });

const cases: FencedStep[] = [
  {
    step: 'debit_payer',
    activity: 'debitPayer',
    lockedRows: () => CLEARING_SHARDS,
    lockMode: 'FOR UPDATE',
    parties: paymentParties,
    send: sendPayment,
    read: readPayment,
    timeline: ['validate:completed', 'risk_check:completed', 'debit_payer:failed', 'notify:completed'],
    journals: {},
    compensated: [],
  },
  {
    step: 'credit_merchant',
    activity: 'creditMerchant',
    lockedRows: (merchant) => [merchant.wallet.id],
    lockMode: 'LOCK IN SHARE MODE',
    parties: paymentParties,
    send: sendPayment,
    read: readPayment,
    timeline: ['validate:completed', 'risk_check:completed', 'debit_payer:compensated', 'credit_merchant:failed', 'notify:completed'],
    journals: { debit_payer: 1, refund_payer: 1 },
    compensated: ['refund_payer'],
  },
  {
    step: 'debit_sender',
    activity: 'debitSender',
    lockedRows: () => CLEARING_SHARDS,
    lockMode: 'FOR UPDATE',
    parties: transferParties,
    send: sendTransfer,
    read: readTransfer,
    timeline: ['validate:completed', 'risk_check:completed', 'debit_sender:failed', 'notify:completed'],
    journals: {},
    compensated: [],
  },
  {
    step: 'credit_recipient',
    activity: 'creditRecipient',
    lockedRows: (recipient) => [recipient.wallet.id],
    lockMode: 'LOCK IN SHARE MODE',
    parties: transferParties,
    send: sendTransfer,
    read: readTransfer,
    timeline: ['validate:completed', 'risk_check:completed', 'debit_sender:compensated', 'credit_recipient:failed', 'notify:completed'],
    journals: { debit_sender: 1, refund_sender: 1 },
    compensated: ['refund_sender'],
  },
];

describe('a forward money step whose row another session keeps locked past every attempt', () => {
  it.each(cases)(
    'when $step waits on a lock until the saga has ended, then it moves no money, no wait outlives it, and the saga fails consistently',
    async (fenced) => {
      // Arrange
      const { payer, payee } = await fenced.parties();
      expect(payer.wallet.currency).toBe(CURRENCY);
      expect(payee.wallet.currency).toBe(CURRENCY);
      const payeeBefore = await actors.balanceOf(payee.token, payee.wallet.id);
      const clearingBefore = await clearingTotal();
      expect(await actors.balanceOf(payer.token, payer.wallet.id)).toBe(PROMO_CREDIT);

      // Act: the lock is held from before the saga starts until it is final.
      const lock = await holdRowLock(stack.config.databaseUrl, 'accounts', fenced.lockedRows(payee), fenced.lockMode);
      let saga: { id: string; workflowId: string };
      let final: Payment | Transfer;
      try {
        saga = await fenced.send(payer, payee);
        const handle = stack.temporal.workflow.getHandle(saga.workflowId);
        const blocked = await waitFor(() => lockWaitsBlockedBy(stack.db, lock.threadId).then((queries) => queries[0]), {
          intervalMs: INNODB_VIEW_REFRESH_MS,
          what: `${fenced.step} to wait for the test's lock`,
        });
        expect(blocked).toMatch(/for update/i);
        expect((await handle.describe()).status.name).toBe('RUNNING');

        const sagaId = saga.id;
        final = await waitFor(
          async () => {
            const current = await fenced.read(payer, sagaId);
            return current.status === 'failed' || current.status === 'succeeded' ? current : undefined;
          },
          { timeoutMs: 50_000, intervalMs: 200, what: `the saga of ${fenced.step} to be final` },
        );
        // Every attempt of the step has ended: none still waits in the database to commit later.
        expect(await lockWaitsBlockedBy(stack.db, lock.threadId)).toEqual([]);
      } finally {
        await lock.release();
      }

      // Assert
      const handle = stack.temporal.workflow.getHandle(saga.workflowId);
      const outcome = (await handle.result()) as { status: string; failure: { code: string } | null; compensated: string[]; notified: boolean };
      expect(outcome).toMatchObject({ status: 'failed', failure: { code: 'processing_error' }, compensated: fenced.compensated, notified: true });
      expect(final).toMatchObject({ status: 'failed', failure: { code: 'processing_error' } });
      // Temporal gave up on the step only after its last attempt.
      expect((await lastAttemptsOf(saga.workflowId))[fenced.activity]).toBe(5);

      // The lock is gone; nothing that waited for it moved money afterwards.
      const after = await fenced.read(payer, saga.id);
      expect(after.steps.map((step) => `${step.name}:${step.status}`)).toEqual(fenced.timeline);
      expect(await journalCountsOf(saga.id)).toEqual(fenced.journals);
      expect(await actors.balanceOf(payer.token, payer.wallet.id)).toBe(PROMO_CREDIT);
      expect(await actors.balanceOf(payee.token, payee.wallet.id)).toBe(payeeBefore);
      expect(await clearingTotal()).toBe(clearingBefore);

      const report = (await actors.call<ReconciliationBody>('GET', '/v1/admin/reconciliation', { token: adminToken })).body;
      expect(report.sumOfAllAccounts).toBe(0);
      expect(report.clearingMismatch.filter((mismatch) => mismatch.currency === CURRENCY)).toEqual([]);
      expect(report.heldMismatch.filter((mismatch) => [payer.wallet.id, payee.wallet.id].includes(mismatch.walletId))).toEqual([]);
      expect(report.offendingSagas).not.toContain(saga.id);
    },
    CASE_TIMEOUT_MS,
  );
});
