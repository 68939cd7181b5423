/**
 * `npm run cluster`: the production topology on this machine, natively (docs/production.md).
 * Temporal as separate services (frontend, two history, matching, worker) on a private PostgreSQL
 * with 16 history shards, the namespace and search attributes, its Web UI; SagaPay's ledger on a
 * private MariaDB, two API replicas behind HAProxy, Redis for the shared rate limits, two payments
 * workers and one notifications worker, and a mail catcher. A progress line per step; Ctrl-C
 * (SIGINT or SIGTERM) stops everything it started, in reverse order.
 *
 * Options: `--data-dir <dir>` (default .data/cluster, kept across runs), `--ephemeral` (fresh data,
 * removed on stop), `--temporal-only` (PostgreSQL, Temporal and its UI: what the cluster tests use),
 * `--no-ui`, `--settings-file <path>` (where the running cluster's addresses are written; default
 * `<data-dir>/cluster.env`, removed on stop).
 */
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { loadConfig } from '../config';
import { CLUSTER_NAMESPACE, CLUSTER_STEPS, HISTORY_SHARDS, sagaPayClusterSettings, sagaPayProcesses, TEMPORAL_PROCESSES } from './lib/cluster-topology';
import { BALANCER_HEALTH_PATH, startHaproxy } from './lib/haproxy';
import { developmentJwtSecret } from './lib/jwt-secret';
import { removeLocalEnv, writeLocalEnv } from './lib/local-env';
import { startMailCatcher, type MailCatcher } from './lib/mail-catcher';
import { startMariaDb, type MariaDbServer } from './lib/mariadb';
import { prepareDatabase } from './lib/migrations';
import { startPostgres, type PostgresServer } from './lib/postgres';
import { freePort, spawnManaged, superviseScript, waitFor, type ExitStatus } from './lib/processes';
import { startRedis } from './lib/redis';
import {
  applyTemporalSchemas,
  ensureNamespace,
  ensureTemporalServerBinaries,
  ensureTemporalUiServer,
  startTemporalCluster,
  startTemporalUi,
  type TemporalCluster,
} from './lib/temporal-cluster';
import { ensureTemporalCli } from './lib/temporal-cli';
import { buildWebApp } from './lib/web-build';

const PROJECT_ROOT = resolve(__dirname, '..');
const NAMESPACE = CLUSTER_NAMESPACE;
const READY_TIMEOUT_MS = 120_000;
/** What the supervisor waits past the API's own shutdown grace before SIGKILL. */
const API_KILL_MARGIN_MS = 5_000;
/** Workers finish their in-flight tasks on SIGTERM; give them time before SIGKILL. */
const WORKER_GRACE_MS = 30_000;

type Step = (typeof CLUSTER_STEPS)[number];

/** Something running that the shutdown stops, in reverse order of start. */
interface Part {
  name: string;
  stop(): Promise<unknown>;
}

const { values: options } = parseArgs({
  options: {
    'data-dir': { type: 'string', default: join(PROJECT_ROOT, '.data', 'cluster') },
    ephemeral: { type: 'boolean', default: false },
    'temporal-only': { type: 'boolean', default: false },
    'no-ui': { type: 'boolean', default: false },
    'settings-file': { type: 'string' },
  },
});
const dataDir = resolve(options['data-dir']);
const logDir = join(dataDir, 'logs');
const settingsFile = resolve(options['settings-file'] ?? join(dataDir, 'cluster.env'));
const parts: Part[] = [];
const urls: Array<[string, string]> = [];
/** Settings of the running cluster for the operator scripts, gathered as the steps run. */
const stackSettings: Record<string, string> = {};
let shuttingDown = false;
let apiStopTimeoutMs = API_KILL_MARGIN_MS;
const startedAt = Date.now();

