import type { Knex } from 'knex';
import { createDatabase, migrateLatest, migrateRollbackAll } from '../infra/database';
import { newId } from '../domain/ids';
import { testConfig } from '../test/support/stack';
import { migrationSource } from './index';

/**
 * Migrations on a database of their own: `down` undoes `up` exactly, table by table and column
 * by column, with rows in the tables, and `up` runs again after it.
 */
const databaseName = `sagapay_migrations_${newId('req').slice(-10).toLowerCase()}`;
/** knex's own bookkeeping: created by the first migration run and never dropped by a `down`. */
const KNEX_TABLES = new Set(['knex_migrations', 'knex_migrations_lock']);
let server: Knex;
let db: Knex;

/** `SHOW CREATE TABLE` of every table, by name. */
type Schema = Record<string, string>;

async function tableNames(): Promise<string[]> {
  const [rows] = (await db.raw('SHOW TABLES')) as [Array<Record<string, string>>];
  return rows.map((row) => Object.values(row)[0] ?? '').sort();
}

/**
 * The schema of the project's tables as the server prints it. The table option AUTO_INCREMENT=n
 * is left out: it counts the rows ever inserted, which is data, not schema.
 */
async function schema(): Promise<Schema> {
  const result: Schema = {};
  for (const table of await tableNames()) {
    if (KNEX_TABLES.has(table)) continue;
    const [[row]] = (await db.raw('SHOW CREATE TABLE ??', [table])) as [Array<Record<string, string>>];
    result[table] = (row?.['Create Table'] ?? '').replace(/ AUTO_INCREMENT=\d+/, '');
  }
  return result;
}

async function rowCounts(): Promise<Record<string, number>> {
  const counts: Record<string, number> = {};
  for (const table of Object.keys(await schema())) {
    const row = (await db(table).count({ rows: '*' }).first()) as { rows: number | string } | undefined;
    counts[table] = Number(row?.rows ?? 0);
  }
  return counts;
}

/** A few rows in every table, related as the app relates them (a payment, a transfer, a webhook delivery …). */
async function insertSomeOfEverything(): Promise<void> {
  const now = new Date();
  const stamps = { created_at: now, updated_at: now };
  const [payer, merchant] = [newId('usr'), newId('usr')];
  await db('users').insert([
    { id: payer, email: `${payer}@example.test`, password_hash: 'x', name: 'Payer', phone: '+15550100', role: 'customer', currency: 'USD', onboarding_status: 'completed', token_version: 0, status: 'active', closed_at: null, ...stamps },
    { id: merchant, email: `${merchant}@example.test`, password_hash: 'x', name: 'Shop', phone: null, role: 'merchant', currency: 'USD', onboarding_status: 'pending', token_version: 0, status: 'active', closed_at: null, ...stamps },
  ]);
  const [payerWallet, merchantWallet, clearing] = [newId('wal'), newId('wal'), newId('acc')];
  await db('accounts').insert([
    { id: payerWallet, kind: 'wallet', user_id: payer, system_key: null, currency: 'USD', balance: 900, held: 0, status: 'active', ...stamps },
    { id: merchantWallet, kind: 'wallet', user_id: merchant, system_key: null, currency: 'USD', balance: 98, held: 98, status: 'frozen', ...stamps },
    { id: clearing, kind: 'clearing', user_id: null, system_key: 'clearing:USD', currency: 'USD', balance: -998, held: 0, status: 'active', ...stamps },
  ]);
  const [paymentId, transferId, journal] = [newId('pay'), newId('trf'), newId('jnl')];
  await db('journals').insert({ id: journal, journal_key: `${paymentId}:debit_payer`, type: 'debit_payer', reference_id: paymentId, created_at: now });
  await db('entries').insert([
    { id: newId('txn'), journal_id: journal, account_id: payerWallet, amount: -100, balance_after: 900, type: 'debit_payer', reference_id: paymentId, created_at: now },
    { id: newId('txn'), journal_id: journal, account_id: clearing, amount: 100, balance_after: 100, type: 'debit_payer', reference_id: paymentId, created_at: now },
  ]);
  await db('idempotency_keys').insert({ user_id: payer, idempotency_key: 'order-1', request_hash: 'a'.repeat(64), resource_type: 'payment', resource_id: paymentId, created_at: now });
  await db('topups').insert({ id: newId('top'), wallet_id: payerWallet, user_id: payer, amount: 1_000, currency: 'USD', status: 'succeeded', journal_id: journal, created_at: now });
  await db('notifications').insert({ id: newId('ntf'), user_id: payer, type: 'payment_succeeded', channel: 'in_app', title: 'Paid', body: 'You paid.', data: '{}', status: 'sent', attempts: 1, dedupe_key: `${paymentId}:payer`, ...stamps });
  await db('audit_log').insert({ id: newId('aud'), actor_id: payer, action: 'wallet.freeze', resource_type: 'wallet', resource_id: payerWallet, data: '{}', created_at: now });
  const saga = { amount: 100, currency: 'USD', status: 'processing' as const, failure_code: null, failure_message: null, fault_step: null, ...stamps };
  await db('payments').insert({
    id: paymentId,
    payer_id: payer,
    source_wallet_id: payerWallet,
    merchant_id: merchant,
    merchant_wallet_id: merchantWallet,
    fee: 2,
    net_amount: 98,
    description: 'seeded',
    workflow_id: `payment-${paymentId}`,
    compensation_started_at: now,
    ...saga,
  });
  await db('saga_steps').insert({ saga_id: paymentId, name: 'debit_payer', status: 'completed', at: now });
  await db('transfers').insert({ id: transferId, sender_id: payer, from_wallet_id: payerWallet, recipient_id: merchant, to_wallet_id: merchantWallet, workflow_id: `transfer-${transferId}`, note: null, compensation_started_at: null, ...saga });
  const refundId = newId('ref');
  await db('refunds').insert({
    id: refundId,
    payment_id: paymentId,
    payer_id: payer,
    source_wallet_id: payerWallet,
    merchant_id: merchant,
    merchant_wallet_id: merchantWallet,
    fee_refunded: 2,
    net_amount: 98,
    reason: 'seeded',
    workflow_id: `refund-${refundId}`,
    compensation_started_at: null,
    ...saga,
  });
  await db('refresh_tokens').insert({ id: newId('rft'), token_hash: Buffer.alloc(32, 7), family_id: newId('ses'), user_id: payer, token_version: 0, expires_at: now, rotated_at: now, revoked_at: null, created_at: now });
  await db('aliases').insert({ alias: 'seeded_shop', user_id: merchant, created_at: now });
  await db('rate_limit_counters').insert({ bucket: 'login_ip:abc', window_start_ms: now.getTime(), hits: 3, expires_at: now });
  await db('risk_checks').insert({
    ...{ saga_id: paymentId, step: 'risk_check', saga_kind: 'payment', outcome: 'review', rule: 'new_recipient', review_expires_at: now },
    ...{ decision: 'approve', decided_by: merchant, decided_at: now, created_at: now },
  });
  await db('risk_blocklist').insert({ id: newId('blk'), kind: 'email', value: 'fraud@example.test', reason: 'seeded', created_by: merchant, created_at: now });
  const event = newId('evt');
  await db('webhook_endpoints').insert({ id: newId('whe'), merchant_id: merchant, url: 'https://shop.example/hooks', secret: 'whsec_x', ...stamps });
  await db('webhook_events').insert({ id: event, merchant_id: merchant, type: 'payment.succeeded', payload: '{}', dedupe_key: `${paymentId}:succeeded`, status: 'pending', ...stamps });
  await db('webhook_deliveries').insert({ id: newId('whd'), event_id: event, merchant_id: merchant, event_type: 'payment.succeeded', url: 'https://shop.example/hooks', attempt: 1, status: 'failed', response_status: 500, error: null, ...stamps });
}

