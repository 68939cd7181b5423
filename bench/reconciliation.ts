import { parseArgs } from 'node:util';
import type { Knex } from 'knex';
import { reconcile } from '../store/reconciliation';
import { newId } from '../domain/ids';
import { paymentWorkflowId, transferWorkflowId } from '../domain/workflow-ids';
import { systemAccountId, type EntryType } from '../domain/types';
import { runBenchmark, withPrivateDatabase } from './lib/private-database';

/**
 * How long `GET /v1/admin/reconciliation` takes on a large ledger (issue 8: at most 2 s on
 * 100k journals / 300k entries). Starts a throw-away MariaDB, fills it with a ledger that
 * reconciles (every journal balanced, every balance the sum of its entries, clearing and holds
 * equal to the sagas in flight), runs the reconciliation several times and prints the times.
 *
 *   npm run bench:reconciliation -- [--payments 60000] [--runs 5]
 *
 * The default makes 60k finished payments (2 journals, 5 entries each), plus top-ups, failed
 * payments, transfers and a few hundred sagas in flight: about 126k journals and 313k entries.
 */
const { values } = parseArgs({ options: { payments: { type: 'string', default: '60000' }, runs: { type: 'string', default: '5' } } });
const PAYMENTS = Math.min(Math.max(Number(values.payments), 100), 1_000_000);
const RUNS = Math.min(Math.max(Number(values.runs), 1), 50);
const CURRENCY = 'USD';
const CUSTOMERS = 2_000;
const MERCHANTS = 50;
const FAILED_PAYMENTS = 1_000;
const TRANSFERS = 1_000;
const IN_FLIGHT = 300;
const TOP_UP = 10_000_000;
const FEE_BPS = 200;
const BATCH_ROWS = 2_000;
const BUDGET_MS = 2_000;
const DAY_MS = 86_400_000;

const CLEARING = systemAccountId('clearing', CURRENCY);
const FEES = systemAccountId('fees', CURRENCY);
const EXTERNAL = systemAccountId('external', CURRENCY);

type Row = Record<string, unknown>;

/** The ledger built in memory, as postJournal would write it, then inserted in bulk. */
class LedgerBuilder {
  readonly balances = new Map<string, number>();
  readonly held = new Map<string, number>();
  readonly journals: Row[] = [];
  readonly entries: Row[] = [];

  post(key: string, referenceId: string, at: Date, lines: Array<[accountId: string, amount: number, type: EntryType]>, holds: Array<[string, number]> = []): void {
    if (lines.reduce((sum, [, amount]) => sum + amount, 0) !== 0) throw new Error(`journal ${key} does not balance`);
    const journalId = newId('jnl');
    this.journals.push({ id: journalId, journal_key: key, type: key.slice(key.lastIndexOf(':') + 1), reference_id: referenceId, created_at: at });
    for (const [accountId, amount, type] of lines) {
      const balance = (this.balances.get(accountId) ?? 0) + amount;
      this.balances.set(accountId, balance);
      this.entries.push({ id: newId('txn'), journal_id: journalId, account_id: accountId, amount, balance_after: balance, type, reference_id: referenceId, created_at: at });
    }
    for (const [accountId, amount] of holds) this.held.set(accountId, (this.held.get(accountId) ?? 0) + amount);
  }
}

interface Party {
  userId: string;
  walletId: string;
}

function usersAndWallets(role: 'customer' | 'merchant', count: number, at: Date): { parties: Party[]; users: Row[]; wallets: Row[] } {
  const parties: Party[] = [];
  const users: Row[] = [];
  const wallets: Row[] = [];
  for (let index = 0; index < count; index += 1) {
    const party = { userId: newId('usr'), walletId: newId('wal') };
    parties.push(party);
    const common = { currency: CURRENCY, created_at: at, updated_at: at };
    users.push({ id: party.userId, email: `${role}.${index}@bench.test`, password_hash: 'x', name: `${role} ${index}`, phone: null, role, onboarding_status: 'completed', ...common });
    wallets.push({ id: party.walletId, kind: 'wallet', user_id: party.userId, system_key: null, balance: 0, held: 0, status: 'active', ...common });
  }
  return { parties, users, wallets };
}

