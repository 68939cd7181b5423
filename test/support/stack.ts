import { Client, Connection } from '@temporalio/client';
import { NativeConnection, type Worker } from '@temporalio/worker';
import type { Knex } from 'knex';
import type { Logger } from 'pino';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import type Koa from 'koa';
import { createApp } from '../../api/app';
import { createHttpServer } from '../../api/http-server';
import { loadConfig, type Config } from '../../config';
import { newId } from '../../domain/ids';
import { createDatabase } from '../../infra/database';
import { describeError } from '../../infra/logger';
import { createSmtpMailer } from '../../infra/mailer';
import { buildNotificationsWorker, buildPaymentsWorker } from '../../workers/build';
import { Mailbox } from './mailbox';
import { OwnSagas } from './own-sagas';

/**
 * The real stack a test file works against: the database and Temporal server
 * that jest's globalSetup started (their addresses arrive in process.env), with
 * task queues of its own so test files never run each other's tasks.
 */
export interface TestStack {
  config: Config;
  db: Knex;
  temporal: Client;
  connection: Connection;
  workerConnection: NativeConnection;
  workers: RunningWorkers;
  baseUrl: string;
  /** The stack's own SMTP server: every e-mail lands here (unless SMTP_URL was overridden). */
  mailbox: Mailbox;
  /** The users this stack's tests made; their sagas must all be final when the stack stops. */
  own: OwnSagas;
  /**
   * Finishes this stack's sagas (with a payments worker of its own when none runs here), then
   * stops everything it started. Fails, after stopping, when a saga of its users did not end:
   * a saga left running would be stuck for every later reconciliation against the database.
   */
  stop(): Promise<void>;
}

/**
 * Rate limits no test file reaches by accident: every file registers and logs in from
 * 127.0.0.1 against one shared database. test/rate-limits.test.ts sets its own low ones.
 */
const TEST_RATE_LIMITS = {
  RATE_LIMIT_LOGIN_PER_IP: '1000000/1m',
  RATE_LIMIT_LOGIN_PER_EMAIL: '1000000/1m',
  RATE_LIMIT_REGISTER_PER_IP: '1000000/1m',
  RATE_LIMIT_MONEY_PER_USER: '1000000/1m',
  RATE_LIMIT_RECIPIENTS_PER_USER: '1000000/1m',
  RATE_LIMIT_RECIPIENTS_PER_IP: '1000000/1m',
};

/** A configuration for tests: the global servers, unique task queues, and any overrides. */
export function testConfig(overrides: Record<string, string> = {}): Config {
  const suffix = newId('req').slice(4).toLowerCase();
  return loadConfig({
    ...process.env,
    NODE_ENV: 'test',
    ...TEST_RATE_LIMITS,
    // Test receivers listen on 127.0.0.1; test/webhooks.test.ts turns it off to see the refusal.
    WEBHOOK_ALLOW_PRIVATE: 'true',
    TASK_QUEUE_PAYMENTS: `payments-${suffix}`,
    TASK_QUEUE_NOTIFICATIONS: `notifications-${suffix}`,
    PORT: '0',
    ...overrides,
  });
}

/** Workers running in this process (a notifications worker with its delivery dispatcher), with the promise of their `run()`. */
export interface RunningWorkers {
  workers: Worker[];
  finished: Promise<unknown>;
}

/** Starts the workers (payments and notifications) of a configuration, running in this process. */
export function startWorkers(config: Config, db: Knex, connection: NativeConnection): Promise<RunningWorkers> {
  return startWorkersOf(config, db, connection, { payments: true, notifications: true });
}

/** Stops workers and waits until they have drained; rethrows a worker's failure. */
export async function stopWorkers(running: RunningWorkers): Promise<void> {
  for (const worker of running.workers) if (worker.getState() === 'RUNNING') worker.shutdown();
  await running.finished;
}

/** The API on an ephemeral port plus both workers, against the real database and Temporal. */
export function startStack(overrides: Record<string, string> = {}): Promise<TestStack> {
  return startStackWith(overrides);
}

/** Polls `check` until it is truthy or the deadline passes; never a fixed sleep. */
export async function waitFor<T>(
  check: () => T | Promise<T>,
  { timeoutMs = 20_000, intervalMs = 50, what = 'condition' }: { timeoutMs?: number; intervalMs?: number; what?: string } = {},
): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

/** Which in-process workers `startStackWith` runs. */
export interface StackOptions {
  /**
   * false: no payments worker in this process. The test runs its own on
   * `config.temporal.paymentsTaskQueue` (e.g. a child process it can kill); until one
   * polls there, no saga moves, sign-ups included (onboarding runs on that queue too).
   */
  paymentsWorker?: boolean;
  /**
   * false: no notifications worker in this process. The test runs its own on
   * `config.temporal.notificationsTaskQueue`; until one polls there, no welcome or notify step runs.
   */
  notificationsWorker?: boolean;
  /** The API's logger (access log); without one the API logs nothing. */
  logger?: Logger;
  /** The rate limits' clock; without one, the real time. */
  rateLimitNowMs?: () => number;
  /** The web sessions' clock (the refresh reuse grace window); without one, the real time. */
  sessionNowMs?: () => number;
}

/** E-mail and webhook retries in tests: the same backoff, in fractions of a second instead of seconds. */
const TEST_DELIVERY_RETRY = { initialIntervalMs: 200, maximumIntervalMs: 1_000 };

/** The dispatchers' poll in tests: retries come due in fractions of a second, so they are looked for as often. */
const TEST_DELIVERY_POLL_INTERVAL_MS = 100;

