import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import type { Knex } from 'knex';
import { createDatabase, migrateLatest, migrateRollbackAll } from '../infra/database';
import { newId } from '../domain/ids';
import { testConfig } from '../test/support/stack';

/** Migrations on a database of their own: `down` undoes `up` exactly, and `up` runs again after it. */
const databaseName = `sagapay_migrations_${newId('req').slice(-10).toLowerCase()}`;
let server: Knex;
let db: Knex;
let databaseUrl: string;

async function tableNames(): Promise<string[]> {
  const [rows] = (await db.raw('SHOW TABLES')) as [Array<Record<string, string>>];
  return rows.map((row) => Object.values(row)[0] ?? '').sort();
}

beforeAll(async () => {
  const url = new URL(testConfig().databaseUrl);
  server = createDatabase(url.toString(), 1);
  await server.raw(`CREATE DATABASE \`${databaseName}\``);
  url.pathname = `/${databaseName}`;
  databaseUrl = url.toString();
  db = createDatabase(databaseUrl, 2);
});

afterAll(async () => {
  await db.destroy();
  await server.raw(`DROP DATABASE IF EXISTS \`${databaseName}\``);
  await server.destroy();
});

describe('migrations', () => {
  it('when migrated, rolled back and migrated again, then the schema comes and goes whole', async () => {
    const applied = await migrateLatest(db);
    expect(applied.length).toBeGreaterThanOrEqual(3);
    const created = await tableNames();
    expect(created).toEqual(
      expect.arrayContaining(['users', 'accounts', 'journals', 'entries', 'idempotency_keys', 'topups', 'notifications', 'audit_log', 'payments', 'saga_steps']),
    );

    await migrateRollbackAll(db);
    expect(await tableNames()).toEqual(['knex_migrations', 'knex_migrations_lock']);

    expect(await migrateLatest(db)).toEqual(applied);
    expect(await tableNames()).toEqual(created);
  });

  it('when an admin is created from the command line, then it can exist once and has no wallet', async () => {
    const run = (email: string) =>
      execFileSync(join(__dirname, '..', 'node_modules', '.bin', 'tsx'), ['scripts/admin-create.ts', '--email', email, '--password', 'a long passphrase'], {
        cwd: join(__dirname, '..'),
        env: { ...process.env, DATABASE_URL: databaseUrl },
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'pipe'],
      });
    expect(run('Ops@Example.test')).toMatch(/^admin created: usr_\w+ <ops@example\.test>/);
    expect(() => run('ops@example.test')).toThrow(/already exists/);
    expect(() => run('not-an-email')).toThrow(/usage: npm run admin:create/);
    const admin = await db('users').where({ email: 'ops@example.test' }).first();
    expect(admin).toMatchObject({ role: 'admin', onboarding_status: 'completed' });
    expect(admin?.password_hash).toMatch(/^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
    expect(await db('accounts').where({ user_id: admin?.id ?? '' })).toEqual([]);
  });
});
