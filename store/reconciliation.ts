import type { Knex } from 'knex';
import { toSafeInteger } from '../domain/money';
import { IN_FLIGHT_STATUSES, MONEY_SAGA_KINDS, MONEY_SAGAS } from '../domain/money-sagas';
import { moneySagaWorkflowId, onboardingWorkflowId } from '../domain/workflow-ids';

/** The ledger's health, as `GET /v1/admin/reconciliation` reports it. */
export interface ReconciliationReport {
  ok: boolean;
  sumOfAllAccounts: number;
  unbalancedJournals: number;
  walletsOutOfSync: number;
  negativeUserWallets: number;
  stuckSagas: number;
  /** Currencies whose clearing accounts (summed over their shards) do not hold exactly the money of their sagas in flight. */
  clearingMismatch: Array<{ currency: string; clearingBalance: number; sagasInFlight: number }>;
  /** Clearing accounts (one shard of a currency) that do not hold exactly the money of the sagas in flight on that shard. */
  clearingShardMismatch: Array<{ currency: string; shard: number; accountId: string; clearingBalance: number; sagasInFlight: number }>;
  /** Wallets whose held money differs from the credits of unfinished sagas not yet released (up to SAMPLE_LIMIT). */
  heldMismatch: Array<{ walletId: string; held: number; unreleasedSagaCredits: number }>;
  /** Ids of payments and transfers whose money sits where their state says it cannot (up to SAMPLE_LIMIT). */
  offendingSagas: string[];
  /** Up to SAMPLE_LIMIT ids of each kind of problem, so an operator knows where to look. */
  samples: { unbalancedJournals: string[]; walletsOutOfSync: string[]; negativeUserWallets: string[]; stuckSagas: string[] };
  checkedAt: string;
}

/**
 * What a report's fields read whenever the ledger is sound, whatever else runs meanwhile. Stuck
 * sagas are left out: a saga may be in flight, or old from an earlier run, without any money wrong.
 */
export const SOUND_LEDGER = {
  sumOfAllAccounts: 0,
  unbalancedJournals: 0,
  walletsOutOfSync: 0,
  negativeUserWallets: 0,
  clearingMismatch: [],
  clearingShardMismatch: [],
  heldMismatch: [],
  offendingSagas: [],
} as const;

type SoundLedgerField = keyof typeof SOUND_LEDGER;

/** The fields of a report (or of its JSON) that differ from a sound ledger's, one line each; empty when sound. */
export function ledgerBreaches(report: Partial<Record<SoundLedgerField, unknown>>): string[] {
  return (Object.keys(SOUND_LEDGER) as SoundLedgerField[])
    .filter((field) => JSON.stringify(report[field]) !== JSON.stringify(SOUND_LEDGER[field]))
    .map((field) => `${field} is ${JSON.stringify(report[field])}, not ${JSON.stringify(SOUND_LEDGER[field])}`);
}

/**
 * The report's verdict: every invariant holds and no saga is stuck. Each field alone makes it false
 * (store/reconciliation-verdict.test.ts checks that each one does).
 */
export function isSound(report: Omit<ReconciliationReport, 'ok' | 'samples' | 'checkedAt'>): boolean {
  return ledgerBreaches(report).length === 0 && report.stuckSagas === 0;
}

/** A table whose rows are sagas: a row still in a non-final status after `stuckAfterMs` is stuck. */
interface SagaSource {
  table: string;
  statusColumn: string;
  pendingStatuses: readonly string[];
  workflowId: (id: string) => string;
}

const SAGA_SOURCES: readonly SagaSource[] = [
  { table: 'users', statusColumn: 'onboarding_status', pendingStatuses: ['pending'], workflowId: onboardingWorkflowId },
  ...MONEY_SAGA_KINDS.map((kind) => ({
    table: MONEY_SAGAS[kind].table,
    statusColumn: 'status',
    pendingStatuses: IN_FLIGHT_STATUSES,
    workflowId: (id: string) => moneySagaWorkflowId(kind, id),
  })),
];

const SAMPLE_LIMIT = 10;

/**
 * Checks every invariant of the double-entry ledger: all accounts sum to zero,
 * every journal sums to zero, every balance equals the sum of its entries, no
 * user wallet is negative, and no saga has stayed unfinished too long.
 */
export function reconcile(db: Knex, options: { stuckAfterMs: number; now?: Date }): Promise<ReconciliationReport> {
  // One snapshot for every query: sagas that move money meanwhile cannot make the checks disagree.
  // Not `readOnly` as well: knex then sends `SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY`,
  // without the comma MariaDB and MySQL need between the two, and the server refuses it.
  return db.transaction((trx) => reconcileIn(trx, options), { isolationLevel: 'repeatable read' });
}