async function main(): Promise<void> {
  const dotEnv = join(PROJECT_ROOT, '.env');
  if (existsSync(dotEnv)) process.loadEnvFile(dotEnv);
  if (options.ephemeral) rmSync(dataDir, { recursive: true, force: true });
  mkdirSync(logDir, { recursive: true });
  const failIf = () => (shuttingDown ? 'shutting down' : undefined);

  const binaries = await step('temporal-binaries', 'Temporal server and sql tool (built with Go the first time)', async () => {
    const built = await ensureTemporalServerBinaries(say);
    return { value: built, detail: built.buildSeconds > 0 ? `built in ${built.buildSeconds} s` : 'cached' };
  });
  // The UI server builds (the first time) while PostgreSQL and Temporal start; the cluster does not wait for it before then.
  const uiBinary = options['no-ui'] ? Promise.resolve({ reason: '--no-ui' }) : ensureTemporalUiServer();
  uiBinary.catch(() => undefined);

  const postgres = await step('postgresql', 'PostgreSQL for Temporal', async () => {
    const server = await startPostgres({ dataDir: join(dataDir, 'postgres'), ephemeral: options.ephemeral, user: 'temporal' });
    track('PostgreSQL', server.exited, () => server.stop());
    return { value: server, detail: `127.0.0.1:${server.port}, socket in ${server.socketDirectory}` };
  });
  await step('temporal-schemas', 'Temporal schemas (sql tool, postgres12)', async () => {
    await applyTemporalSchemas(binaries.sql, postgres, join(logDir, 'temporal-schema.log'));
    return { value: undefined, detail: 'temporal and temporal_visibility up to date' };
  });
  const temporal = await step('temporal-services', `Temporal services (${TEMPORAL_PROCESSES.length} processes, ${HISTORY_SHARDS} history shards)`, async () => {
    const cluster = await startTemporalCluster({ server: binaries.server, postgres, directory: join(dataDir, 'temporal'), say });
    cluster.processes.forEach((managed) => watch(managed.name, managed.exited));
    parts.push({ name: 'Temporal', stop: () => cluster.stop() });
    return { value: cluster, detail: `frontend ${cluster.address}` };
  });
  await step('namespace', `namespace "${NAMESPACE}" and SagaPay's search attributes`, async () => {
    await ensureNamespace(temporal.address, NAMESPACE, failIf);
    return { value: undefined, detail: 'registered' };
  });
  urls.push(['Temporal frontend', `${temporal.address} (gRPC; HTTP API ${temporal.httpAddress}), namespace ${NAMESPACE}`]);
  const uiUrl = await step('temporal-ui', 'Temporal Web UI', () => startUi(temporal, uiBinary));

  if (!options['temporal-only']) await startSagaPay(temporal, uiUrl);
  writeSettings(temporal, postgres);
  printBanner();
}

