import { type NativeConnection, Worker, type WorkerOptions } from '@temporalio/worker';
import type { Knex } from 'knex';
import { createNotificationActivities, createPaymentActivities } from '../activities';

/** What a worker is built from; composition roots and tests provide it. */
export interface WorkerDependencies {
  connection: NativeConnection;
  namespace: string;
  taskQueue: string;
  db: Knex;
  /** Most a payer may pay in one currency over 24 hours, in minor units. */
  paymentDailyLimit: number;
  /** A prebuilt workflow bundle (tests, production images); without it the workflows are bundled at start. */
  workflowBundlePath?: string;
  shutdownGraceTimeMs?: number;
}

function workflowSource(bundlePath: string | undefined): Pick<WorkerOptions, 'workflowBundle' | 'workflowsPath'> {
  return bundlePath ? { workflowBundle: { codePath: bundlePath } } : { workflowsPath: require.resolve('../workflows') };
}

/** The payments worker: every workflow plus the money activities, on the payments task queue. */
export function buildPaymentsWorker(dependencies: WorkerDependencies): Promise<Worker> {
  return Worker.create({
    connection: dependencies.connection,
    namespace: dependencies.namespace,
    taskQueue: dependencies.taskQueue,
    ...workflowSource(dependencies.workflowBundlePath),
    activities: createPaymentActivities({ db: dependencies.db, paymentDailyLimit: dependencies.paymentDailyLimit }),
    shutdownGraceTime: dependencies.shutdownGraceTimeMs ?? 10_000,
  });
}

/** The notifications worker: e-mail, in-app and webhook activities only, on their own task queue. */
export function buildNotificationsWorker(dependencies: WorkerDependencies): Promise<Worker> {
  return Worker.create({
    connection: dependencies.connection,
    namespace: dependencies.namespace,
    taskQueue: dependencies.taskQueue,
    activities: createNotificationActivities({ db: dependencies.db }),
    shutdownGraceTime: dependencies.shutdownGraceTimeMs ?? 10_000,
  });
}
