import type { Knex } from 'knex';
import { z } from 'zod';
import { documentedAs, EMAIL_PATTERN, TRIMMED_SPACE } from './openapi/registry';
import { aliasProblem, normaliseAlias } from '../domain/aliases';
import { findAliasHolder } from '../store/aliases';
import { findUserByEmail, findUserById, type StoredUser } from './users';

/** Someone named by a handle (normalised, without its `@`) or by an e-mail address (lower-cased). */
export type RecipientReference = { kind: 'alias'; alias: string } | { kind: 'email'; email: string };

const HANDLE_MESSAGE = 'must be an @handle: 3 to 30 of a-z, 0-9 and _';

/** A handle as typed, once trimmed: an optional `@`, then what ALIAS_PATTERN allows in either case. */
const HANDLE_PATTERN = '@?[A-Za-z0-9_]{3,30}';

/** A handle as a client may type it (`@Ada`, `ada`): normalised, or a validation error when malformed. */
export const handleSchema = z
  .string({ message: HANDLE_MESSAGE })
  .max(64, HANDLE_MESSAGE)
  .transform((value, context) => {
    const alias = normaliseAlias(value);
    if (aliasProblem(alias) === 'format') {
      context.addIssue({ code: 'custom', message: HANDLE_MESSAGE });
      return z.NEVER;
    }
    return alias;
  });
documentedAs(handleSchema, { type: 'string', maxLength: 64, pattern: `^${TRIMMED_SPACE}*${HANDLE_PATTERN}${TRIMMED_SPACE}*$` });

const emailSchema = z.string().toLowerCase().pipe(z.email());

/** `@handle` (or a bare handle) or an e-mail address: anything with an `@` after its first character is an e-mail. */
export const recipientReferenceSchema = z
  .string({ message: 'must be an @handle or an e-mail address' })
  .trim()
  .min(1, 'must be an @handle or an e-mail address')
  .max(254, 'must be at most 254 characters')
  .transform((value, context): RecipientReference => {
    if (value.indexOf('@', 1) > 0) {
      const email = emailSchema.safeParse(value);
      if (email.success) return { kind: 'email', email: email.data };
      context.addIssue({ code: 'custom', message: 'must be an @handle or an e-mail address' });
      return z.NEVER;
    }
    const handle = handleSchema.safeParse(value);
    if (handle.success) return { kind: 'alias', alias: handle.data };
    context.addIssue({ code: 'custom', message: HANDLE_MESSAGE });
    return z.NEVER;
  });
documentedAs(recipientReferenceSchema, { type: 'string', maxLength: 254, pattern: `^${TRIMMED_SPACE}*(?:${HANDLE_PATTERN}|${EMAIL_PATTERN})${TRIMMED_SPACE}*$` });

/** The user holding a normalised handle, or null. */
export async function findUserByAlias(db: Knex, alias: string): Promise<StoredUser | null> {
  const userId = await findAliasHolder(db, alias);
  return userId === null ? null : findUserById(db, userId);
}

/**
 * The user as a recipient of money, or null: admins receive no money and have no wallet, and a
 * closed account receives nothing, so as recipients they do not exist. Every route that names a
 * recipient (`/v1/recipients`, transfers, payments) answers them exactly as it answers nobody.
 */
export function asRecipient(user: StoredUser | null): StoredUser | null {
  return user === null || user.role === 'admin' || user.status === 'closed' ? null : user;
}

/** The recipient a reference names, or null when nobody answers to it (see `asRecipient`). */
export async function findRecipient(db: Knex, reference: RecipientReference): Promise<StoredUser | null> {
  return asRecipient(reference.kind === 'alias' ? await findUserByAlias(db, reference.alias) : await findUserByEmail(db, reference.email));
}
