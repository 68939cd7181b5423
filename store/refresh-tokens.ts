import { createCipheriv, createDecipheriv, createHash, createHmac, randomBytes } from 'node:crypto';
import type { Knex } from 'knex';
import { newId } from '../domain/ids';
import type { RefreshTokenRow } from '../infra/tables';
import { recordAudit } from './audit-log';
import { inTransaction } from './transactions';

/** A refresh token as handed to the client once: only its hash is stored. */
export interface IssuedRefreshToken {
  token: string;
  expiresAt: Date;
  /** The session (token family) it belongs to; access tokens issued with it carry this id. */
  sessionId: string;
}

/**
 * How a presented refresh token is judged: the successor's lifetime, how long a token just
 * rotated still answers with that same successor (two tabs refreshing at once), and the time.
 */
export interface RotationPolicy {
  ttlSeconds: number;
  reuseGraceSeconds: number;
  now: Date;
}

/**
 * What presenting a refresh token led to. `rotated` also answers a token rotated within the
 * grace window: `next` is then the successor it was rotated to, the very same token.
 */
export type RefreshOutcome =
  | { kind: 'rotated'; userId: string; tokenVersion: number; next: IssuedRefreshToken }
  | { kind: 'refused' }
  | { kind: 'reused'; userId: string };

/** 32 random bytes, base64url: the only form a refresh token takes. */
const TOKEN_PATTERN = /^[A-Za-z0-9_-]{43}$/;

function hashOf(token: string): Buffer {
  return createHash('sha256').update(token).digest();
}

/** Names the key that seals a successor: a domain of its own, so it is no other hash of the token. */
const SEALING_CONTEXT = 'sagapay refresh token successor v1';
const SEAL_NONCE_BYTES = 12;
const SEAL_TAG_BYTES = 16;

/** The key only the holder of `token` can make: the table keeps SHA-256 of the token, not this. */
function sealingKey(token: string): Buffer {
  return createHmac('sha256', token).update(SEALING_CONTEXT).digest();
}

/** The successor token sealed for the holder of `presented` (AES-256-GCM, bound to the rotated row's id). */
function sealSuccessor(presented: string, rowId: string, successor: string): Buffer {
  const nonce = randomBytes(SEAL_NONCE_BYTES);
  const cipher = createCipheriv('aes-256-gcm', sealingKey(presented), nonce);
  cipher.setAAD(Buffer.from(rowId));
  const sealed = Buffer.concat([cipher.update(successor, 'utf8'), cipher.final()]);
  return Buffer.concat([nonce, cipher.getAuthTag(), sealed]);
}

/** The successor sealed for `presented`, or undefined when the seal does not open with it. */
function openSuccessor(presented: string, rowId: string, sealed: Buffer): string | undefined {
  try {
    const decipher = createDecipheriv('aes-256-gcm', sealingKey(presented), sealed.subarray(0, SEAL_NONCE_BYTES));
    decipher.setAAD(Buffer.from(rowId));
    decipher.setAuthTag(sealed.subarray(SEAL_NONCE_BYTES, SEAL_NONCE_BYTES + SEAL_TAG_BYTES));
    return Buffer.concat([decipher.update(sealed.subarray(SEAL_NONCE_BYTES + SEAL_TAG_BYTES)), decipher.final()]).toString('utf8');
  } catch {
    return undefined;
  }
}

async function insertToken(
  trx: Knex | Knex.Transaction,
  owner: { userId: string; tokenVersion: number; familyId: string },
  ttlSeconds: number,
  now: Date,
): Promise<IssuedRefreshToken & { id: string }> {
  const token = randomBytes(32).toString('base64url');
  const expiresAt = new Date(now.getTime() + ttlSeconds * 1000);
  const id = newId('rft');
  await trx('refresh_tokens').insert({
    id,
    token_hash: hashOf(token),
    family_id: owner.familyId,
    user_id: owner.userId,
    token_version: owner.tokenVersion,
    expires_at: expiresAt,
    rotated_at: null,
    revoked_at: null,
    created_at: now,
  });
  return { id, token, expiresAt, sessionId: owner.familyId };
}

/**
 * Starts a session (a new token family) for a user who just logged in. The user's expired tokens
 * are deleted on the way: they can do nothing any more, and this keeps the table bounded by the
 * sessions people actually hold.
 */