/** MariaDB, migrations, Redis, the mail catcher, the web wallet, the workers and APIs, then the balancer. */
async function startSagaPay(temporal: TemporalCluster, uiUrl: string | undefined): Promise<void> {
  const database = await step('mariadb', 'MariaDB for the ledger', async () => {
    const server = await startMariaDb({ dataDir: join(dataDir, 'mariadb'), ephemeral: options.ephemeral });
    track('MariaDB', server.exited, () => server.stop());
    stackSettings.DATABASE_URL = server.databaseUrl;
    return { value: server, detail: `127.0.0.1:${server.port}` };
  });
  const env = sagaPayEnvironment(database, temporal, uiUrl);
  const config = loadConfig(env, { signsTokens: true });
  apiStopTimeoutMs = config.apiShutdownGraceMs + API_KILL_MARGIN_MS;
  await step('migrations', 'ledger migrations and the web wallet build', async () => {
    const webBuild = buildWebApp(join(PROJECT_ROOT, 'dist', 'web'));
    const { applied } = await prepareDatabase(config.databaseUrl, config.money.currencies, config.ledgerSystemShards);
    await webBuild;
    return { value: undefined, detail: applied.length === 0 ? 'up to date' : `applied ${applied.length}` };
  });
  const redisUrl = await step('redis', 'Redis for the shared rate limits', async () => {
    const redis = await startRedis(await freePort(), join(logDir, 'redis.log'));
    track('Redis', redis.process.exited, () => redis.process.stop());
    return { value: redis.url, detail: redis.url };
  });
  const mail = await startMail();
  Object.assign(env, sagaPayClusterSettings({ databaseUrl: database.databaseUrl, temporalAddress: temporal.address, redisUrl, smtpUrl: `smtp://127.0.0.1:${mail.smtpPort}` }));

  const apiPorts = await step('sagapay-processes', 'SagaPay: 2 payments workers, 1 notifications worker, 2 APIs', async () => {
    const ports: Array<{ name: string; port: number }> = [];
    for (const entry of sagaPayProcesses()) {
      const extra: NodeJS.ProcessEnv = entry.role === 'api' ? { PORT: String(await freePort()) } : { WORKER_METRICS_PORT: String(await freePort()) };
      // One process per child (`node --import tsx`), not the tsx launcher, as `npm run dev` does: SIGTERM reaches the app itself.
      const child = spawnManaged(entry.name, process.execPath, ['--import', 'tsx', entry.file], {
        env: { ...env, ...extra },
        cwd: PROJECT_ROOT,
        logFile: join(logDir, `${entry.name}.log`),
      });
      track(entry.name, child.exited, () => child.stop(entry.role === 'api' ? apiStopTimeoutMs : WORKER_GRACE_MS));
      if (entry.role === 'api') ports.push({ name: entry.name, port: Number(extra.PORT) });
      else urls.push([`${entry.name} metrics`, `http://127.0.0.1:${extra.WORKER_METRICS_PORT}/metrics`]);
    }
    for (const api of ports) {
      await waitFor(async () => (await fetch(`http://127.0.0.1:${api.port}/readyz`)).status === 200, {
        timeoutMs: READY_TIMEOUT_MS,
        intervalMs: 250,
        what: `${api.name} to answer 200 on /readyz (log: ${join(logDir, `${api.name}.log`)})`,
        failIf: () => (shuttingDown ? 'shutting down' : undefined),
      });
      urls.push([api.name, `http://127.0.0.1:${api.port}`]);
    }
    return { value: ports, detail: ports.map((api) => `${api.name} :${api.port}`).join(', ') };
  });
  await step('load-balancer', 'HAProxy in front of the APIs (round robin, checks /readyz)', async () => {
    const port = await freePort();
    const haproxy = await startHaproxy({
      port,
      backends: apiPorts,
      healthPath: BALANCER_HEALTH_PATH,
      configFile: join(dataDir, 'haproxy.cfg'),
      logFile: join(logDir, 'haproxy.log'),
    });
    track('HAProxy', haproxy.exited, () => haproxy.stop());
    const url = `http://127.0.0.1:${port}`;
    await waitFor(async () => (await fetch(`${url}/readyz`)).status === 200, { timeoutMs: 30_000, intervalMs: 250, what: `the balancer to answer 200 on ${url}/readyz` });
    urls.unshift(['Balancer (API, web wallet)', url]);
    stackSettings.SAGAPAY_API_URL = url;
    return { value: undefined, detail: url };
  });
}

/**
 * The environment the migrations are configured from; every SagaPay process gets it too, with
 * sagaPayClusterSettings() on top once Redis and the mail catcher run: a kept JWT secret, JSON logs to files.
 */
function sagaPayEnvironment(database: MariaDbServer, temporal: TemporalCluster, uiUrl: string | undefined): NodeJS.ProcessEnv {
  return {
    ...process.env,
    NODE_ENV: process.env.NODE_ENV || 'development',
    JWT_SECRET: process.env.JWT_SECRET || developmentJwtSecret(dataDir),
    DATABASE_URL: database.databaseUrl,
    TEMPORAL_ADDRESS: temporal.address,
    TEMPORAL_NAMESPACE: NAMESPACE,
    HOST: '127.0.0.1',
    WEB_APP_DIR: join(PROJECT_ROOT, 'dist', 'web'),
    WEBHOOK_ALLOW_PRIVATE: process.env.WEBHOOK_ALLOW_PRIVATE || 'true',
    LOG_FORMAT: 'json',
    ...(uiUrl ? { TEMPORAL_UI_URL: uiUrl } : {}),
  };
}

function startMail(): Promise<MailCatcher> {
  return step('mail-catcher', 'mail catcher (every e-mail the notifications worker sends)', async () => {
    const mail = await startMailCatcher({ smtpPort: await freePort(), webPort: await freePort(), dataDir: join(dataDir, 'mail'), failIf: () => (shuttingDown ? 'shutting down' : undefined) });
    track('maildev', mail.process.exited, () => mail.process.stop());
    urls.push(['Mail inbox', mail.inboxUrl]);
    stackSettings.SAGAPAY_MAIL_INBOX_URL = mail.inboxUrl;
    return { value: mail, detail: `SMTP 127.0.0.1:${mail.smtpPort}, inbox ${mail.inboxUrl}` };
  });
}

