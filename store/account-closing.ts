import type { Knex } from 'knex';
import { MONEY_SAGAS } from '../domain/money-sagas';
import { toSafeInteger } from '../domain/money';
import { releaseAliases } from './aliases';
import { recordAudit } from './audit-log';
import { inTransaction } from './transactions';
import { revokeAllRefreshTokens } from './refresh-tokens';

/** Why an account cannot be closed yet; each is answered 409 `wallet_not_empty`. */
export type ClosingRefusal = 'balance' | 'held' | 'saga_in_flight' | 'onboarding';

/** What closing led to. */
export type ClosingOutcome = { closed: true } | { closed: false; reason: ClosingRefusal };

/**
 * Something else a closed account gives up, run inside the closing transaction after every check
 * passed (so it is undone with the closing when a later write fails). The aliases of a user are
 * released this way: their step plugs into `RELEASED_ON_CLOSING`.
 */
export type ClosingRelease = (trx: Knex.Transaction, userId: string, now: Date) => Promise<void>;

/** The releases `DELETE /v1/me` runs: each table that holds a closed user's claims (such as aliases) adds its step here. */
export const RELEASED_ON_CLOSING: readonly ClosingRelease[] = [
  async (trx, userId, now) => {
    await releaseAliases(trx, userId, now);
  },
];

/** Every party column of every money saga: a saga naming the user there and not final keeps the account open. */
const SAGA_PARTIES: ReadonlyArray<readonly [table: string, column: string]> = [
  [MONEY_SAGAS.payment.table, 'payer_id'],
  [MONEY_SAGAS.payment.table, 'merchant_id'],
  [MONEY_SAGAS.transfer.table, 'sender_id'],
  [MONEY_SAGAS.transfer.table, 'recipient_id'],
  [MONEY_SAGAS.refund.table, 'payer_id'],
  [MONEY_SAGAS.refund.table, 'merchant_id'],
];

/** A saga in any other status (pending, processing, or a later one such as in review) is in flight. */
const FINAL_STATUSES = ['succeeded', 'failed'];

async function hasSagaInFlight(trx: Knex.Transaction, userId: string): Promise<boolean> {
  for (const [table, column] of SAGA_PARTIES) {
    // A locking read sees the latest committed rows and waits for a saga row being written.
    const row = (await trx(table).select('id').where(column, userId).whereNotIn('status', FINAL_STATUSES).forShare().first()) as { id: string } | undefined;
    if (row) return true;
  }
  return false;
}

/**
 * Closes a user's account when nothing of theirs is in motion: every wallet at zero with nothing
 * held, no payment, transfer or refund naming them unfinished, onboarding over. In one
 * transaction, the user row locked first, then the sagas read with locks, then the wallets locked
 * (the order the saga steps take, so they do not deadlock with it). Closing freezes the wallets
 * (no saga moves money into or out of a frozen wallet, so none can slip in afterwards), marks the
 * user `closed`, bumps the token version (every token stops working), revokes the refresh tokens,
 * runs `releases`, and records it in the audit log. No row is deleted: the ledger still names them.
 */
export async function closeAccount(db: Knex, userId: string, releases: readonly ClosingRelease[] = RELEASED_ON_CLOSING): Promise<ClosingOutcome> {
  return inTransaction(db, async (trx): Promise<ClosingOutcome> => {
    const user = await trx('users').where({ id: userId }).forUpdate().first();
    if (!user) throw new Error(`user ${userId} does not exist`);
    if (user.status === 'closed') return { closed: true };
    if (user.onboarding_status !== 'completed') return { closed: false, reason: 'onboarding' };
    if (await hasSagaInFlight(trx, userId)) return { closed: false, reason: 'saga_in_flight' };
    const wallets = await trx('accounts').where({ kind: 'wallet', user_id: userId }).orderBy('id').forUpdate();
    if (wallets.some((wallet) => toSafeInteger(wallet.held, 'held') !== 0)) return { closed: false, reason: 'held' };
    if (wallets.some((wallet) => toSafeInteger(wallet.balance, 'balance') !== 0)) return { closed: false, reason: 'balance' };

    const now = new Date();
    await trx('accounts').where({ kind: 'wallet', user_id: userId }).update({ status: 'frozen', updated_at: now });
    await trx('users').where({ id: userId }).update({ status: 'closed', closed_at: now, token_version: user.token_version + 1, updated_at: now });
    await revokeAllRefreshTokens(trx, userId, now);
    for (const release of releases) await release(trx, userId, now);
    await recordAudit(trx, { actorId: userId, action: 'user.closed', resourceType: 'user', resourceId: userId, data: { wallets: wallets.map((wallet) => wallet.id) } }, now);
    return { closed: true };
  });
}
