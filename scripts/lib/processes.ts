import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync } from 'node:fs';
import { createServer, Socket } from 'node:net';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import { ConfigError } from '../../config';

/** How a managed process ended. */
export interface ExitStatus {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** A child started by `spawnManaged`: its own process group, stopped as a whole. */
export interface ManagedProcess {
  readonly name: string;
  readonly pid: number;
  readonly child: ChildProcess;
  /** Settles when the group leader has exited. */
  readonly exited: Promise<ExitStatus>;
  /** True once the group leader has exited. */
  hasExited(): boolean;
  /** SIGTERM to the whole group, SIGKILL once `graceMs` has passed, then waits until the group is gone. */
  stop(graceMs?: number): Promise<ExitStatus>;
}

/** Options of `spawnManaged`. */
export interface SpawnOptions {
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** Append stdout and stderr to this file instead of printing them with a `[name]` prefix. */
  logFile?: string;
  /** Run as this user and group (root only): PostgreSQL refuses to run as root. */
  uid?: number;
  gid?: number;
}

const DEFAULT_GRACE_MS = 10_000;
const GROUP_POLL_INTERVAL_MS = 50;

/** Every group started here and not yet stopped; the exit hook below sweeps what is left. */
const running = new Set<ManagedProcess>();
let exitHookInstalled = false;
/** Who wants to hear of every process `spawnManaged` starts (a stack's reaper). */
const spawnListeners = new Set<(managed: ManagedProcess) => void>();

/** Calls `listener` with every process `spawnManaged` starts from now on; answers the function that stops it. */
export function onManagedSpawn(listener: (managed: ManagedProcess) => void): () => void {
  spawnListeners.add(listener);
  return () => {
    spawnListeners.delete(listener);
  };
}

/**
 * Children run detached (their own process group), so a terminal's Ctrl-C reaches only us.
 * If we exit without stopping them (a crash, an unhandled signal turned into process.exit),
 * this hook still asks every remaining group to terminate, so nothing is left orphaned.
 */
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const managed of running) signalGroup(managed.pid, 'SIGTERM');
  });
}

/** Sends a signal to a process group; false when the group no longer exists. */
function signalGroup(pid: number, signal: NodeJS.Signals | 0): boolean {
  try {
    process.kill(-pid, signal);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ESRCH') return false;
    throw error;
  }
}

/** True while any process of the group is alive. */
export function isGroupAlive(pid: number): boolean {
  return signalGroup(pid, 0);
}

/** Copies a stream to our stdout line by line, each line prefixed with `[name]`. */
function prefixLines(stream: NodeJS.ReadableStream | null, name: string, target: NodeJS.WriteStream): void {
  if (!stream) return;
  const lines = createInterface({ input: stream, crlfDelay: Infinity });
  lines.on('line', (line) => target.write(`[${name}] ${line}\n`));
}

/**
 * Starts a command as the leader of a new process group. Output goes to `logFile` when given,
 * otherwise to our stdout/stderr with a `[name]` prefix on each line.
 */
export function spawnManaged(name: string, command: string, args: readonly string[], options: SpawnOptions = {}): ManagedProcess {
  const logFd = options.logFile ? openSync(options.logFile, 'a') : undefined;
  const child = spawn(command, [...args], {
    cwd: options.cwd,
    env: options.env ?? process.env,
    detached: true,
    uid: options.uid,
    gid: options.gid,
    stdio: logFd === undefined ? ['ignore', 'pipe', 'pipe'] : ['ignore', logFd, logFd],
  });
  if (logFd !== undefined) closeSync(logFd);
  // Attached first: a command that cannot start reports it as an 'error' event.
  child.once('error', (error) => {
    process.stderr.write(`[${name}] failed: ${error.message}\n`);
  });
  if (child.pid === undefined) {
    throw new Error(`could not start ${name} (${command}): is it installed and executable?`);
  }
  const pid = child.pid;
  prefixLines(child.stdout, name, process.stdout);
  prefixLines(child.stderr, name, process.stderr);

  let status: ExitStatus | undefined;
  const exited = new Promise<ExitStatus>((resolve) => {
    child.once('exit', (code, signal) => {
      status = { code, signal };
      resolve(status);
    });
  });

  const managed: ManagedProcess = {
    name,
    pid,
    child,
    exited,
    hasExited: () => status !== undefined,
    stop: async (graceMs = DEFAULT_GRACE_MS) => {
      await stopGroup(managed, graceMs);
      running.delete(managed);
      return exited;
    },
  };
  running.add(managed);
  installExitHook();
  for (const listener of spawnListeners) listener(managed);
  void exited.then(() => {
    // A leader that exited on its own with an empty group needs no sweeping.
    if (!isGroupAlive(pid)) running.delete(managed);
  });
  return managed;
}

