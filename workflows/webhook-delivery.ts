import { ActivityFailure, log } from '@temporalio/workflow';
import { WEBHOOK_MIN_RETRY_WINDOW_MS, type DeliveryOutcome, type WebhookDeliveryInput } from '../domain/deliveries';
import { ErrorType } from '../domain/errors';
import { deliveryActivities } from './delivery-activities';

/**
 * `webhook-<eventId>`: delivers one event to its merchant's endpoint. Each attempt is
 * one activity try (recorded by the activity); Temporal retries with backoff until a
 * 2xx or until `retry.giveUpAfterMs` (at least 24 hours) has passed, then the event
 * is marked failed. The signing secret never enters this workflow: only the event id.
 */
export async function webhookDeliveryWorkflow(input: WebhookDeliveryInput): Promise<DeliveryOutcome> {
  const { eventId, retry } = input;
  const giveUpAfterMs = Math.max(retry.giveUpAfterMs, WEBHOOK_MIN_RETRY_WINDOW_MS);
  const { send, bookkeeping } = deliveryActivities({
    taskQueue: input.notificationsTaskQueue,
    retry,
    giveUpAfterMs,
    permanentErrorTypes: [ErrorType.WebhookEndpointMissing],
  });

  try {
    return await send.deliverWebhook({ eventId });
  } catch (error) {
    if (!(error instanceof ActivityFailure)) throw error;
    log.warn('webhook event given up', { eventId, reason: error.cause?.message ?? error.message });
    return await bookkeeping.recordWebhookFailed({ eventId });
  }
}