/** Every row of the data set; money rows come from the LedgerBuilder so they reconcile. */
function buildDataSet(now: Date) {
  const start = new Date(now.getTime() - 30 * DAY_MS);
  const customers = usersAndWallets('customer', CUSTOMERS, start);
  const merchants = usersAndWallets('merchant', MERCHANTS, start);
  const ledger = new LedgerBuilder();
  const payments: Row[] = [];
  const transfers: Row[] = [];
  const pick = <T>(list: T[], index: number): T => list[index % list.length] as T;

  for (const customer of customers.parties) {
    ledger.post(`fixture:${customer.walletId}`, customer.walletId, start, [[EXTERNAL, -TOP_UP, 'topup'], [customer.walletId, TOP_UP, 'topup']]);
  }
  const paymentCount = PAYMENTS + FAILED_PAYMENTS + IN_FLIGHT;
  for (let index = 0; index < paymentCount; index += 1) {
    const finished = index < PAYMENTS + FAILED_PAYMENTS;
    // Finished sagas spread over 30 days; the ones in flight started a moment ago.
    const at = finished ? new Date(start.getTime() + Math.floor((index / paymentCount) * 29 * DAY_MS)) : new Date(now.getTime() - 1_000);
    const payer = pick(customers.parties, index);
    const merchant = pick(merchants.parties, index * 7);
    const amount = 100 + (index % 5_000);
    const fee = Math.floor((amount * FEE_BPS + 5_000) / 10_000);
    const id = newId('pay');
    const status = index < PAYMENTS ? 'succeeded' : finished ? 'failed' : 'processing';
    payments.push({
      id,
      payer_id: payer.userId,
      source_wallet_id: payer.walletId,
      merchant_id: merchant.userId,
      merchant_wallet_id: merchant.walletId,
      amount,
      fee,
      net_amount: amount - fee,
      currency: CURRENCY,
      description: null,
      status,
      failure_code: status === 'failed' ? 'processing_error' : null,
      failure_message: status === 'failed' ? 'bench' : null,
      fault_step: null,
      workflow_id: paymentWorkflowId(id),
      compensation_started_at: status === 'failed' ? at : null,
      created_at: at,
      updated_at: at,
    });
    ledger.post(`${id}:debit_payer`, id, at, [[payer.walletId, -amount, 'payment_debit'], [CLEARING, amount, 'payment_debit']]);
    if (status === 'failed') {
      ledger.post(`${id}:refund_payer`, id, at, [[CLEARING, -amount, 'payment_refund'], [payer.walletId, amount, 'payment_refund']]);
    } else if (status === 'succeeded' || index % 2 === 0) {
      // Half of the payments in flight are past credit_merchant: the merchant's share is held.
      const lines: Array<[string, number, EntryType]> = [[CLEARING, -amount, 'payment_credit'], [merchant.walletId, amount - fee, 'payment_credit'], [FEES, fee, 'fee']];
      ledger.post(`${id}:credit_merchant`, id, at, lines, status === 'succeeded' ? [] : [[merchant.walletId, amount - fee]]);
    }
  }
  for (let index = 0; index < TRANSFERS; index += 1) {
    const at = new Date(start.getTime() + Math.floor((index / TRANSFERS) * 29 * DAY_MS));
    const sender = pick(customers.parties, index);
    const recipient = pick(customers.parties, index + 1);
    const amount = 500 + index;
    const id = newId('trf');
    transfers.push({
      id,
      sender_id: sender.userId,
      from_wallet_id: sender.walletId,
      recipient_id: recipient.userId,
      to_wallet_id: recipient.walletId,
      amount,
      currency: CURRENCY,
      note: null,
      status: 'succeeded',
      failure_code: null,
      failure_message: null,
      fault_step: null,
      workflow_id: transferWorkflowId(id),
      compensation_started_at: null,
      created_at: at,
      updated_at: at,
    });
    ledger.post(`${id}:debit_sender`, id, at, [[sender.walletId, -amount, 'transfer_out'], [CLEARING, amount, 'transfer_out']]);
    ledger.post(`${id}:credit_recipient`, id, at, [[CLEARING, -amount, 'transfer_in'], [recipient.walletId, amount, 'transfer_in']]);
  }
  return { users: [...customers.users, ...merchants.users], wallets: [...customers.wallets, ...merchants.wallets], ledger, payments, transfers };
}

async function insertAll(db: Knex, table: string, rows: Row[]): Promise<void> {
  for (let start = 0; start < rows.length; start += BATCH_ROWS) await db(table).insert(rows.slice(start, start + BATCH_ROWS));
}

async function load(db: Knex, now: Date): Promise<{ journals: number; entries: number }> {
  const data = buildDataSet(now);
  await insertAll(db, 'users', data.users);
  await insertAll(db, 'accounts', data.wallets);
  await insertAll(db, 'payments', data.payments);
  await insertAll(db, 'transfers', data.transfers);
  await insertAll(db, 'journals', data.ledger.journals);
  await insertAll(db, 'entries', data.ledger.entries);
  for (const [accountId, balance] of data.ledger.balances) {
    await db('accounts').where({ id: accountId }).update({ balance, held: data.ledger.held.get(accountId) ?? 0 });
  }
  await db.raw('ANALYZE TABLE users, accounts, payments, transfers, journals, entries');
  return { journals: data.ledger.journals.length, entries: data.ledger.entries.length };
}

async function main(): Promise<void> {
  await withPrivateDatabase({ poolSize: 2, currencies: [CURRENCY] }, async (db) => {
    const now = new Date();
    const loadStarted = performance.now();
    const size = await load(db, now);
    console.log(`loaded ${size.journals} journals, ${size.entries} entries in ${((performance.now() - loadStarted) / 1_000).toFixed(1)} s`);

    const timesMs: number[] = [];
    for (let run = 1; run <= RUNS; run += 1) {
      const started = performance.now();
      const report = await reconcile(db, { stuckAfterMs: 300_000, now });
      timesMs.push(performance.now() - started);
      // The data set reconciles by construction; a report that disagrees means the benchmark (or the check) is wrong.
      if (!report.ok) throw new Error(`the data set does not reconcile: ${JSON.stringify(report)}`);
    }
    const sorted = [...timesMs].sort((a, b) => a - b);
    const median = sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
    const max = sorted[sorted.length - 1] ?? Number.NaN;
    console.log(`reconciliation: ${RUNS} runs  median ${median.toFixed(0)} ms  max ${max.toFixed(0)} ms  (each: ${timesMs.map((ms) => ms.toFixed(0)).join(', ')} ms)`);
    if (max > BUDGET_MS) {
      console.log(`slower than the ${BUDGET_MS} ms budget`);
      process.exitCode = 1;
    }
  });
}

runBenchmark(main);
