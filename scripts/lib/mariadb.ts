import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { appendFileSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { basename, delimiter, dirname, join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { createConnection, type Connection } from 'mysql2/promise';
import { assertPortFree, errorWithLog, freePort, spawnManaged, waitFor, type ExitStatus } from './processes';
import { ensureComponent, MARIADB_SERVER } from './provision';

const execFileAsync = promisify(execFile);

/** Options of `startMariaDb`. */
export interface MariaDbOptions {
  /** Folder that holds everything of this server: data, socket, pid file, log, credentials. */
  dataDir: string;
  /** TCP port on 127.0.0.1; a free one when omitted. */
  port?: number;
  /** Throw-away data: always initialised fresh, tuned for speed over durability, deleted by stop(). */
  ephemeral: boolean;
  startTimeoutMs?: number;
  /**
   * Also grants the app user PROCESS, so it can read InnoDB's transactions and lock waits
   * (information_schema.INNODB_TRX, INNODB_LOCK_WAITS): the tests check that no lock wait outlives its activity.
   */
  seeLockWaits?: boolean;
}

/** A running private server. */
export interface MariaDbServer {
  /** `mysql://sagapay:<password>@127.0.0.1:<port>/sagapay` */
  databaseUrl: string;
  port: number;
  socketPath: string;
  logFile: string;
  /** Settles if the server process exits, whether stopped or crashed. */
  exited: Promise<ExitStatus>;
  stop(): Promise<void>;
}

/** Which server we found: MariaDB, or MySQL 8 (initialised differently). */
interface ServerBinary {
  path: string;
  flavour: 'mariadb' | 'mysql';
  versionLine: string;
}

interface Layout {
  root: string;
  data: string;
  socketPath: string;
  pidFile: string;
  logFile: string;
  credentialsFile: string;
}

const DATABASE_NAME = 'sagapay';
const APP_USER = 'sagapay';
/** Unix socket paths are limited to 108 bytes on Linux, including the terminating NUL. */
const MAX_SOCKET_PATH_LENGTH = 100;
const SHUTDOWN_GRACE_MS = 30_000;
/** MySQL 8's default SQL mode, so queries that MySQL would refuse fail here too (one dialect everywhere). */
const SQL_MODE = 'ONLY_FULL_GROUP_BY,STRICT_TRANS_TABLES,NO_ZERO_IN_DATE,NO_ZERO_DATE,ERROR_FOR_DIVISION_BY_ZERO,NO_ENGINE_SUBSTITUTION';
const SEARCH_DIRECTORIES = ['/usr/sbin', '/usr/local/sbin', '/usr/local/mysql/bin', '/usr/local/mariadb/bin', '/opt/homebrew/bin', '/usr/local/bin'];

/**
 * Starts a private MariaDB (or MySQL 8) server from the installed binaries: own data dir, own
 * port on 127.0.0.1, own socket. An initialised data dir is reused with its data and password.
 */
export async function startMariaDb(options: MariaDbOptions): Promise<MariaDbServer> {
  const layout = layoutOf(options.dataDir);
  if (layout.socketPath.length > MAX_SOCKET_PATH_LENGTH) {
    throw new Error(`the socket path ${layout.socketPath} is too long for a unix socket; use a shorter data dir`);
  }
  const binary = await findServerBinary();
  mkdirSync(layout.root, { recursive: true });
  assertNotRunning(layout);
  const port = options.port ?? (await freePort());
  if (options.port !== undefined) await assertPortFree(port, 'MariaDB');

  if (options.ephemeral) rmSync(layout.data, { recursive: true, force: true });
  let password = readPassword(layout);
  if (password === undefined || !existsSync(join(layout.data, 'mysql'))) {
    // No credentials means an earlier initialisation never finished, so the folder holds no data of ours.
    rmSync(layout.data, { recursive: true, force: true });
    await initialise(binary, layout);
    password = randomBytes(18).toString('base64url');
  }

  const server = spawnManaged(basename(binary.path), binary.path, serverArguments(binary, layout, port, options.ephemeral), {
    logFile: layout.logFile,
  });
  const stopServer = async () => {
    await server.stop(SHUTDOWN_GRACE_MS);
    if (options.ephemeral) rmSync(layout.root, { recursive: true, force: true });
  };
  try {
    await waitFor(() => connectAsRoot(layout).then(async (connection) => (await connection.end(), true)), {
      timeoutMs: options.startTimeoutMs ?? 60_000,
      intervalMs: 100,
      what: `${basename(binary.path)} to accept connections on ${layout.socketPath}`,
      failIf: () => (server.hasExited() ? 'the server exited' : undefined),
    });
    await provisionAppUser(layout, password, options.seeLockWaits ?? false);
    writeFileSync(layout.credentialsFile, `${JSON.stringify({ user: APP_USER, password })}\n`, { mode: 0o600 });
    const databaseUrl = `mysql://${APP_USER}:${encodeURIComponent(password)}@127.0.0.1:${port}/${DATABASE_NAME}`;
    await assertAppUserConnects(port, password);
    return { databaseUrl, port, socketPath: layout.socketPath, logFile: layout.logFile, exited: server.exited, stop: stopServer };
  } catch (error) {
    await server.stop(5_000);
    throw errorWithLog(`could not start ${binary.versionLine} in ${layout.root}: ${(error as Error).message}`, layout.logFile);
  }
}

function layoutOf(dataDir: string): Layout {
  const root = resolve(dataDir);
  return {
    root,
    data: join(root, 'data'),
    socketPath: join(root, 'mysqld.sock'),
    pidFile: join(root, 'mysqld.pid'),
    logFile: join(root, 'server.log'),
    credentialsFile: join(root, 'credentials.json'),
  };
}

/** The path of mariadbd (first) or mysqld (MariaDB's alias or MySQL 8), on PATH or in the usual folders. */
function locateServerBinary(): string | undefined {
  const directories = [...(process.env.PATH ?? '').split(delimiter).filter(Boolean), ...SEARCH_DIRECTORIES];
  for (const name of ['mariadbd', 'mysqld']) {
    for (const directory of directories) {
      const path = join(directory, name);
      if (existsSync(path)) return path;
    }
  }
  return undefined;
}

/**
 * Makes sure a server binary exists: when none is found, installs MariaDB's with apt-get (as root
 * or with password-less sudo, no service started), or fails saying the command for this machine.
 */
export async function ensureServerBinary(): Promise<string> {
  await ensureComponent(MARIADB_SERVER, () => locateServerBinary() !== undefined);
  const path = locateServerBinary();
  if (path === undefined) throw new Error('no MariaDB or MySQL server binary found after installing one');
  return path;
}

/** The server binary and its flavour, installed first when missing. */
async function findServerBinary(): Promise<ServerBinary> {
  const path = await ensureServerBinary();
  const { stdout } = await execFileAsync(path, ['--no-defaults', '--version'], { timeout: 15_000 });
  const versionLine = stdout.trim();
  return { path, flavour: /mariadb/i.test(versionLine) ? 'mariadb' : 'mysql', versionLine };
}

/** Refuses to start over a server of an earlier run that still holds this data dir. */
function assertNotRunning(layout: Layout): void {
  if (!existsSync(layout.pidFile)) return;
  const pid = Number(readFileSync(layout.pidFile, 'utf8').trim());
  if (Number.isSafeInteger(pid) && pid > 0 && isAlive(pid)) {
    throw new Error(`a database server from an earlier run (pid ${pid}) still uses ${layout.root}; stop it with \`kill ${pid}\``);
  }
  rmSync(layout.pidFile, { force: true });
  rmSync(layout.socketPath, { force: true });
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function readPassword(layout: Layout): string | undefined {
  if (!existsSync(layout.credentialsFile)) return undefined;
  const parsed: unknown = JSON.parse(readFileSync(layout.credentialsFile, 'utf8'));
  if (parsed && typeof parsed === 'object' && 'password' in parsed && typeof parsed.password === 'string') return parsed.password;
  return undefined;
}

/** Options shared by the server and its initialisation: ignore every my.cnf of the machine, run as root if we are root. */
function commonArguments(binary: ServerBinary, layout: Layout): string[] {
  const asRoot = process.getuid?.() === 0 ? ['--user=root'] : [];
  return ['--no-defaults', `--basedir=${dirname(dirname(binary.path))}`, `--datadir=${layout.data}`, ...asRoot];
}

/** Creates the system tables; root@localhost gets a password-less login we only use over the socket. */
async function initialise(binary: ServerBinary, layout: Layout): Promise<void> {
  mkdirSync(layout.data, { recursive: true });
  let command: string;
  let args: string[];
  if (binary.flavour === 'mariadb') {
    command = findInstallDb(binary);
    args = [...commonArguments(binary, layout), '--auth-root-authentication-method=normal', '--skip-test-db', '--skip-name-resolve'];
  } else {
    command = binary.path;
    args = [...commonArguments(binary, layout), '--initialize-insecure'];
  }
  try {
    const { stdout, stderr } = await execFileAsync(command, args, { timeout: 120_000, maxBuffer: 16 * 1024 * 1024 });
    appendFileSync(layout.logFile, `${stdout}${stderr}`);
  } catch (error) {
    const failure = error as Error & { stdout?: string; stderr?: string };
    appendFileSync(layout.logFile, `${failure.stdout ?? ''}${failure.stderr ?? ''}`);
    throw errorWithLog(`initialising ${layout.data} with ${command} failed: ${failure.message.split('\n')[0]}`, layout.logFile);
  }
}

/** mariadb-install-db (or its old name) beside the server, in a sibling bin folder, or on PATH. */
function findInstallDb(binary: ServerBinary): string {
  const serverDirectory = dirname(binary.path);
  const directories = [serverDirectory, join(dirname(serverDirectory), 'bin'), join(dirname(serverDirectory), 'scripts'), ...(process.env.PATH ?? '').split(delimiter)];
  for (const name of ['mariadb-install-db', 'mysql_install_db']) {
    for (const directory of directories) {
      if (directory && existsSync(join(directory, name))) return join(directory, name);
    }
  }
  throw new Error(`found ${binary.path} but not mariadb-install-db to initialise a data dir`);
}

function serverArguments(binary: ServerBinary, layout: Layout, port: number, ephemeral: boolean): string[] {
  const args = [
    ...commonArguments(binary, layout),
    `--port=${port}`,
    '--bind-address=127.0.0.1',
    `--socket=${layout.socketPath}`,
    `--pid-file=${layout.pidFile}`,
    '--skip-name-resolve',
    '--skip-log-bin',
    '--sync-binlog=0',
    // Commits reach the OS at once and the disk within a second: fine for dev and tests.
    '--innodb-flush-log-at-trx-commit=2',
    '--innodb-buffer-pool-size=128M',
    '--max-connections=500',
    '--character-set-server=utf8mb4',
    '--collation-server=utf8mb4_unicode_ci',
    `--sql-mode=${SQL_MODE}`,
    '--default-time-zone=+00:00',
    '--performance-schema=OFF',
  ];
  if (ephemeral) args.push('--innodb-doublewrite=0');
  if (binary.flavour === 'mysql') {
    // MySQL 8 would also open the X protocol port 33060 and insist on a secure-file-priv folder.
    args.push('--mysqlx=OFF', '--secure-file-priv=NULL');
  }
  return args;
}

function connectAsRoot(layout: Layout): Promise<Connection> {
  return createConnection({ socketPath: layout.socketPath, user: 'root', connectTimeout: 2_000 });
}

/**
 * Creates the database and the application user over the root socket. It runs at every start,
 * so a reused data dir is repaired if someone dropped the user. Databases named `sagapay_*`
 * are granted too, so tests may create one database per jest worker.
 */
async function provisionAppUser(layout: Layout, password: string, seeLockWaits: boolean): Promise<void> {
  const connection = await connectAsRoot(layout);
  try {
    const account = `'${APP_USER}'@'127.0.0.1'`;
    await connection.query(`CREATE DATABASE IF NOT EXISTS \`${DATABASE_NAME}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci`);
    await connection.query(`CREATE USER IF NOT EXISTS ${account} IDENTIFIED BY ?`, [password]);
    await connection.query(`ALTER USER ${account} IDENTIFIED BY ?`, [password]);
    await connection.query(`GRANT ALL PRIVILEGES ON \`${DATABASE_NAME}\`.* TO ${account}`);
    await connection.query(`GRANT ALL PRIVILEGES ON \`${DATABASE_NAME}\\_%\`.* TO ${account}`);
    if (seeLockWaits) await connection.query(`GRANT PROCESS ON *.* TO ${account}`);
  } finally {
    await connection.end();
  }
}

/** The URL we hand out must work as written: TCP, app user, its password. */
async function assertAppUserConnects(port: number, password: string): Promise<void> {
  const connection = await createConnection({ host: '127.0.0.1', port, user: APP_USER, password, database: DATABASE_NAME });
  try {
    await connection.query('SELECT 1');
  } finally {
    await connection.end();
  }
}
