import type { Knex } from 'knex';
import { MAX_ALIASES_PER_USER } from '../domain/aliases';
import { recordAudit } from './audit-log';
import { isDuplicateKey } from './ledger';
import { inTransaction } from './transactions';

/** An alias as its holder sees it: the lower-case handle without its `@`, and when it was claimed. */
export interface AliasRecord {
  alias: string;
  userId: string;
  createdAt: string;
}

/** What a claim came to: the alias, or why not (someone holds it; the user holds the most allowed). */
export type ClaimOutcome = { status: 'claimed'; alias: AliasRecord } | { status: 'taken' } | { status: 'limit_reached' };

/** Writes who claimed or released a handle to the audit log, in the caller's transaction. */
async function auditAlias(trx: Knex.Transaction, action: 'alias.claimed' | 'alias.released', alias: string, userId: string, at: Date): Promise<void> {
  await recordAudit(trx, { actorId: userId, action, resourceType: 'alias', resourceId: alias, data: { userId } }, at);
}

/**
 * Claims a normalised handle for a user. The user's row is locked first, so two claims of one user
 * are counted one after the other against `MAX_ALIASES_PER_USER`; the unique key on `alias` settles
 * two users claiming one handle at once: the second waits for the first to commit, then finds it taken.
 */
export async function claimAlias(db: Knex, userId: string, alias: string): Promise<ClaimOutcome> {
  const now = new Date();
  try {
    return await inTransaction(db, async (trx): Promise<ClaimOutcome> => {
      const user = await trx('users').select('id').where({ id: userId }).forUpdate().first();
      if (!user) throw new Error(`user ${userId} does not exist`);
      const held = (await trx('aliases').count({ count: '*' }).where({ user_id: userId }).first()) as { count: number | string } | undefined;
      if (Number(held?.count ?? 0) >= MAX_ALIASES_PER_USER) return { status: 'limit_reached' };
      await trx('aliases').insert({ alias, user_id: userId, created_at: now });
      await auditAlias(trx, 'alias.claimed', alias, userId, now);
      return { status: 'claimed', alias: { alias, userId, createdAt: now.toISOString() } };
    }, { isolationLevel: 'repeatable read' });
  } catch (error) {
    if (isDuplicateKey(error)) return { status: 'taken' };
    throw error;
  }
}

/** The user's aliases, newest first (at most `MAX_ALIASES_PER_USER`). */
export async function listAliasesOfUser(db: Knex, userId: string): Promise<AliasRecord[]> {
  const rows = await db('aliases').where({ user_id: userId }).orderBy('seq', 'desc').limit(MAX_ALIASES_PER_USER);
  return rows.map((row) => ({ alias: row.alias, userId: row.user_id, createdAt: row.created_at.toISOString() }));
}

/** Releases one of the user's handles; false when the user does not hold it (someone else's stays untouched). */
export async function releaseAlias(db: Knex, userId: string, alias: string): Promise<boolean> {
  return inTransaction(
    db,
    async (trx) => {
      const deleted = await trx('aliases').where({ alias, user_id: userId }).delete();
      if (deleted === 0) return false;
      await auditAlias(trx, 'alias.released', alias, userId, new Date());
      return true;
    },
    { isolationLevel: 'repeatable read' },
  );
}

/**
 * Releases every handle of a user inside the caller's transaction (closing an account), each one
 * written to the audit log; returns the released handles.
 */
export async function releaseAliases(trx: Knex.Transaction, userId: string, now: Date = new Date()): Promise<string[]> {
  const rows = await trx('aliases').select('alias').where({ user_id: userId }).forUpdate();
  if (rows.length === 0) return [];
  const aliases = rows.map((row) => row.alias);
  await trx('aliases').where({ user_id: userId }).whereIn('alias', aliases).delete();
  for (const alias of aliases) await auditAlias(trx, 'alias.released', alias, userId, now);
  return aliases;
}

/** The id of the user holding a normalised handle, or null. */
export async function findAliasHolder(db: Knex, alias: string): Promise<string | null> {
  const row = await db('aliases').select('user_id').where({ alias }).first();
  return row ? row.user_id : null;
}

/** Each user's oldest handle, for listings that show one handle per user; users without one are absent. */
export async function firstAliasOf(db: Knex, userIds: readonly string[]): Promise<Map<string, string>> {
  const handles = new Map<string, string>();
  if (userIds.length === 0) return handles;
  const rows = await db('aliases').select('user_id', 'alias').whereIn('user_id', userIds).orderBy('seq', 'asc');
  for (const row of rows) if (!handles.has(row.user_id)) handles.set(row.user_id, row.alias);
  return handles;
}