/**
 * The same checks inside the caller's transaction, which sees its own uncommitted writes: tests
 * corrupt the ledger in a transaction, reconcile it there, and roll it back.
 */
export async function reconcileIn(db: Knex.Transaction, options: { stuckAfterMs: number; now?: Date }): Promise<ReconciliationReport> {
  const now = options.now ?? new Date();
  const sumRow = await db('accounts').sum({ total: 'balance' }).first();
  const sumOfAllAccounts = toSafeInteger(sumRow?.total ?? 0, 'sum of all accounts');

  const unbalanced: Array<{ journal_id: string }> = await db('entries')
    .select('journal_id')
    .groupBy('journal_id')
    .havingRaw('SUM(amount) <> 0');

  const outOfSync: Array<{ id: string }> = await db('accounts as a')
    .leftJoin(db('entries').select('account_id').sum({ total: 'amount' }).groupBy('account_id').as('e'), 'e.account_id', 'a.id')
    .select('a.id')
    // Out of sync: the balance differs from its entries, or the held money is negative or more than the balance.
    .whereRaw("a.balance <> COALESCE(e.total, 0) OR a.held < 0 OR (a.kind = 'wallet' AND a.held > a.balance)");

  const negative: Array<{ id: string }> = await db('accounts').select('id').where({ kind: 'wallet' }).andWhere('balance', '<', 0);

  const stuckBefore = new Date(now.getTime() - options.stuckAfterMs);
  const stuck: string[] = [];
  for (const source of SAGA_SOURCES) {
    const rows = (await db(source.table)
      .select('id')
      .whereIn(source.statusColumn, source.pendingStatuses)
      .andWhere('created_at', '<', stuckBefore)) as Array<{ id: string }>;
    stuck.push(...rows.map((row) => source.workflowId(row.id)));
  }
  stuck.push(...(await reviewsPastTheirTimeout(db, stuckBefore, now)).map((id) => moneySagaWorkflowId('payment', id)));

  const money = await reconcileSagaMoney(db);

  const report: ReconciliationReport = {
    ok: false,
    sumOfAllAccounts,
    unbalancedJournals: unbalanced.length,
    walletsOutOfSync: outOfSync.length,
    negativeUserWallets: negative.length,
    stuckSagas: stuck.length,
    clearingMismatch: money.clearingMismatch,
    clearingShardMismatch: money.clearingShardMismatch,
    heldMismatch: money.heldMismatch.slice(0, SAMPLE_LIMIT),
    offendingSagas: money.offendingSagas.slice(0, SAMPLE_LIMIT),
    samples: {
      unbalancedJournals: unbalanced.slice(0, SAMPLE_LIMIT).map((row) => row.journal_id),
      walletsOutOfSync: outOfSync.slice(0, SAMPLE_LIMIT).map((row) => row.id),
      negativeUserWallets: negative.slice(0, SAMPLE_LIMIT).map((row) => row.id),
      stuckSagas: stuck.slice(0, SAMPLE_LIMIT),
    },
    checkedAt: now.toISOString(),
  };
  report.ok = isSound(report);
  return report;
}

/**
 * Payments in review count as stuck only once their review timeout has passed (their saga should
 * have declined them by then), and like any saga only after `stuckAfterMs`: an admin's review
 * may take much longer than a saga's steps.
 */
async function reviewsPastTheirTimeout(db: Knex.Transaction, stuckBefore: Date, now: Date): Promise<string[]> {
  const rows = (await db('payments as p')
    .leftJoin('risk_checks as r', function joinCheck() {
      this.on('r.saga_id', '=', 'p.id').andOnVal('r.step', '=', 'risk_check');
    })
    .select('p.id')
    .where('p.status', 'in_review')
    .andWhere('p.created_at', '<', stuckBefore)
    .andWhere((builder) => void builder.whereNull('r.review_expires_at').orWhere('r.review_expires_at', '<=', now))) as Array<{ id: string }>;
  return rows.map((row) => row.id);
}

/**
 * How a money saga kind moves money through clearing and holds, from its declaration: each
 * step's journal puts `+amount` into clearing or takes it out; the credit step holds money on
 * the receiving wallet until the saga finishes, and its reversal takes the hold back.
 */
interface MoneySagaLedger {
  table: string;
  clearingSteps: ReadonlyArray<readonly [step: string, sign: 1 | -1]>;
  credit: { step: string; reversal: string; walletColumn: string; amountColumn: string };
}

