/**
 * `npm run dev`: the whole stack on one machine. Starts a private MariaDB (unless DATABASE_URL is
 * set) and the Temporal dev server, both keeping their data under `.data/` (as is a random JWT
 * secret when JWT_SECRET is unset), and a mail catcher with a web inbox (maildev, unless SMTP_URL
 * points elsewhere), migrates, builds the web wallet (then rebuilds it on every change of web/),
 * then runs the payments worker, the notifications worker and the API until Ctrl-C or until one of them dies.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { loadConfig } from '../config';
import { developmentJwtSecret } from './lib/jwt-secret';
import { localEnvPath, removeLocalEnv, writeLocalEnv } from './lib/local-env';
import { startMariaDb, type MariaDbServer } from './lib/mariadb';
import { prepareDatabase } from './lib/migrations';
import { startMailCatcher, type MailCatcher } from './lib/mail-catcher';
import { spawnManaged, superviseScript, waitFor, type ExitStatus, type ManagedProcess } from './lib/processes';
import { startTemporalDevServer, type TemporalDevServer } from './lib/temporal-server';
import { buildWebApp, WEB_ROOT } from './lib/web-build';

const PROJECT_ROOT = resolve(__dirname, '..');
const DATA_DIR = join(PROJECT_ROOT, '.data');
/** Where the web wallet is built; the API serves it from there (unless WEB_APP_DIR says otherwise). */
const WEB_BUILD_DIR = join(PROJECT_ROOT, 'dist', 'web');
const DEFAULT_DATABASE_PORT = 3307;
const DEFAULT_TEMPORAL_ADDRESS = '127.0.0.1:7233';
const DEFAULT_TEMPORAL_UI_PORT = 8233;
const DEFAULT_MAIL_WEB_PORT = 1080;
const READY_TIMEOUT_MS = 120_000;
/** What the supervisor waits past the API's own shutdown grace (`apiShutdownGraceMs`) before SIGKILL. */
const API_KILL_MARGIN_MS = 5_000;
/** Workers finish their in-flight tasks on SIGTERM; give them time before SIGKILL. */
const WORKER_GRACE_MS = 30_000;

/** Entry points started as children, in start order; the API is stopped first, the workers after it. */
const CHILDREN = [
  { name: 'payments', file: 'workers/payments.ts' },
  { name: 'notifications', file: 'workers/notifications.ts' },
  { name: 'api', file: 'api/server.ts' },
] as const;

interface Stack {
  database?: MariaDbServer;
  temporal?: TemporalDevServer;
  mailCatcher?: MailCatcher;
  children: ManagedProcess[];
}

const stack: Stack = { children: [] };
let shuttingDown = false;
let wroteStackSettings = false;
/** The API's grace after SIGTERM plus a margin; set when the configuration is read (no API runs before). */
let apiStopTimeoutMs = API_KILL_MARGIN_MS;

