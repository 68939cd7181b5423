import { ActivityFailure, log, proxyActivities } from '@temporalio/workflow';
import type { NotificationActivities } from '../activities';
import { WEBHOOK_MIN_RETRY_WINDOW_MS, type DeliveryOutcome, type WebhookDeliveryInput } from '../domain/deliveries';
import { ErrorType } from '../domain/errors';

/**
 * `webhook-<eventId>`: delivers one event to its merchant's endpoint. Each attempt is
 * one activity try (recorded by the activity); Temporal retries with backoff until a
 * 2xx or until `retry.giveUpAfterMs` (at least 24 hours) has passed, then the event
 * is marked failed. The signing secret never enters this workflow: only the event id.
 */
export async function webhookDeliveryWorkflow(input: WebhookDeliveryInput): Promise<DeliveryOutcome> {
  const { eventId, retry } = input;
  const giveUpAfterMs = Math.max(retry.giveUpAfterMs, WEBHOOK_MIN_RETRY_WINDOW_MS);
  const webhook = proxyActivities<NotificationActivities>({
    taskQueue: input.notificationsTaskQueue,
    startToCloseTimeout: '1 minute',
    scheduleToCloseTimeout: giveUpAfterMs,
    retry: {
      initialInterval: retry.initialIntervalMs,
      maximumInterval: retry.maximumIntervalMs,
      backoffCoefficient: retry.backoffCoefficient,
      nonRetryableErrorTypes: [ErrorType.WebhookEndpointMissing],
    },
  });
  const bookkeeping = proxyActivities<NotificationActivities>({
    taskQueue: input.notificationsTaskQueue,
    startToCloseTimeout: '30 seconds',
    retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '1 minute' },
  });

  try {
    return await webhook.deliverWebhook({ eventId });
  } catch (error) {
    if (!(error instanceof ActivityFailure)) throw error;
    log.warn('webhook event given up', { eventId, reason: error.cause?.message ?? error.message });
    return await bookkeeping.recordWebhookFailed({ eventId });
  }
}
