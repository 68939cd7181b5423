import knex, { type Knex } from 'knex';
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

/** Applies every pending migration; returns the names it ran. */
export async function migrateLatest(db: Knex): Promise<string[]> {
  const [, applied] = (await db.migrate.latest({ migrationSource })) as [number, string[]];
  return applied;
}

/** Rolls every migration back (tests of `down` use it). */
export async function migrateRollbackAll(db: Knex): Promise<void> {
  await db.migrate.rollback({ migrationSource }, true);
}
