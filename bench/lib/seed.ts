import type { Knex } from 'knex';
import { issueAccessToken, type TokenSettings } from '../../api/auth/tokens';
import { newId } from '../../domain/ids';
import { systemAccountId } from '../../domain/types';

/** One seeded user: who pays (customers) or is paid (merchants), and how they authenticate. */
export interface BenchUser {
  id: string;
  walletId: string;
  /** A Bearer token signed with the stack's JWT secret. */
  token: string;
}

/** The people of a bench run. */
export interface BenchPopulation {
  customers: BenchUser[];
  merchants: BenchUser[];
  currency: string;
}

/** Every customer starts with this much (minor units): far more than a run can spend at one unit per payment. */
export const CUSTOMER_BALANCE = 100_000_000;
const BATCH_ROWS = 1_000;
/** The tokens outlive the longest run; the API checks their signature and expiry as for any client. */
const TOKEN_TTL_SECONDS = 86_400;

type Row = Record<string, unknown>;

function userRows(role: 'customer' | 'merchant', count: number, currency: string, now: Date, runTag: string): { users: Row[]; wallets: Row[] } {
  const users: Row[] = [];
  const wallets: Row[] = [];
  for (let index = 0; index < count; index += 1) {
    const userId = newId('usr');
    const common = { currency, created_at: now, updated_at: now };
    users.push({ id: userId, email: `${role}.${index}.${runTag}@bench.test`, password_hash: 'not-a-hash: bench users never log in', name: `Bench ${role} ${index}`, phone: null, role, onboarding_status: 'completed', ...common });
    wallets.push({ id: newId('wal'), kind: 'wallet', user_id: userId, system_key: null, balance: 0, held: 0, status: 'active', ...common });
  }
  return { users, wallets };
}

async function insertAll(trx: Knex.Transaction, table: string, rows: Row[]): Promise<void> {
  for (let start = 0; start < rows.length; start += BATCH_ROWS) await trx(table).insert(rows.slice(start, start + BATCH_ROWS));
}

/**
 * Writes customers and merchants straight into the database, as onboarding leaves them (a
 * completed user with an active wallet), and tops every customer up with a balanced journal
 * from the `external` account, so the ledger reconciles before and after the run.
 */
export async function seedPopulation(db: Knex, tokens: TokenSettings, counts: { customers: number; merchants: number; currency: string }): Promise<BenchPopulation> {
  const now = new Date();
  const { currency } = counts;
  // Unique e-mails per run: a stack given by the environment may hold the users of an earlier run.
  const runTag = newId('req').slice(-8).toLowerCase();
  const customers = userRows('customer', counts.customers, currency, now, runTag);
  const merchants = userRows('merchant', counts.merchants, currency, now, runTag);
  const external = systemAccountId('external', currency);
  await db.transaction(async (trx) => {
    await insertAll(trx, 'users', [...customers.users, ...merchants.users]);
    await insertAll(trx, 'accounts', [...customers.wallets, ...merchants.wallets]);
    const externalRow = await trx('accounts').select('balance').where({ id: external }).forUpdate().first();
    if (!externalRow) throw new Error(`the system account ${external} is missing: was the database prepared?`);
    let externalBalance = Number(externalRow.balance);
    const journals: Row[] = [];
    const entries: Row[] = [];
    for (const wallet of customers.wallets) {
      const journalId = newId('jnl');
      const walletId = String(wallet.id);
      externalBalance -= CUSTOMER_BALANCE;
      journals.push({ id: journalId, journal_key: `bench-topup:${walletId}`, type: 'topup', reference_id: walletId, created_at: now });
      entries.push({ id: newId('txn'), journal_id: journalId, account_id: external, amount: -CUSTOMER_BALANCE, balance_after: externalBalance, type: 'topup', reference_id: walletId, created_at: now });
      entries.push({ id: newId('txn'), journal_id: journalId, account_id: walletId, amount: CUSTOMER_BALANCE, balance_after: CUSTOMER_BALANCE, type: 'topup', reference_id: walletId, created_at: now });
    }
    await insertAll(trx, 'journals', journals);
    await insertAll(trx, 'entries', entries);
    await trx('accounts').whereIn('id', customers.wallets.map((wallet) => String(wallet.id))).update({ balance: CUSTOMER_BALANCE });
    await trx('accounts').where({ id: external }).update({ balance: externalBalance });
  });
  const settings = { ...tokens, ttlSeconds: TOKEN_TTL_SECONDS };
  const withTokens = async (role: 'customer' | 'merchant', wallets: Row[]): Promise<BenchUser[]> =>
    Promise.all(wallets.map(async (wallet) => ({ id: String(wallet.user_id), walletId: String(wallet.id), token: await issueAccessToken(settings, { userId: String(wallet.user_id), role, tokenVersion: 0 }) })));
  return { customers: await withTokens('customer', customers.wallets), merchants: await withTokens('merchant', merchants.wallets), currency };
}
