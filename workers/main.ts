import { NativeConnection, type Worker } from '@temporalio/worker';
import { ConfigError, loadConfig, type Config } from '../config';
import { createDatabase } from '../infra/database';
import type { WorkerDependencies } from './build';

/**
 * Runs one worker process until SIGINT/SIGTERM: the SDK's runtime turns those
 * signals into a graceful shutdown (in-flight tasks get the grace period), then
 * the pools close and the process exits 0.
 */
export async function runWorkerProcess(
  name: string,
  taskQueueOf: (config: Config) => string,
  build: (dependencies: WorkerDependencies) => Promise<Worker>,
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
  const db = createDatabase(config.databaseUrl, config.databasePoolMax);
  const connection = await NativeConnection.connect({ address: config.temporal.address });
  try {
    const dependencies: WorkerDependencies = {
      connection,
      namespace: config.temporal.namespace,
      taskQueue: taskQueueOf(config),
      db,
      paymentDailyLimit: config.paymentDailyLimit,
      workflowBundlePath: process.env.WORKFLOW_BUNDLE_PATH || undefined,
    };
    await beforeStart(dependencies, config);
    const worker = await build(dependencies);
    console.log(`${name} worker polling task queue "${dependencies.taskQueue}" on ${config.temporal.address}`);
    await worker.run();
    console.log(`${name} worker stopped`);
  } finally {
    await connection.close();
    await db.destroy();
  }
}
