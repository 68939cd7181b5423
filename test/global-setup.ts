/**
 * Starts the test stack once per jest run: a private MariaDB in a fresh temp dir (or the database
 * in TEST_DATABASE_URL), a headless in-memory Temporal dev server (or, when
 * SAGAPAY_TEST_TEMPORAL_ADDRESS is set, the Temporal server there, in the namespace
 * SAGAPAY_TEST_TEMPORAL_NAMESPACE: that is how `npm run cluster:test` runs tests on the cluster),
 * and the workflow bundle.
 *
 * How test files see the stack: through process.env. globalSetup runs in jest's main process
 * before any test worker is forked, workers inherit its environment, and each test file's
 * `process.env` is copied from it. So tests read DATABASE_URL, TEMPORAL_ADDRESS,
 * TEMPORAL_NAMESPACE and WORKFLOW_BUNDLE_PATH (and loadConfig() just works).
 * `scripts/lib/launchers.test.ts` checks it (it also held for forked workers, tried with two files).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { constants, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Connection } from '@temporalio/client';
import { bundleWorkflowCode, DefaultLogger } from '@temporalio/worker';
import { loadConfig } from '../config';
import { ensureChromium } from '../scripts/lib/chromium';
import { startMariaDb } from '../scripts/lib/mariadb';
import { retryOnPortClash } from '../scripts/lib/processes';
import { prepareDatabase } from '../scripts/lib/migrations';
import { missingSearchAttributes, NAMESPACE, startTemporalDevServer } from '../scripts/lib/temporal-server';

interface Started {
  stop(): Promise<void>;
}

/** What globalTeardown needs; jest runs both hooks in its main process, so globalThis carries it. */
export interface TestStack {
  /** The temp dir holding the database, the Temporal log and the bundle. */
  root: string;
  /** Stops Temporal and the database, then removes `root`. */
  stop(): Promise<void>;
}

const STACK_KEY = Symbol.for('sagapay.testStack');

/** Returns the stack started by globalSetup and forgets it, so it is stopped only once. */
export function takeTestStack(): TestStack | undefined {
  const holder = globalThis as { [STACK_KEY]?: TestStack };
  const stack = holder[STACK_KEY];
  delete holder[STACK_KEY];
  return stack;
}

function keepTestStack(stack: TestStack): void {
  (globalThis as { [STACK_KEY]?: TestStack })[STACK_KEY] = stack;
}

/** Signals that end a jest run from outside (Ctrl-C, CI cancelling, a closed terminal). */
const STOP_SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;

export default async function globalSetup(): Promise<void> {
  const root = mkdtempSync(join(tmpdir(), 'sagapay-test-'));
  const started: Started[] = [];
  let stopping: Promise<void> | undefined;
  function stopAll(): Promise<void> {
    stopping ??= (async () => {
      for (const signal of STOP_SIGNALS) process.off(signal, onSignal);
      for (const part of [...started].reverse()) await part.stop();
      rmSync(root, { recursive: true, force: true });
    })();
    return stopping;
  }
  // On Ctrl-C jest exits without globalTeardown, and our servers run in process groups of their
  // own that the terminal does not signal: without this they would outlive the run.
  function onSignal(signal: NodeJS.Signals): void {
    process.stderr.write(`\n${signal}: stopping the test database and Temporal\n`);
    void stopAll().finally(() => process.exit(128 + (constants.signals[signal] ?? 1)));
  }
  for (const signal of STOP_SIGNALS) process.once(signal, onSignal);

  // The four are independent: start them side by side, and undo what did start if one fails.
  const [database, temporal, bundle, chromium] = await Promise.allSettled([
    startDatabase(root).then((result) => (started.push(result), result)),
    startTemporal(root).then((server) => (started.push(server), server)),
    writeWorkflowBundle(root),
    ensureChromium(),
  ]);
  // Only the browser tests need Chromium: without it they fail with this reason, the rest still run.
  if (chromium.status === 'fulfilled') process.env.CHROMIUM_PATH = chromium.value;
  else process.env.SAGAPAY_CHROMIUM_MISSING = messageOf(chromium.reason);
  if (database.status === 'rejected' || temporal.status === 'rejected' || bundle.status === 'rejected') {
    await stopAll();
    const reasons = [database, temporal, bundle].flatMap((result) => (result.status === 'rejected' ? [messageOf(result.reason)] : []));
    throw new Error(`the test stack did not start:\n${reasons.join('\n\n')}`);
  }

  process.env.DATABASE_URL = database.value.databaseUrl;
  process.env.TEMPORAL_ADDRESS = temporal.value.address;
  process.env.TEMPORAL_NAMESPACE = temporal.value.namespace;
  process.env.WORKFLOW_BUNDLE_PATH = bundle.value;
  process.env.NODE_ENV ??= 'test';
  process.env.LOG_LEVEL ??= 'silent';
  // Worker processes that tests spawn schedule no saga recovery over the shared database; test/recovery.test.ts does.
  process.env.SAGA_RECOVERY ??= 'false';
  // Worker processes that tests spawn serve no metrics unless a test gives them a free port.
  process.env.WORKER_METRICS_PORT ??= '0';
  try {
    const config = loadConfig();
    await prepareDatabase(config.databaseUrl, config.money.currencies, config.ledgerSystemShards);
  } catch (error) {
    await stopAll();
    throw error;
  }
  keepTestStack({ root, stop: stopAll });
}

/** TEST_DATABASE_URL when set (nothing to stop), otherwise a throw-away private server. */
async function startDatabase(root: string): Promise<Started & { databaseUrl: string }> {
  const given = process.env.TEST_DATABASE_URL;
  if (given) return { databaseUrl: given, stop: () => Promise.resolve() };
  return retryOnPortClash(() => startMariaDb({ dataDir: join(root, 'mariadb'), ephemeral: true, seeLockWaits: true }));
}

/**
 * The Temporal server at SAGAPAY_TEST_TEMPORAL_ADDRESS when set (nothing to stop; its namespace
 * must already hold SagaPay's search attributes), otherwise a throw-away headless dev server.
 */
async function startTemporal(root: string): Promise<Started & { address: string; namespace: string }> {
  const given = process.env.SAGAPAY_TEST_TEMPORAL_ADDRESS;
  if (!given) {
    const server = await retryOnPortClash(() => startTemporalDevServer({ headless: true, logDir: root }));
    return { address: server.address, namespace: NAMESPACE, stop: server.stop };
  }
  const namespace = process.env.SAGAPAY_TEST_TEMPORAL_NAMESPACE || NAMESPACE;
  const connection = await Connection.connect({ address: given, connectTimeout: 10_000 });
  try {
    const missing = await missingSearchAttributes(connection, namespace);
    if (missing.length > 0) throw new Error(`the Temporal server at ${given} lacks the search attributes ${missing.join(', ')} in namespace "${namespace}"`);
  } finally {
    await connection.close();
  }
  return { address: given, namespace, stop: () => Promise.resolve() };
}

/** Bundles the workflows once, so each test worker loads a file instead of running webpack. */
async function writeWorkflowBundle(root: string): Promise<string> {
  const bundle = await bundleWorkflowCode({
    workflowsPath: require.resolve('../workflows'),
    logger: new DefaultLogger('WARN'),
  });
  const path = join(root, 'workflow-bundle.js');
  writeFileSync(path, bundle.code);
  return path;
}

function messageOf(reason: unknown): string {
  return reason instanceof Error ? reason.message : String(reason);
}
