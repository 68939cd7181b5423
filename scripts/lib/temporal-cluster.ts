import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Connection } from '@temporalio/client';
import { msToTs } from '@temporalio/common/lib/time';
import { SEARCH_ATTRIBUTES } from '../../domain/search-attributes';
import { NAMESPACE_RETENTION, SCHEMA_NAMES, POSTGRES_PLUGIN, TEMPORAL_DATABASES, TEMPORAL_PROCESSES, TEMPORAL_SERVER_VERSION, TEMPORAL_UI_VERSION, type TemporalProcess } from './cluster-topology';
import type { PostgresServer } from './postgres';
import { errorWithLog, freePort, freePortInRange, isPortOpen, spawnManaged, waitFor, type ManagedProcess } from './processes';
import { findOnPath } from './provision';
import { cacheDirectory, goInstall, withCacheLock } from './temporal-cli';
import { dynamicConfigYaml, temporalServerConfig, uiServerConfig, type ServicePorts, type TemporalConfigInput } from './temporal-config';
import { missingSearchAttributes } from './temporal-server';

const execFileAsync = promisify(execFile);

/**
 * The Temporal server as separate services on PostgreSQL, for `npm run cluster` and the cluster
 * tests: the pinned server and its schema tool built with `go install` into the cache (once), the
 * schemas applied, one process per service of TEMPORAL_PROCESSES, the namespace and search attributes.
 */

const SERVER_MODULE = 'go.temporal.io/server';
const UI_SERVER_PACKAGE = 'github.com/temporalio/ui-server/v2/cmd/server';
const READY_TIMEOUT_MS = 120_000;
const SERVICE_STOP_GRACE_MS = 20_000;
/** Where membership ports are chosen: below the smallint limit of the membership table, above most fixed ports. */
const MEMBERSHIP_PORTS = { min: 20_000, max: 32_767 } as const;

/** The server and schema tool binaries, and how long building them took (0 when they were cached). */
export interface TemporalServerBinaries {
  server: string;
  sql: string;
  buildSeconds: number;
}

/** `<cache>/temporal-server-<version>`: where `go install` puts `server` and `sql`. */
export function serverCacheDirectory(): string {
  return join(cacheDirectory(), `temporal-server-${TEMPORAL_SERVER_VERSION}`);
}

/**
 * The pinned Temporal server and its sql tool, built with `go install` into the cache the first
 * time (minutes: 4–13 on a 2-core machine), found there afterwards.
 */
export async function ensureTemporalServerBinaries(say: (line: string) => void): Promise<TemporalServerBinaries> {
  const directory = serverCacheDirectory();
  const binaries = { server: join(directory, 'server'), sql: join(directory, 'sql') };
  const present = () => existsSync(binaries.server) && existsSync(binaries.sql);
  if (present()) return { ...binaries, buildSeconds: 0 };
  const go = findOnPath('go');
  if (!go) {
    throw new Error(
      `the Temporal server ${TEMPORAL_SERVER_VERSION} is not in ${directory} and Go is not installed to build it: install Go 1.25 or newer (https://go.dev/dl/) and run again`,
    );
  }
  const startedAt = Date.now();
  await withCacheLock(`temporal-server-${TEMPORAL_SERVER_VERSION}.lock`, `the other build of Temporal server ${TEMPORAL_SERVER_VERSION}`, async () => {
    if (present()) return;
    const builds = [
      { what: `Temporal server ${TEMPORAL_SERVER_VERSION}`, args: ['-tags', 'disable_grpc_modules', `${SERVER_MODULE}/cmd/server@v${TEMPORAL_SERVER_VERSION}`], binary: binaries.server },
      { what: `Temporal sql tool ${TEMPORAL_SERVER_VERSION}`, args: [`${SERVER_MODULE}/cmd/tools/sql@v${TEMPORAL_SERVER_VERSION}`], binary: binaries.sql },
    ];
    for (const build of builds) {
      if (existsSync(build.binary)) continue;
      const failure = await goInstall({ go, args: build.args, binDirectory: directory, logFile: join(cacheDirectory(), 'temporal-server-build.log'), what: build.what });
      if (failure) throw new Error(`\`go install ${build.args.join(' ')}\` ${failure}`);
    }
  });
  const buildSeconds = Math.round((Date.now() - startedAt) / 1000);
  say(`Built Temporal server ${TEMPORAL_SERVER_VERSION} and its sql tool in ${buildSeconds} s (cached in ${directory})`);
  return { ...binaries, buildSeconds };
}

