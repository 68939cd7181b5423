import { ActivityFailure, ApplicationFailure, log, proxyActivities } from '@temporalio/workflow';
import type { NotificationActivities } from '../activities';
import type { DeliveryOutcome, EmailDeliveryInput } from '../domain/deliveries';
import { ErrorType } from '../domain/errors';

/** Why an activity failed for good, for the log. */
function reasonOf(error: unknown): string {
  const cause = error instanceof ActivityFailure ? error.cause : error;
  return cause instanceof Error ? cause.message : String(cause);
}

/**
 * `email-<notificationId>`: sends one e-mail notification. Temporal retries the send
 * with backoff while the SMTP server is down, for up to `retry.giveUpAfterMs`; a
 * permanent refusal is not retried. Either way the row ends `sent` or `failed`.
 * Separate from the sagas on purpose: a payment never waits for a mail server.
 */
export async function emailDeliveryWorkflow(input: EmailDeliveryInput): Promise<DeliveryOutcome> {
  const { notificationId, retry } = input;
  const email = proxyActivities<NotificationActivities>({
    taskQueue: input.notificationsTaskQueue,
    startToCloseTimeout: '1 minute',
    scheduleToCloseTimeout: retry.giveUpAfterMs,
    retry: {
      initialInterval: retry.initialIntervalMs,
      maximumInterval: retry.maximumIntervalMs,
      backoffCoefficient: retry.backoffCoefficient,
      nonRetryableErrorTypes: [ErrorType.EmailRejected],
    },
  });
  const bookkeeping = proxyActivities<NotificationActivities>({
    taskQueue: input.notificationsTaskQueue,
    startToCloseTimeout: '30 seconds',
    retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '1 minute' },
  });

  try {
    return await email.sendNotificationEmail({ notificationId });
  } catch (error) {
    if (!(error instanceof ActivityFailure)) throw error;
    log.warn('e-mail given up', { notificationId, reason: reasonOf(error), rejected: error.cause instanceof ApplicationFailure && error.cause.type === ErrorType.EmailRejected });
    return await bookkeeping.recordEmailFailed({ notificationId });
  }
}
