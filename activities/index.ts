import type { Knex } from 'knex';
import { DEFAULT_RISK_RULES, type RiskRules } from '../domain/risk';
import type { Mailer } from '../infra/mailer';
import { withDeliveryOutbox, type DeliveryStarter } from './delivery-outbox';
import { createEmailActivities } from './email';
import { createNotificationActivities } from './notify';
import { createOnboardingActivities } from './onboarding';
import { createPaymentSagaActivities } from './payments';
import { createRefundSagaActivities } from './refunds';
import { createRiskActivities } from './risk';
import { createTransferSagaActivities } from './transfers';
import { createWebhookActivities } from './webhooks';

/** What activities need from the outside world; composition roots build it. */
export interface ActivityDependencies {
  db: Knex;
  /** Most a payer may pay in one currency over 24 hours, in minor units. */
  paymentDailyLimit: number;
  /** The risk check's rules; every rule but the blocklist off when not given. */
  risk?: RiskRules;
}

/** Activities of the `payments` task queue: everything that moves money or writes sagas' state. */
export function createPaymentActivities(dependencies: ActivityDependencies) {
  return {
    ...createOnboardingActivities(dependencies),
    ...createPaymentSagaActivities(dependencies),
    // Transfers have their own 24-hour count, capped by the same configured limit as payments.
    ...createTransferSagaActivities({ db: dependencies.db, transferDailyLimit: dependencies.paymentDailyLimit }),
    ...createRefundSagaActivities({ db: dependencies.db }),
    ...createRiskActivities({ db: dependencies.db, risk: dependencies.risk ?? DEFAULT_RISK_RULES }),
  };
}

/** The in-app notification activities (without deliveries: unit tests of the notify steps use them). */
export { createNotificationActivities };

/** What the notifications worker's activities need besides the database. */
export interface NotificationQueueDependencies {
  db: Knex;
  mailer: Mailer;
  /** Starts the e-mail and webhook workflows of what the notify steps record. */
  deliveries: DeliveryStarter;
  /** Development and tests only: webhooks may reach loopback and private addresses. */
  allowPrivateWebhookAddresses: boolean;
  /** Limit of one webhook POST. */
  webhookRequestTimeoutMs?: number;
}

/**
 * Activities of the `notifications` task queue: the notify steps, whose e-mails and
 * webhook events start their delivery workflows as each step ends, and the deliveries.
 */
export function createNotificationQueueActivities(dependencies: NotificationQueueDependencies) {
  const { db } = dependencies;
  return {
    ...withDeliveryOutbox(createNotificationActivities({ db }), dependencies.deliveries),
    ...createEmailActivities({ db, mailer: dependencies.mailer }),
    ...createWebhookActivities({ db, allowPrivateAddresses: dependencies.allowPrivateWebhookAddresses, requestTimeoutMs: dependencies.webhookRequestTimeoutMs }),
  };
}

/** Every activity, for typing proxies in workflows. */
export function createActivities(dependencies: ActivityDependencies) {
  return { ...createPaymentActivities(dependencies), ...createNotificationActivities(dependencies) };
}

export type PaymentActivities = ReturnType<typeof createPaymentActivities>;
export type NotificationActivities = ReturnType<typeof createNotificationQueueActivities>;
