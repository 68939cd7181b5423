import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { errorWithLog, spawnManaged, type ManagedProcess } from '../../scripts/lib/processes';
import { waitFor, type TestStack } from './stack';

const ROOT = resolve(__dirname, '..', '..');

/** A real worker process (`node --import tsx workers/<kind>.ts`, as `npm run dev` and the image run it) on a stack's task queues; resolves once it polls. */
export async function spawnWorkerProcess(
  kind: 'payments' | 'notifications',
  stack: TestStack,
  options: { logFile: string; env?: Record<string, string> },
): Promise<ManagedProcess> {
  const queue = kind === 'payments' ? stack.config.temporal.paymentsTaskQueue : stack.config.temporal.notificationsTaskQueue;
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

/** The JSON lines of a log file (other lines, such as plain start-up messages, are skipped). */
export function jsonLinesOf(logFile: string): Array<Record<string, unknown>> {
  return readFileSync(logFile, 'utf8')
    .split('\n')
    .filter((line) => line.startsWith('{') && line.endsWith('}'))
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}