/** Terminates a whole group: SIGTERM, then SIGKILL after the grace period, then waits for it to vanish. */
async function stopGroup(managed: ManagedProcess, graceMs: number): Promise<void> {
  if (!signalGroup(managed.pid, 'SIGTERM')) {
    await managed.exited;
    return;
  }
  const terminated = await waitUntil(() => managed.hasExited() && !isGroupAlive(managed.pid), graceMs);
  if (terminated) return;
  process.stderr.write(`${managed.name} did not stop within ${graceMs} ms; killing it\n`);
  signalGroup(managed.pid, 'SIGKILL');
  await waitUntil(() => managed.hasExited() && !isGroupAlive(managed.pid), 5_000);
}

/** Polls a synchronous condition until it holds or the time is up; returns whether it held. */
async function waitUntil(condition: () => boolean, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() >= deadline) return false;
    await sleep(GROUP_POLL_INTERVAL_MS);
  }
  return true;
}

/** Stops every managed process still running, in reverse start order. */
export async function stopAll(graceMs = DEFAULT_GRACE_MS): Promise<void> {
  for (const managed of [...running].reverse()) await managed.stop(graceMs);
}

/** Options of `waitFor`. */
export interface WaitOptions {
  timeoutMs: number;
  intervalMs?: number;
  /** What we are waiting for, for the error message ("MariaDB to accept connections"). */
  what: string;
  /** Checked before each attempt; a returned message aborts the wait at once (e.g. "the server exited"). */
  failIf?: () => string | undefined;
}

/**
 * Polls `probe` (sync or async) until it returns a value other than undefined/false, with a deadline.
 * A probe that throws counts as "not yet"; its last error is quoted if time runs out.
 */
export async function waitFor<T>(probe: () => T | undefined | false | Promise<T | undefined | false>, options: WaitOptions): Promise<T> {
  const intervalMs = options.intervalMs ?? 100;
  const deadline = Date.now() + options.timeoutMs;
  let lastError: unknown;
  for (;;) {
    const failure = options.failIf?.();
    if (failure !== undefined) throw new Error(`gave up waiting for ${options.what}: ${failure}`);
    try {
      const result = await probe();
      if (result !== undefined && result !== false) return result;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() >= deadline) {
      const detail = lastError instanceof Error ? `; last error: ${lastError.message}` : '';
      throw new Error(`timed out after ${options.timeoutMs} ms waiting for ${options.what}${detail}`);
    }
    await sleep(intervalMs);
  }
}

/** A TCP port that was free on 127.0.0.1 a moment ago (the OS picks it). */
export function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, host, () => {
      const address = server.address();
      server.close(() => {
        if (address && typeof address === 'object') resolve(address.port);
        else reject(new Error('the OS did not report a port'));
      });
    });
  });
}

/**
 * A TCP port in [min, max] that was free on 127.0.0.1 a moment ago, tried at random. For servers
 * that cannot take any port: Temporal stores membership ports in a PostgreSQL smallint, so they must
 * stay below 32768, under the OS's range for ports it picks itself.
 */