async function main(): Promise<void> {
  loadDotEnv();
  const env: NodeJS.ProcessEnv = { ...process.env };
  if (!env.JWT_SECRET) {
    env.JWT_SECRET = developmentJwtSecret(DATA_DIR);
    say('JWT_SECRET is not set: using the random one kept in .data/jwt-secret');
  }
  // Fail on a bad .env before starting anything; DATABASE_URL may legitimately be unset here.
  loadConfig({ ...env, DATABASE_URL: env.DATABASE_URL || 'mysql://placeholder@127.0.0.1/sagapay' }, { signsTokens: true });

  // The web wallet builds while the database and Temporal start; the API waits for it below.
  const webBuildStartedAt = Date.now();
  const webBuild = buildWebApp(env.WEB_APP_DIR || WEB_BUILD_DIR);
  webBuild.catch(() => undefined);

  if (!env.DATABASE_URL) {
    const port = integerFromEnv('DEV_DATABASE_PORT', DEFAULT_DATABASE_PORT);
    say(`Starting a private MariaDB on 127.0.0.1:${port} (data in .data/mariadb)…`);
    const startedAt = Date.now();
    stack.database = await startMariaDb({ dataDir: join(DATA_DIR, 'mariadb'), port, ephemeral: false });
    say(`MariaDB ready in ${secondsSince(startedAt)} s`);
    watch('MariaDB', stack.database.exited);
    env.DATABASE_URL = stack.database.databaseUrl;
  }

  const temporalAddress = env.TEMPORAL_ADDRESS || DEFAULT_TEMPORAL_ADDRESS;
  const temporalPort = localPort(temporalAddress);
  if (temporalPort === undefined) {
    say(`TEMPORAL_ADDRESS=${temporalAddress} is not on this machine: using that server, not starting one`);
  } else {
    say(`Starting the Temporal dev server on ${temporalAddress} (workflows kept in .data/temporal.db)…`);
    const startedAt = Date.now();
    stack.temporal = await startTemporalDevServer({
      port: temporalPort,
      uiPort: integerFromEnv('DEV_TEMPORAL_UI_PORT', DEFAULT_TEMPORAL_UI_PORT),
      dbFilename: join(DATA_DIR, 'temporal.db'),
      logDir: DATA_DIR,
    });
    say(`Temporal ready in ${secondsSince(startedAt)} s`);
    watch('Temporal', stack.temporal.exited);
    env.TEMPORAL_ADDRESS = stack.temporal.address;
  }

  // Webhooks of local test receivers (http://127.0.0.1:…) are fine on a developer's machine.
  env.WEBHOOK_ALLOW_PRIVATE ||= 'true';
  // Colored lines for a person at a terminal; JSON lines when our output goes to a file or a pipe.
  env.LOG_FORMAT ||= process.stdout.isTTY ? 'pretty' : 'json';
  const smtpPort = localSmtpPort(env.SMTP_URL || 'smtp://127.0.0.1:1025');
  if (smtpPort === undefined) {
    say('SMTP_URL is not a plain smtp:// address on this machine: using that server, not starting a mail catcher');
  } else {
    stack.mailCatcher = await startMailCatcher({
      smtpPort,
      webPort: integerFromEnv('DEV_MAIL_WEB_PORT', DEFAULT_MAIL_WEB_PORT),
      dataDir: DATA_DIR,
      failIf: () => (shuttingDown ? 'shutting down' : undefined),
    });
    watch('maildev', stack.mailCatcher.process.exited);
    say(`Mail catcher ready: SMTP on 127.0.0.1:${smtpPort}, inbox ${stack.mailCatcher.inboxUrl}`);
  }

  const config = loadConfig(env);
  apiStopTimeoutMs = config.apiShutdownGraceMs + API_KILL_MARGIN_MS;
  const { applied } = await prepareDatabase(config.databaseUrl, config.money.currencies, config.ledgerSystemShards);
  say(applied.length === 0 ? 'Migrations: up to date' : `Migrations: applied ${applied.join(', ')}`);

  await webBuild;
  say(`Web wallet built in ${secondsSince(webBuildStartedAt)} s; rebuilt on every change of web/ (reload the page)`);
  startWebWatcher(env.WEB_APP_DIR || WEB_BUILD_DIR);
  if (stack.temporal?.uiUrl) env.TEMPORAL_UI_URL ||= stack.temporal.uiUrl;

  for (const { name, file } of CHILDREN) {
    if (shuttingDown) return;
    // One process per child (`node --import tsx`), not the tsx launcher: the launcher relays
    // SIGTERM and may SIGKILL a child that is still finishing its in-flight work.
    const child = spawnManaged(name, process.execPath, ['--import', 'tsx', file], { env, cwd: PROJECT_ROOT });
    stack.children.push(child);
    watch(name, child.exited);
  }

  const readyUrl = `http://${config.http.host}:${config.http.port}/readyz`;
  await waitFor(async () => (await fetch(readyUrl)).status === 200, {
    timeoutMs: READY_TIMEOUT_MS,
    intervalMs: 250,
    what: `the API to answer 200 on ${readyUrl}`,
    failIf: () => (shuttingDown ? 'shutting down' : undefined),
  });
  writeStackSettings(env, `http://${config.http.host}:${config.http.port}`);
  printBanner(config.http.host, config.http.port, env.DATABASE_URL ?? config.databaseUrl);
}

/**
 * Writes where the running stack is to `.data/.env.local`, for `npm run admin:create`,
 * `npm run migrate` and `npm run demo`; shutdown removes it.
 */
function writeStackSettings(env: NodeJS.ProcessEnv, apiUrl: string): void {
  const settings: Record<string, string> = {
    DATABASE_URL: env.DATABASE_URL ?? '',
    TEMPORAL_ADDRESS: env.TEMPORAL_ADDRESS ?? DEFAULT_TEMPORAL_ADDRESS,
    TEMPORAL_NAMESPACE: env.TEMPORAL_NAMESPACE || 'default',
    SAGAPAY_API_URL: apiUrl,
    SAGA_FAULTS: env.SAGA_FAULTS || 'disabled',
  };
  if (stack.temporal?.uiUrl) settings.SAGAPAY_TEMPORAL_UI_URL = stack.temporal.uiUrl;
  if (stack.mailCatcher) settings.SAGAPAY_MAIL_INBOX_URL = stack.mailCatcher.inboxUrl;
  writeLocalEnv(localEnvPath(), settings);
  wroteStackSettings = true;
}

/**
 * Rebuilds the web wallet whenever a file of web/ changes (Vite's watch mode; no type-check here,
 * `npm run typecheck` does that). The API reads index.html per request, so a reload shows the change.
 */
