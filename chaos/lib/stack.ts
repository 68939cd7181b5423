import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Knex } from 'knex';
import { loadConfig, type Config } from '../../config';
import { createDatabase } from '../../infra/database';
import { startMariaDb, type MariaDbServer } from '../../scripts/lib/mariadb';
import { prepareDatabase } from '../../scripts/lib/migrations';
import { freePort, type ManagedProcess } from '../../scripts/lib/processes';
import { startTemporalDevServer, type TemporalDevServer } from '../../scripts/lib/temporal-server';
import { WebhookReceiver } from '../../test/support/webhook-receiver';
import { startReaper } from '../../bench/lib/reaper';
import { BENCH_ENVIRONMENT, Children, stackEnvironment, stopOnce, waitForApi, writeWorkflowBundle, type Child, type StartedParts } from '../../bench/lib/stack';
import { openSmtpSink, type SmtpSink } from '../../bench/lib/smtp-sink';
import { openLatencyProxy, type LatencyProxy } from './proxy';

/** Every RATE_LIMIT_* rule, raised so the run's traffic never meets one. */
const RAISED_RATE_LIMITS = Object.fromEntries(
  ['LOGIN_PER_IP', 'LOGIN_PER_EMAIL', 'REGISTER_PER_IP', 'MONEY_PER_USER', 'RECIPIENTS_PER_USER', 'RECIPIENTS_PER_IP'].map((rule) => [`RATE_LIMIT_${rule}`, '1000000/1m']),
);

/**
 * The chaos run's settings on top of the bench's: the fault drill on, rate limits raised, private
 * webhook addresses allowed (the receiver is on 127.0.0.1), amounts large enough to be refused for
 * insufficient funds, and a saga recovery that looks for unstarted sagas every few seconds.
 */
export const CHAOS_ENVIRONMENT = {
  ...BENCH_ENVIRONMENT,
  ...RAISED_RATE_LIMITS,
  SAGA_FAULTS: 'enabled',
  WEBHOOK_ALLOW_PRIVATE: 'true',
  MAX_AMOUNT: String(10_000_000_000),
  SAGA_RECOVERY_INTERVAL_MS: '5000',
  SAGA_RECOVERY_MIN_AGE_MS: '5000',
  WORKER_SHUTDOWN_GRACE_MS: '5000',
  // A notifications worker killed mid-send leaves its claims to others when the lease ends: 15 s, not 2 min.
  DELIVERY_LEASE_MS: '15000',
} as const;

/** The stack a chaos run breaks: every part a separate process (or server) it can kill and start again. */
export interface ChaosStack {
  config: Config;
  apiUrl: string;
  /** The run's own pool, straight to MariaDB (not through the proxy): checks are not slowed by the slow-database fault. */
  db: Knex;
  /** The URL of MariaDB itself, for the row-lock fault's own connection. */
  directDatabaseUrl: string;
  proxy: LatencyProxy;
  smtp: SmtpSink;
  webhooks: WebhookReceiver;
  root: string;
  /** The payments workers running now. */
  paymentsWorkers(): ManagedProcess[];
  /** SIGKILL of one process group; answers once it is gone. */
  kill(process: ManagedProcess): Promise<void>;
  startPaymentsWorker(): Promise<ManagedProcess>;
  notificationsWorker(): ManagedProcess;
  startNotificationsWorker(): Promise<ManagedProcess>;
  api(): Child;
  /** Starts the API on its port again; answers once /readyz says 200. */
  startApi(): Promise<void>;
  /** Stops the Temporal dev server, leaves it down `downMs`, starts it again on its port and file database. */
  restartTemporal(downMs: number): Promise<void>;
  /** Stops MariaDB, leaves it down `downMs`, starts it again on its port and data. */
  restartDatabase(downMs: number): Promise<void>;
  /** Stops everything and removes the temp folder. Safe to call twice. */
  stop(): Promise<void>;
}

/**
 * Starts MariaDB on a data folder that survives a restart, the latency proxy in front of it, the
 * Temporal dev server on a file database, an SMTP sink and a webhook receiver, then the workers and
 * the API as separate processes that reach the database through the proxy.
 */
