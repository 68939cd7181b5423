import type { Knex } from 'knex';
import { createConnection, type Connection, type RowDataPacket } from 'mysql2/promise';

/** A database session of the test's own, outside the app's pool, inside an open transaction. */
export interface TestSession {
  connection: Connection;
  /** The session's CONNECTION_ID(), as INNODB_TRX names it. */
  threadId: number;
  /** Rolls the session's transaction back (its locks go) and closes the session. */
  end(): Promise<void>;
}

/** A row lock held by a test session. */
export interface HeldRowLock {
  /** The session's CONNECTION_ID(), as INNODB_TRX names it. */
  threadId: number;
  /** Rolls the session's transaction back (the lock goes) and closes the session. */
  release(): Promise<void>;
}

/** How the test's session locks rows: exclusively, or shared (enough to block a `FOR UPDATE`). */
export type LockMode = 'FOR UPDATE' | 'LOCK IN SHARE MODE';

/**
 * InnoDB refreshes its information_schema view of transactions and lock waits only when nobody
 * has read it for 100 ms: polled faster, it keeps answering what it saw the first time.
 */
export const INNODB_VIEW_REFRESH_MS = 250;

/** Opens a session of its own on `databaseUrl` and starts a transaction; `lockWaitTimeoutS` bounds its own waits. */
export async function openTestSession(databaseUrl: string, lockWaitTimeoutS?: number): Promise<TestSession> {
  const url = new URL(databaseUrl);
  const connection = await createConnection({
    host: url.hostname,
    port: Number(url.port),
    user: decodeURIComponent(url.username),
    password: decodeURIComponent(url.password),
    database: url.pathname.slice(1),
  });
  try {
    const [[identity]] = await connection.query<RowDataPacket[]>('SELECT CONNECTION_ID() AS threadId');
    if (lockWaitTimeoutS !== undefined) await connection.query('SET SESSION innodb_lock_wait_timeout = ?', [lockWaitTimeoutS]);
    await connection.query('START TRANSACTION');
    return {
      connection,
      threadId: Number(identity?.threadId),
      async end() {
        try {
          await connection.query('ROLLBACK');
        } finally {
          await connection.end();
        }
      },
    };
  } catch (error) {
    await connection.end();
    throw error;
  }
}

/** Opens a session of its own on `databaseUrl` and locks the rows `ids` of `table` (by `mode`) until released. */
export async function holdRowLock(databaseUrl: string, table: string, ids: readonly string[], mode: LockMode = 'FOR UPDATE'): Promise<HeldRowLock> {
  const session = await openTestSession(databaseUrl);
  try {
    const [locked] = await session.connection.query<RowDataPacket[]>(`SELECT id FROM ?? WHERE id IN (?) ORDER BY id ${mode}`, [table, ids]);
    if (locked.length !== ids.length) throw new Error(`locked ${locked.length} of ${ids.length} rows of ${table}`);
    return { threadId: session.threadId, release: () => session.end() };
  } catch (error) {
    await session.end();
    throw error;
  }
}

/**
 * The statements now waiting for a lock the session `threadId` holds (InnoDB's own view; fresh
 * when nothing read it in the last INNODB_VIEW_REFRESH_MS, so poll it no faster than that).
 */
export async function lockWaitsBlockedBy(db: Knex, threadId: number): Promise<string[]> {
  const rows = (await db.raw(
    `SELECT requesting.trx_query AS query
       FROM information_schema.INNODB_LOCK_WAITS waits
       JOIN information_schema.INNODB_TRX blocking ON blocking.trx_id = waits.blocking_trx_id
       JOIN information_schema.INNODB_TRX requesting ON requesting.trx_id = waits.requesting_trx_id
      WHERE blocking.trx_mysql_thread_id = ?`,
    [threadId],
  )) as [Array<{ query: string | null }>, unknown];
  return rows[0].map((row) => row.query ?? '');
}
