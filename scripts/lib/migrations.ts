import { ensureSystemAccounts } from '../../store/ledger';
import { createDatabase, migrateLatest } from '../../infra/database';

/** What `prepareDatabase` did. */
export interface PreparedDatabase {
  /** Names of the migrations applied now; empty when the schema was up to date. */
  applied: string[];
}

/**
 * Brings a database to the latest schema and makes sure the system accounts exist for each
 * currency, `shards` clearing and fee accounts each (LEDGER_SYSTEM_SHARDS; default 8). Used by
 * `npm run migrate`, `npm run dev` and the tests' global setup.
 */
export async function prepareDatabase(databaseUrl: string, currencies: readonly string[], shards?: number): Promise<PreparedDatabase> {
  const db = createDatabase(databaseUrl, 2);
  try {
    const applied = await migrateLatest(db);
    await ensureSystemAccounts(db, currencies, shards);
    return { applied };
  } finally {
    await db.destroy();
  }
}