export async function issueRefreshToken(
  db: Knex,
  owner: { userId: string; tokenVersion: number },
  ttlSeconds: number,
  now: Date = new Date(),
): Promise<IssuedRefreshToken> {
  await db('refresh_tokens').where({ user_id: owner.userId }).andWhere('expires_at', '<', now).delete();
  const { token, expiresAt, sessionId } = await insertToken(db, { ...owner, familyId: newId('ses') }, ttlSeconds, now);
  return { token, expiresAt, sessionId };
}

async function versionIsCurrent(trx: Knex.Transaction, row: Pick<RefreshTokenRow, 'user_id' | 'token_version'>): Promise<boolean> {
  const user = await trx('users').select('token_version').where({ id: row.user_id }).first();
  return user !== undefined && user.token_version === row.token_version;
}

/**
 * Exchanges a refresh token for its successor, under the token row's lock so two requests with
 * the same token are judged one after the other. A token rotated less than
 * `reuseGraceSeconds` ago, whose successor is still the session's live token, answers that same
 * successor (opened from the seal only this token's holder can open): two tabs refreshing at the
 * same instant both go on. Any other token that was already rotated is reuse (a copy of it
 * leaked, or an old one was replayed): its whole family is revoked and the audit log says so.
 * A revoked, expired or unknown token, or one older than the user's token version, is refused.
 */
export async function rotateRefreshToken(db: Knex, token: string, policy: RotationPolicy): Promise<RefreshOutcome> {
  if (!TOKEN_PATTERN.test(token)) return { kind: 'refused' };
  const { now, ttlSeconds } = policy;
  return inTransaction(db, async (trx): Promise<RefreshOutcome> => {
    const row = await trx('refresh_tokens').where({ token_hash: hashOf(token) }).forUpdate().first();
    if (!row || row.revoked_at !== null) return { kind: 'refused' };
    if (row.rotated_at !== null) {
      const again = await successorWithinGrace(trx, row, token, policy);
      if (again) return again;
      await revokeFamily(trx, row.family_id, now);
      await recordAudit(trx, { actorId: row.user_id, action: 'session.refresh_reuse_detected', resourceType: 'session', resourceId: row.family_id, data: {} }, now);
      return { kind: 'reused', userId: row.user_id };
    }
    if (row.expires_at.getTime() <= now.getTime() || !(await versionIsCurrent(trx, row))) {
      await revokeFamily(trx, row.family_id, now);
      return { kind: 'refused' };
    }
    const { id: successorId, ...next } = await insertToken(trx, { userId: row.user_id, tokenVersion: row.token_version, familyId: row.family_id }, ttlSeconds, now);
    await trx('refresh_tokens')
      .where({ id: row.id })
      .update({ rotated_at: now, successor_id: successorId, successor_sealed: sealSuccessor(token, row.id, next.token) });
    return { kind: 'rotated', userId: row.user_id, tokenVersion: row.token_version, next };
  });
}

/**
 * The answer to a token presented again within the grace window: the successor it was rotated
 * to, while that successor is the family's live token (not rotated, revoked or expired) and the
 * user's token version still holds. Undefined otherwise: the caller treats it as reuse.
 */
async function successorWithinGrace(trx: Knex.Transaction, row: RefreshTokenRow, token: string, policy: RotationPolicy): Promise<RefreshOutcome | undefined> {
  const { now, reuseGraceSeconds } = policy;
  if (row.rotated_at === null || !row.successor_id || !row.successor_sealed) return undefined;
  // `now` is read before the row's lock is waited for, so a request racing the rotation can read
  // a time before it: that is the very case the window is for.
  if (reuseGraceSeconds === 0 || now.getTime() - row.rotated_at.getTime() > reuseGraceSeconds * 1000) return undefined;
  const successor = await trx('refresh_tokens').where({ id: row.successor_id }).forUpdate().first();
  if (!successor || successor.rotated_at !== null || successor.revoked_at !== null || successor.expires_at.getTime() <= now.getTime()) return undefined;
  const successorToken = openSuccessor(token, row.id, row.successor_sealed);
  if (successorToken === undefined || !hashOf(successorToken).equals(successor.token_hash)) return undefined;
  if (!(await versionIsCurrent(trx, successor))) return { kind: 'refused' };
  return {
    kind: 'rotated',
    userId: successor.user_id,
    tokenVersion: successor.token_version,
    next: { token: successorToken, expiresAt: successor.expires_at, sessionId: successor.family_id },
  };
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
