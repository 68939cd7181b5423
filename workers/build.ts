import { Client, ScheduleAlreadyRunning } from '@temporalio/client';
import { type NativeConnection, Runtime, Worker, type WorkerOptions } from '@temporalio/worker';
import type { Knex } from 'knex';
import { createNotificationQueueActivities, createPaymentActivities } from '../activities';
import { createRecoveryActivities } from '../activities/recovery';
import { DEFAULT_WEBHOOK_REQUEST_TIMEOUT_MS } from '../activities/webhooks';
import { EMAIL_RETRY_POLICY, WEBHOOK_RETRY_POLICY, withRetryOverride, type DeliveryRetryOverride } from '../domain/deliveries';
import type { WorkerTuning } from '../config';
import type { Mailer } from '../infra/mailer';
import type { RiskRules } from '../domain/risk';
import { DeliveryDispatcher } from './delivery-dispatcher';

/** What a worker is built from; composition roots and tests provide it. */
export interface WorkerDependencies {
  connection: NativeConnection;
  namespace: string;
  taskQueue: string;
  db: Knex;
  /** Most a payer may pay in one currency over 24 hours, in minor units. */
  paymentDailyLimit: number;
  /** The risk check's rules (config `RISK_*`); every rule but the blocklist off when not given. */
  risk?: RiskRules;
  /** LEDGER_SYSTEM_SHARDS: clearing and fee accounts per currency (default 8). */
  ledgerSystemShards?: number;
  /** A prebuilt workflow bundle (tests, production images); without it the workflows are bundled at start. */
  workflowBundlePath?: string;
  shutdownGraceTimeMs?: number;
  /** The payments worker's recovery of sagas that never started (see activities/recovery.ts). */
  recovery: RecoverySettings;
  /** Cache and slots; the SDK's defaults when omitted (tests). */
  tuning?: WorkerTuning;
}

/** The worker options a tuning sets. */
function tuningOptions(tuning: WorkerTuning | undefined): Partial<WorkerOptions> {
  if (!tuning) return {};
  return {
    maxCachedWorkflows: tuning.maxCachedWorkflows,
    maxConcurrentWorkflowTaskExecutions: tuning.workflowTaskSlots,
    maxConcurrentActivityTaskExecutions: tuning.activitySlots,
    maxConcurrentLocalActivityExecutions: tuning.localActivitySlots,
  };
}

/** How the payments worker recovers sagas whose workflow never started. */
export interface RecoverySettings {
  /** Where recovered sagas send their notifications. */
  notificationsTaskQueue: string;
  minAgeMs: number;
  expireAfterMs: number;
  /** The promotional credit of a recovered customer onboarding. */
  promoCredit: number;
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
    activities: {
      ...createPaymentActivities({ db: dependencies.db, paymentDailyLimit: dependencies.paymentDailyLimit, risk: dependencies.risk, ledgerSystemShards: dependencies.ledgerSystemShards }),
      ...createRecoveryActivities({
        db: dependencies.db,
        temporal: new Client({ connection: dependencies.connection, namespace: dependencies.namespace }),
        sagas: { paymentsTaskQueue: dependencies.taskQueue, notificationsTaskQueue: dependencies.recovery.notificationsTaskQueue },
        minAgeMs: dependencies.recovery.minAgeMs,
        expireAfterMs: dependencies.recovery.expireAfterMs,
        promoCredit: dependencies.recovery.promoCredit,
      }),
    },
    shutdownGraceTime: dependencies.shutdownGraceTimeMs ?? 10_000,
    ...tuningOptions(dependencies.tuning),
  });
}

/** The id of the recovery schedule of a payments task queue. */
export function recoveryScheduleId(paymentsTaskQueue: string): string {
  return `saga-recovery-${paymentsTaskQueue}`;
}

/**
 * Creates the Temporal Schedule that runs `sagaRecoveryWorkflow` every `intervalMs` on the
 * payments task queue, skipping a run while the previous one is still going. Idempotent: every
 * payments worker calls it at start (a dev server may have forgotten the schedule); an existing
 * schedule is updated to the interval given.
 */
