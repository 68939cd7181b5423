import type { Redis } from 'ioredis';
import type { Knex } from 'knex';

/** The count of one key in its current fixed window. */
export interface WindowCount {
  /** Hits in this window, this one included. */
  hits: number;
  /** When the window ends and the count starts again from zero (epoch ms). */
  resetAtMs: number;
}

/**
 * Counts requests per key in fixed windows (aligned to the epoch, so every replica
 * agrees on where a window starts). Shared by every API replica: the database or Redis.
 */
export interface RateLimitStore {
  /** Counts one hit of `bucket` in the window of `windowMs` holding `nowMs`; answers the window's count. */
  hit(bucket: string, windowMs: number, nowMs: number): Promise<WindowCount>;
  /** The count of `bucket` in the window of `windowMs` holding `nowMs`, without counting anything. */
  peek(bucket: string, windowMs: number, nowMs: number): Promise<WindowCount>;
}

function windowOf(windowMs: number, nowMs: number): { windowStartMs: number; resetAtMs: number } {
  if (!Number.isSafeInteger(windowMs) || windowMs <= 0) throw new Error(`a rate limit window must be a positive whole number of ms, got ${windowMs}`);
  const windowStartMs = nowMs - (nowMs % windowMs);
  return { windowStartMs, resetAtMs: windowStartMs + windowMs };
}

/** Options of the database store's clean-up of ended windows. */
export interface DatabaseStoreOptions {
  /** At most one clean-up per process this often. */
  cleanupEveryMs?: number;
  /** Rows deleted per clean-up, so it never holds locks for long. */
  cleanupBatchRows?: number;
  /** Where a failed clean-up goes (it never fails a request). */
  onCleanupError?: (error: unknown) => void;
}

/**
 * The database store: one `rate_limit_counters` row per bucket and window, counted by
 * one atomic `INSERT … ON DUPLICATE KEY UPDATE`. `LAST_INSERT_ID(expr)` hands the new
 * count back in the statement's own result, so there is no second query and no race.
 * Ended windows are deleted in the background, at most once a minute per process, in
 * small batches over the `expires_at` index.
 */
export function createDatabaseRateLimitStore(db: Knex, options: DatabaseStoreOptions = {}): RateLimitStore {
  const cleanupEveryMs = options.cleanupEveryMs ?? 60_000;
  const cleanupBatchRows = options.cleanupBatchRows ?? 1_000;
  let nextCleanupAtMs = 0;

  function cleanUp(nowMs: number): void {
    if (nowMs < nextCleanupAtMs) return;
    nextCleanupAtMs = nowMs + cleanupEveryMs;
    db('rate_limit_counters')
      .where('expires_at', '<', new Date(nowMs))
      .limit(cleanupBatchRows)
      .delete()
      .catch((error: unknown) => options.onCleanupError?.(error));
  }

  return {
    async hit(bucket, windowMs, nowMs) {
      const { windowStartMs, resetAtMs } = windowOf(windowMs, nowMs);
      const [result] = (await db.raw(
        'INSERT INTO rate_limit_counters (bucket, window_start_ms, hits, expires_at) VALUES (?, ?, LAST_INSERT_ID(1), ?) ' +
          'ON DUPLICATE KEY UPDATE hits = LAST_INSERT_ID(hits + 1)',
        [bucket, windowStartMs, new Date(resetAtMs)],
      )) as [{ insertId: number }];
      cleanUp(nowMs);
      return { hits: result.insertId, resetAtMs };
    },
    async peek(bucket, windowMs, nowMs) {
      const { windowStartMs, resetAtMs } = windowOf(windowMs, nowMs);
      const row = await db('rate_limit_counters').select('hits').where({ bucket, window_start_ms: windowStartMs }).first();
      return { hits: row ? Number(row.hits) : 0, resetAtMs };
    },
  };
}

/** How long a Redis counter outlives its window, so a replica with a slightly slow clock still finds it. */
const REDIS_EXPIRY_SLACK_MS = 5_000;

/**
 * The Redis store (when `REDIS_URL` is set): `INCR` of a key per bucket and window,
 * with an expiry at the window's end in the same MULTI, so Redis itself drops ended windows.
 */
export function createRedisRateLimitStore(redis: Redis, keyPrefix = 'sagapay:ratelimit:'): RateLimitStore {
  return {
    async hit(bucket, windowMs, nowMs) {
      const { windowStartMs, resetAtMs } = windowOf(windowMs, nowMs);
      const key = `${keyPrefix}${bucket}:${windowStartMs}`;
      const results = await redis.multi().incr(key).pexpireat(key, resetAtMs + REDIS_EXPIRY_SLACK_MS).exec();
      const [counted] = results ?? [];
      if (!counted) throw new Error('redis answered the rate limit MULTI without results');
      const [error, hits] = counted;
      if (error) throw error;
      if (typeof hits !== 'number') throw new Error(`redis INCR answered ${String(hits)}`);
      return { hits, resetAtMs };
    },
    async peek(bucket, windowMs, nowMs) {
      const { windowStartMs, resetAtMs } = windowOf(windowMs, nowMs);
      const hits = await redis.get(`${keyPrefix}${bucket}:${windowStartMs}`);
      return { hits: hits === null ? 0 : Number(hits), resetAtMs };
    },
  };
}
