import { NativeConnection, type Worker } from '@temporalio/worker';
import { ConfigError, loadConfig, type Config } from '../config';
import { createDatabase } from '../infra/database';
import { createLogger } from '../infra/logger';
import type { WorkerDependencies } from './build';
import { installWorkerRuntime } from './telemetry';

/** The port a worker serves its metrics on: WORKER_METRICS_PORT, else its kind's own. */
function metricsPortOf(name: 'payments' | 'notifications', config: Config): number {
  const { portOverride, paymentsPort, notificationsPort } = config.workerMetrics;
  return portOverride ?? (name === 'payments' ? paymentsPort : notificationsPort);
}

/**
 * Runs one worker process until SIGINT/SIGTERM: the SDK's runtime turns those
 * signals into a graceful shutdown (in-flight tasks get WORKER_SHUTDOWN_GRACE_MS), then
 * the pools close and the process exits 0. Logs are pino JSON lines; the SDK's
 * metrics are served for Prometheus on the worker's metrics port.
 */
export async function runWorkerProcess(
  name: 'payments' | 'notifications',
  taskQueueOf: (config: Config) => string,
  build: (dependencies: WorkerDependencies, config: Config) => Promise<Worker>,
  beforeStart: (dependencies: WorkerDependencies, config: Config) => Promise<void> = () => Promise.resolve(),
): Promise<void> {
  let config: Config;
  try {
    config = loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(error.message);
      process.exit(1);
    }
    throw error;
  }
  const logger = createLogger(config.logLevel, `${name}-worker`, config.logFormat === 'pretty' ? 'pretty' : undefined);
  const metricsPort = metricsPortOf(name, config);
  installWorkerRuntime(logger, { host: config.workerMetrics.host, port: metricsPort });
  const db = createDatabase(config.databaseUrl, config.databasePoolMax, config.databaseWaitLimits);
  const connection = await NativeConnection.connect({ address: config.temporal.address });
  try {
    const dependencies: WorkerDependencies = {
      connection,
      namespace: config.temporal.namespace,
      taskQueue: taskQueueOf(config),
      db,
      paymentDailyLimit: config.paymentDailyLimit,
      risk: config.risk,
      workflowBundlePath: process.env.WORKFLOW_BUNDLE_PATH || undefined,
      shutdownGraceTimeMs: config.workerShutdownGraceMs,
      recovery: {
        notificationsTaskQueue: config.temporal.notificationsTaskQueue,
        minAgeMs: config.sagaRecovery.minAgeMs,
        expireAfterMs: config.sagaRecovery.expireAfterMs,
        promoCredit: config.money.promoCredit,
      },
    };
    await beforeStart(dependencies, config);
    const worker = await build(dependencies, config);
    console.log(`${name} worker polling task queue "${dependencies.taskQueue}" on ${config.temporal.address}`);
    logger.info(
      { taskQueue: dependencies.taskQueue, temporal: config.temporal.address, metrics: metricsPort === 0 ? null : `http://${config.workerMetrics.host}:${metricsPort}/metrics` },
      'worker polling',
    );
    await worker.run();
    console.log(`${name} worker stopped`);
    logger.info({ taskQueue: dependencies.taskQueue }, 'worker stopped: in-flight tasks finished');
  } finally {
    await connection.close();
    await db.destroy();
  }
}
