import type { Client } from '@temporalio/client';
import type { Knex } from 'knex';
import type { Logger } from 'pino';
import type { Config } from '../config';
import type { RateLimitStore } from '../infra/rate-limit-stores';
import type { ErrorReporter } from './middleware/errors';

/** Everything the Koa app is built from; `api/server.ts` and the tests provide it. */
export interface AppDependencies {
  db: Knex;
  temporal: Client;
  config: Config;
  /** Where unexpected (5xx) errors go; never to the client. */
  report: ErrorReporter;
  /** The access log's destination; without it requests are not logged. */
  logger?: Logger;
  /** Where rate limits count (Redis when REDIS_URL is set); without it, the database. */
  rateLimitStore?: RateLimitStore;
  /** The rate limits' clock in epoch ms; without it, `Date.now` (tests pass their own to cross a window without waiting). */
  rateLimitNowMs?: () => number;
  /** The web sessions' clock in epoch ms (refresh token terms and the reuse grace window); without it, `Date.now`. */
  sessionNowMs?: () => number;
}