export async function startChaosStack(say: (line: string) => void, options: { paymentsWorkers: number }, onStoppable: (stop: () => Promise<void>) => void = () => undefined): Promise<ChaosStack> {
  const root = mkdtempSync(join(tmpdir(), 'sagapay-chaos-'));
  const started: StartedParts & { database?: MariaDbServer; temporal?: TemporalDevServer; proxy?: LatencyProxy; smtp?: SmtpSink; webhooks?: WebhookReceiver } = {};
  const stop = stopOnce(root, started);
  onStoppable(stop);
  try {
    // First: if this process dies from here on, even by SIGKILL, the reaper stops what it started and removes the folder.
    started.reaper = await startReaper(root);
    const databaseDir = join(root, 'mariadb');
    const databasePort = await freePort();
    started.database = await startMariaDb({ dataDir: databaseDir, port: databasePort, ephemeral: false, seeLockWaits: true });
    const directDatabaseUrl = started.database.databaseUrl;
    started.proxy = await openLatencyProxy({ host: '127.0.0.1', port: databasePort });
    say(`MariaDB on 127.0.0.1:${databasePort}, the latency proxy on 127.0.0.1:${started.proxy.port}`);
    const temporalPort = await freePort();
    const temporalOptions = { headless: true, dbFilename: join(root, 'temporal.db'), logDir: root, port: temporalPort };
    started.temporal = await startTemporalDevServer(temporalOptions);
    say(`Temporal dev server on ${started.temporal.address} (file database)`);
    started.smtp = await openSmtpSink();
    started.webhooks = await WebhookReceiver.open();
    const apiPort = await freePort();
    const env = stackEnvironment(CHAOS_ENVIRONMENT, { databaseUrl: started.proxy.rewrite(directDatabaseUrl), temporalAddress: started.temporal.address, apiPort, smtpUrl: started.smtp.url, root });
    const config = loadConfig(env, { signsTokens: true });
    await prepareDatabase(directDatabaseUrl, config.money.currencies);
    await writeWorkflowBundle(join(root, 'workflow-bundle.js'));

    const children = new Children(root, env);
    started.children = children;
    const alive = (prefix: string) => children.list.filter((child) => child.process.name.startsWith(prefix) && !child.process.hasExited()).map((child) => child.process);
    await children.startWorker('notifications');
    for (let count = 0; count < options.paymentsWorkers; count += 1) await children.startWorker('payments');
    const apiUrl = `http://127.0.0.1:${apiPort}`;
    const startApi = async () => waitForApi(apiUrl, children.spawn('api', 'api/server.ts'));
    await startApi();
    started.db = createDatabase(directDatabaseUrl, 6, config.databaseWaitLimits);
    say(`API on ${apiUrl}; ${options.paymentsWorkers} payments worker(s), one notifications worker; logs in ${root}`);
    return {
      config,
      apiUrl,
      db: started.db,
      directDatabaseUrl,
      proxy: started.proxy,
      smtp: started.smtp,
      webhooks: started.webhooks,
      root,
      paymentsWorkers: () => alive('payments'),
      kill: async (managed) => {
        try {
          process.kill(-managed.pid, 'SIGKILL');
        } catch {
          // Already gone.
        }
        await managed.exited;
      },
      startPaymentsWorker: () => children.startWorker('payments'),
      notificationsWorker: () => {
        const [worker] = alive('notifications');
        if (!worker) throw new Error('no notifications worker is running');
        return worker;
      },
      startNotificationsWorker: () => children.startWorker('notifications'),
      api: () => {
        const api = [...children.list].reverse().find((child) => child.process.name === 'api');
        if (!api) throw new Error('the API was never started');
        return api;
      },
      startApi,
      restartTemporal: async (downMs) => {
        await started.temporal?.stop();
        await sleep(downMs);
        started.temporal = await startTemporalDevServer(temporalOptions);
      },
      restartDatabase: async (downMs) => {
        await started.database?.stop();
        await sleep(downMs);
        started.database = await startMariaDb({ dataDir: databaseDir, port: databasePort, ephemeral: false, seeLockWaits: true });
      },
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}
