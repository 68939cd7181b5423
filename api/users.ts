import type { Knex } from 'knex';
import { newId } from '../domain/ids';
import type { Role } from '../domain/types';
import { isDuplicateKey } from '../store/ledger';
import { revokedSessionQuery } from '../store/refresh-tokens';
import type { UserRow } from '../infra/tables';
import { HttpError } from './errors';

/** A user as the API shows it: never the password hash. */
export interface User {
  id: string;
  email: string;
  name: string;
  phone: string | null;
  role: Role;
  createdAt: string;
}

/** A user row with what login and onboarding need besides the public fields. */
export interface StoredUser extends User {
  passwordHash: string;
  currency: string;
  onboardingStatus: 'pending' | 'completed';
  /** Carried by the user's tokens; a token with an older version is refused. */
  tokenVersion: number;
  /** `closed`: the account was closed (DELETE /v1/me); it cannot log in and its e-mail stays taken. */
  status: 'active' | 'closed';
}

function toStoredUser(row: UserRow): StoredUser {
  return {
    id: row.id,
    email: row.email,
    name: row.name,
    phone: row.phone,
    role: row.role,
    createdAt: row.created_at.toISOString(),
    passwordHash: row.password_hash,
    currency: row.currency,
    onboardingStatus: row.onboarding_status,
    tokenVersion: row.token_version,
    status: row.status,
  };
}

/** Strips what must never leave the server. */
export function publicUser(user: StoredUser | User): User {
  return { id: user.id, email: user.email, name: user.name, phone: user.phone, role: user.role, createdAt: user.createdAt };
}

/** The user with this id, or null. */
export async function findUserById(db: Knex, userId: string): Promise<StoredUser | null> {
  const row = await db('users').where({ id: userId }).first();
  return row ? toStoredUser(row) : null;
}

/**
 * The user an access token names, and whether the web session it was issued in has been revoked,
 * in one query: the session check is an `exists` subquery on an indexed column of the same
 * statement, so authenticating stays one round trip. A token without a session reads the user
 * row alone, as before sessions existed.
 */
export async function findUserForToken(db: Knex, userId: string, sessionId: string | undefined): Promise<{ user: StoredUser; sessionRevoked: boolean } | null> {
  if (sessionId === undefined) {
    const user = await findUserById(db, userId);
    return user ? { user, sessionRevoked: false } : null;
  }
  const row = (await db('users')
    .select('users.*', db.raw('exists ? as session_revoked', [revokedSessionQuery(db, sessionId)]))
    .where('users.id', userId)
    .first()) as (UserRow & { session_revoked: number | string }) | undefined;
  return row ? { user: toStoredUser(row), sessionRevoked: Number(row.session_revoked) !== 0 } : null;
}

/** The user with this (normalised) e-mail, or null. */
export async function findUserByEmail(db: Knex, email: string): Promise<StoredUser | null> {
  const row = await db('users').where({ email }).first();
  return row ? toStoredUser(row) : null;
}

/** Inserts a user; 409 email_taken when the e-mail is in use. Admins get `onboarding_status` completed: they have no wallet. */
export async function insertUser(
  db: Knex,
  input: { email: string; passwordHash: string; name: string; phone: string | null; role: Role; currency: string },
): Promise<StoredUser> {
  const now = new Date();
  const id = newId('usr');
  try {
    await db('users').insert({
      id,
      email: input.email,
      password_hash: input.passwordHash,
      name: input.name,
      phone: input.phone,
      role: input.role,
      currency: input.currency,
      onboarding_status: input.role === 'admin' ? 'completed' : 'pending',
      token_version: 0,
      status: 'active',
      closed_at: null,
      created_at: now,
      updated_at: now,
    });
  } catch (error) {
    if (isDuplicateKey(error)) throw new HttpError(409, 'email_taken', 'An account with this e-mail already exists.');
    throw error;
  }
  const user = await findUserById(db, id);
  if (!user) throw new Error(`user ${id} was not written`);
  return user;
}