/** The UI server when it could be had; otherwise the reason, and the CLI commands that show the sagas instead. */
async function startUi(temporal: TemporalCluster, binary: Promise<{ path: string } | { reason: string }>): Promise<{ value: string | undefined; detail: string }> {
  const found = await binary;
  if ('reason' in found) {
    const cli = await ensureTemporalCli().catch(() => 'temporal');
    urls.push(['Sagas (no Web UI)', `${cli} workflow list --address ${temporal.address}; ${cli} workflow describe --address ${temporal.address} -w <id>`]);
    return { value: undefined, detail: `not available (${found.reason.split('\n')[0]}); use the CLI's workflow list/describe` };
  }
  const ui = await startTemporalUi(found.path, join(dataDir, 'temporal'), temporal.address, NAMESPACE);
  track('Temporal UI', ui.process.exited, () => ui.process.stop());
  urls.push(['Temporal Web UI', ui.url]);
  stackSettings.SAGAPAY_TEMPORAL_UI_URL = ui.url;
  return { value: ui.url, detail: ui.url };
}

/** Runs one step between a progress line and a result line with its duration. */
async function step<T>(name: Step, what: string, run: () => Promise<{ value: T; detail: string }>): Promise<T> {
  if (shuttingDown) throw new Error('shutting down');
  const index = CLUSTER_STEPS.indexOf(name) + 1;
  say(`[${index}/${CLUSTER_STEPS.length}] ${what}…`);
  const stepStartedAt = Date.now();
  const { value, detail } = await run();
  say(`[${index}/${CLUSTER_STEPS.length}] ${what}: ${detail} (${secondsSince(stepStartedAt)} s)`);
  return value;
}

/** Remembers a part to stop, and takes everything down if it exits on its own. */
function track(name: string, exited: Promise<ExitStatus>, stop: () => Promise<unknown>): void {
  parts.push({ name, stop });
  watch(name, exited);
}

/** Any part exiting on its own takes everything down: a half-running cluster misleads. */
function watch(name: string, exited: Promise<ExitStatus>): void {
  void exited.then((status) => {
    if (shuttingDown) return;
    say(`${name} ${status.signal ? `was killed by ${status.signal}` : `exited with code ${status.code}`} (logs in ${logDir}); stopping everything`);
    void shutdown(1);
  });
}

/**
 * Writes where the running cluster is, under the names the operator scripts read (`SAGAPAY_LOCAL_ENV=<file>
 * npm run demo` runs the demo through the balancer), for `npm run cluster:test` too; shutdown removes it.
 */
function writeSettings(temporal: TemporalCluster, postgres: PostgresServer): void {
  const settings: Record<string, string> = {
    TEMPORAL_ADDRESS: temporal.address,
    TEMPORAL_NAMESPACE: NAMESPACE,
    SAGAPAY_CLUSTER_POSTGRES: `127.0.0.1:${postgres.port}`,
    ...stackSettings,
  };
  writeLocalEnv(settingsFile, settings, '# Written by `npm run cluster` for the cluster it is running; removed when it stops. Do not edit.');
}

async function shutdown(exitCode: number): Promise<void> {
  if (shuttingDown) return;
  shuttingDown = true;
  removeLocalEnv(settingsFile);
  try {
    for (const part of [...parts].reverse()) {
      say(`Stopping ${part.name}…`);
      await part.stop();
    }
    if (options.ephemeral) rmSync(dataDir, { recursive: true, force: true });
    say(`Stopped${options.ephemeral ? `; removed ${dataDir}` : `; data kept in ${dataDir}`}.`);
  } catch (error) {
    say(`Error while stopping: ${(error as Error).message}`);
    exitCode = exitCode || 1;
  }
  process.exit(exitCode);
}

function printBanner(): void {
  const width = Math.max(...urls.map(([name]) => name.length));
  const lines = [
    '',
    `The SagaPay cluster is running (ready ${secondsSince(startedAt)} s after start)`,
    ...urls.map(([name, url]) => `  ${name.padEnd(width)}  ${url}`),
    `  ${'Logs'.padEnd(width)}  ${logDir} (Temporal: ${join(dataDir, 'temporal')})`,
    `  ${'Settings'.padEnd(width)}  ${settingsFile}`,
    'Press Ctrl-C to stop.',
    '',
  ];
  say(lines.join('\n'));
}

function secondsSince(startMs: number): string {
  return ((Date.now() - startMs) / 1000).toFixed(1);
}

function say(message: string): void {
  process.stdout.write(`${message}\n`);
}

superviseScript('npm run cluster', main, shutdown, () => shuttingDown, say);
