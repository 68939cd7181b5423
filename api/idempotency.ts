import { createHash } from 'node:crypto';
import type { Knex } from 'knex';
import { isDuplicateKey } from '../store/ledger';
import { inTransaction } from '../store/transactions';
import { HttpError, validationError } from './errors';

const KEY_PATTERN = /^[\x20-\x7E]{1,255}$/;

/** What KEY_PATTERN accepts, as the OpenAPI document states it (empty counts as no key). */
export const IDEMPOTENCY_KEY_HEADER_SCHEMA: Record<string, unknown> = { type: 'string', maxLength: 255, pattern: '^[\\x20-\\x7E]*$' };

/** Reads `Idempotency-Key`: absent → undefined; present but not 1–255 printable characters → 400. */
export function readIdempotencyKey(header: string | undefined): string | undefined {
  if (header === undefined || header === '') return undefined;
  if (!KEY_PATTERN.test(header)) throw validationError({ 'Idempotency-Key': 'must be 1–255 printable ASCII characters' });
  return header;
}

/** A stable hash of what the request asks for: method, path and the body with its keys sorted. */
export function requestHash(method: string, path: string, body: unknown): string {
  return createHash('sha256').update(`${method} ${path}\n${canonicalJson(body)}`).digest('hex');
}

/**
 * The body as the request hash reads it: the `normalised` fields given (an @handle in its stored
 * form) replace the raw ones, so two spellings of one request are one request under one key. A
 * body without such a field hashes exactly as before, so the keys already stored stay valid.
 */
export function hashedBody(body: unknown, normalised: Record<string, string | undefined>): unknown {
  const present = Object.entries(normalised).filter(([, value]) => value !== undefined);
  if (present.length === 0 || body === null || typeof body !== 'object' || Array.isArray(body)) return body;
  return { ...(body as Record<string, unknown>), ...Object.fromEntries(present) };
}

function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, item]) => item !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([key, item]) => `${JSON.stringify(key)}:${canonicalJson(item)}`).join(',')}}`;
  }
  return JSON.stringify(value ?? null);
}

/** Who asks, with which key, for what. */
export interface IdempotentRequest {
  userId: string;
  key: string | undefined;
  hash: string;
  resourceType: string;
}

/**
 * Creates a resource at most once per (caller, key). The key row is inserted in
 * the same transaction as the resource, so the unique constraint settles
 * concurrent duplicates: the loser waits for the winner's commit, then reads
 * the winner's resource. The same key with another body is 422. A deadlock or lock wait timeout
 * runs the whole transaction again (key row and resource), within the shared retry bound.
 */
export async function createOnce<T>(
  db: Knex,
  request: IdempotentRequest,
  resourceId: string,
  create: (trx: Knex.Transaction) => Promise<T>,
  load: (existingResourceId: string) => Promise<T>,
): Promise<{ resource: T; replayed: boolean }> {
  const { key } = request;
  if (key === undefined) {
    return { resource: await inTransaction(db, create), replayed: false };
  }
  const earlier = await findKey(db, request.userId, key);
  if (earlier) return replay(request, earlier, load);
  try {
    const resource = await inTransaction(db, async (trx) => {
      await trx('idempotency_keys').insert({
        user_id: request.userId,
        idempotency_key: key,
        request_hash: request.hash,
        resource_type: request.resourceType,
        resource_id: resourceId,
        created_at: new Date(),
      });
      return create(trx);
    });
    return { resource, replayed: false };
  } catch (error) {
    if (!isDuplicateKey(error)) throw error;
    const winner = await findKey(db, request.userId, key);
    if (!winner) throw error;
    return replay(request, winner, load);
  }
}

async function findKey(db: Knex, userId: string, key: string) {
  const row = await db('idempotency_keys').where({ user_id: userId, idempotency_key: key }).first();
  return row ? { hash: String(row.request_hash), resourceType: String(row.resource_type), resourceId: String(row.resource_id) } : null;
}

async function replay<T>(
  request: IdempotentRequest,
  earlier: { hash: string; resourceType: string; resourceId: string },
  load: (existingResourceId: string) => Promise<T>,
): Promise<{ resource: T; replayed: boolean }> {
  if (earlier.hash !== request.hash || earlier.resourceType !== request.resourceType) {
    throw new HttpError(422, 'idempotency_key_reused', 'This Idempotency-Key was used with a different request.');
  }
  return { resource: await load(earlier.resourceId), replayed: true };
}
