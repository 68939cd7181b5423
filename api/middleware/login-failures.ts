import type { Context, Middleware } from 'koa';
import type { RateLimitRule } from '../../config';
import type { RateLimitStore, WindowCount } from '../../infra/rate-limit-stores';
import { HttpError } from '../errors';
import type { User } from '../users';
import { bucketOf, byEmail, byIp, type RateLimitHooks } from './rate-limit';

/** How long an address stays known to an account after a successful login from it (a fixed window, like the limits). */
export const KNOWN_ADDRESS_WINDOW_MS = 30 * 86_400_000;

/** Where a route checks a password: whose e-mail it guesses for, and what a right password answers. */
export interface PasswordCheck {
  /** The limit's name in the metric; the counts are shared by every check of the same e-mail. */
  name: string;
  /** The e-mail of the account whose password is checked; undefined: not counted. */
  emailOf: (ctx: Context) => string | undefined;
  /** The status the route answers when the password was right. */
  successStatus: number;
  /**
   * Login only: an address the account logged in from is not refused, and a success makes its
   * address known. A signed-in caller (perhaps with a stolen token) is refused wherever it is.
   */
  knownAddresses: boolean;
  /** Called after a request was refused, before the 429 answers (the audit record); its failure does not change the answer. */
  onRefused?: (ctx: Context) => Promise<void>;
}

/** The login's check: the e-mail in the body, 200 on success, addresses the owner logged in from spared. */
export const LOGIN_CHECK: PasswordCheck = { name: 'login_email', emailOf: byEmail, successStatus: 200, knownAddresses: true };

/** The signed-in user's e-mail (mount after `authenticate`), lower-cased like the login's. */
export const bySignedInEmail = (ctx: Context): string | undefined => (ctx.state.user as User | undefined)?.email.trim().toLowerCase();

/**
 * The per-e-mail limit on wrong passwords, shared by every route that checks one (login, and a
 * password change's current password). An e-mail's failures in the window are its attempts less
 * its successful ones, both counted atomically: every attempt is counted before its password is
 * checked (so parallel guesses cannot all slip under the limit), and a success counts one success,
 * which cancels its own attempt. Once the failures reach `rule.limit`, a check for that e-mail is
 * refused with 429 before any password is checked, so a refusal tells a guesser nothing about the
 * guess. So that a stranger's failures cannot lock the owner out, an address the account logged in
 * from successfully (in the current `KNOWN_ADDRESS_WINDOW_MS` window) is not refused at login; the
 * per-IP limit still bounds every address. Like every limit, it fails open when the store fails.
 */
export function passwordFailureLimit(store: RateLimitStore, rule: RateLimitRule | null, check: PasswordCheck, hooks: RateLimitHooks = {}): Middleware {
  const nowMs = hooks.nowMs ?? Date.now;
  return async (ctx, next) => {
    const email = rule ? check.emailOf(ctx) : undefined;
    if (!rule || email === undefined) {
      await next();
      return;
    }
    // The buckets keep their login names: every check of one e-mail counts in the same limit.
    const attempts = bucketOf('login_email', email);
    const successes = bucketOf('login_email_ok', email);
    const knownAddress = bucketOf('login_known', `${email}\n${byIp(ctx) ?? ''}`);
    const now = nowMs();
    let refused: WindowCount | undefined;
    try {
      const attempted = await store.hit(attempts, rule.windowMs, now);
      const failuresBefore = attempted.hits - 1 - (await store.peek(successes, rule.windowMs, now)).hits;
      if (failuresBefore >= rule.limit && !(check.knownAddresses && (await store.peek(knownAddress, KNOWN_ADDRESS_WINDOW_MS, now)).hits > 0)) refused = attempted;
    } catch (error) {
      hooks.onStoreError?.(error, ctx);
    }
    if (refused) await refuse(ctx, rule, refused, now, check, hooks);
    await next();
    if (ctx.status !== check.successStatus) return;
    // Counted in the window of the attempt, so the success cancels exactly that attempt.
    const counted = [store.hit(successes, rule.windowMs, now), ...(check.knownAddresses ? [store.hit(knownAddress, KNOWN_ADDRESS_WINDOW_MS, now)] : [])];
    await Promise.all(counted).catch((error: unknown) => hooks.onStoreError?.(error, ctx));
  };
}

async function refuse(ctx: Context, rule: RateLimitRule, refused: WindowCount, now: number, check: PasswordCheck, hooks: RateLimitHooks): Promise<never> {
  hooks.onLimited?.(check.name);
  await check.onRefused?.(ctx).catch((error: unknown) => hooks.onStoreError?.(error, ctx));
  const retryAfterSeconds = Math.max(1, Math.ceil((refused.resetAtMs - now) / 1000));
  throw new HttpError(429, 'rate_limited', `Too many wrong passwords for this account; try again in ${retryAfterSeconds} s.`, {
    limit: rule.limit,
    windowSeconds: Math.ceil(rule.windowMs / 1000),
    retryAfterSeconds,
  });
}