/** Starts a subset of a configuration's workers in this process (`startWorkers` starts both). */
export async function startWorkersOf(
  config: Config,
  db: Knex,
  connection: NativeConnection,
  kinds: { payments: boolean; notifications: boolean },
): Promise<RunningWorkers> {
  const recovery = {
    notificationsTaskQueue: config.temporal.notificationsTaskQueue,
    minAgeMs: config.sagaRecovery.minAgeMs,
    expireAfterMs: config.sagaRecovery.expireAfterMs,
    promoCredit: config.money.promoCredit,
  };
  const common = {
    connection,
    namespace: config.temporal.namespace,
    db,
    paymentDailyLimit: config.paymentDailyLimit,
    risk: config.risk,
    ledgerSystemShards: config.ledgerSystemShards,
    workflowBundlePath: process.env.WORKFLOW_BUNDLE_PATH,
    shutdownGraceTimeMs: 2_000,
    recovery,
  };
  const payments = kinds.payments ? [await buildPaymentsWorker({ ...common, taskQueue: config.temporal.paymentsTaskQueue })] : [];
  const notifications = kinds.notifications
    ? [
        await buildNotificationsWorker({
          ...common,
          taskQueue: config.temporal.notificationsTaskQueue,
          notifications: {
            mailer: createSmtpMailer({ smtpUrl: config.smtpUrl, from: config.mailFrom }),
            allowPrivateWebhookAddresses: config.webhookAllowPrivate,
            delivery: { ...config.delivery, pollIntervalMs: TEST_DELIVERY_POLL_INTERVAL_MS },
            deliveryRetryOverride: TEST_DELIVERY_RETRY,
          },
        }),
      ]
    : [];
  const workers = [...payments, ...notifications.map((notification) => notification.worker)];
  const finished = Promise.all([...payments.map((worker) => worker.run()), ...notifications.map((notification) => notification.run())]);
  // Marks the promise handled now; stopWorkers awaits it and still sees a failure.
  finished.catch(() => undefined);
  return { workers, finished };
}

/** An app (the Koa one, or another built on the stack) listening on 127.0.0.1 at a port the OS picks. */
export interface ListeningApp {
  baseUrl: string;
  /** Stops listening and drops open connections. */
  close(): Promise<void>;
}

/** Serves `app` on 127.0.0.1 at port 0, so no other process can take the port first. */
export async function listenOnEphemeralPort(app: { listen(port: number, host: string, listening: () => void): Server }): Promise<ListeningApp> {
  const server: Server = await new Promise((resolve) => {
    const listening = app.listen(0, '127.0.0.1', () => resolve(listening));
  });
  return {
    baseUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/**
 * Serves a Koa app the way `api/server.ts` does in production: through `createHttpServer`, with the
 * configuration's header and request timeouts, header size cap and timeout checks, on an ephemeral port.
 */
export function serveOnEphemeralPort(app: Koa, config: Pick<Config, 'http'>): Promise<ListeningApp> {
  return listenOnEphemeralPort(createHttpServer(app, config.http));
}

/** `startStack` with a choice of in-process workers; `stop()` stops only what it started. */
export async function startStackWith(
  overrides: Record<string, string> = {},
  { paymentsWorker = true, notificationsWorker = true, logger, rateLimitNowMs, sessionNowMs }: StackOptions = {},
): Promise<TestStack> {
  const mailbox = await Mailbox.open();
  const config = testConfig({ SMTP_URL: mailbox.url, ...overrides });
  const db = createDatabase(config.databaseUrl, 20, config.databaseWaitLimits);
  const connection = await Connection.connect({ address: config.temporal.address });
  const temporal = new Client({ connection, namespace: config.temporal.namespace });
  const workerConnection = await NativeConnection.connect({ address: config.temporal.address });
  const inProcess = { payments: paymentsWorker, notifications: notificationsWorker };
  const workers = await startWorkersOf(config, db, workerConnection, inProcess);
  // A 5xx in a test is a bug worth seeing: its cause goes to the test output.
  const app = createApp({ db, temporal, config, logger, rateLimitNowMs, sessionNowMs, report: (error) => console.error('api answered 5xx:', describeError(error)) });
  const api = await serveOnEphemeralPort(app, config);
  const own = new OwnSagas();
  return {
    config,
    db,
    temporal,
    connection,
    workerConnection,
    workers,
    baseUrl: api.baseUrl,
    mailbox,
    own,
    async stop() {
      let unsettled: Error | undefined;
      try {
        await settleOwnSagas(own, { config, db, workerConnection, inProcess });
      } catch (error) {
        unsettled = error instanceof Error ? error : new Error(String(error));
      }
      await api.close();
      await stopWorkers(workers);
      await workerConnection.close();
      await connection.close();
      await db.destroy();
      await mailbox.stop();
      if (unsettled) throw unsettled;
    },
  };
}

/** Waits for a stack's sagas to end, running meanwhile the kinds of worker the stack has none of in this process. */
async function settleOwnSagas(
  own: OwnSagas,
  on: { config: Config; db: Knex; workerConnection: NativeConnection; inProcess: { payments: boolean; notifications: boolean } },
): Promise<void> {
  const missing = { payments: !on.inProcess.payments, notifications: !on.inProcess.notifications };
  if ((!missing.payments && !missing.notifications) || (await own.unfinished(on.db)).length === 0) {
    await own.settle(on.db);
    return;
  }
  const drain = await startWorkersOf(on.config, on.db, on.workerConnection, missing);
  try {
    await own.settle(on.db);
  } finally {
    await stopWorkers(drain);
  }
}
