import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { bundleWorkflowCode } from '@temporalio/worker';
import type { Knex } from 'knex';
import { loadConfig, type Config } from '../../config';
import { createDatabase } from '../../infra/database';
import { startMariaDb, type MariaDbServer } from '../../scripts/lib/mariadb';
import { prepareDatabase } from '../../scripts/lib/migrations';
import { freePort, spawnManaged, waitFor, type ManagedProcess } from '../../scripts/lib/processes';
import { startTemporalDevServer, type TemporalDevServer } from '../../scripts/lib/temporal-server';
import { openSmtpSink, type SmtpSink } from './smtp-sink';

const PROJECT_ROOT = resolve(__dirname, '..', '..');
const READY_TIMEOUT_MS = 120_000;
const API_STOP_GRACE_MS = 20_000;
const WORKER_STOP_GRACE_MS = 30_000;

/**
 * The bench stack's settings on top of the defaults: no per-user money rate limit and the
 * highest daily payment limit (each customer pays many times), warnings-only logs (an access-log
 * line per request would cost the API more than the work it measures), everything else as `npm run dev`.
 */
const BENCH_ENVIRONMENT = {
  NODE_ENV: 'development',
  RATE_LIMIT_MONEY_PER_USER: 'off',
  PAYMENT_DAILY_LIMIT: String(Number.MAX_SAFE_INTEGER),
  LOG_LEVEL: 'warn',
  LOG_FORMAT: 'json',
  HOST: '127.0.0.1',
  SAGA_FAULTS: 'disabled',
} as const;

/** A child process of the stack and the file its output goes to. */
interface Child {
  process: ManagedProcess;
  logFile: string;
}

/** The whole stack `npm run bench` measures, started from scratch in a temp folder. */
export interface BenchStack {
  config: Config;
  apiUrl: string;
  /** The bench's own pool (seeding, outcomes, reconciliation), apart from the API's and the workers'. */
  db: Knex;
  database: MariaDbServer;
  temporal: TemporalDevServer;
  smtp: SmtpSink;
  /** The environment every child of the stack runs with. */
  env: NodeJS.ProcessEnv;
  /** The temp folder: logs, the Temporal database, the workflow bundles. */
  root: string;
  /** Starts one more payments worker process on the payments task queue; answers once it polls. */
  addPaymentsWorker(): Promise<ManagedProcess>;
  /** Starts a child process running `file` (node --import tsx) with the stack's environment. */
  spawnChild(name: string, file: string, extraEnv?: NodeJS.ProcessEnv): Child;
  /** Log files of the children, by name. */
  logFiles(): Array<{ name: string; logFile: string }>;
  /** Stops the API, the workers, Temporal, MariaDB and the SMTP sink; removes the temp folder. Safe to call twice. */
  stop(): Promise<void>;
}

/** Waits until a child's log holds `marker` (a worker's "polling" line), or fails if it exits first. */
export async function waitForLogLine(child: Child, marker: string, what: string): Promise<void> {
  await waitFor(() => readFileSync(child.logFile, 'utf8').includes(marker), {
    timeoutMs: READY_TIMEOUT_MS,
    intervalMs: 200,
    what,
    failIf: () => (child.process.hasExited() ? `${child.process.name} exited; see ${child.logFile}` : undefined),
  });
}

/**
 * Starts a private MariaDB, the Temporal dev server (file database, the same pragmas and
 * dynamic config as `npm run dev`), an SMTP sink, then the notifications worker, one payments
 * worker and the API as separate processes, as `npm run dev` does.
 */
