import { createHmac } from 'node:crypto';
import { ApplicationFailure, log } from '@temporalio/activity';
import type { Knex } from 'knex';
import type { DeliveryOutcome, WebhookEventType } from '../domain/deliveries';
import { ErrorType } from '../domain/errors';
import { newId } from '../domain/ids';
import { postWebhook } from '../infra/webhook-http';
import { enqueueWebhook } from './delivery-outbox';

/** The `Webhook-Signature` header: `t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<raw body>")>`. */
export function webhookSignature(secret: string, timestampSeconds: number, body: string): string {
  const digest = createHmac('sha256', secret).update(`${timestampSeconds}.${body}`).digest('hex');
  return `t=${timestampSeconds},v1=${digest}`;
}

/** What one event says; `dedupeKey` makes recording it idempotent. */
export interface WebhookEventMessage {
  merchantId: string;
  type: WebhookEventType;
  data: unknown;
  dedupeKey: string;
}

/**
 * Records an event for the merchant's endpoint (once per dedupe key) and queues its delivery;
 * returns its id, or null when the merchant has no endpoint (no one to tell).
 */
export async function recordWebhookEvent(db: Knex, message: WebhookEventMessage): Promise<string | null> {
  const endpoint = await db('webhook_endpoints').select('id').where({ merchant_id: message.merchantId }).first();
  if (!endpoint) return null;
  const id = newId('evt');
  const now = new Date();
  const payload = JSON.stringify({ id, type: message.type, createdAt: now.toISOString(), data: message.data });
  await db('webhook_events')
    .insert({ id, merchant_id: message.merchantId, type: message.type, payload, dedupe_key: message.dedupeKey, status: 'pending', created_at: now, updated_at: now })
    .onConflict('dedupe_key')
    .ignore();
  const row = await db('webhook_events').select('id').where({ dedupe_key: message.dedupeKey }).first();
  if (!row) throw new Error(`webhook event ${message.dedupeKey} was not recorded`);
  enqueueWebhook(row.id);
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

const DEFAULT_REQUEST_TIMEOUT_MS = 10_000;

/** The activities of `webhookDeliveryWorkflow`, on the notifications task queue. */
export function createWebhookActivities({ db, allowPrivateAddresses, requestTimeoutMs = DEFAULT_REQUEST_TIMEOUT_MS }: WebhookDependencies) {
  async function eventRow(eventId: string) {
    const event = await db('webhook_events').where({ id: eventId }).first();
    if (!event) throw ApplicationFailure.nonRetryable(`no webhook event ${eventId}`, 'WebhookEventMissing');
    return event;
  }

  async function attemptsOf(eventId: string): Promise<number> {
    const row = (await db('webhook_deliveries').max({ last: 'attempt' }).where({ event_id: eventId }).first()) as { last: number | null } | undefined;
    return Number(row?.last ?? 0);
  }

  return {
    /**
     * One attempt to deliver an event: POST its body, freshly signed with the endpoint's
     * current secret, to its current URL, and record the attempt. A 2xx delivers it; any
     * other answer or none fails the attempt and Temporal retries with backoff.
     */
    deliverWebhook: async ({ eventId }: { eventId: string }): Promise<DeliveryOutcome> => {
      const event = await eventRow(eventId);
      if (event.status === 'delivered') return { status: 'sent', attempts: await attemptsOf(eventId) };
      const endpoint = await db('webhook_endpoints').where({ merchant_id: event.merchant_id }).first();
      if (!endpoint) throw ApplicationFailure.nonRetryable(`merchant ${event.merchant_id} has no webhook endpoint`, ErrorType.WebhookEndpointMissing);
      const attempt = (await attemptsOf(eventId)) + 1;
      const deliveryId = newId('whd');
      const now = new Date();
      await db('webhook_deliveries').insert({
        id: deliveryId,
        event_id: eventId,
        merchant_id: event.merchant_id,
        event_type: event.type,
        url: endpoint.url,
        attempt,
        status: 'pending',
        response_status: null,
        error: null,
        created_at: now,
        updated_at: now,
      });
      const signature = webhookSignature(endpoint.secret, Math.floor(Date.now() / 1000), event.payload);
      let status: number;
      try {
        ({ status } = await postWebhook(endpoint.url, event.payload, { 'Webhook-Signature': signature }, { timeoutMs: requestTimeoutMs, allowPrivateAddresses }));
      } catch (error) {
        const reason = (error instanceof Error ? error.message : String(error)).slice(0, 255);
        await db('webhook_deliveries').where({ id: deliveryId }).update({ status: 'failed', error: reason, updated_at: new Date() });
        log.warn('webhook attempt got no answer; Temporal retries it', { eventId, attempt, reason });
        throw ApplicationFailure.retryable(`webhook attempt ${attempt} got no answer: ${reason}`, 'WebhookAttemptFailed');
      }
      const delivered = status >= 200 && status < 300;
      await db('webhook_deliveries').where({ id: deliveryId }).update({ status: delivered ? 'succeeded' : 'failed', response_status: status, updated_at: new Date() });
      if (!delivered) {
        log.warn('webhook endpoint answered non-2xx; Temporal retries it', { eventId, attempt, status });
        throw ApplicationFailure.retryable(`webhook attempt ${attempt} answered ${status}`, 'WebhookAttemptFailed');
      }
      await db('webhook_events').where({ id: eventId }).update({ status: 'delivered', updated_at: new Date() });
      log.info('webhook delivered', { eventId, attempt, status });
      return { status: 'sent', attempts: attempt };
    },

    /** Marks an event failed once its workflow gave up on it. */
    recordWebhookFailed: async ({ eventId }: { eventId: string }): Promise<DeliveryOutcome> => {
      await db('webhook_events').where({ id: eventId }).whereNot({ status: 'delivered' }).update({ status: 'failed', updated_at: new Date() });
      const event = await eventRow(eventId);
      return { status: event.status === 'delivered' ? 'sent' : 'failed', attempts: await attemptsOf(eventId) };
    },
  };
}

export type WebhookActivities = ReturnType<typeof createWebhookActivities>;
