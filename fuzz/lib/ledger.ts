import type { Knex } from 'knex';

/**
 * What must not change when the API refuses a request: the ledger (journal count, every account's
 * balance and status through a checksum) and the number of money resources (payments, transfers,
 * refunds, top-ups).
 */
export interface LedgerSnapshot {
  journals: number;
  accounts: number;
  balanceSum: string;
  balanceChecksum: string;
  payments: number;
  transfers: number;
  refunds: number;
  topups: number;
}

/** The whole database (a stack of the fuzzer's own), or only what the listed users touch (a database shared with other tests). */
export type LedgerScope = 'everything' | ReadonlySet<string>;

type Row = Record<string, unknown>;

function first(rows: unknown): Row {
  return (rows as Row[])[0] ?? {};
}

/** Reads the snapshot in one consistent read. */
export async function snapshotLedger(db: Knex, scope: LedgerScope): Promise<LedgerSnapshot> {
  const users = scope === 'everything' ? undefined : [...scope];
  return db.transaction(
    async (trx) => {
      const accounts = trx('accounts').select(
        trx.raw('COUNT(*) AS accounts'),
        trx.raw('CAST(COALESCE(SUM(balance), 0) AS CHAR) AS balanceSum'),
        trx.raw("CAST(COALESCE(BIT_XOR(CRC32(CONCAT(id, ':', balance, ':', status))), 0) AS CHAR) AS balanceChecksum"),
      );
      const journals = users
        ? trx('entries').join('accounts', 'accounts.id', 'entries.account_id').whereIn('accounts.user_id', users).countDistinct({ journals: 'entries.journal_id' })
        : trx('journals').count({ journals: '*' });
      const count = (table: string, columns: string[]) => {
        const query = trx(table).count({ total: '*' });
        if (users) void query.where((where) => void columns.reduce((clause, column) => clause.orWhereIn(column, users), where));
        return query;
      };
      if (users) void accounts.whereIn('user_id', users);
      const [accountRow, journalRow, payments, transfers, refunds, topups] = await Promise.all([
        accounts,
        journals,
        count('payments', ['payer_id', 'merchant_id']),
        count('transfers', ['sender_id', 'recipient_id']),
        count('refunds', ['payer_id', 'merchant_id']),
        count('topups', ['user_id']),
      ]);
      const account = first(accountRow);
      return {
        journals: Number(first(journalRow).journals),
        accounts: Number(account.accounts),
        balanceSum: String(account.balanceSum),
        balanceChecksum: String(account.balanceChecksum),
        payments: Number(first(payments).total),
        transfers: Number(first(transfers).total),
        refunds: Number(first(refunds).total),
        topups: Number(first(topups).total),
      };
    },
    { isolationLevel: 'repeatable read' },
  );
}

/** The fields that differ between two snapshots, as `field: before → after`. */
export function ledgerDifferences(before: LedgerSnapshot, after: LedgerSnapshot): string[] {
  return (Object.keys(before) as Array<keyof LedgerSnapshot>).filter((field) => before[field] !== after[field]).map((field) => `${field}: ${before[field]} → ${after[field]}`);
}
