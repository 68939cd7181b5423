import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { errorWithLog, freePort, spawnManaged, type ManagedProcess } from '../../scripts/lib/processes';
import { waitFor, type TestStack } from './stack';

const ROOT = resolve(__dirname, '..', '..');

/** A real worker process (`node --import tsx workers/<kind>.ts`, as `npm run dev` and the image run it) on a stack's task queues (or those `env` names); resolves once it polls. */
export async function spawnWorkerProcess(
  kind: 'payments' | 'notifications',
  stack: TestStack,
  options: { logFile: string; env?: Record<string, string> },
): Promise<ManagedProcess> {
  const queueVariable = kind === 'payments' ? 'TASK_QUEUE_PAYMENTS' : 'TASK_QUEUE_NOTIFICATIONS';
  const queue = options.env?.[queueVariable] ?? (kind === 'payments' ? stack.config.temporal.paymentsTaskQueue : stack.config.temporal.notificationsTaskQueue);
  const worker = spawnManaged(`${kind} worker`, process.execPath, ['--import', 'tsx', `workers/${kind}.ts`], {
    cwd: ROOT,
    logFile: options.logFile,
    env: {
      ...process.env,
      NODE_ENV: 'test',
      LOG_LEVEL: 'info',
      WORKER_METRICS_PORT: '0',
      TASK_QUEUE_PAYMENTS: stack.config.temporal.paymentsTaskQueue,
      TASK_QUEUE_NOTIFICATIONS: stack.config.temporal.notificationsTaskQueue,
      ...options.env,
    },
  });
  await waitFor(
    () => {
      if (worker.hasExited()) throw errorWithLog(`the ${kind} worker exited before it polled`, options.logFile);
      return readFileSync(options.logFile, 'utf8').includes(`polling task queue "${queue}"`);
    },
    { timeoutMs: 30_000, intervalMs: 100, what: `the ${kind} worker to poll "${queue}" (log: ${options.logFile})` },
  );
  return worker;
}

/** How a worker process says, as it exits, that its metrics port was taken. */
export const METRICS_PORT_TAKEN = /cannot serve worker metrics[^\n]*Address already in use/;

/** How often a worker is started again on another port when its metrics port was taken meanwhile. */
const METRICS_PORT_ATTEMPTS = 5;

/**
 * A worker process serving its metrics on a free port; answers the worker and its metrics URL.
 * The port cannot be bound once and held for the worker: the Temporal SDK's Rust core binds the
 * Prometheus exporter itself from a `host:port` string and takes no listening socket or file
 * descriptor. So the port is found free, then handed over, and another process of the run may
 * take it in between; the worker then exits with `Address already in use` (workers/telemetry.ts
 * says `cannot serve worker metrics`), and it is started again on another free port.
 */
export async function spawnWorkerWithMetrics(
  kind: 'payments' | 'notifications',
  stack: TestStack,
  options: { logFile: string; env?: Record<string, string> },
): Promise<{ worker: ManagedProcess; metricsUrl: string }> {
  for (let attempt = 1; ; attempt += 1) {
    const port = await freePort();
    try {
      const worker = await spawnWorkerProcess(kind, stack, { ...options, env: { ...options.env, WORKER_METRICS_PORT: String(port) } });
      return { worker, metricsUrl: `http://127.0.0.1:${port}/metrics` };
    } catch (error) {
      const taken = error instanceof Error && METRICS_PORT_TAKEN.test(error.message);
      if (!taken || attempt >= METRICS_PORT_ATTEMPTS) throw error;
    }
  }
}

/** The JSON lines of a log file (other lines, such as plain start-up messages, are skipped). */
export function jsonLinesOf(logFile: string): Array<Record<string, unknown>> {
  return readFileSync(logFile, 'utf8')
    .split('\n')
    .filter((line) => line.startsWith('{') && line.endsWith('}'))
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}
