/**
 * `npm run cluster:test [-- <jest options>]`: runs the declared subset of the real-stack tests
 * (scripts/lib/cluster-tests.ts) against the Temporal cluster instead of the dev server.
 *
 * It uses the cluster `npm run cluster` is running (found through `.data/cluster/cluster.env`), or
 * SAGAPAY_TEST_TEMPORAL_ADDRESS when set; otherwise it starts one of its own, Temporal part only
 * (`--temporal-only --ephemeral --no-ui` in a temp folder): the tests bring their own API, workers
 * and ledger database, as with the dev server, so the cluster's SagaPay processes would only idle.
 * The tests run in a namespace of their own (CLUSTER_TEST_NAMESPACE), which is registered first.
 */
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseEnv } from 'node:util';
import { CLUSTER_TEST_NAMESPACE, CLUSTER_TESTS } from './lib/cluster-tests';
import { isPortOpen, spawnManaged, waitFor, type ManagedProcess } from './lib/processes';
import { ensureNamespace } from './lib/temporal-cluster';

const PROJECT_ROOT = resolve(__dirname, '..');
const RUNNING_CLUSTER_SETTINGS = join(PROJECT_ROOT, '.data', 'cluster', 'cluster.env');
/** A first start builds the Temporal server with Go: up to 13 minutes on a busy 2-core machine. */
const CLUSTER_START_TIMEOUT_MS = 30 * 60_000;
const CLUSTER_STOP_GRACE_MS = 120_000;

let ownCluster: { process: ManagedProcess; root: string } | undefined;
let jest: ManagedProcess | undefined;

async function main(): Promise<number> {
  const address = process.env.SAGAPAY_TEST_TEMPORAL_ADDRESS || (await runningClusterAddress()) || (await startOwnCluster());
  say(`Registering the test namespace "${CLUSTER_TEST_NAMESPACE}" on ${address}`);
  await ensureNamespace(address, CLUSTER_TEST_NAMESPACE, () => (ownCluster?.process.hasExited() ? 'the cluster exited' : undefined));

  const files = CLUSTER_TESTS.map((test) => test.file);
  say(`Running ${files.length} test files against the Temporal cluster at ${address}:\n${CLUSTER_TESTS.map((test) => `  ${test.file}: ${test.covers}`).join('\n')}`);
  const jestBinary = join(PROJECT_ROOT, 'node_modules', '.bin', 'jest');
  jest = spawnManaged('jest', jestBinary, [...files, ...process.argv.slice(2)], {
    cwd: PROJECT_ROOT,
    env: { ...process.env, SAGAPAY_TEST_TEMPORAL_ADDRESS: address, SAGAPAY_TEST_TEMPORAL_NAMESPACE: CLUSTER_TEST_NAMESPACE },
  });
  const status = await jest.exited;
  jest = undefined;
  return status.code ?? 1;
}

/** The frontend of the cluster `npm run cluster` runs, when its settings file exists and the frontend answers. */
async function runningClusterAddress(): Promise<string | undefined> {
  if (!existsSync(RUNNING_CLUSTER_SETTINGS)) return undefined;
  const address = parseEnv(readFileSync(RUNNING_CLUSTER_SETTINGS, 'utf8')).TEMPORAL_ADDRESS;
  const port = Number(address?.split(':')[1]);
  if (!address || !(await isPortOpen(port))) return undefined;
  say(`Using the running cluster (${RUNNING_CLUSTER_SETTINGS}): Temporal at ${address}`);
  return address;
}

/** Starts `scripts/cluster.ts --temporal-only` in a temp folder and waits for the settings file it writes when ready. */
async function startOwnCluster(): Promise<string> {
  const root = mkdtempSync(join(tmpdir(), 'sagapay-cluster-'));
  // PostgreSQL runs as the `postgres` user when we are root, and must be able to reach its folder inside.
  chmodSync(root, 0o755);
  const settingsFile = join(root, 'cluster.env');
  say('No running cluster: starting its Temporal part (PostgreSQL, frontend, 2 history, matching, worker) in a temp folder');
  const args = ['--import', 'tsx', join(PROJECT_ROOT, 'scripts', 'cluster.ts'), '--temporal-only', '--ephemeral', '--no-ui', '--data-dir', join(root, 'data'), '--settings-file', settingsFile];
  const child = spawnManaged('cluster', process.execPath, args, { cwd: PROJECT_ROOT });
  ownCluster = { process: child, root };
  await waitFor(() => existsSync(settingsFile), {
    timeoutMs: CLUSTER_START_TIMEOUT_MS,
    intervalMs: 500,
    what: 'the cluster to be ready',
    failIf: () => (child.hasExited() ? 'the cluster exited (see its lines above)' : undefined),
  });
  const address = parseEnv(readFileSync(settingsFile, 'utf8')).TEMPORAL_ADDRESS;
  if (!address) throw new Error(`${settingsFile} names no TEMPORAL_ADDRESS`);
  return address;
}

/** Stops jest (if running) and the cluster this script started, and removes its temp folder. */
async function cleanUp(): Promise<void> {
  await jest?.stop(30_000);
  if (!ownCluster) return;
  const { process: child, root } = ownCluster;
  ownCluster = undefined;
  await child.stop(CLUSTER_STOP_GRACE_MS);
  rmSync(root, { recursive: true, force: true });
}

function say(message: string): void {
  process.stdout.write(`${message}\n`);
}

let stopping = false;
function onSignal(signal: NodeJS.Signals): void {
  if (stopping) return;
  stopping = true;
  say(`${signal}: stopping the tests and the cluster…`);
  void cleanUp().finally(() => process.exit(signal === 'SIGINT' ? 130 : 143));
}
process.on('SIGINT', onSignal);
process.on('SIGTERM', onSignal);

main().then(
  async (code) => {
    await cleanUp();
    process.exit(code);
  },
  async (error: unknown) => {
    say(`npm run cluster:test failed: ${error instanceof Error ? error.message : String(error)}`);
    await cleanUp();
    process.exit(1);
  },
);