beforeAll(async () => {
  const url = new URL(testConfig().databaseUrl);
  server = createDatabase(url.toString(), 1);
  await server.raw(`CREATE DATABASE \`${databaseName}\``);
  url.pathname = `/${databaseName}`;
  db = createDatabase(url.toString(), 2);
});

afterAll(async () => {
  await db.destroy();
  await server.raw(`DROP DATABASE IF EXISTS \`${databaseName}\``);
  await server.destroy();
});

describe('migrations', () => {
  it('when each migration from the last to the first is rolled back and applied again with rows present, then every table is as before and the other tables keep their rows', async () => {
    const names = await migrationSource.getMigrations([]);
    // The schema before any migration (index 0) and after each one (index i), applied one at a time.
    const schemas: Schema[] = [await schema()];
    for (const name of names) {
      const [, ran] = (await db.migrate.up({ migrationSource })) as [number, string[]];
      expect(ran).toEqual([name]);
      schemas.push(await schema());
    }
    await insertSomeOfEverything();
    const seeded = await rowCounts();
    expect(Object.values(seeded).every((rows) => rows > 0)).toBe(true);

    for (let index = names.length; index >= 1; index -= 1) {
      const name = names[index - 1];
      const [before, beneath] = [schemas[index], schemas[index - 1]];
      expect({ name, schema: await schema() }).toEqual({ name, schema: before });
      const rowsBefore = await rowCounts();
      expect(Object.values(rowsBefore).some((rows) => rows > 0)).toBe(true);

      await db.migrate.down({ migrationSource });
      expect({ name, down: await schema() }).toEqual({ name, down: beneath });
      const rowsBeneath = await rowCounts();
      expect({ name, rows: rowsBeneath }).toEqual({ name, rows: Object.fromEntries(Object.keys(rowsBeneath).map((table) => [table, rowsBefore[table]])) });

      await db.migrate.up({ migrationSource });
      expect({ name, downThenUp: await schema() }).toEqual({ name, downThenUp: before });

      // On to the migration beneath, with this one rolled back.
      await db.migrate.down({ migrationSource });
    }
    expect(await schema()).toEqual({});
  });

  it('when migrated, rolled back at once and migrated again, then the schema comes and goes whole', async () => {
    const applied = await migrateLatest(db);
    expect(applied).toEqual(await migrationSource.getMigrations([]));
    const created = await schema();
    expect(Object.keys(created)).toEqual(
      expect.arrayContaining(['users', 'accounts', 'journals', 'entries', 'idempotency_keys', 'topups', 'notifications', 'audit_log', 'payments', 'saga_steps', 'transfers', 'webhook_deliveries']),
    );
    await insertSomeOfEverything();

    await migrateRollbackAll(db);
    expect(await tableNames()).toEqual([...KNEX_TABLES].sort());

    expect(await migrateLatest(db)).toEqual(applied);
    expect(await schema()).toEqual(created);
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

  it('when a request asks whether its session was revoked, then the (family_id, revoked_at) index serves it', async () => {
    await migrateLatest(db);
    const [plan] = (await db.raw('EXPLAIN SELECT 1 FROM refresh_tokens WHERE family_id = ? AND revoked_at IS NOT NULL', ['ses_x'])) as [Array<{ possible_keys: string | null }>];
    expect(plan[0]?.possible_keys ?? '').toContain('refresh_tokens_family_id_revoked_at_index');
  });
});
