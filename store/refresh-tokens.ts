import { createHash, randomBytes } from 'node:crypto';
import type { Knex } from 'knex';
import { newId } from '../domain/ids';
import { recordAudit } from './audit-log';
import { inTransaction } from './transactions';

/** A refresh token as handed to the client once: only its hash is stored. */
export interface IssuedRefreshToken {
  token: string;
  expiresAt: Date;
  /** The session (token family) it belongs to; access tokens issued with it carry this id. */
  sessionId: string;
}

/** What presenting a refresh token led to. */
export type RefreshOutcome =
  | { kind: 'rotated'; userId: string; tokenVersion: number; next: IssuedRefreshToken }
  | { kind: 'refused' }
  | { kind: 'reused'; userId: string };

/** 32 random bytes, base64url: the only form a refresh token takes. */
const TOKEN_PATTERN = /^[A-Za-z0-9_-]{43}$/;

function hashOf(token: string): Buffer {
  return createHash('sha256').update(token).digest();
}

async function insertToken(
  trx: Knex | Knex.Transaction,
  owner: { userId: string; tokenVersion: number; familyId: string },
  ttlSeconds: number,
  now: Date,
): Promise<IssuedRefreshToken> {
  const token = randomBytes(32).toString('base64url');
  const expiresAt = new Date(now.getTime() + ttlSeconds * 1000);
  await trx('refresh_tokens').insert({
    id: newId('rft'),
    token_hash: hashOf(token),
    family_id: owner.familyId,
    user_id: owner.userId,
    token_version: owner.tokenVersion,
    expires_at: expiresAt,
    rotated_at: null,
    revoked_at: null,
    created_at: now,
  });
  return { token, expiresAt, sessionId: owner.familyId };
}

/**
 * Starts a session (a new token family) for a user who just logged in. The user's expired tokens
 * are deleted on the way: they can do nothing any more, and this keeps the table bounded by the
 * sessions people actually hold.
 */
export async function issueRefreshToken(db: Knex, owner: { userId: string; tokenVersion: number }, ttlSeconds: number): Promise<IssuedRefreshToken> {
  const now = new Date();
  await db('refresh_tokens').where({ user_id: owner.userId }).andWhere('expires_at', '<', now).delete();
  return insertToken(db, { ...owner, familyId: newId('ses') }, ttlSeconds, now);
}

/**
 * Exchanges a refresh token for its successor, under the token row's lock so two requests with
 * the same token cannot both succeed. A token that was already rotated is reuse (a copy of it
 * leaked, or an old one was replayed): its whole family is revoked and the audit log says so.
 * A revoked, expired or unknown token, or one older than the user's token version, is refused.
 */
export async function rotateRefreshToken(db: Knex, token: string, ttlSeconds: number): Promise<RefreshOutcome> {
  if (!TOKEN_PATTERN.test(token)) return { kind: 'refused' };
  return inTransaction(db, async (trx): Promise<RefreshOutcome> => {
    const row = await trx('refresh_tokens').where({ token_hash: hashOf(token) }).forUpdate().first();
    if (!row || row.revoked_at !== null) return { kind: 'refused' };
    const now = new Date();
    if (row.rotated_at !== null) {
      await revokeFamily(trx, row.family_id, now);
      await recordAudit(trx, { actorId: row.user_id, action: 'session.refresh_reuse_detected', resourceType: 'session', resourceId: row.family_id, data: {} }, now);
      return { kind: 'reused', userId: row.user_id };
    }
    const user = await trx('users').select('token_version').where({ id: row.user_id }).first();
    if (row.expires_at.getTime() <= now.getTime() || !user || user.token_version !== row.token_version) {
      await revokeFamily(trx, row.family_id, now);
      return { kind: 'refused' };
    }
    await trx('refresh_tokens').where({ id: row.id }).update({ rotated_at: now });
    const next = await insertToken(trx, { userId: row.user_id, tokenVersion: row.token_version, familyId: row.family_id }, ttlSeconds, now);
    return { kind: 'rotated', userId: row.user_id, tokenVersion: row.token_version, next };
  });
}

/** Logout: revokes the token's whole family and records it; null when the token named no live session. */
export async function revokeRefreshToken(db: Knex, token: string): Promise<{ userId: string } | null> {
  if (!TOKEN_PATTERN.test(token)) return null;
  return inTransaction(db, async (trx) => {
    const row = await trx('refresh_tokens').where({ token_hash: hashOf(token) }).forUpdate().first();
    if (!row || row.revoked_at !== null) return null;
    const now = new Date();
    await revokeFamily(trx, row.family_id, now);
    await recordAudit(trx, { actorId: row.user_id, action: 'session.logged_out', resourceType: 'session', resourceId: row.family_id, data: {} }, now);
    return { userId: row.user_id };
  });
}

/** Revokes every live refresh token of a user (a new password, a closed account), inside the caller's transaction. */
export async function revokeAllRefreshTokens(trx: Knex.Transaction, userId: string, now: Date = new Date()): Promise<void> {
  await trx('refresh_tokens').where({ user_id: userId, revoked_at: null }).update({ revoked_at: now });
}

/**
 * A subquery that finds a row when the session was revoked (logout, reuse, a refused refresh, a
 * new password): revoking marks every token of the family, the latest included, so a revoked
 * session has a revoked row for as long as any of its access tokens can live (refresh tokens
 * live at least as long as access tokens; see the configuration). One probe of the
 * (`family_id`, `revoked_at`) index, meant to be embedded in the caller's query as `exists (…)`.
 */
export function revokedSessionQuery(db: Knex, sessionId: string): Knex.QueryBuilder {
  return db('refresh_tokens').select(db.raw('1')).where({ family_id: sessionId }).whereNotNull('revoked_at');
}

async function revokeFamily(trx: Knex.Transaction, familyId: string, now: Date): Promise<void> {
  await trx('refresh_tokens').where({ family_id: familyId, revoked_at: null }).update({ revoked_at: now });
}
