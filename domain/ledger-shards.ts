/**
 * Sharded system accounts. A single clearing (and fee) row per currency is a hot row: every money
 * step of that currency locks it, so all its sagas queue on one row lock. The platform keeps
 * several clearing and fee accounts per currency instead, numbered 0 … shards − 1, and a saga uses
 * the one of its shard: a stable hash of its id. The sum over a currency's clearing shards still
 * holds exactly the money of its sagas in flight, and the sum over every account is still zero.
 */

/** How many clearing and fee accounts each currency has unless LEDGER_SYSTEM_SHARDS says otherwise. */
export const DEFAULT_LEDGER_SYSTEM_SHARDS = 8;

/** The most shards LEDGER_SYSTEM_SHARDS may ask for. */
export const MAX_LEDGER_SYSTEM_SHARDS = 64;

/** The system account kinds that are sharded; `external` and `promotions` stay one row per currency. */
export const SHARDED_SYSTEM_ACCOUNT_KINDS = ['clearing', 'fees'] as const;

const FNV_OFFSET_BASIS = 0x811c9dc5;
const FNV_PRIME = 0x01000193;

/** Asserts a shard count is a whole number in 1 … MAX_LEDGER_SYSTEM_SHARDS. */
export function assertShardCount(shards: number): void {
  if (!Number.isSafeInteger(shards) || shards < 1 || shards > MAX_LEDGER_SYSTEM_SHARDS) {
    throw new RangeError(`the number of ledger shards must be 1–${MAX_LEDGER_SYSTEM_SHARDS}, got ${shards}`);
  }
}

/**
 * The shard of a saga among `shards`: FNV-1a (32 bit) of its id's UTF-16 code units, modulo
 * `shards`. Stable across processes and versions (no seed), and spread evenly over ULID-like ids.
 * Only a saga's first money step asks; its later steps and compensations reuse the clearing
 * account that step recorded, so a change of `shards` never splits a saga over two accounts.
 */
export function shardOfSaga(sagaId: string, shards: number): number {
  assertShardCount(shards);
  let hash = FNV_OFFSET_BASIS;
  for (let index = 0; index < sagaId.length; index += 1) {
    hash ^= sagaId.charCodeAt(index);
    hash = Math.imul(hash, FNV_PRIME) >>> 0;
  }
  return hash % shards;
}
