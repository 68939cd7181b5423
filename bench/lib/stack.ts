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
import { NAMESPACE, startTemporalDevServer, type TemporalDevServer } from '../../scripts/lib/temporal-server';
import { startReaper, type Reaper } from './reaper';
import { openSmtpSink, type SmtpSink } from './smtp-sink';

const PROJECT_ROOT = resolve(__dirname, '..', '..');
export const READY_TIMEOUT_MS = 120_000;
const API_STOP_GRACE_MS = 20_000;
const WORKER_STOP_GRACE_MS = 30_000;

/**
 * The bench stack's settings on top of the defaults: no per-user money or recipients rate limit and the
 * highest daily payment limit (each customer pays many times), warnings-only logs (an access-log
 * line per request would cost the API more than the work it measures), everything else as `npm run dev`.
 */
export const BENCH_ENVIRONMENT = {
  NODE_ENV: 'development',
  RATE_LIMIT_MONEY_PER_USER: 'off',
  RATE_LIMIT_RECIPIENTS_PER_USER: 'off',
  RATE_LIMIT_RECIPIENTS_PER_IP: 'off',
  PAYMENT_DAILY_LIMIT: String(Number.MAX_SAFE_INTEGER),
  LOG_LEVEL: 'warn',
  LOG_FORMAT: 'json',
  HOST: '127.0.0.1',
  SAGA_FAULTS: 'disabled',
} as const;

/** A child process of the stack and the file its output goes to. */
export interface Child {
  process: ManagedProcess;
  logFile: string;
}

/** The stack `npm run bench` measures: started from scratch in a temp folder, or given by the environment. */
export interface BenchStack {
  /** Whether the bench started the stack (false: BENCH_API_URL named a running one). */
  own: boolean;
  config: Config;
  apiUrl: string;
  /** The bench's own pool (seeding, outcomes, reconciliation), apart from the API's and the workers'. */
  db: Knex;
  /** The temp folder: logs of the processes the bench started, the Temporal database, the workflow bundles. */
  root: string;
  /** Starts one more payments worker process on the payments task queue; answers once it polls. */
  addPaymentsWorker(): Promise<ManagedProcess>;
  /** Starts a child process running `file` (node --import tsx) with the stack's environment. */
  spawnChild(name: string, file: string, extraEnv?: NodeJS.ProcessEnv): Child;
  /** Stops what the bench started (API, workers, Temporal, MariaDB, SMTP sink) and removes the temp folder. Safe to call twice. */
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

/** The processes a stack starts (the bench's, the chaos run's): children in their own process groups, logs in the temp folder. */
export class Children {
  readonly list: Child[] = [];

  constructor(
    private readonly root: string,
    private readonly env: NodeJS.ProcessEnv,
  ) {}

  spawn(name: string, file: string, extraEnv: NodeJS.ProcessEnv = {}): Child {
    const logFile = join(this.root, `${name}.log`);
    const process = spawnManaged(name, globalThis.process.execPath, ['--import', 'tsx', file], { env: { ...this.env, ...extraEnv }, cwd: PROJECT_ROOT, logFile });
    const child = { process, logFile };
    this.list.push(child);
    return child;
  }

  /** A payments or notifications worker process (workers/*.ts), with a metrics port of its own; answers once it polls. */
  async startWorker(kind: 'payments' | 'notifications'): Promise<ManagedProcess> {
    const count = this.list.filter((child) => child.process.name.startsWith(kind)).length;
    const child = this.spawn(`${kind}-worker-${count + 1}`, `workers/${kind}.ts`, { WORKER_METRICS_PORT: String(await freePort()) });
    await waitForLogLine(child, `${kind} worker polling task queue`, `the ${kind} worker to poll`);
    return child.process;
  }

