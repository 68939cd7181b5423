import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { appendFileSync, chownSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { assertPortFree, errorWithLog, freePort, spawnManaged, waitFor, type ExitStatus } from './processes';
import { ensureComponent, findOnPath, POSTGRESQL_SERVER } from './provision';

const execFileAsync = promisify(execFile);

/**
 * A private PostgreSQL cluster for the Temporal services of `npm run cluster`, started from the
 * installed binaries the way scripts/lib/mariadb.ts starts MariaDB: own data dir, own port on
 * 127.0.0.1, its unix socket in that dir, no system service. As root it runs as the `postgres`
 * user (PostgreSQL refuses root), which owns the data dir.
 */

/** Options of `startPostgres`. */
export interface PostgresOptions {
  /** Folder that holds everything of this cluster: data, socket, log, credentials. */
  dataDir: string;
  /** TCP port on 127.0.0.1; a free one when omitted. */
  port?: number;
  /** Throw-away data: always initialised fresh, no fsync, deleted by stop(). */
  ephemeral: boolean;
  /** The role the application connects as; it may create databases (Temporal's sql tool does). */
  user: string;
  startTimeoutMs?: number;
}

/** A running private PostgreSQL cluster. */
export interface PostgresServer {
  host: string;
  port: number;
  user: string;
  password: string;
  /** The folder holding the unix socket. */
  socketDirectory: string;
  logFile: string;
  /** Settles if the server process exits, whether stopped or crashed. */
  exited: Promise<ExitStatus>;
  stop(): Promise<void>;
}

/** The OS account the server runs as, when we are root. */
interface RunAs {
  uid: number;
  gid: number;
}

const SUPERUSER = 'postgres';
const SHUTDOWN_GRACE_MS = 30_000;
/** Temporal's five processes open up to 25 connections each (scripts/lib/temporal-config.ts), plus the sql tool and psql. */
const MAX_CONNECTIONS = 300;
const BINARY_DIRECTORIES = '/usr/lib/postgresql';

/** Starts the cluster, initialising the data dir first when it holds none; a reused one keeps its data and password. */
export async function startPostgres(options: PostgresOptions): Promise<PostgresServer> {
  const binaries = await ensurePostgresBinaries();
  const root = resolve(options.dataDir);
  const data = join(root, 'data');
  const logFile = join(root, 'server.log');
  const credentialsFile = join(root, 'credentials.json');
  const runAs = await runAsAccount();
  if (options.ephemeral) rmSync(root, { recursive: true, force: true });
  mkdirSync(root, { recursive: true, mode: 0o700 });
  if (runAs) {
    chownSync(root, runAs.uid, runAs.gid);
    await assertReachable(root, runAs);
  }
  const port = options.port ?? (await freePort());
  if (options.port !== undefined) await assertPortFree(port, 'PostgreSQL');

  let password = readPassword(credentialsFile);
  if (password === undefined || !existsSync(join(data, 'PG_VERSION'))) {
    rmSync(data, { recursive: true, force: true });
    await initialise(binaries.initdb, data, logFile, runAs);
    password = randomBytes(18).toString('base64url');
  }
  if (runAs && existsSync(logFile)) chownSync(logFile, runAs.uid, runAs.gid);

  const args = ['-D', data, '-p', String(port), '-k', root, '-c', 'listen_addresses=127.0.0.1', '-c', `max_connections=${MAX_CONNECTIONS}`];
  // Throw-away data needs no durability: without fsync the schema setup and the tests run faster.
  if (options.ephemeral) args.push('-c', 'fsync=off', '-c', 'synchronous_commit=off', '-c', 'full_page_writes=off');
  const server = spawnManaged('postgres', binaries.postgres, args, { logFile, cwd: root, ...runAs });
  const stop = async () => {
    await server.stop(SHUTDOWN_GRACE_MS);
    if (options.ephemeral) rmSync(root, { recursive: true, force: true });
  };
  try {
    await waitFor(() => psql(binaries.psql, root, port, 'SELECT 1').then(() => true), {
      timeoutMs: options.startTimeoutMs ?? 60_000,
      intervalMs: 200,
      what: `PostgreSQL to accept connections on ${root}`,
      failIf: () => (server.hasExited() ? 'the server exited' : undefined),
    });
    await provisionRole(binaries.psql, root, port, options.user, password);
    writeFileSync(credentialsFile, `${JSON.stringify({ user: options.user, password })}\n`, { mode: 0o600 });
  } catch (error) {
    await server.stop(5_000);
    throw errorWithLog(`could not start PostgreSQL in ${root}: ${(error as Error).message}`, logFile);
  }
  return { host: '127.0.0.1', port, user: options.user, password, socketDirectory: root, logFile, exited: server.exited, stop };
}

/** initdb, postgres and psql of the newest installed major version, installed with apt-get first when missing. */
export async function ensurePostgresBinaries(): Promise<{ initdb: string; postgres: string; psql: string }> {
  await ensureComponent(POSTGRESQL_SERVER, () => locateBinaryDirectory() !== undefined);
  const directory = locateBinaryDirectory();
  if (directory === undefined) throw new Error('no PostgreSQL server binaries found after installing them');
  return { initdb: join(directory, 'initdb'), postgres: join(directory, 'postgres'), psql: join(directory, 'psql') };
}

/** Debian keeps each major version's server binaries in /usr/lib/postgresql/<major>/bin, off PATH; elsewhere they are on PATH. */
function locateBinaryDirectory(): string | undefined {
  if (existsSync(BINARY_DIRECTORIES)) {
    const majors = readdirSync(BINARY_DIRECTORIES)
      .filter((name) => /^\d+$/.test(name) && existsSync(join(BINARY_DIRECTORIES, name, 'bin', 'postgres')))
      .sort((a, b) => Number(b) - Number(a));
    if (majors[0] !== undefined) return join(BINARY_DIRECTORIES, majors[0], 'bin');
  }
  const postgres = findOnPath('postgres');
  return postgres && findOnPath('initdb') ? resolve(postgres, '..') : undefined;
}

/** As root, the `postgres` account Debian's package creates; otherwise we run it as ourselves. */
async function runAsAccount(): Promise<RunAs | undefined> {
  if (process.getuid?.() !== 0) return undefined;
  try {
    const [uid, gid] = await Promise.all(['-u', '-g'].map(async (flag) => Number((await execFileAsync('id', [flag, SUPERUSER])).stdout.trim())));
    if (Number.isSafeInteger(uid) && Number.isSafeInteger(gid)) return { uid: uid as number, gid: gid as number };
  } catch {
    // Handled below.
  }
  throw new Error(`PostgreSQL refuses to run as root and there is no \`${SUPERUSER}\` account to run it as (Debian's postgresql package creates it)`);
}

/** PostgreSQL, running as another account, must be able to enter every folder above its own. */
async function assertReachable(root: string, runAs: RunAs): Promise<void> {
  try {
    await execFileAsync('test', ['-x', root], { ...runAs, timeout: 10_000 });
  } catch {
    throw new Error(`the \`${SUPERUSER}\` account cannot reach ${root} (a folder above it is closed to other users): choose a data dir under an open folder`);
  }
}

/** A fresh data dir: superuser `postgres`, trusted only over the socket in our own folder; TCP needs a password. */
async function initialise(initdb: string, data: string, logFile: string, runAs: RunAs | undefined): Promise<void> {
  const args = ['-D', data, '-U', SUPERUSER, '--auth-local=trust', '--auth-host=scram-sha-256', '-E', 'UTF8', '--locale=C', '--no-instructions'];
  try {
    const { stdout, stderr } = await execFileAsync(initdb, args, { cwd: dirname(data), timeout: 120_000, maxBuffer: 16 * 1024 * 1024, ...runAs });
    appendFileSync(logFile, `${stdout}${stderr}`);
  } catch (error) {
    const failure = error as Error & { stdout?: string; stderr?: string };
    appendFileSync(logFile, `${failure.stdout ?? ''}${failure.stderr ?? ''}`);
    throw errorWithLog(`initdb of ${data} failed: ${failure.message.split('\n')[0]}`, logFile);
  }
}

/** Runs one statement as the superuser over the unix socket. */
async function psql(binary: string, socketDirectory: string, port: number, sql: string): Promise<string> {
  const { stdout } = await execFileAsync(binary, ['-h', socketDirectory, '-p', String(port), '-U', SUPERUSER, '-d', 'postgres', '-v', 'ON_ERROR_STOP=1', '-tAc', sql], {
    timeout: 15_000,
  });
  return stdout;
}

/** Creates the application role, or resets its password; it runs at every start, so a reused data dir is repaired. */
async function provisionRole(binary: string, socketDirectory: string, port: number, user: string, password: string): Promise<void> {
  if (!/^[a-z_][a-z0-9_]*$/.test(user)) throw new Error(`"${user}" is not a plain role name`);
  const exists = (await psql(binary, socketDirectory, port, `SELECT 1 FROM pg_roles WHERE rolname = '${user}'`)).trim() === '1';
  const verb = exists ? 'ALTER' : 'CREATE';
  // The password is base64url (letters, digits, - and _), so it needs no escaping inside quotes.
  await psql(binary, socketDirectory, port, `${verb} ROLE ${user} WITH LOGIN CREATEDB PASSWORD '${password}'`);
}

function readPassword(credentialsFile: string): string | undefined {
  if (!existsSync(credentialsFile)) return undefined;
  const parsed: unknown = JSON.parse(readFileSync(credentialsFile, 'utf8'));
  if (parsed && typeof parsed === 'object' && 'password' in parsed && typeof parsed.password === 'string') return parsed.password;
  return undefined;
}