/**
 * The Temporal Web UI server, built with `go install` into the cache the first time. Resolves to
 * its path, or to why it cannot be had (the cluster then runs without it).
 */
export async function ensureTemporalUiServer(): Promise<{ path: string } | { reason: string }> {
  const directory = join(cacheDirectory(), `temporal-ui-server-${TEMPORAL_UI_VERSION}`);
  const path = join(directory, 'server');
  if (existsSync(path)) return { path };
  const go = findOnPath('go');
  if (!go) return { reason: 'Go is not installed to build it' };
  let reason: string | undefined;
  await withCacheLock(`temporal-ui-server-${TEMPORAL_UI_VERSION}.lock`, `the other build of the Temporal UI server ${TEMPORAL_UI_VERSION}`, async () => {
    if (existsSync(path)) return;
    const args = [`${UI_SERVER_PACKAGE}@v${TEMPORAL_UI_VERSION}`];
    const failure = await goInstall({ go, args, binDirectory: directory, logFile: join(cacheDirectory(), 'temporal-ui-build.log'), what: `Temporal UI server ${TEMPORAL_UI_VERSION}` });
    if (failure) reason = `\`go install ${args.join(' ')}\` ${failure}`;
  });
  return reason === undefined ? { path } : { reason };
}

/**
 * Creates the two databases and applies the embedded PostgreSQL schemas. On a reused data dir the
 * databases exist already: then only `update-schema` runs, which applies just the newer versions.
 */
export async function applyTemporalSchemas(sqlTool: string, postgres: PostgresServer, logFile: string): Promise<void> {
  const env = {
    ...process.env,
    SQL_HOST: postgres.host,
    SQL_PORT: String(postgres.port),
    SQL_USER: postgres.user,
    SQL_PASSWORD: postgres.password,
    SQL_PLUGIN: POSTGRES_PLUGIN,
  };
  const run = async (database: string, args: string[]) => {
    try {
      const { stdout, stderr } = await execFileAsync(sqlTool, ['--db', database, ...args], { env, timeout: 120_000, maxBuffer: 16 * 1024 * 1024 });
      writeFileSync(logFile, `$ sql --db ${database} ${args.join(' ')}\n${stdout}${stderr}`, { flag: 'a' });
      return { ok: true, output: `${stdout}${stderr}` };
    } catch (error) {
      const failure = error as Error & { stdout?: string; stderr?: string };
      const output = `${failure.stdout ?? ''}${failure.stderr ?? ''}`;
      writeFileSync(logFile, `$ sql --db ${database} ${args.join(' ')}\n${output}`, { flag: 'a' });
      return { ok: false, output };
    }
  };
  for (const store of ['default', 'visibility'] as const) {
    const database = TEMPORAL_DATABASES[store];
    const created = await run(database, ['create-database']);
    if (!created.ok && !/already exists/i.test(created.output)) throw errorWithLog(`creating the database ${database} failed`, logFile);
    if (created.ok) {
      const setup = await run(database, ['setup-schema', '-v', '0.0']);
      if (!setup.ok) throw errorWithLog(`setup-schema of ${database} failed`, logFile);
    }
    const update = await run(database, ['update-schema', '--schema-name', SCHEMA_NAMES[store]]);
    if (!update.ok) throw errorWithLog(`update-schema ${SCHEMA_NAMES[store]} of ${database} failed`, logFile);
  }
}