function startWebWatcher(outDir: string): void {
  mkdirSync(DATA_DIR, { recursive: true });
  const vite = join(PROJECT_ROOT, 'node_modules', '.bin', 'vite');
  const args = ['build', '--watch', '--config', join(WEB_ROOT, 'vite.config.mts'), '--outDir', outDir, '--emptyOutDir', '--logLevel', 'warn'];
  const child = spawnManaged('web', vite, args, { cwd: PROJECT_ROOT, logFile: join(DATA_DIR, 'web-build.log') });
  stack.children.push(child);
  watch('the web wallet\'s rebuild (see .data/web-build.log)', child.exited);
}

/** The port of an smtp:// URL on this machine (default 25), or undefined for a remote or smtps:// one. */
function localSmtpPort(smtpUrl: string): number | undefined {
  const url = new URL(smtpUrl);
  if (url.protocol !== 'smtp:' || !['127.0.0.1', 'localhost'].includes(url.hostname)) return undefined;
  return url.port === '' ? 25 : Number(url.port);
}

/** Any part of the stack exiting on its own takes everything down: a half-running stack misleads. */
function watch(name: string, exited: Promise<ExitStatus>): void {
  void exited.then((status) => {
    if (shuttingDown) return;
    const how = status.signal ? `was killed by ${status.signal}` : `exited with code ${status.code}`;
    say(`${name} ${how}; stopping everything`);
    void shutdown(1);
  });
}

/** Stops the API, then the workers, then Temporal, then MariaDB, and exits. */
async function shutdown(exitCode: number): Promise<void> {
  if (shuttingDown) return;
  shuttingDown = true;
  const running = (name: string) => stack.children.filter((child) => child.name === name);
  // First: from now on the scripts must not find a stack that is going away.
  if (wroteStackSettings) removeLocalEnv(localEnvPath());
  try {
    await Promise.all(running('api').map((child) => child.stop(apiStopTimeoutMs)));
    await Promise.all(stack.children.filter((child) => child.name !== 'api').map((child) => child.stop(WORKER_GRACE_MS)));
    await stack.mailCatcher?.process.stop();
    await stack.temporal?.stop();
    await stack.database?.stop();
    say('Stopped.');
  } catch (error) {
    say(`Error while stopping: ${(error as Error).message}`);
    exitCode = exitCode || 1;
  }
  process.exit(exitCode);
}

/** Loads `.env` from the project root; variables already in the environment win. */
function loadDotEnv(): void {
  const path = join(PROJECT_ROOT, '.env');
  if (existsSync(path)) process.loadEnvFile(path);
}

function integerFromEnv(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isSafeInteger(value) || value < 1 || value > 65_535) throw new Error(`${name} must be a port number, got "${raw}"`);
  return value;
}

/** The port of a host:port on this machine, or undefined for a remote address. */
function localPort(address: string): number | undefined {
  const match = /^(127\.0\.0\.1|localhost):(\d+)$/.exec(address);
  return match?.[2] === undefined ? undefined : Number(match[2]);
}

function maskPassword(databaseUrl: string): string {
  const url = new URL(databaseUrl);
  if (url.password) url.password = '****';
  return url.toString();
}

function printBanner(host: string, port: number, databaseUrl: string): void {
  const lines = [
    '',
    `SagaPay is running (ready ${process.uptime().toFixed(1)} s after start)`,
    `  Web wallet        http://${host}:${port}/`,
    `  API               http://${host}:${port}`,
    stack.temporal?.uiUrl ? `  Temporal Web UI   ${stack.temporal.uiUrl}` : undefined,
    stack.mailCatcher ? `  Mail inbox        ${stack.mailCatcher.inboxUrl} (every e-mail sent, caught; SMTP 127.0.0.1:${stack.mailCatcher.smtpPort})` : undefined,
    `  Temporal          ${stack.temporal?.address ?? process.env.TEMPORAL_ADDRESS} (namespace ${process.env.TEMPORAL_NAMESPACE || 'default'})`,
    `  Database          ${maskPassword(databaseUrl)}`,
    stack.database ? `  MariaDB log       ${stack.database.logFile}` : undefined,
    stack.temporal ? `  Temporal log      ${stack.temporal.logFile}` : undefined,
    `  Settings          ${localEnvPath()} (read by npm run demo, admin:create, migrate)`,
    'Try `npm run demo` in another terminal. Press Ctrl-C to stop.',
    '',
  ];
  say(lines.filter((line) => line !== undefined).join('\n'));
}

function secondsSince(startMs: number): string {
  return ((Date.now() - startMs) / 1000).toFixed(1);
}

function say(message: string): void {
  process.stdout.write(`${message}\n`);
}

superviseScript('npm run dev', main, shutdown, () => shuttingDown, say);
