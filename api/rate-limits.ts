import type { Knex } from 'knex';
import type { Middleware } from 'koa';
import { createDatabaseRateLimitStore, type RateLimitStore } from '../infra/rate-limit-stores';
import type { AppDependencies } from './dependencies';
import { apiMetricsOf } from './metrics';
import { recordAudit } from '../store/audit-log';
import { bySignedInEmail, LOGIN_CHECK, passwordFailureLimit } from './middleware/login-failures';
import type { User } from './users';
import { byIp, byUser, rateLimit } from './middleware/rate-limit';

/** The contract's rate limits, configured (`RATE_LIMIT_*`), each a middleware to mount on its routes. */
export interface RateLimits {
  /** POST /v1/auth/login, per client IP. */
  loginPerIp: Middleware;
  /** POST /v1/auth/login, failed logins per e-mail in the body (brute force on one account from many IPs); see `passwordFailureLimit`. */
  loginPerEmail: Middleware;
  /**
   * POST /v1/me/password, wrong current passwords per the signed-in user's e-mail, counted with the
   * failed logins (a stolen access token must not guess more than a login could): mount after `authenticate`.
   */
  passwordChangePerEmail: Middleware;
  /** POST /v1/auth/refresh, per client IP: the login per-IP rule, counted apart. */
  refreshPerIp: Middleware;
  /** POST /v1/auth/register, per client IP. */
  registerPerIp: Middleware;
  /** Money-moving POSTs (top-ups, payments, transfers), per user: mount after `authenticate`. */
  moneyPerUser: Middleware;
  /** GET /v1/recipients and the recipient checks of POST /v1/transfers and /v1/payments, per user: mount after `authenticate`. */
  recipientsPerUser: Middleware;
  /** The same lookups per client IP (one person with many accounts). */
  recipientsPerIp: Middleware;
}

/** One database store per pool, so its clean-up runs at most once a minute per process. */
const databaseStores = new WeakMap<Knex, RateLimitStore>();

function databaseStoreOf(dependencies: AppDependencies): RateLimitStore {
  let store = databaseStores.get(dependencies.db);
  if (!store) {
    store = createDatabaseRateLimitStore(dependencies.db, { onCleanupError: (error) => dependencies.report(error, 'rate-limit-cleanup') });
    databaseStores.set(dependencies.db, store);
  }
  return store;
}

/** The store, found on the first hit: building the routers touches no pool (the OpenAPI document is built without one). */
function storeOf(dependencies: AppDependencies): RateLimitStore {
  return (
    dependencies.rateLimitStore ?? {
      hit: (...args) => databaseStoreOf(dependencies).hit(...args),
      peek: (...args) => databaseStoreOf(dependencies).peek(...args),
    }
  );
}

/**
 * The rate limits of an app: counted in `dependencies.rateLimitStore` (Redis when
 * REDIS_URL is set) or else in the database, so every API replica shares them.
 */
export function rateLimitsOf(dependencies: AppDependencies): RateLimits {
  const store = storeOf(dependencies);
  const metrics = apiMetricsOf(dependencies);
  const rules = dependencies.config.rateLimits;
  const hooks = {
    onLimited: (name: string) => metrics.rateLimited.inc({ limit: name }),
    onStoreError: (error: unknown, ctx: { state: { requestId?: string } }) => dependencies.report(error, ctx.state.requestId ?? ''),
    nowMs: dependencies.rateLimitNowMs,
  };
  return {
    loginPerIp: rateLimit(store, { name: 'login_ip', rule: rules.loginPerIp, keyOf: byIp }, hooks),
    loginPerEmail: passwordFailureLimit(store, rules.loginPerEmail, LOGIN_CHECK, hooks),
    passwordChangePerEmail: passwordFailureLimit(
      store,
      rules.loginPerEmail,
      { name: 'password_change_email', emailOf: bySignedInEmail, successStatus: 204, knownAddresses: false, onRefused: (ctx) => auditGuessing(dependencies, ctx.state.user as User) },
      hooks,
    ),
    refreshPerIp: rateLimit(store, { name: 'refresh_ip', rule: rules.loginPerIp, keyOf: byIp }, hooks),
    registerPerIp: rateLimit(store, { name: 'register_ip', rule: rules.registerPerIp, keyOf: byIp }, hooks),
    moneyPerUser: rateLimit(store, { name: 'money_user', rule: rules.moneyPerUser, keyOf: byUser }, hooks),
    recipientsPerUser: rateLimit(store, { name: 'recipients_user', rule: rules.recipientsPerUser, keyOf: byUser }, hooks),
    recipientsPerIp: rateLimit(store, { name: 'recipients_ip', rule: rules.recipientsPerIp, keyOf: byIp }, hooks),
  };
}

/** The audit record of a password change refused by the failure limit: someone with the user's token kept guessing. */
function auditGuessing(dependencies: AppDependencies, user: User): Promise<void> {
  return recordAudit(dependencies.db, { actorId: user.id, action: 'user.password_guessing_limited', resourceType: 'user', resourceId: user.id, data: {} });
}
