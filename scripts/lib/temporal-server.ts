import { mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { Connection } from '@temporalio/client';
import { SEARCH_ATTRIBUTES } from '../../domain/search-attributes';
import { ensureTemporalCli } from './temporal-cli';
import { assertPortFree, errorWithLog, freePort, isPortOpen, spawnManaged, waitFor, type ExitStatus } from './processes';

/** Options of `startTemporalDevServer`. */
export interface TemporalDevServerOptions {
  /** Frontend gRPC port on 127.0.0.1; a free one when omitted. */
  port?: number;
  /** Web UI port; a free one when omitted. Ignored when headless. */
  uiPort?: number;
  /** SQLite file that keeps workflows across restarts; in memory when omitted. */
  dbFilename?: string;
  /** No Web UI (tests). */
  headless?: boolean;
  /** Folder for `temporal.log`; a fresh temp folder when omitted. */
  logDir?: string;
  startTimeoutMs?: number;
}

/** A running `temporal server start-dev`. */
export interface TemporalDevServer {
  /** `127.0.0.1:<port>`, the value for TEMPORAL_ADDRESS. */
  address: string;
  /** The Web UI, or undefined when headless. */
  uiUrl: string | undefined;
  logFile: string;
  /** Settles if the server process exits, whether stopped or crashed. */
  exited: Promise<ExitStatus>;
  stop(): Promise<void>;
}

export const NAMESPACE = 'default';

/**
 * Both are off by default in the server. Eager start lets a client that starts a workflow on a
 * co-located worker skip a round trip; eager activities let a worker run an activity it schedules.
 */
const DYNAMIC_CONFIG = {
  'system.enableEagerWorkflowStart': true,
  'system.enableActivityEagerExecution': true,
} as const;

/**
 * SQLite settings for a file database: write-ahead log, never synced. Measured on a shared 2-core
 * machine (`npm run bench:payments -- --count 50`, two runs each): median 136–148 ms with
 * `synchronous=off`, 168 ms with `normal`. A crash of the server process loses nothing (its writes
 * are already in the OS); only a crash of the machine itself may lose the dev server's last
 * writes, an acceptable risk for a developer's scratch server (production runs Temporal on MySQL).
 */
const SQLITE_PRAGMAS = ['journal_mode=wal', 'synchronous=off'] as const;

const SHUTDOWN_GRACE_MS = 15_000;

/** Starts the pinned CLI's dev server on 127.0.0.1 with our namespace, search attributes and dynamic config. */
export async function startTemporalDevServer(options: TemporalDevServerOptions = {}): Promise<TemporalDevServer> {
  const cli = await ensureTemporalCli();
  const headless = options.headless ?? false;
  const port = await choosePort(options.port, 'Temporal frontend');
  const uiPort = headless ? undefined : await choosePort(options.uiPort, 'Temporal Web UI');
  const logDir = resolve(options.logDir ?? mkdtempSync(join(tmpdir(), 'sagapay-temporal-')));
  mkdirSync(logDir, { recursive: true });
  const logFile = join(logDir, 'temporal.log');

  const args = ['server', 'start-dev', '--ip', '127.0.0.1', '--port', String(port), '--namespace', NAMESPACE, '--log-level', 'warn', '--color', 'never'];
  if (uiPort !== undefined) args.push('--ui-port', String(uiPort));
  if (headless) args.push('--headless');
  if (options.dbFilename) {
    const dbFilename = resolve(options.dbFilename);
    mkdirSync(dirname(dbFilename), { recursive: true });
    args.push('--db-filename', dbFilename);
    // The default rollback journal with full syncs halves the dev server's throughput; WAL without syncs is faster still.
    for (const pragma of SQLITE_PRAGMAS) args.push('--sqlite-pragma', pragma);
  }
  for (const [name, type] of Object.entries(SEARCH_ATTRIBUTES)) args.push('--search-attribute', `${name}=${type}`);
  for (const [key, value] of Object.entries(DYNAMIC_CONFIG)) args.push('--dynamic-config-value', `${key}=${JSON.stringify(value)}`);

  const server = spawnManaged('temporal', cli, args, { logFile, env: serverEnvironment() });
  const stop = async () => {
    await server.stop(SHUTDOWN_GRACE_MS);
  };
  const address = `127.0.0.1:${port}`;
  try {
    await waitUntilReady(address, options.startTimeoutMs ?? 60_000, () => (server.hasExited() ? 'the server exited' : undefined));
  } catch (error) {
    await stop();
    throw errorWithLog(`could not start the Temporal dev server (${cli}): ${(error as Error).message}`, logFile);
  }
  return { address, uiUrl: uiPort === undefined ? undefined : `http://localhost:${uiPort}`, logFile, exited: server.exited, stop };
}

async function choosePort(requested: number | undefined, what: string): Promise<number> {
  if (requested === undefined) return freePort();
  await assertPortFree(requested, what);
  return requested;
}

/** Our environment minus TEMPORAL_* variables, which the CLI would read as its own client settings. */
function serverEnvironment(): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('TEMPORAL_')));
}

/** Waits until the frontend answers for the namespace and lists every custom search attribute. */
async function waitUntilReady(address: string, timeoutMs: number, failIf: () => string | undefined): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  const [host = '127.0.0.1', port = ''] = address.split(':');
  await waitFor(() => isPortOpen(Number(port), host), { timeoutMs, intervalMs: 100, what: `Temporal to listen on ${address}`, failIf });
  const connection = await Connection.connect({ address, connectTimeout: Math.max(1_000, deadline - Date.now()) });
  try {
    await waitFor(
      async () => {
        await connection.workflowService.describeNamespace({ namespace: NAMESPACE });
        const missing = await missingSearchAttributes(connection);
        if (missing.length > 0) throw new Error(`search attributes not registered yet: ${missing.join(', ')}`);
        return true;
      },
      { timeoutMs: Math.max(1_000, deadline - Date.now()), intervalMs: 200, what: `namespace "${NAMESPACE}" and its search attributes`, failIf },
    );
  } finally {
    await connection.close();
  }
}

/** The names of SEARCH_ATTRIBUTES the server does not know (yet) in a namespace. */
export async function missingSearchAttributes(connection: Connection, namespace = NAMESPACE): Promise<string[]> {
  const response = await connection.operatorService.listSearchAttributes({ namespace });
  const registered = response.customAttributes ?? {};
  return Object.keys(SEARCH_ATTRIBUTES).filter((name) => !(name in registered));
}