/** A running Temporal cluster. */
export interface TemporalCluster {
  /** The frontend's gRPC address, the value for TEMPORAL_ADDRESS. */
  address: string;
  /** The frontend's HTTP API. */
  httpAddress: string;
  processes: ManagedProcess[];
  /** Every process's log file, by process name. */
  logFiles: Record<string, string>;
  /** Stops the worker service, the frontend, matching and the history processes. */
  stop(): Promise<void>;
}

/** Options of `startTemporalCluster`. */
export interface TemporalClusterOptions {
  server: string;
  postgres: PostgresServer;
  /** Folder for the generated configuration files and the logs. */
  directory: string;
  say: (line: string) => void;
}

/** Chooses free ports, writes a configuration file per process, and starts every process of TEMPORAL_PROCESSES. */
export async function startTemporalCluster(options: TemporalClusterOptions): Promise<TemporalCluster> {
  mkdirSync(options.directory, { recursive: true });
  const ports: Record<string, ServicePorts> = {};
  for (const process of TEMPORAL_PROCESSES) {
    ports[process.name] = {
      grpcPort: await freePort(),
      // The membership table keeps ports in a smallint (PostgreSQL schema): below 32768.
      membershipPort: await freePortInRange(MEMBERSHIP_PORTS.min, MEMBERSHIP_PORTS.max),
      httpPort: process.service === 'frontend' ? await freePort() : undefined,
    };
  }
  const frontend = TEMPORAL_PROCESSES.find((process) => process.service === 'frontend');
  if (!frontend) throw new Error('the topology has no frontend');
  const dynamicConfigFile = join(options.directory, 'dynamic-config.yaml');
  writeFileSync(dynamicConfigFile, dynamicConfigYaml());
  const input: TemporalConfigInput = {
    postgres: { host: options.postgres.host, port: options.postgres.port, user: options.postgres.user, password: options.postgres.password },
    ports,
    dynamicConfigFile,
    frontend: frontend.name,
  };

  const processes: ManagedProcess[] = [];
  const logFiles: Record<string, string> = {};
  const stop = async () => {
    // The worker service and the frontend first (no new work), history last (it owns the shards).
    for (const managed of [...processes].reverse()) await managed.stop(SERVICE_STOP_GRACE_MS);
  };
  const frontendPorts = ports[frontend.name] as ServicePorts;
  const address = `127.0.0.1:${frontendPorts.grpcPort}`;
  try {
    for (const [index, process] of TEMPORAL_PROCESSES.entries()) {
      const started = startService(options, input, process);
      processes.push(started.managed);
      logFiles[process.name] = started.logFile;
      const grpcPort = (ports[process.name] as ServicePorts).grpcPort;
      options.say(`  ${process.name} (${process.service}) started, gRPC 127.0.0.1:${grpcPort}`);
      // The first process writes the cluster metadata into a fresh database; started together, the others would race it and exit.
      if (index === 0) {
        await waitFor(() => isPortOpen(grpcPort), {
          timeoutMs: READY_TIMEOUT_MS,
          intervalMs: 200,
          what: `${process.name} to listen on 127.0.0.1:${grpcPort}`,
          failIf: () => exitedProcess(processes),
        });
      }
    }
    await waitFor(() => isPortOpen(frontendPorts.grpcPort), {
      timeoutMs: READY_TIMEOUT_MS,
      intervalMs: 200,
      what: `the Temporal frontend to listen on ${address}`,
      failIf: () => exitedProcess(processes),
    });
  } catch (error) {
    await stop();
    const gone = processes.find((managed) => managed.hasExited());
    throw gone ? errorWithLog((error as Error).message, logFiles[gone.name] ?? '') : error;
  }
  return { address, httpAddress: `127.0.0.1:${frontendPorts.httpPort ?? 0}`, processes, logFiles, stop };
}

function startService(options: TemporalClusterOptions, input: TemporalConfigInput, process: TemporalProcess): { managed: ManagedProcess; logFile: string } {
  const configFile = join(options.directory, `${process.name}.yaml`);
  writeFileSync(configFile, temporalServerConfig(input, process), { mode: 0o600 });
  const logFile = join(options.directory, `${process.name}.log`);
  const args = ['--config-file', configFile, '--allow-no-auth', 'start', '--service', process.service];
  const managed = spawnManaged(process.name, options.server, args, { logFile, cwd: options.directory, env: withoutTemporalVariables() });
  return { managed, logFile };
}