const MONEY_SAGA_LEDGERS: readonly MoneySagaLedger[] = MONEY_SAGA_KINDS.map((kind) => {
  const saga = MONEY_SAGAS[kind];
  const credited = saga.moneySteps.find((step) => step.step === saga.heldCredit.step);
  if (!credited) throw new Error(`${kind}: its held credit ${saga.heldCredit.step} is not one of its money steps`);
  return {
    table: saga.table,
    clearingSteps: saga.moneySteps.flatMap((step) => [[step.step, step.clearingSign] as const, [step.compensation.step, step.compensation.clearingSign] as const]),
    credit: { ...saga.heldCredit, reversal: credited.compensation.step },
  };
});

interface SagaMoneyFindings {
  clearingMismatch: ReconciliationReport['clearingMismatch'];
  clearingShardMismatch: ReconciliationReport['clearingShardMismatch'];
  heldMismatch: ReconciliationReport['heldMismatch'];
  offendingSagas: string[];
}

interface ClearingAccount {
  id: string;
  currency: string;
  shard: number;
  balance: number;
}

/** What a saga in flight should have in clearing, and on which clearing account (null when none of its journals touched one). */
interface ExpectedClearing {
  currency: string;
  amount: number;
  accountId: string | null;
}

/**
 * Clearing and holds against the sagas in flight. The money a saga in flight has in clearing,
 * and what it holds on a wallet, follow from which of its step journals exist; a finished saga
 * has nothing in either. A saga keeps all its money on one clearing account (one shard): the one
 * its first posted step used. So each clearing account must hold exactly the money of the sagas in
 * flight on it, each currency's accounts together the money of its sagas in flight, and every
 * saga's net on every clearing account must be what its state says (its amount on its own
 * account, zero elsewhere). Reads only the sagas in flight (by status index), their step journals
 * (by key), the clearing accounts' entries grouped by saga and account (by the
 * (account_id, reference_id) index) and the accounts with held money, so it stays fast on a large ledger.
 */
async function reconcileSagaMoney(db: Knex.Transaction): Promise<SagaMoneyFindings> {
  const clearingAccounts = ((await db('accounts').select('id', 'currency', 'shard', 'balance').where({ kind: 'clearing' })) as Array<{
    id: string;
    currency: string;
    shard: number | null;
    balance: unknown;
  }>).map((row): ClearingAccount => ({ id: row.id, currency: row.currency, shard: row.shard ?? 0, balance: toSafeInteger(row.balance, 'clearing balance') }));
  const clearingIds = clearingAccounts.map((account) => account.id);
  const { expected, expectedHeld } = await expectedSagaMoney(db, clearingIds);

  const expectedByCurrency = new Map<string, number>();
  const expectedByAccount = new Map<string, number>();
  for (const saga of expected.values()) {
    expectedByCurrency.set(saga.currency, (expectedByCurrency.get(saga.currency) ?? 0) + saga.amount);
    if (saga.accountId) expectedByAccount.set(saga.accountId, (expectedByAccount.get(saga.accountId) ?? 0) + saga.amount);
  }
  const balanceByCurrency = new Map<string, number>();
  const clearingShardMismatch: SagaMoneyFindings['clearingShardMismatch'] = [];
  for (const account of clearingAccounts) {
    balanceByCurrency.set(account.currency, (balanceByCurrency.get(account.currency) ?? 0) + account.balance);
    const sagasInFlight = expectedByAccount.get(account.id) ?? 0;
    if (account.balance !== sagasInFlight) {
      clearingShardMismatch.push({ currency: account.currency, shard: account.shard, accountId: account.id, clearingBalance: account.balance, sagasInFlight });
    }
  }
  const clearingMismatch: SagaMoneyFindings['clearingMismatch'] = [];
  for (const currency of [...new Set([...balanceByCurrency.keys(), ...expectedByCurrency.keys()])].sort()) {
    const clearingBalance = balanceByCurrency.get(currency) ?? 0;
    const sagasInFlight = expectedByCurrency.get(currency) ?? 0;
    if (clearingBalance !== sagasInFlight) clearingMismatch.push({ currency, clearingBalance, sagasInFlight });
  }
  clearingShardMismatch.sort((a, b) => a.currency.localeCompare(b.currency) || a.shard - b.shard);

  return {
    clearingMismatch,
    clearingShardMismatch,
    heldMismatch: await heldMismatchOf(db, expectedHeld),
    offendingSagas: await offendingSagasOf(db, clearingIds, expected),
  };
}

/**
 * What the sagas in flight should have in clearing (by saga id, with the clearing account of their
 * first posted step) and held on wallets (by wallet id), from which of their step journals exist.
 */
