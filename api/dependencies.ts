import type { Client } from '@temporalio/client';
import type { Knex } from 'knex';
import type { Config } from '../config';
import type { ErrorReporter } from './middleware/errors';

/** Everything the Koa app is built from; `api/server.ts` and the tests provide it. */
export interface AppDependencies {
  db: Knex;
  temporal: Client;
  config: Config;
  /** Where unexpected (5xx) errors go; never to the client. */
  report: ErrorReporter;
}
