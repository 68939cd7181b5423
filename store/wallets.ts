import type { Knex } from 'knex';
import { DomainError, ErrorType } from '../domain/errors';
import { newId } from '../domain/ids';
import { toSafeInteger } from '../domain/money';
import type { WalletStatus } from '../domain/types';
import type { AccountRow } from '../infra/tables';
import { recordAudit } from './audit-log';
import { isDuplicateKey } from './ledger';
import { inTransaction } from './transactions';

/** A user's wallet as the API shows it. */
export interface Wallet {
  id: string;
  userId: string;
  currency: string;
  balance: number;
  /** Part of `balance` credited by a saga that has not finished yet: not spendable until it does. */
  held: number;
  status: WalletStatus;
  createdAt: string;
}

/** Maps an `accounts` row of kind wallet to a Wallet. */
export function toWallet(row: AccountRow): Wallet {
  if (row.kind !== 'wallet' || row.user_id === null) throw new Error(`account ${row.id} is not a wallet`);
  return {
    id: row.id,
    userId: row.user_id,
    currency: row.currency,
    balance: toSafeInteger(row.balance, 'balance'),
    held: toSafeInteger(row.held, 'held'),
    status: row.status,
    createdAt: row.created_at.toISOString(),
  };
}

/** The row of a new, empty, active wallet. */
function newWalletRow(id: string, userId: string, currency: string, now: Date) {
  return { id, kind: 'wallet' as const, user_id: userId, system_key: null, currency, balance: 0, held: 0, status: 'active' as const, created_at: now, updated_at: now };
}

/** Creates the user's wallet in `currency` once; a second call returns the same wallet. */
export async function createWallet(db: Knex, userId: string, currency: string): Promise<Wallet> {
  const existing = await findWalletByUser(db, userId, currency);
  if (existing) return existing;
  const now = new Date();
  try {
    await db('accounts').insert(newWalletRow(newId('wal'), userId, currency, now));
  } catch (error) {
    if (!isDuplicateKey(error)) throw error;
  }
  const created = await findWalletByUser(db, userId, currency);
  if (!created) throw new Error(`wallet of ${userId} in ${currency} was not created`);
  return created;
}

/**
 * Opens a wallet in `currency` for the user inside the caller's transaction: balance 0, no
 * promotional credit. Null when the user already has one in that currency; the unique key
 * (user, currency) decides between concurrent openings.
 */
export async function openWallet(trx: Knex.Transaction, wallet: { id: string; userId: string; currency: string }): Promise<Wallet | null> {
  const { id, userId, currency } = wallet;
  const now = new Date();
  try {
    await trx('accounts').insert(newWalletRow(id, userId, currency, now));
  } catch (error) {
    if (isDuplicateKey(error)) return null;
    throw error;
  }
  const row = await trx('accounts').where({ id }).first();
  if (!row) throw new Error(`wallet ${id} was not written`);
  return toWallet(row);
}

/** The user's wallet in `currency`, or null. */
export async function findWalletByUser(db: Knex, userId: string, currency: string): Promise<Wallet | null> {
  const row = await db('accounts').where({ kind: 'wallet', user_id: userId, currency }).first();
  return row ? toWallet(row) : null;
}

/** Every wallet of the user, oldest first. */
export async function listWalletsOfUser(db: Knex, userId: string): Promise<Wallet[]> {
  const rows = await db('accounts').where({ kind: 'wallet', user_id: userId }).orderBy('seq', 'asc');
  return rows.map(toWallet);
}

/** The wallet with this id, or null (system accounts are not wallets). */
export async function findWallet(db: Knex, walletId: string): Promise<Wallet | null> {
  const row = await db('accounts').where({ kind: 'wallet', id: walletId }).first();
  return row ? toWallet(row) : null;
}

/**
 * Freezes or unfreezes a wallet and records who did it in the audit log; idempotent. A wallet of a
 * closed account is not unfrozen (AccountClosed): closing froze it so that no money can enter.
 */
export async function setWalletStatus(db: Knex, walletId: string, status: WalletStatus, actorId: string): Promise<Wallet> {
  return inTransaction(db, async (trx) => {
    const row = await trx('accounts').where({ kind: 'wallet', id: walletId }).forUpdate().first();
    if (!row) throw new DomainError(ErrorType.AccountNotFound, `wallet ${walletId} does not exist`);
    if (status === 'active' && row.user_id !== null) {
      // A plain read: a closing that has not committed yet freezes the wallet again after this.
      const owner = await trx('users').select('status').where({ id: row.user_id }).first();
      if (owner?.status === 'closed') throw new DomainError(ErrorType.AccountClosed, `wallet ${walletId} belongs to a closed account`);
    }
    if (row.status !== status) {
      const now = new Date();
      await trx('accounts').where({ id: walletId }).update({ status, updated_at: now });
      await recordAudit(
        trx,
        { actorId, action: status === 'frozen' ? 'wallet.frozen' : 'wallet.unfrozen', resourceType: 'wallet', resourceId: walletId, data: { from: row.status, to: status } },
        now,
      );
    }
    return toWallet({ ...row, status });
  }, { isolationLevel: 'repeatable read' });
}