/** The name of a process that has exited, for `waitFor`'s failIf. */
export function exitedProcess(processes: readonly ManagedProcess[]): string | undefined {
  const gone = processes.find((managed) => managed.hasExited());
  return gone ? `${gone.name} exited (see its log)` : undefined;
}

/** Our environment minus TEMPORAL_* variables, which the server would read as its own settings. */
function withoutTemporalVariables(): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('TEMPORAL_')));
}

/**
 * Registers the namespace (unless it exists) and SagaPay's custom search attributes (those missing),
 * then waits until the frontend reports them all: a real server, unlike the dev server, starts with none.
 */
export async function ensureNamespace(address: string, namespace: string, failIf: () => string | undefined): Promise<void> {
  const connection = await Connection.connect({ address, connectTimeout: 10_000 });
  try {
    await waitFor(
      async () => {
        try {
          await connection.workflowService.registerNamespace({ namespace, workflowExecutionRetentionPeriod: msToTs(NAMESPACE_RETENTION) });
        } catch (error) {
          if (!/already exists/i.test((error as Error).message)) throw error;
        }
        return true;
      },
      { timeoutMs: READY_TIMEOUT_MS, intervalMs: 500, what: `the namespace "${namespace}" to be registered`, failIf },
    );
    await waitFor(
      async () => {
        const missing = await missingSearchAttributes(connection, namespace);
        if (missing.length === 0) return true;
        const searchAttributes = Object.fromEntries(missing.map((name) => [name, indexedValueType(SEARCH_ATTRIBUTES[name as keyof typeof SEARCH_ATTRIBUTES])]));
        await connection.operatorService.addSearchAttributes({ namespace, searchAttributes });
        throw new Error(`search attributes just added, checking again: ${missing.join(', ')}`);
      },
      { timeoutMs: READY_TIMEOUT_MS, intervalMs: 500, what: `the search attributes of "${namespace}"`, failIf },
    );
  } finally {
    await connection.close();
  }
}

/** IndexedValueType wire values from temporal/api/enums/v1/common.proto. */
const INDEXED_VALUE_TYPES: Readonly<Record<string, number>> = { Text: 1, Keyword: 2, Int: 3, Double: 4, Bool: 5, Datetime: 6, KeywordList: 7 };

function indexedValueType(type: string): number {
  const value = INDEXED_VALUE_TYPES[type];
  if (value === undefined) throw new Error(`unknown search attribute type ${type}`);
  return value;
}

/** Starts the Web UI server against the frontend, its configuration in `<directory>/ui/base.yaml`, and waits until it answers. */
export async function startTemporalUi(binary: string, directory: string, temporalAddress: string, namespace: string): Promise<{ url: string; process: ManagedProcess; logFile: string }> {
  const configDirectory = join(directory, 'ui');
  mkdirSync(configDirectory, { recursive: true });
  const port = await freePort();
  writeFileSync(join(configDirectory, 'base.yaml'), uiServerConfig({ temporalAddress, port, namespace }));
  writeFileSync(join(configDirectory, 'cluster.yaml'), '# Everything is in base.yaml.\n');
  const logFile = join(directory, 'temporal-ui.log');
  const managed = spawnManaged('temporal-ui', binary, ['--root', directory, '--config', 'ui', '--env', 'cluster', 'start'], { logFile, env: withoutTemporalVariables() });
  const url = `http://127.0.0.1:${port}`;
  try {
    await waitFor(async () => (await fetch(url)).ok, {
      timeoutMs: 30_000,
      intervalMs: 200,
      what: `the Web UI to answer on ${url}`,
      failIf: () => (managed.hasExited() ? 'the UI server exited' : undefined),
    });
  } catch (error) {
    await managed.stop(5_000);
    throw errorWithLog((error as Error).message, logFile);
  }
  return { url, process: managed, logFile };
}
