import type { Knex } from 'knex';
import { recordAudit } from './audit-log';
import { inTransaction } from './transactions';
import { revokeAllRefreshTokens } from './refresh-tokens';

/** What `PATCH /v1/me` may change; an absent field stays as it is, a null phone clears it. */
export interface ProfileChanges {
  name?: string | undefined;
  phone?: string | null | undefined;
}

/**
 * Applies the changes that differ from the stored profile and records which fields changed (never
 * their values: the audit log keeps no personal data it does not need). Nothing changed: no write.
 */
export async function updateProfile(db: Knex, userId: string, changes: ProfileChanges): Promise<void> {
  await inTransaction(db, async (trx) => {
    const row = await trx('users').select('name', 'phone').where({ id: userId }).forUpdate().first();
    if (!row) throw new Error(`user ${userId} does not exist`);
    const update: { name?: string; phone?: string | null } = {};
    if (changes.name !== undefined && changes.name !== row.name) update.name = changes.name;
    if (changes.phone !== undefined && changes.phone !== row.phone) update.phone = changes.phone;
    const fields = Object.keys(update);
    if (fields.length === 0) return;
    const now = new Date();
    await trx('users').where({ id: userId }).update({ ...update, updated_at: now });
    await recordAudit(trx, { actorId: userId, action: 'user.profile_updated', resourceType: 'user', resourceId: userId, data: { fields } }, now);
  });
}

/**
 * Stores a new password hash and bumps the token version, so every access token and refresh
 * token issued before stops working; the live refresh tokens are revoked as well. `seenVersion`
 * is the version of the token that asked: if another change bumped it meanwhile, nothing is
 * written and false comes back.
 */
export async function changePassword(db: Knex, userId: string, seenVersion: number, passwordHash: string): Promise<boolean> {
  return inTransaction(db, async (trx) => {
    const now = new Date();
    const changed = await trx('users')
      .where({ id: userId, token_version: seenVersion })
      .update({ password_hash: passwordHash, token_version: seenVersion + 1, updated_at: now });
    if (changed !== 1) return false;
    await revokeAllRefreshTokens(trx, userId, now);
    await recordAudit(trx, { actorId: userId, action: 'user.password_changed', resourceType: 'user', resourceId: userId, data: {} }, now);
    return true;
  });
}
