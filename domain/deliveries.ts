/**
 * Delivery of notifications outside the app: e-mails and merchant webhook events. The
 * notifications workers' dispatchers send them from the database (workers/delivery-dispatcher.ts);
 * the delivery workflows of before (`email-<notificationId>`, `webhook-<eventId>`) stay
 * registered for the deliveries they still run. Plain data and pure functions only: workflows
 * import this module.
 */

/** How Temporal retries one delivery: exponential backoff until it works or `giveUpAfterMs` has passed. */
export interface DeliveryRetryPolicy {
  initialIntervalMs: number;
  maximumIntervalMs: number;
  backoffCoefficient: number;
  /** The activity's schedule-to-close timeout: after it the delivery is recorded as failed. */
  giveUpAfterMs: number;
}

const HOUR_MS = 3_600_000;

/** The shortest time a webhook event is retried for (docs/api.md: at least 24 hours). */
export const WEBHOOK_MIN_RETRY_WINDOW_MS = 24 * HOUR_MS;

/** E-mail: an SMTP server that is down is usually back within minutes; give up after a day. */
export const EMAIL_RETRY_POLICY: DeliveryRetryPolicy = {
  initialIntervalMs: 5_000,
  maximumIntervalMs: 10 * 60_000,
  backoffCoefficient: 2,
  giveUpAfterMs: 24 * HOUR_MS,
};

/** Webhooks: a merchant's endpoint may be down for hours; retry for three days, at most hourly. */
export const WEBHOOK_RETRY_POLICY: DeliveryRetryPolicy = {
  initialIntervalMs: 30_000,
  maximumIntervalMs: HOUR_MS,
  backoffCoefficient: 2,
  giveUpAfterMs: 72 * HOUR_MS,
};

/** Shorter intervals for tests; the give-up windows stay as they are. */
export type DeliveryRetryOverride = Partial<Pick<DeliveryRetryPolicy, 'initialIntervalMs' | 'maximumIntervalMs'>>;

/** A policy with an override applied; throws when the result breaks the policy's limits. */
export function withRetryOverride(policy: DeliveryRetryPolicy, override: DeliveryRetryOverride | undefined): DeliveryRetryPolicy {
  const result = { ...policy, ...override };
  if (!(result.initialIntervalMs >= 1 && result.initialIntervalMs <= result.maximumIntervalMs)) {
    throw new RangeError('a delivery retry policy needs 1 <= initialIntervalMs <= maximumIntervalMs');
  }
  if (result.maximumIntervalMs > result.giveUpAfterMs || result.backoffCoefficient < 1) {
    throw new RangeError('a delivery retry policy needs maximumIntervalMs <= giveUpAfterMs and backoffCoefficient >= 1');
  }
  return result;
}

/** Input of `emailDeliveryWorkflow`: ids only, never an address or a body (histories are readable in the Web UI). */
export interface EmailDeliveryInput {
  notificationId: string;
  notificationsTaskQueue: string;
  retry: DeliveryRetryPolicy;
}

/** Input of `webhookDeliveryWorkflow`: the event id only; the secret stays in the database. */
export interface WebhookDeliveryInput {
  eventId: string;
  notificationsTaskQueue: string;
  retry: DeliveryRetryPolicy;
}

/** What follows a failed attempt: another one at `atMs`, or giving up. */
export type RetryDecision = { retry: true; atMs: number } | { retry: false };

/**
 * The delay after the `attempts`-th failed attempt: `initialIntervalMs × backoffCoefficient^(attempts − 1)`,
 * capped at `maximumIntervalMs` (Temporal's activity retry schedule, which the delivery workflows used).
 */
export function retryDelayMs(policy: DeliveryRetryPolicy, attempts: number): number {
  if (!Number.isSafeInteger(attempts) || attempts < 1) throw new RangeError(`attempts must be a whole number >= 1, got ${attempts}`);
  const delayMs = policy.initialIntervalMs * policy.backoffCoefficient ** Math.min(attempts - 1, 64);
  return Math.min(Math.round(delayMs), policy.maximumIntervalMs);
}

/**
 * After a failed attempt: retry after `retryDelayMs`, unless that next attempt would start past the
 * give-up window, counted from when the delivery was recorded (`firstRecordedAtMs`), as a
 * schedule-to-close timeout does. `minimumWindowMs` raises the window (webhooks: 24 hours).
 */
export function nextAttemptAfterFailure(
  policy: DeliveryRetryPolicy,
  failure: { attempts: number; firstRecordedAtMs: number; nowMs: number; minimumWindowMs?: number },
): RetryDecision {
  const windowMs = Math.max(policy.giveUpAfterMs, failure.minimumWindowMs ?? 0);
  const atMs = failure.nowMs + retryDelayMs(policy, failure.attempts);
  return atMs > failure.firstRecordedAtMs + windowMs ? { retry: false } : { retry: true, atMs };
}

/** How a delivery ended. */
export interface DeliveryOutcome {
  status: 'sent' | 'failed';
  /** Attempts made (e-mail: SMTP sends tried; webhook: POSTs made). */
  attempts: number;
}

/** Webhook event types merchants receive. */
export type WebhookEventType = 'payment.succeeded' | 'payment.failed' | 'refund.succeeded' | 'refund.failed';
