import type { Knex } from 'knex';
import { createConnection, type Connection, type RowDataPacket } from 'mysql2/promise';

/** A row lock held by a database session of the test's own, inside an open transaction. */
export interface HeldRowLock {
  /** The session's CONNECTION_ID(), as INNODB_TRX names it. */
  threadId: number;
  /** Rolls the session's transaction back (the lock goes) and closes the session. */
  release(): Promise<void>;
}

/** Opens a session of its own on `databaseUrl` and locks the rows `ids` of `table` FOR UPDATE until released. */
export async function holdRowLock(databaseUrl: string, table: string, ids: readonly string[]): Promise<HeldRowLock> {
  const url = new URL(databaseUrl);
  const session: Connection = await createConnection({
    host: url.hostname,
    port: Number(url.port),
    user: decodeURIComponent(url.username),
    password: decodeURIComponent(url.password),
    database: url.pathname.slice(1),
  });
  try {
    const [[identity]] = await session.query<RowDataPacket[]>('SELECT CONNECTION_ID() AS threadId');
    await session.query('START TRANSACTION');
    const [locked] = await session.query<RowDataPacket[]>('SELECT id FROM ?? WHERE id IN (?) ORDER BY id FOR UPDATE', [table, ids]);
    if (locked.length !== ids.length) throw new Error(`locked ${locked.length} of ${ids.length} rows of ${table}`);
    return {
      threadId: Number(identity?.threadId),
      async release() {
        try {
          await session.query('ROLLBACK');
        } finally {
          await session.end();
        }
      },
    };
  } catch (error) {
    await session.end();
    throw error;
  }
}

/**
 * How many statements wait now for a lock the session `threadId` holds (InnoDB's own view). InnoDB
 * refreshes that view only when nobody read it for 100 ms: poll it every 250 ms or slower.
 */
export async function lockWaitsBlockedBy(db: Knex, threadId: number): Promise<number> {
  const rows = (await db.raw(
    `SELECT COUNT(*) AS waiting
       FROM information_schema.INNODB_LOCK_WAITS waits
       JOIN information_schema.INNODB_TRX blocking ON blocking.trx_id = waits.blocking_trx_id
      WHERE blocking.trx_mysql_thread_id = ?`,
    [threadId],
  )) as [Array<{ waiting: number | string }>, unknown];
  return Number(rows[0][0]?.waiting ?? 0);
}