export async function freePortInRange(min: number, max: number, host = '127.0.0.1', attempts = 50): Promise<number> {
  for (let attempt = 0; attempt < attempts; attempt += 1) {
    const port = min + Math.floor(Math.random() * (max - min + 1));
    if (await canBind(port, host)) return port;
  }
  throw new Error(`no free port found between ${min} and ${max} after ${attempts} tries`);
}

function canBind(port: number, host: string): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.unref();
    server.once('error', () => resolve(false));
    server.listen(port, host, () => server.close(() => resolve(true)));
  });
}

const PORT_CLASH = /address already in use|EADDRINUSE/i;

/**
 * Runs `start`, which binds a port that `freePort` found free a moment earlier; when another
 * process took that port in between (the error says the address is in use), starts again on a
 * new one, at most `attempts` times. Servers we launch as child processes cannot be handed a
 * socket we already hold, so this is how their port race is closed.
 */
export async function retryOnPortClash<T>(start: () => Promise<T>, attempts = 3): Promise<T> {
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await start();
    } catch (error) {
      if (attempt >= attempts || !PORT_CLASH.test(error instanceof Error ? error.message : String(error))) throw error;
    }
  }
}

/** True when something accepts TCP connections on host:port. */
export function isPortOpen(port: number, host = '127.0.0.1', timeoutMs = 1_000): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = new Socket();
    const finish = (open: boolean) => {
      socket.destroy();
      resolve(open);
    };
    socket.setTimeout(timeoutMs, () => finish(false));
    socket.once('connect', () => finish(true));
    socket.once('error', () => finish(false));
    socket.connect(port, host);
  });
}

/** Fails with a clear message when a fixed port is already taken (e.g. by a previous run). */
export async function assertPortFree(port: number, what: string, host = '127.0.0.1'): Promise<void> {
  if (await isPortOpen(port, host)) {
    throw new Error(`port ${port} on ${host} (${what}) is already in use: is another instance still running?`);
  }
}

/** The last lines of a log file, for error messages; empty when the file does not exist. */
export function tailFile(path: string, lineCount = 30): string {
  if (!existsSync(path)) return '';
  const lines = readFileSync(path, 'utf8').trimEnd().split('\n');
  return lines.slice(-lineCount).join('\n');
}

/** An Error whose message ends with the tail of a log file. */
export function errorWithLog(message: string, logFile: string): Error {
  const tail = tailFile(logFile);
  return new Error(tail ? `${message}\n--- last lines of ${logFile} ---\n${tail}\n---` : `${message} (no output in ${logFile})`);
}

/**
 * A supervisor's Ctrl-C: the first SIGINT or SIGTERM calls `stop` (exit code 130 or 143); while it
 * runs, the next signal says it is still stopping, and the one after exits at once.
 */
export function stopOnSignals(stop: (exitCode: number) => Promise<void>, isStopping: () => boolean, say: (message: string) => void): void {
  let forcedSignals = 0;
  function onSignal(signal: NodeJS.Signals): void {
    if (isStopping()) {
      forcedSignals += 1;
      if (forcedSignals >= 2) process.exit(130);
      say(`Still stopping; ${signal} once more to stop waiting (what is left gets SIGTERM)`);
      return;
    }
    say(`${signal}: stopping…`);
    void stop(signal === 'SIGINT' ? 130 : 143);
  }
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
}

/**
 * Runs a supervisor script's `main` (`npm run dev`, `npm run cluster`): Ctrl-C stops it as
 * `stopOnSignals` says, and a failing `main` says why (a configuration error in its own words)
 * and stops with exit code 1, unless a stop is already under way.
 */
export function superviseScript(command: string, main: () => Promise<void>, stop: (exitCode: number) => Promise<void>, isStopping: () => boolean, say: (message: string) => void): void {
  stopOnSignals(stop, isStopping, say);
  main().catch((error: unknown) => {
    if (isStopping()) return;
    say(error instanceof ConfigError ? error.message : `${command} failed: ${error instanceof Error ? error.message : String(error)}`);
    void stop(1);
  });
}
