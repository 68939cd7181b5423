import { ActivityFailure, ApplicationFailure, log } from '@temporalio/workflow';
import type { DeliveryOutcome, EmailDeliveryInput } from '../domain/deliveries';
import { ErrorType } from '../domain/errors';
import { deliveryActivities, reasonOf } from './delivery-activities';

/**
 * `email-<notificationId>`: sends one e-mail notification. Temporal retries the send
 * with backoff while the SMTP server is down, for up to `retry.giveUpAfterMs`; a
 * permanent refusal is not retried. Either way the row ends `sent` or `failed`.
 * Separate from the sagas on purpose: a payment never waits for a mail server.
 */
export async function emailDeliveryWorkflow(input: EmailDeliveryInput): Promise<DeliveryOutcome> {
  const { notificationId, retry } = input;
  const { send, bookkeeping } = deliveryActivities({
    taskQueue: input.notificationsTaskQueue,
    retry,
    giveUpAfterMs: retry.giveUpAfterMs,
    permanentErrorTypes: [ErrorType.EmailRejected],
  });

  try {
    return await send.sendNotificationEmail({ notificationId });
  } catch (error) {
    if (!(error instanceof ActivityFailure)) throw error;
    log.warn('e-mail given up', { notificationId, reason: reasonOf(error), rejected: error.cause instanceof ApplicationFailure && error.cause.type === ErrorType.EmailRejected });
    return await bookkeeping.recordEmailFailed({ notificationId });
  }
}