export async function startBenchStack(say: (line: string) => void): Promise<BenchStack> {
  const root = mkdtempSync(join(tmpdir(), 'sagapay-bench-'));
  const children: Child[] = [];
  const started: { database?: MariaDbServer; temporal?: TemporalDevServer; smtp?: SmtpSink; db?: Knex } = {};
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    const byName = (predicate: (name: string) => boolean) => children.filter((child) => predicate(child.process.name));
    await Promise.all(byName((name) => name === 'api').map((child) => child.process.stop(API_STOP_GRACE_MS)));
    await Promise.all(byName((name) => name !== 'api').map((child) => child.process.stop(WORKER_STOP_GRACE_MS)));
    await started.db?.destroy();
    await started.temporal?.stop();
    await started.database?.stop();
    await started.smtp?.close();
    rmSync(root, { recursive: true, force: true });
  };
  try {
    started.database = await startMariaDb({ dataDir: join(root, 'mariadb'), ephemeral: true, seeLockWaits: true });
    say(`MariaDB on 127.0.0.1:${started.database.port}`);
    started.temporal = await startTemporalDevServer({ headless: true, dbFilename: join(root, 'temporal.db'), logDir: root });
    say(`Temporal dev server on ${started.temporal.address}`);
    started.smtp = await openSmtpSink();
    const apiPort = await freePort();
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      ...BENCH_ENVIRONMENT,
      DATABASE_URL: started.database.databaseUrl,
      TEMPORAL_ADDRESS: started.temporal.address,
      JWT_SECRET: randomBytes(32).toString('hex'),
      PORT: String(apiPort),
      SMTP_URL: started.smtp.url,
      WORKFLOW_BUNDLE_PATH: join(root, 'workflow-bundle.js'),
    };
    const config = loadConfig(env, { signsTokens: true });
    await prepareDatabase(config.databaseUrl, config.money.currencies);
    // Bundled once, as the production image does, rather than by webpack in every worker process.
    const { code } = await bundleWorkflowCode({ workflowsPath: require.resolve('../../workflows'), logger: quietBundlerLogger });
    writeFileSync(join(root, 'workflow-bundle.js'), code);

    const spawnChild = (name: string, file: string, extraEnv: NodeJS.ProcessEnv = {}): Child => {
      const logFile = join(root, `${name}.log`);
      const child = spawnManaged(name, process.execPath, ['--import', 'tsx', file], { env: { ...env, ...extraEnv }, cwd: PROJECT_ROOT, logFile });
      children.push({ process: child, logFile });
      return { process: child, logFile };
    };
    const startWorker = async (kind: 'payments' | 'notifications') => {
      const count = children.filter((child) => child.process.name.startsWith(kind)).length;
      // Each worker process serves its metrics on a port of its own, as on a real host.
      const child = spawnChild(`${kind}-worker-${count + 1}`, `workers/${kind}.ts`, { WORKER_METRICS_PORT: String(await freePort()) });
      await waitForLogLine(child, `${kind} worker polling task queue`, `the ${kind} worker to poll`);
      return child.process;
    };
    await Promise.all([startWorker('notifications'), startWorker('payments')]);
    const api = spawnChild('api', 'api/server.ts');
    const apiUrl = `http://127.0.0.1:${apiPort}`;
    await waitFor(async () => (await fetch(`${apiUrl}/readyz`)).status === 200, {
      timeoutMs: READY_TIMEOUT_MS,
      intervalMs: 250,
      what: `the API to answer 200 on ${apiUrl}/readyz`,
      failIf: () => (api.process.hasExited() ? `the API exited; see ${api.logFile}` : undefined),
    });
    started.db = createDatabase(config.databaseUrl, 4, config.databaseWaitLimits);
    say(`API on ${apiUrl}; one payments worker, one notifications worker; logs in ${root}`);
    return {
      config,
      apiUrl,
      db: started.db,
      database: started.database,
      temporal: started.temporal,
      smtp: started.smtp,
      env,
      root,
      addPaymentsWorker: () => startWorker('payments'),
      spawnChild,
      logFiles: () => children.map((child) => ({ name: child.process.name, logFile: child.logFile })),
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}

/** The bundler's progress lines are noise in the bench's output; its warnings and errors are not. */
export const quietBundlerLogger = {
  trace: () => undefined,
  debug: () => undefined,
  info: () => undefined,
  warn: (message: string) => console.warn(message),
  error: (message: string) => console.error(message),
  log: () => undefined,
};
