import { ActivityFailure, proxyActivities } from '@temporalio/workflow';
import type { NotificationActivities } from '../activities';
import type { DeliveryRetryPolicy } from '../domain/deliveries';

/**
 * The activities of a delivery workflow: `send`, retried with the delivery's backoff until
 * it succeeds, `giveUpAfterMs` passes or it fails with one of `permanentErrorTypes`; and
 * `bookkeeping`, which records the outcome and retries until it succeeds.
 */
export function deliveryActivities(input: { taskQueue: string; retry: DeliveryRetryPolicy; giveUpAfterMs: number; permanentErrorTypes: string[] }) {
  const send = proxyActivities<NotificationActivities>({
    taskQueue: input.taskQueue,
    startToCloseTimeout: '1 minute',
    scheduleToCloseTimeout: input.giveUpAfterMs,
    retry: {
      initialInterval: input.retry.initialIntervalMs,
      maximumInterval: input.retry.maximumIntervalMs,
      backoffCoefficient: input.retry.backoffCoefficient,
      nonRetryableErrorTypes: input.permanentErrorTypes,
    },
  });
  const bookkeeping = proxyActivities<NotificationActivities>({
    taskQueue: input.taskQueue,
    startToCloseTimeout: '30 seconds',
    retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '1 minute' },
  });
  return { send, bookkeeping };
}

/** Why an activity failed for good, for the log. */
export function reasonOf(error: unknown): string {
  const cause = error instanceof ActivityFailure ? error.cause : error;
  return cause instanceof Error ? cause.message : String(cause);
}
