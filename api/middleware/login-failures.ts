import type { Middleware } from 'koa';
import type { RateLimitRule } from '../../config';
import type { RateLimitStore, WindowCount } from '../../infra/rate-limit-stores';
import { HttpError } from '../errors';
import { bucketOf, byEmail, byIp, type RateLimitHooks } from './rate-limit';

/** How long an address stays known to an account after a successful login from it (a fixed window, like the limits). */
export const KNOWN_ADDRESS_WINDOW_MS = 30 * 86_400_000;

/**
 * The per-e-mail login limit, on failures only. An e-mail's failures in the window are its login
 * attempts less its successful ones, both counted atomically: every attempt is counted before
 * its password is checked (so parallel guesses cannot all slip under the limit), and a successful
 * login counts one success, which cancels its own attempt. Once the failures reach `rule.limit`,
 * a login for that e-mail is refused with 429 before any password is checked, so a refusal tells
 * a guesser nothing about the guess. So that a stranger's failures cannot lock the owner out, an
 * address the account logged in from successfully (in the current `KNOWN_ADDRESS_WINDOW_MS`
 * window) is not refused by this limit; the per-IP limit still bounds every address. Like every
 * limit, it fails open when the store fails.
 */
export function loginFailureLimit(store: RateLimitStore, rule: RateLimitRule | null, hooks: RateLimitHooks = {}): Middleware {
  const name = 'login_email';
  const nowMs = hooks.nowMs ?? Date.now;
  return async (ctx, next) => {
    const email = rule ? byEmail(ctx) : undefined;
    if (!rule || email === undefined) {
      await next();
      return;
    }
    const attempts = bucketOf(name, email);
    const successes = bucketOf('login_email_ok', email);
    const knownAddress = bucketOf('login_known', `${email}\n${byIp(ctx) ?? ''}`);
    const now = nowMs();
    let refused: WindowCount | undefined;
    try {
      const attempted = await store.hit(attempts, rule.windowMs, now);
      const failuresBefore = attempted.hits - 1 - (await store.peek(successes, rule.windowMs, now)).hits;
      if (failuresBefore >= rule.limit && (await store.peek(knownAddress, KNOWN_ADDRESS_WINDOW_MS, now)).hits === 0) refused = attempted;
    } catch (error) {
      hooks.onStoreError?.(error, ctx);
    }
    if (refused) {
      hooks.onLimited?.(name);
      const retryAfterSeconds = Math.max(1, Math.ceil((refused.resetAtMs - now) / 1000));
      throw new HttpError(429, 'rate_limited', `Too many failed logins for this e-mail; try again in ${retryAfterSeconds} s.`, {
        limit: rule.limit,
        windowSeconds: Math.ceil(rule.windowMs / 1000),
        retryAfterSeconds,
      });
    }
    await next();
    if (ctx.status !== 200) return;
    // Counted in the window of the attempt, so the success cancels exactly that attempt.
    await Promise.all([store.hit(successes, rule.windowMs, now), store.hit(knownAddress, KNOWN_ADDRESS_WINDOW_MS, now)]).catch((error: unknown) =>
      hooks.onStoreError?.(error, ctx),
    );
  };
}
