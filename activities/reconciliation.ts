import type { Knex } from 'knex';
import { toSafeInteger } from '../domain/money';

/** The ledger's health, as `GET /v1/admin/reconciliation` reports it. */
export interface ReconciliationReport {
  ok: boolean;
  sumOfAllAccounts: number;
  unbalancedJournals: number;
  walletsOutOfSync: number;
  negativeUserWallets: number;
  stuckSagas: number;
  /** Up to SAMPLE_LIMIT ids of each kind of problem, so an operator knows where to look. */
  samples: { unbalancedJournals: string[]; walletsOutOfSync: string[]; negativeUserWallets: string[]; stuckSagas: string[] };
  checkedAt: string;
}

/** A table whose rows are sagas: a row still in a non-final status after `stuckAfterMs` is stuck. */
interface SagaSource {
  table: string;
  statusColumn: string;
  pendingStatuses: string[];
  workflowIdPrefix: string;
}

const SAGA_SOURCES: readonly SagaSource[] = [
  { table: 'users', statusColumn: 'onboarding_status', pendingStatuses: ['pending'], workflowIdPrefix: 'onboarding-' },
  { table: 'payments', statusColumn: 'status', pendingStatuses: ['pending', 'processing'], workflowIdPrefix: 'payment-' },
  { table: 'transfers', statusColumn: 'status', pendingStatuses: ['pending', 'processing'], workflowIdPrefix: 'transfer-' },
];

const SAMPLE_LIMIT = 10;

/**
 * Checks every invariant of the double-entry ledger: all accounts sum to zero,
 * every journal sums to zero, every balance equals the sum of its entries, no
 * user wallet is negative, and no saga has stayed unfinished too long.
 */
export async function reconcile(db: Knex, options: { stuckAfterMs: number; now?: Date }): Promise<ReconciliationReport> {
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
    stuck.push(...rows.map((row) => `${source.workflowIdPrefix}${row.id}`));
  }

  const report: ReconciliationReport = {
    ok: false,
    sumOfAllAccounts,
    unbalancedJournals: unbalanced.length,
    walletsOutOfSync: outOfSync.length,
    negativeUserWallets: negative.length,
    stuckSagas: stuck.length,
    samples: {
      unbalancedJournals: unbalanced.slice(0, SAMPLE_LIMIT).map((row) => row.journal_id),
      walletsOutOfSync: outOfSync.slice(0, SAMPLE_LIMIT).map((row) => row.id),
      negativeUserWallets: negative.slice(0, SAMPLE_LIMIT).map((row) => row.id),
      stuckSagas: stuck.slice(0, SAMPLE_LIMIT),
    },
    checkedAt: now.toISOString(),
  };
  report.ok =
    sumOfAllAccounts === 0 && unbalanced.length === 0 && outOfSync.length === 0 && negative.length === 0 && stuck.length === 0;
  return report;
}
