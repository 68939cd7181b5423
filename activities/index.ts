import type { Knex } from 'knex';
import { createNotificationActivities } from './notify';
import { createOnboardingActivities } from './onboarding';
import { createPaymentSagaActivities } from './payments';

/** What activities need from the outside world; composition roots build it. */
export interface ActivityDependencies {
  db: Knex;
  /** Most a payer may pay in one currency over 24 hours, in minor units. */
  paymentDailyLimit: number;
}

/** Activities of the `payments` task queue: everything that moves money or writes sagas' state. */
export function createPaymentActivities(dependencies: ActivityDependencies) {
  return { ...createOnboardingActivities(dependencies), ...createPaymentSagaActivities(dependencies) };
}

/** Activities of the `notifications` task queue. */
export { createNotificationActivities };

/** Every activity, for typing proxies in workflows. */
export function createActivities(dependencies: ActivityDependencies) {
  return { ...createPaymentActivities(dependencies), ...createNotificationActivities(dependencies) };
}

export type PaymentActivities = ReturnType<typeof createPaymentActivities>;
export type NotificationActivities = ReturnType<typeof createNotificationActivities>;
