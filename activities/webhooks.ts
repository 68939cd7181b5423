import { ApplicationFailure, log } from '@temporalio/activity';
import type { Knex } from 'knex';
import type { DeliveryOutcome, WebhookEventType } from '../domain/deliveries';
import { ErrorType } from '../domain/errors';
import { newId } from '../domain/ids';
import { adoptUnqueued } from '../store/delivery-queue';
import { attemptWebhook, lastWebhookAttempt } from './delivery-attempts';
import { deliveryQueueOfRunningActivity, noteDeliveryRecorded } from './delivery-outbox';

/** What one event says; `dedupeKey` makes recording it idempotent. */
export interface WebhookEventMessage {
  merchantId: string;
  type: WebhookEventType;
  data: unknown;
  dedupeKey: string;
}

/**
 * Records an event for the merchant's endpoint (once per dedupe key), due at once on the delivery
 * queue of the running activity (see delivery-outbox.ts); returns its id, or null when the merchant
 * has no endpoint (no one to tell).
 */
export async function recordWebhookEvent(db: Knex, message: WebhookEventMessage): Promise<string | null> {
  const endpoint = await db('webhook_endpoints').select('id').where({ merchant_id: message.merchantId }).first();
  if (!endpoint) return null;
  const id = newId('evt');
  const now = new Date();
  const queue = deliveryQueueOfRunningActivity();
  const payload = JSON.stringify({ id, type: message.type, createdAt: now.toISOString(), data: message.data });
  await db('webhook_events')
    .insert({
      id,
      merchant_id: message.merchantId,
      type: message.type,
      payload,
      dedupe_key: message.dedupeKey,
      status: 'pending',
      delivery_queue: queue,
      next_attempt_at: now,
      created_at: now,
      updated_at: now,
    })
    .onConflict('dedupe_key')
    .ignore();
  if (queue !== null) await adoptUnqueued(db, 'webhook', { dedupeKeys: [message.dedupeKey] }, queue, now);
  const row = await db('webhook_events').select('id').where({ dedupe_key: message.dedupeKey }).first();
  if (!row) throw new Error(`webhook event ${message.dedupeKey} was not recorded`);
  noteDeliveryRecorded();
  return row.id;
}

/** What the webhook activities need. */
export interface WebhookDependencies {
  db: Knex;
  /** Development and tests only: lets deliveries reach loopback and private addresses. */
  allowPrivateAddresses: boolean;
  /** Limit of one POST, connect to response headers. */
  requestTimeoutMs?: number;
}

/** Limit of one webhook POST unless configured otherwise. */
export const DEFAULT_WEBHOOK_REQUEST_TIMEOUT_MS = 10_000;

/**
 * The activities of `webhookDeliveryWorkflow`, on the notifications task queue. No new workflow
 * is started (the dispatcher delivers events now); they stay registered for the ones still running.
 */
export function createWebhookActivities({ db, allowPrivateAddresses, requestTimeoutMs = DEFAULT_WEBHOOK_REQUEST_TIMEOUT_MS }: WebhookDependencies) {
  return {
    /**
     * One attempt to deliver an event (see attemptWebhook). A 2xx delivers it; any other answer
     * or none fails the attempt and Temporal retries with backoff.
     */
    deliverWebhook: async ({ eventId }: { eventId: string }): Promise<DeliveryOutcome> => {
      const result = await attemptWebhook({ db, allowPrivateAddresses, requestTimeoutMs }, eventId);
      if (!result.delivered) {
        if (result.permanent) throw ApplicationFailure.nonRetryable(result.reason, result.attempt === 0 ? 'WebhookEventMissing' : ErrorType.WebhookEndpointMissing);
        log.warn('webhook attempt failed; Temporal retries it', { eventId, attempt: result.attempt, reason: result.reason });
        throw ApplicationFailure.retryable(result.reason, 'WebhookAttemptFailed');
      }
      await db('webhook_events').where({ id: eventId }).update({ status: 'delivered', updated_at: new Date() });
      log.info('webhook delivered', { eventId, attempt: result.attempt });
      return { status: 'sent', attempts: result.attempt };
    },

    /** Marks an event failed once its workflow gave up on it. */
    recordWebhookFailed: async ({ eventId }: { eventId: string }): Promise<DeliveryOutcome> => {
      await db('webhook_events').where({ id: eventId }).whereNot({ status: 'delivered' }).update({ status: 'failed', updated_at: new Date() });
      const event = await db('webhook_events').where({ id: eventId }).first();
      if (!event) throw ApplicationFailure.nonRetryable(`no webhook event ${eventId}`, 'WebhookEventMissing');
      return { status: event.status === 'delivered' ? 'sent' : 'failed', attempts: await lastWebhookAttempt(db, eventId) };
    },
  };
}

export type WebhookActivities = ReturnType<typeof createWebhookActivities>;