  /** The API first (it may still wait on sagas), then the workers. */
  async stopAll(): Promise<void> {
    const named = (predicate: (name: string) => boolean) => this.list.filter((child) => predicate(child.process.name));
    await Promise.all(named((name) => name === 'api').map((child) => child.process.stop(API_STOP_GRACE_MS)));
    await Promise.all(named((name) => name !== 'api').map((child) => child.process.stop(WORKER_STOP_GRACE_MS)));
  }
}

/** What a stack may have started; the stop reads it when it runs, so a part restarted meanwhile is the one stopped. */
export interface StartedParts {
  children?: Children;
  db?: Knex;
  temporal?: TemporalDevServer;
  /** A TCP proxy in front of the database (the chaos run's). */
  proxy?: { close(): Promise<void> };
  database?: MariaDbServer;
  smtp?: SmtpSink;
  webhooks?: { close(): Promise<void> };
  /** Started first: stops whatever is left and removes the folder if this process dies before its stop. */
  reaper?: Reaper;
}

/**
 * A stack's stop: the processes first, then the servers they used, then the folder, then the reaper
 * (which finds nothing left and exits). It runs once;
 * a second call waits for the first, so a Ctrl-C during a stop does not stop things twice.
 */
export function stopOnce(root: string, started: StartedParts): () => Promise<void> {
  let stopping: Promise<void> | undefined;
  return () =>
    (stopping ??= (async () => {
      await started.children?.stopAll();
      await started.db?.destroy();
      await started.temporal?.stop();
      await started.proxy?.close();
      await started.database?.stop();
      await started.smtp?.close();
      await started.webhooks?.close();
      rmSync(root, { recursive: true, force: true });
      await started.reaper?.close();
    })());
}

/** Waits until the API answers 200 on /readyz; fails early when its process exits. */
export async function waitForApi(apiUrl: string, api: Child): Promise<void> {
  await waitFor(async () => (await fetch(`${apiUrl}/readyz`).catch(() => undefined))?.status === 200, {
    timeoutMs: READY_TIMEOUT_MS,
    intervalMs: 200,
    what: `the API to answer 200 on ${apiUrl}/readyz`,
    failIf: () => (api.process.hasExited() ? `the API exited; see ${api.logFile}` : undefined),
  });
}

/** The environment of a stack's processes: `settings` over this process's, and where each server of the stack is. */
export function stackEnvironment(
  settings: Readonly<Record<string, string>>,
  where: { databaseUrl: string; temporalAddress: string; apiPort: number; smtpUrl: string; root: string },
): NodeJS.ProcessEnv {
  return {
    ...process.env,
    ...settings,
    DATABASE_URL: where.databaseUrl,
    TEMPORAL_ADDRESS: where.temporalAddress,
    // The stack's own dev server has this namespace, whatever the caller's environment names (the cluster tests name another).
    TEMPORAL_NAMESPACE: NAMESPACE,
    JWT_SECRET: randomBytes(32).toString('hex'),
    PORT: String(where.apiPort),
    SMTP_URL: where.smtpUrl,
    WORKFLOW_BUNDLE_PATH: join(where.root, 'workflow-bundle.js'),
  };
}

/** Bundles the workflows once, as the production image does, rather than by webpack in every worker process. */
export async function writeWorkflowBundle(path: string): Promise<void> {
  const { code } = await bundleWorkflowCode({ workflowsPath: require.resolve('../../workflows'), logger: quietBundlerLogger });
  writeFileSync(path, code);
}

/**
 * With BENCH_API_URL set, measures that running stack (DATABASE_URL, TEMPORAL_ADDRESS and its
 * JWT_SECRET set too); otherwise starts one from scratch.
 */
export function openBenchStack(say: (line: string) => void, onStoppable: (stop: () => Promise<void>) => void, env: NodeJS.ProcessEnv = process.env): Promise<BenchStack> {
  return env.BENCH_API_URL ? useGivenStack(env.BENCH_API_URL, env, say) : startBenchStack(say, onStoppable);
}

/**
 * A running stack (e.g. `npm run dev` with the bench's rate limits): the bench seeds its
 * database, drives its API, and starts only the extra payments worker and the no-op workers.
 */
async function useGivenStack(apiUrl: string, given: NodeJS.ProcessEnv, say: (line: string) => void): Promise<BenchStack> {
  const root = mkdtempSync(join(tmpdir(), 'sagapay-bench-'));
  const env: NodeJS.ProcessEnv = { ...given, WORKFLOW_BUNDLE_PATH: join(root, 'workflow-bundle.js') };
  const config = loadConfig(env, { signsTokens: true });
  const children = new Children(root, env);
  const db = createDatabase(config.databaseUrl, 4, config.databaseWaitLimits);
  const started: StartedParts = { children, db };
  const stop = stopOnce(root, started);
  try {
    started.reaper = await startReaper(root);
    const ready = await fetch(`${apiUrl}/readyz`);
    if (ready.status !== 200) throw new Error(`${apiUrl}/readyz answered ${ready.status}: is the stack up?`);
    await writeWorkflowBundle(join(root, 'workflow-bundle.js'));
  } catch (error) {
    await stop();
    throw error;
  }
  say(`Using the running stack at ${apiUrl} (Temporal ${config.temporal.address}); logs of what the bench starts in ${root}`);
  return {
    own: false,
    config,
    apiUrl,
    db,
    root,
    addPaymentsWorker: () => children.startWorker('payments'),
    spawnChild: (name, file, extraEnv) => children.spawn(name, file, extraEnv),
    stop,
  };
}

/**
 * Starts a private MariaDB, the Temporal dev server (file database, the same pragmas and
 * dynamic config as `npm run dev`), an SMTP sink, then the notifications worker, one payments
 * worker and the API as separate processes, as `npm run dev` does.
 */
export async function startBenchStack(say: (line: string) => void, onStoppable: (stop: () => Promise<void>) => void = () => undefined): Promise<BenchStack> {
  const root = mkdtempSync(join(tmpdir(), 'sagapay-bench-'));
  const started: StartedParts = {};
  const stop = stopOnce(root, started);
  // A Ctrl-C while the stack is still starting stops what has started so far.
  onStoppable(stop);
  try {
    started.reaper = await startReaper(root);
    started.database = await startMariaDb({ dataDir: join(root, 'mariadb'), ephemeral: true, seeLockWaits: true });
    say(`MariaDB on 127.0.0.1:${started.database.port}`);
    started.temporal = await startTemporalDevServer({ headless: true, dbFilename: join(root, 'temporal.db'), logDir: root });
    say(`Temporal dev server on ${started.temporal.address}`);
    started.smtp = await openSmtpSink();
    const apiPort = await freePort();
    const env = stackEnvironment(BENCH_ENVIRONMENT, { databaseUrl: started.database.databaseUrl, temporalAddress: started.temporal.address, apiPort, smtpUrl: started.smtp.url, root });
    const config = loadConfig(env, { signsTokens: true });
    await prepareDatabase(config.databaseUrl, config.money.currencies);
    await writeWorkflowBundle(join(root, 'workflow-bundle.js'));

    const children = new Children(root, env);
    started.children = children;
    await Promise.all([children.startWorker('notifications'), children.startWorker('payments')]);
    const apiUrl = `http://127.0.0.1:${apiPort}`;
    await waitForApi(apiUrl, children.spawn('api', 'api/server.ts'));
    started.db = createDatabase(config.databaseUrl, 4, config.databaseWaitLimits);
    say(`API on ${apiUrl}; one payments worker, one notifications worker; logs in ${root}`);
    return {
      own: true,
      config,
      apiUrl,
      db: started.db,
      root,
      addPaymentsWorker: () => children.startWorker('payments'),
      spawnChild: (name, file, extraEnv) => children.spawn(name, file, extraEnv),
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
