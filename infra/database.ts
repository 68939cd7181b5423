import knex, { type Knex } from 'knex';
import './tables';
import { migrationSource } from '../migrations';

/** Opens a knex pool on a MySQL-compatible server; every session works in UTC. */
export function createDatabase(databaseUrl: string, poolMax = 10): Knex {
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
        connection.query("SET time_zone = '+00:00'", (error) => done(error, connection));
      },
    },
    acquireConnectionTimeout: 10_000,
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
