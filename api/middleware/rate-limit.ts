import { createHash } from 'node:crypto';
import type { Context, Middleware } from 'koa';
import type { RateLimitRule } from '../../config';
import type { RateLimitStore } from '../../infra/rate-limit-stores';
import { HttpError } from '../errors';
import type { User } from '../users';

/** One configured limit: its name (bucket prefix and metric label), its rule, and what it counts by. */
export interface RateLimitOptions {
  name: string;
  /** null: this limit is off. */
  rule: RateLimitRule | null;
  /** The key to count this request under; undefined: this request is not counted. */
  keyOf: (ctx: Context) => string | undefined;
}

/** What a limiter tells the rest of the app. */
export interface RateLimitHooks {
  /** A request was refused with 429 by limit `name`. */
  onLimited?: (name: string) => void;
  /** The store failed; the request goes through (fail open) and this reports why. */
  onStoreError?: (error: unknown, ctx: Context) => void;
  /** The clock, in epoch ms (tests pass their own). */
  nowMs?: () => number;
}

/** The client's address; behind a proxy Koa reads X-Forwarded-For only when TRUST_PROXY=true. */
export const byIp = (ctx: Context): string | undefined => ctx.ip || undefined;

/** The authenticated user (mount after `authenticate`). */
export const byUser = (ctx: Context): string | undefined => (ctx.state.user as User | undefined)?.id;

/** The body's e-mail, trimmed and lower-cased like the login schema does; a missing one is not counted. */
export const byEmail = (ctx: Context): string | undefined => {
  const email = (ctx.request.body as { email?: unknown } | undefined)?.email;
  return typeof email === 'string' && email.trim() !== '' ? email.trim().toLowerCase() : undefined;
};

/** The stored bucket: the limit's name and a hash of the key, so no e-mail or IP is kept in clear. */
export function bucketOf(name: string, key: string): string {
  return `${name}:${createHash('sha256').update(key).digest('base64url')}`;
}

/**
 * A fixed-window rate limit on one route: counts the request before the route does
 * any work (a refused login costs no password hash) and refuses past the limit with
 * 429 `rate_limited` and `Retry-After` (the error handler sets it from `retryAfterSeconds`).
 * If the store fails, the request goes through: the limits protect, they must not take the API down.
 */
export function rateLimit(store: RateLimitStore, options: RateLimitOptions, hooks: RateLimitHooks = {}): Middleware {
  const { rule, name } = options;
  const nowMs = hooks.nowMs ?? Date.now;
  return async (ctx, next) => {
    const key = rule ? options.keyOf(ctx) : undefined;
    if (!rule || key === undefined) {
      await next();
      return;
    }
    const now = nowMs();
    let hits: number;
    let resetAtMs: number;
    try {
      ({ hits, resetAtMs } = await store.hit(bucketOf(name, key), rule.windowMs, now));
    } catch (error) {
      hooks.onStoreError?.(error, ctx);
      await next();
      return;
    }
    if (hits > rule.limit) {
      hooks.onLimited?.(name);
      const retryAfterSeconds = Math.max(1, Math.ceil((resetAtMs - now) / 1000));
      throw new HttpError(429, 'rate_limited', `Too many requests; try again in ${retryAfterSeconds} s.`, {
        limit: rule.limit,
        windowSeconds: Math.ceil(rule.windowMs / 1000),
        retryAfterSeconds,
      });
    }
    await next();
  };
}
