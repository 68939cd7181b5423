import { createHmac } from 'node:crypto';
import type { Knex } from 'knex';
import { newId } from '../domain/ids';
import { MailRejected, type Mailer } from '../infra/mailer';
import { postWebhook } from '../infra/webhook-http';
import { emailHtml } from './email-templates';

/**
 * One attempt to deliver an e-mail or a webhook event, shared by the notifications workers'
 * dispatcher and the delivery workflows' activities of before. An attempt never throws for a
 * failed delivery: it says whether it worked, and whether trying again could help.
 */
export type AttemptResult =
  | { delivered: true; attempt: number }
  | { delivered: false; attempt: number; permanent: boolean; reason: string };

/** The `Webhook-Signature` header: `t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<raw body>")>`. */
export function webhookSignature(secret: string, timestampSeconds: number, body: string): string {
  const digest = createHmac('sha256', secret).update(`${timestampSeconds}.${body}`).digest('hex');
  return `t=${timestampSeconds},v1=${digest}`;
}

/** A short, credential-free description of why a send failed (it ends up in logs and on the row). */
export function failureReason(error: unknown): string {
  const { code, message } = error as { code?: unknown; message?: unknown };
  const text = `${typeof code === 'string' ? `${code}: ` : ''}${typeof message === 'string' ? message : String(error)}`;
  return text.slice(0, 200);
}

/**
 * Sends one e-mail notification, as attempt number `attempt` (the caller counted it on the row).
 * Already sent: nothing is sent again. A refusal (5xx) or a missing row or recipient is permanent;
 * a server that is down is not. The row's status is the caller's to record.
 */
export async function attemptEmail(deps: { db: Knex; mailer: Mailer }, notificationId: string, attempt: number): Promise<AttemptResult> {
  const row = await deps.db('notifications').where({ id: notificationId, channel: 'email' }).first();
  if (!row) return { delivered: false, attempt, permanent: true, reason: `no e-mail notification ${notificationId}` };
  if (row.status === 'sent') return { delivered: true, attempt };
  const recipient = await deps.db('users').select('email').where({ id: row.user_id }).first();
  if (!recipient) return { delivered: false, attempt, permanent: true, reason: `the recipient of ${notificationId} does not exist` };
  try {
    await deps.mailer.send({ to: recipient.email, subject: row.title, text: row.body, html: emailHtml(row.body), messageId: `<${notificationId}@notifications.sagapay>` });
  } catch (error) {
    const reason = failureReason(error);
    if (error instanceof MailRejected) return { delivered: false, attempt, permanent: true, reason: `the SMTP server refused the e-mail: ${reason}` };
    return { delivered: false, attempt, permanent: false, reason: `SMTP send failed: ${reason}` };
  }
  return { delivered: true, attempt };
}

/** What a webhook attempt needs. */
export interface WebhookAttemptDependencies {
  db: Knex;
  /** Development and tests only: lets deliveries reach loopback and private addresses. */
  allowPrivateAddresses: boolean;
  /** Limit of one POST, connect to response headers. */
  requestTimeoutMs: number;
}

/** What the delivery log says of an attempt whose sender stopped before recording its answer. */
export const INTERRUPTED_ATTEMPT = 'no outcome recorded: the sending worker stopped mid-attempt';

/** The highest attempt number of an event's delivery log (0 before the first). */
export async function lastWebhookAttempt(db: Knex, eventId: string): Promise<number> {
  const row = (await db('webhook_deliveries').max({ last: 'attempt' }).where({ event_id: eventId }).first()) as { last: number | null } | undefined;
  return Number(row?.last ?? 0);
}

/**
 * One POST of an event: its body, freshly signed with the endpoint's current secret, to its
 * current URL, logged as one `webhook_deliveries` row (the merchant's delivery log). A 2xx
 * delivers it; any other answer or none fails the attempt. Already delivered: nothing is sent.
 * A missing event or endpoint is permanent. The event's status is the caller's to record.
 */
export async function attemptWebhook(deps: WebhookAttemptDependencies, eventId: string): Promise<AttemptResult> {
  const { db } = deps;
  const event = await db('webhook_events').where({ id: eventId }).first();
  if (!event) return { delivered: false, attempt: 0, permanent: true, reason: `no webhook event ${eventId}` };
  if (event.status === 'delivered') return { delivered: true, attempt: await lastWebhookAttempt(db, eventId) };
  const endpoint = await db('webhook_endpoints').where({ merchant_id: event.merchant_id }).first();
  if (!endpoint) return { delivered: false, attempt: await lastWebhookAttempt(db, eventId), permanent: true, reason: `merchant ${event.merchant_id} has no webhook endpoint` };
  const attempt = (await lastWebhookAttempt(db, eventId)) + 1;
  const deliveryId = newId('whd');
  const now = new Date();
  // An attempt still pending was cut off (its worker died mid-POST): the log says so instead of showing it pending forever.
  await db('webhook_deliveries').where({ event_id: eventId, status: 'pending' }).update({ status: 'failed', error: INTERRUPTED_ATTEMPT, updated_at: now });
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
    ({ status } = await postWebhook(endpoint.url, event.payload, { 'Webhook-Signature': signature }, { timeoutMs: deps.requestTimeoutMs, allowPrivateAddresses: deps.allowPrivateAddresses }));
  } catch (error) {
    const reason = (error instanceof Error ? error.message : String(error)).slice(0, 255);
    await db('webhook_deliveries').where({ id: deliveryId }).update({ status: 'failed', error: reason, updated_at: new Date() });
    return { delivered: false, attempt, permanent: false, reason: `webhook attempt ${attempt} got no answer: ${reason}` };
  }
  const delivered = status >= 200 && status < 300;
  await db('webhook_deliveries').where({ id: deliveryId }).update({ status: delivered ? 'succeeded' : 'failed', response_status: status, updated_at: new Date() });
  return delivered ? { delivered: true, attempt } : { delivered: false, attempt, permanent: false, reason: `webhook attempt ${attempt} answered ${status}` };
}
