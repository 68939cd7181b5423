import type { Knex } from 'knex';
import { ledgerBreaches, type ReconciliationReport } from '../../store/reconciliation';

/**
 * The users one test stack made, and through them its sagas: their onboarding, the payments they
 * made or received (and their refunds) and the transfers they sent or received. Every test file shares one database
 * with the other files of the run (and with earlier runs when TEST_DATABASE_URL is kept), so
 * stuck-ness is judged only on these; the ledger's global invariants are judged on everything.
 */
export class OwnSagas {
  private readonly userIds = new Set<string>();

  /** Counts a user's sagas as this stack's own. */
  add(userId: string): void {
    this.userIds.add(userId);
  }

  /** The workflow ids of this stack's sagas that are not final yet. */
  async unfinished(db: Knex): Promise<string[]> {
    const users = [...this.userIds];
    if (users.length === 0) return [];
    const [onboarding, payments, transfers, refunds] = await Promise.all([
      db('users').select('id').whereIn('id', users).andWhere({ onboarding_status: 'pending' }),
      db('payments')
        .select('id')
        .whereIn('status', ['pending', 'processing'])
        .andWhere((where) => void where.whereIn('payer_id', users).orWhereIn('merchant_id', users)),
      db('transfers')
        .select('id')
        .whereIn('status', ['pending', 'processing'])
        .andWhere((where) => void where.whereIn('sender_id', users).orWhereIn('recipient_id', users)),
      db('refunds')
        .select('id')
        .whereIn('status', ['pending', 'processing'])
        .andWhere((where) => void where.whereIn('payer_id', users).orWhereIn('merchant_id', users)),
    ]);
    return [
      ...(onboarding as Array<{ id: string }>).map((row) => `onboarding-${row.id}`),
      ...(payments as Array<{ id: string }>).map((row) => `payment-${row.id}`),
      ...(transfers as Array<{ id: string }>).map((row) => `transfer-${row.id}`),
      ...(refunds as Array<{ id: string }>).map((row) => `refund-${row.id}`),
    ];
  }

  /** Waits until every saga of this stack is final; fails naming the ones that are not. */
  async settle(db: Knex, { timeoutMs = 30_000, intervalMs = 100 }: { timeoutMs?: number; intervalMs?: number } = {}): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const unfinished = await this.unfinished(db);
      if (unfinished.length === 0) return;
      if (Date.now() > deadline) throw new Error(`sagas of this test file still unfinished after ${timeoutMs} ms: ${unfinished.join(', ')}`);
      await new Promise((resolve) => setTimeout(resolve, intervalMs));
    }
  }
}

/**
 * Asserts the invariants that hold at every instant for the whole database, whatever other
 * files run: all accounts sum to zero, every journal balances, every balance equals its
 * entries, no user wallet is negative, clearing (per currency and per shard) and holds match the sagas in flight, and no
 * saga's money contradicts its state (the report reads one snapshot). Stuck sagas are not among
 * them: another file's saga may be in flight, and an earlier run's may be old (see `OwnSagas`).
 */
export function expectLedgerInvariants(report: Partial<ReconciliationReport>): void {
  expect(ledgerBreaches(report)).toEqual([]);
}