export async function ensureRecoverySchedule(client: Client, paymentsTaskQueue: string, intervalMs: number): Promise<void> {
  const scheduleId = recoveryScheduleId(paymentsTaskQueue);
  const action = {
    type: 'startWorkflow' as const,
    workflowType: 'sagaRecoveryWorkflow',
    workflowId: scheduleId,
    taskQueue: paymentsTaskQueue,
    staticSummary: 'start or expire payments and transfers whose workflow never started; restart lost onboardings',
  };
  const spec = { intervals: [{ every: intervalMs }] };
  try {
    await client.schedule.create({ scheduleId, spec, action, policies: { overlap: 'SKIP' } });
  } catch (error) {
    if (!(error instanceof ScheduleAlreadyRunning)) throw error;
    await client.schedule.getHandle(scheduleId).update((previous) => ({ ...previous, spec, action, policies: { ...previous.policies, overlap: 'SKIP' } }));
  }
}

/** What the notifications worker needs besides what every worker does. */
export interface NotificationWorkerSettings {
  mailer: Mailer;
  /** Development and tests only: webhooks may reach loopback and private addresses. */
  allowPrivateWebhookAddresses: boolean;
  /** The delivery dispatcher's pace (DELIVERY_* in the configuration). */
  delivery: { concurrency: number; pollIntervalMs: number; leaseMs: number };
  /** Tests only: shorter retry intervals for e-mails and webhooks (the give-up windows stay). */
  deliveryRetryOverride?: DeliveryRetryOverride;
}

/** A notifications worker: the Temporal worker and the delivery dispatcher beside it, run and stopped together. */
export interface NotificationsWorker {
  worker: Worker;
  dispatcher: DeliveryDispatcher;
  /**
   * Runs both until the worker stops (SIGTERM, or `worker.shutdown()`): the worker first finishes
   * its in-flight activities (whose deliveries the dispatcher still takes), then the dispatcher
   * claims nothing more and finishes its in-flight sends. Rejects with the worker's failure.
   */
  run(): Promise<void>;
}

/** How often a dispatcher reads its backlog gauges from the database. */
const BACKLOG_INTERVAL_MS = 5_000;

/**
 * The notifications worker: in-app, e-mail and webhook activities only, on their own task
 * queue, and the dispatcher that delivers the e-mails and webhook events its notify steps
 * record (onto the delivery queue named after the task queue). No delivery workflow is started;
 * the activities of the old ones stay registered for those still running.
 */
export async function buildNotificationsWorker(dependencies: WorkerDependencies & { notifications: NotificationWorkerSettings }): Promise<NotificationsWorker> {
  const settings = dependencies.notifications;
  const runtime = Runtime.instance();
  const dispatcher = new DeliveryDispatcher({
    db: dependencies.db,
    queue: dependencies.taskQueue,
    mailer: settings.mailer,
    allowPrivateWebhookAddresses: settings.allowPrivateWebhookAddresses,
    webhookRequestTimeoutMs: DEFAULT_WEBHOOK_REQUEST_TIMEOUT_MS,
    emailRetry: withRetryOverride(EMAIL_RETRY_POLICY, settings.deliveryRetryOverride),
    webhookRetry: withRetryOverride(WEBHOOK_RETRY_POLICY, settings.deliveryRetryOverride),
    settings: { ...settings.delivery, backlogIntervalMs: BACKLOG_INTERVAL_MS },
    logger: runtime.logger,
    metricMeter: runtime.metricMeter,
  });
  const worker = await Worker.create({
    connection: dependencies.connection,
    namespace: dependencies.namespace,
    taskQueue: dependencies.taskQueue,
    activities: createNotificationQueueActivities({
      db: dependencies.db,
      mailer: settings.mailer,
      lane: { queue: dependencies.taskQueue, wake: () => dispatcher.wake() },
      allowPrivateWebhookAddresses: settings.allowPrivateWebhookAddresses,
    }),
    shutdownGraceTime: dependencies.shutdownGraceTimeMs ?? 10_000,
    ...tuningOptions(dependencies.tuning),
  });
  return {
    worker,
    dispatcher,
    async run() {
      const dispatching = dispatcher.run();
      try {
        await worker.run();
      } finally {
        dispatcher.stop();
        await dispatching;
      }
    },
  };
}
