/**
 * A worker process of the engine-ceiling run (started by bench/lib/ceiling.ts, never on its
 * own): BENCH_CEILING_ROLE=payments runs the no-op saga and its forward steps on
 * BENCH_CEILING_PAYMENTS_QUEUE from the bundle at BENCH_CEILING_BUNDLE; `notifications` runs
 * the no-op notify step on BENCH_CEILING_NOTIFICATIONS_QUEUE. Runtime and worker settings are
 * those of workers/main.ts and workers/build.ts: the SDK's defaults plus the configured shutdown grace.
 */
import { NativeConnection, Worker } from '@temporalio/worker';
import { loadConfig } from '../../config';
import { createLogger } from '../../infra/logger';
import { installWorkerRuntime } from '../../workers/telemetry';
import { createNoopActivities } from './activities';
import { activityNamesOf, PAYMENT_SAGA_SHAPE } from './shape';

function required(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set`);
  return value;
}

async function main(): Promise<void> {
  const config = loadConfig();
  const role = required('BENCH_CEILING_ROLE');
  if (role !== 'payments' && role !== 'notifications') throw new Error(`BENCH_CEILING_ROLE must be payments or notifications, got ${role}`);
  const names = activityNamesOf(PAYMENT_SAGA_SHAPE);
  // The same runtime as workers/main.ts: pino logs and Prometheus metrics on the worker's port.
  const logger = createLogger(config.logLevel, `ceiling-${role}-worker`);
  installWorkerRuntime(logger, { host: config.workerMetrics.host, port: config.workerMetrics.portOverride ?? 0 });
  const connection = await NativeConnection.connect({ address: config.temporal.address });
  try {
    const worker = await Worker.create({
      connection,
      namespace: config.temporal.namespace,
      shutdownGraceTime: config.workerShutdownGraceMs,
      ...(role === 'payments'
        ? {
            taskQueue: required('BENCH_CEILING_PAYMENTS_QUEUE'),
            workflowBundle: { codePath: required('BENCH_CEILING_BUNDLE') },
            activities: createNoopActivities(names.payments, 'journal'),
          }
        : { taskQueue: required('BENCH_CEILING_NOTIFICATIONS_QUEUE'), activities: createNoopActivities(names.notifications, 'notifications') }),
    });
    console.log(`ceiling ${role} worker polling`);
    await worker.run();
  } finally {
    await connection.close();
  }
}

main().catch((error: unknown) => {
  console.error('ceiling worker failed:', error instanceof Error ? error.message : String(error));
  process.exit(1);
});