async function expectedSagaMoney(db: Knex.Transaction, clearingIds: string[]): Promise<{ expected: Map<string, ExpectedClearing>; expectedHeld: Map<string, number> }> {
  const expected = new Map<string, ExpectedClearing>();
  const expectedHeld = new Map<string, number>();
  for (const saga of MONEY_SAGA_LEDGERS) {
    const rows = (await db(saga.table)
      .select('id', 'amount', 'currency', `${saga.credit.walletColumn} as credited_wallet`, `${saga.credit.amountColumn} as credited_amount`)
      .whereIn('status', IN_FLIGHT_STATUSES)) as Array<{ id: string; amount: unknown; currency: string; credited_wallet: string; credited_amount: unknown }>;
    if (rows.length === 0) continue;
    // Every posted step journal, with the clearing account it moved money on (null if none).
    const posted = new Map<string, string | null>();
    for (let start = 0; start < rows.length; start += 500) {
      const keys = rows.slice(start, start + 500).flatMap((row) => saga.clearingSteps.map(([step]) => `${row.id}:${step}`));
      const found = (await db('journals as j')
        .leftJoin('entries as e', function joinClearingEntry() {
          this.on('e.journal_id', '=', 'j.id').andOnIn('e.account_id', clearingIds.length > 0 ? clearingIds : ['']);
        })
        .select('j.journal_key', 'e.account_id')
        .whereIn('j.journal_key', keys)) as Array<{ journal_key: string; account_id: string | null }>;
      for (const { journal_key, account_id } of found) posted.set(journal_key, posted.get(journal_key) ?? account_id);
    }
    for (const row of rows) {
      const amount = toSafeInteger(row.amount, 'amount');
      const keys = saga.clearingSteps.map(([step, sign]) => [`${row.id}:${step}`, sign] as const).filter(([key]) => posted.has(key));
      const inClearing = keys.reduce((sum, [, sign]) => sum + sign * amount, 0);
      const accountId = keys.map(([key]) => posted.get(key)).find((account) => account) ?? null;
      expected.set(row.id, { currency: row.currency, amount: inClearing, accountId });
      if (posted.has(`${row.id}:${saga.credit.step}`) && !posted.has(`${row.id}:${saga.credit.reversal}`)) {
        expectedHeld.set(row.credited_wallet, (expectedHeld.get(row.credited_wallet) ?? 0) + toSafeInteger(row.credited_amount, 'credited amount'));
      }
    }
  }
  return { expected, expectedHeld };
}

/**
 * Sagas whose money in clearing contradicts their state: a net on some clearing account other
 * than what the state says (its amount on its own account, zero on every other, zero everywhere
 * once finished), or an amount expected in clearing that no clearing entry of it holds.
 */
async function offendingSagasOf(db: Knex.Transaction, clearingIds: string[], expected: Map<string, ExpectedClearing>): Promise<string[]> {
  const nets: Array<{ reference_id: string; account_id: string; total: unknown }> = await db('entries')
    .select('reference_id', 'account_id')
    .sum({ total: 'amount' })
    .whereIn('account_id', clearingIds)
    // In the (account_id, reference_id) index's order, so the server can group along the index.
    .groupBy('account_id', 'reference_id')
    .havingRaw('SUM(amount) <> 0');
  const offending = new Set<string>();
  const netOnOwnAccount = new Map<string, number>();
  for (const row of nets) {
    const net = toSafeInteger(row.total, 'clearing net');
    const saga = expected.get(row.reference_id);
    const own = saga !== undefined && saga.accountId === row.account_id;
    if (own) netOnOwnAccount.set(row.reference_id, net);
    if (net !== (own ? saga.amount : 0)) offending.add(row.reference_id);
  }
  for (const [sagaId, saga] of expected) {
    if (saga.amount !== (netOnOwnAccount.get(sagaId) ?? 0)) offending.add(sagaId);
  }
  return [...offending].sort();
}

/** Wallets whose held money differs from the unreleased credits of the sagas in flight. */
async function heldMismatchOf(db: Knex.Transaction, expectedHeld: Map<string, number>): Promise<SagaMoneyFindings['heldMismatch']> {
  const heldRows = (await db('accounts').select('id', 'held').where({ kind: 'wallet' }).andWhere('held', '<>', 0)) as Array<{ id: string; held: unknown }>;
  const heldMismatch: SagaMoneyFindings['heldMismatch'] = [];
  const heldOf = new Map(heldRows.map((row) => [row.id, toSafeInteger(row.held, 'held')]));
  for (const walletId of new Set([...heldOf.keys(), ...expectedHeld.keys()])) {
    const held = heldOf.get(walletId) ?? 0;
    const unreleasedSagaCredits = expectedHeld.get(walletId) ?? 0;
    if (held !== unreleasedSagaCredits) heldMismatch.push({ walletId, held, unreleasedSagaCredits });
  }
  return heldMismatch;
}
