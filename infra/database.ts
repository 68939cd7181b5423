import knex, { KnexTimeoutError, type Knex } from 'knex';
import { DEFAULT_DATABASE_WAIT_LIMITS } from '../config';
import './tables';
import { migrationSource } from '../migrations';

/**
 * How long one database wait may last. Saga activities have a 10 s start-to-close timeout, and
 * mysql2 cannot cancel a running statement, so every wait is bounded well inside it: a lock wait
 * ends after `lockWaitTimeoutS`, and taking a connection from the pool after `acquireTimeoutMs`.
 */
export interface DatabaseWaitLimits {
  lockWaitTimeoutS: number;
  acquireTimeoutMs: number;
}

/** Opens a knex pool on a MySQL-compatible server; every session works in UTC with bounded lock waits. */
export function createDatabase(databaseUrl: string, poolMax = 10, limits: DatabaseWaitLimits = DEFAULT_DATABASE_WAIT_LIMITS): Knex {
  if (!Number.isSafeInteger(limits.lockWaitTimeoutS) || limits.lockWaitTimeoutS < 1) throw new RangeError('lockWaitTimeoutS must be a whole number of seconds ≥ 1');
  const url = new URL(databaseUrl);
  return knex({
    client: 'mysql2',
    connection: {
      host: url.hostname,
      port: url.port ? Number(url.port) : 3306,
      user: decodeURIComponent(url.username),
      password: decodeURIComponent(url.password),
      database: url.pathname.replace(/^\//, ''),
      timezone: 'Z',
      charset: 'utf8mb4',
      supportBigNumbers: true,
      bigNumberStrings: false,
    },
    pool: {
      min: 0,
      max: poolMax,
      afterCreate: (connection: { query: (sql: string, done: (error: Error | null) => void) => void }, done: (error: Error | null, connection: unknown) => void) => {
        connection.query(`SET time_zone = '+00:00', SESSION innodb_lock_wait_timeout = ${limits.lockWaitTimeoutS}`, (error) => done(error, connection));
      },
    },
    acquireConnectionTimeout: limits.acquireTimeoutMs,
  });
}

/**
 * Codes of a database that cannot be reached or went away mid-conversation: the operating
 * system's (refused, reset, timed out, no route, no name) and mysql2's and the server's (the
 * connection lost, too many connections, a shutdown in progress).
 */
const UNREACHABLE_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  'PROTOCOL_CONNECTION_LOST',
  'PROTOCOL_SEQUENCE_TIMEOUT',
  'ER_CON_COUNT_ERROR',
  'ER_SERVER_SHUTDOWN',
]);
/** MariaDB's ER_CONNECTION_KILLED (a restart ends every session), which mysql2 knows only by number. */
const UNREACHABLE_ERRNOS = new Set([1927]);

/**
 * True when a query failed because the database is out of reach rather than because of the
 * query: a code above, a fatal mysql2 error (the connection is unusable, e.g. a command on a
 * closed one), or knex's timeout for a pooled connection (none came back within the acquire bound).
 */
export function isDatabaseUnavailable(error: unknown): boolean {
  if (error instanceof KnexTimeoutError) return true;
  if (typeof error !== 'object' || error === null) return false;
  const { code, errno, fatal } = error as { code?: unknown; errno?: unknown; fatal?: unknown };
  return (typeof code === 'string' && UNREACHABLE_CODES.has(code)) || (typeof errno === 'number' && UNREACHABLE_ERRNOS.has(errno)) || fatal === true;
}

/** Applies every pending migration; returns the names it ran. */
export async function migrateLatest(db: Knex): Promise<string[]> {
  const [, applied] = (await db.migrate.latest({ migrationSource })) as [number, string[]];
  return applied;
}

/** Rolls every migration back (tests of `down` use it). */
export async function migrateRollbackAll(db: Knex): Promise<void> {
  await db.migrate.rollback({ migrationSource }, true);
}
