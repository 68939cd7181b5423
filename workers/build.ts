import { Client, ScheduleAlreadyRunning } from '@temporalio/client';
import { type NativeConnection, Worker, type WorkerOptions } from '@temporalio/worker';
import type { Knex } from 'knex';
import { createNotificationQueueActivities, createPaymentActivities } from '../activities';
import { temporalDeliveryStarter } from '../activities/delivery-starter';
import { createRecoveryActivities } from '../activities/recovery';
import { EMAIL_RETRY_POLICY, WEBHOOK_RETRY_POLICY, withRetryOverride, type DeliveryRetryOverride } from '../domain/deliveries';
import type { Mailer } from '../infra/mailer';
import type { RiskRules } from '../domain/risk';

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
  /** A prebuilt workflow bundle (tests, production images); without it the workflows are bundled at start. */
  workflowBundlePath?: string;
  shutdownGraceTimeMs?: number;
  /** The payments worker's recovery of sagas that never started (see activities/recovery.ts). */
  recovery: RecoverySettings;
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
      ...createPaymentActivities({ db: dependencies.db, paymentDailyLimit: dependencies.paymentDailyLimit, risk: dependencies.risk }),
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
  /** The task queue the delivery workflows run on: the payments worker's, which runs every workflow. */
  workflowTaskQueue: string;
  /** Development and tests only: webhooks may reach loopback and private addresses. */
  allowPrivateWebhookAddresses: boolean;
  /** Tests only: shorter retry intervals for e-mails and webhooks (the give-up windows stay). */
  deliveryRetryOverride?: DeliveryRetryOverride;
}

/**
 * The notifications worker: in-app, e-mail and webhook activities only, on their own task
 * queue. Its Temporal client starts the `email-…` and `webhook-…` delivery workflows of
 * what the notify steps record.
 */
export function buildNotificationsWorker(dependencies: WorkerDependencies & { notifications: NotificationWorkerSettings }): Promise<Worker> {
  const settings = dependencies.notifications;
  const client = new Client({ connection: dependencies.connection, namespace: dependencies.namespace });
  const deliveries = temporalDeliveryStarter(client, {
    workflowTaskQueue: settings.workflowTaskQueue,
    notificationsTaskQueue: dependencies.taskQueue,
    emailRetry: withRetryOverride(EMAIL_RETRY_POLICY, settings.deliveryRetryOverride),
    webhookRetry: withRetryOverride(WEBHOOK_RETRY_POLICY, settings.deliveryRetryOverride),
  });
  return Worker.create({
    connection: dependencies.connection,
    namespace: dependencies.namespace,
    taskQueue: dependencies.taskQueue,
    activities: createNotificationQueueActivities({
      db: dependencies.db,
      mailer: settings.mailer,
      deliveries,
      allowPrivateWebhookAddresses: settings.allowPrivateWebhookAddresses,
    }),
    shutdownGraceTime: dependencies.shutdownGraceTimeMs ?? 10_000,
  });
}
