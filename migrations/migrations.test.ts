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

  it('when two keys differ only by case or a trailing space, then both are kept as different keys', async () => {
    await migrateLatest(db);
    const key = (idempotencyKey: string) => ({
      user_id: 'usr_bytes',
      idempotency_key: idempotencyKey,
      request_hash: 'h'.repeat(64),
      resource_type: 'topup',
      resource_id: `top_${idempotencyKey.length}`,
      created_at: new Date(),
    });
    await db('idempotency_keys').insert([key('Order-1'), key('order-1'), key('k'), key('k ')]);

    const found = await db('idempotency_keys').where({ user_id: 'usr_bytes', idempotency_key: 'k' });
    expect(found).toHaveLength(1);
    expect(String(found[0]?.idempotency_key)).toBe('k');
    expect(await db('idempotency_keys').where({ user_id: 'usr_bytes', idempotency_key: 'ORDER-1' })).toEqual([]);
    await db('idempotency_keys').where({ user_id: 'usr_bytes' }).delete();
  });

  it("when a payer's or a sender's 24-hour total is summed, then an index on (who, currency, created_at) serves it", async () => {
    await migrateLatest(db);
    const columnsOf = async (table: string) => {
      const [rows] = (await db.raw(`SHOW INDEX FROM \`${table}\``)) as [Array<{ Key_name: string; Seq_in_index: number; Column_name: string }>];
      const byIndex = new Map<string, string[]>();
      for (const row of [...rows].sort((a, b) => a.Seq_in_index - b.Seq_in_index)) byIndex.set(row.Key_name, [...(byIndex.get(row.Key_name) ?? []), row.Column_name]);
      return [...byIndex.values()].map((columns) => columns.join(','));
    };
    expect(await columnsOf('payments')).toContain('payer_id,currency,created_at');
    expect(await columnsOf('transfers')).toContain('sender_id,currency,created_at');

    const since = new Date(Date.now() - 86_400_000);
    const [plan] = (await db.raw(
      "EXPLAIN SELECT SUM(amount) FROM payments WHERE payer_id = ? AND currency = ? AND status IN ('processing', 'succeeded') AND created_at > ? AND id <> ?",
      ['usr_x', 'USD', since, 'pay_x'],
    )) as [Array<{ possible_keys: string | null }>];
    expect(plan[0]?.possible_keys ?? '').toContain('payments_payer_currency_created_at_index');
  });
});
