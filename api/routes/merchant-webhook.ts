import Router from '@koa/router';
import { z } from 'zod';
import { registerWebhookEndpoint } from '../../store/webhook-endpoints';
import { hostOf, nonPublicReason } from '../../infra/network-addresses';
import type { WebhookDeliveryRow } from '../../infra/tables';
import type { AppDependencies } from '../dependencies';
import { validationError } from '../errors';
import { authenticate, requireRole } from '../middleware/authenticate';
import { documentedAs, type ApiDocs } from '../openapi/registry';
import { paginate } from '../pagination';
import { listOf } from '../schemas';
import type { User } from '../users';
import { listQuerySchema, parseInput } from '../validation';

/** Longest webhook URL accepted. */
const MAX_URL_LENGTH = 2048;

/** An absolute http(s) URL without credentials or fragment. */
const webhookUrlSchema = z
  .string({ message: 'must be an http or https URL' })
  .max(MAX_URL_LENGTH, `must be at most ${MAX_URL_LENGTH} characters`)
  .refine((value) => URL.canParse(value) && ['http:', 'https:'].includes(new URL(value).protocol), 'must be an http or https URL')
  .refine((value) => !URL.canParse(value) || (new URL(value).username === '' && new URL(value).password === ''), 'must not contain credentials')
  .refine((value) => !URL.canParse(value) || new URL(value).hash === '', 'must not contain a fragment');

/**
 * The URLs the document offers: http(s), a host name whose labels start with a letter (never read
 * as an IPv4 address), an optional port and path; validation accepts more (any URL the WHATWG
 * parser reads, credentials and fragments excepted) and refuses none of these.
 */
const DOCUMENTED_WEBHOOK_URL = '^[Hh][Tt][Tt][Pp][Ss]?://[A-Za-z][A-Za-z0-9-]{0,62}(?:\\.[A-Za-z][A-Za-z0-9-]{0,62})*(?::[0-9]{1,4})?(?:/[A-Za-z0-9._~!$&\'()*+,;=:/-]*)?$';

const documentedWebhookUrlSchema = documentedAs(webhookUrlSchema, { type: 'string', maxLength: MAX_URL_LENGTH, format: 'uri', pattern: DOCUMENTED_WEBHOOK_URL })
  .describe('where events are POSTed; must resolve to public addresses');

export const webhookRegistrationSchema = z
  .object({
    url: z.string(),
    secret: z.string().describe('the HMAC-SHA256 key of the Webhook-Signature header; shown only in this answer'),
  })
  .meta({ id: 'WebhookRegistration' });

export const webhookDeliverySchema = z
  .object({
    id: z.string().regex(/^whd_\w+$/).describe('a whd_… id'),
    eventId: z.string().regex(/^evt_\w+$/).describe('the id in the POSTed body; the same on every attempt'),
    eventType: z.string().describe('payment.succeeded or payment.failed'),
    url: z.string(),
    status: z.enum(['pending', 'succeeded', 'failed']).describe('succeeded: the endpoint answered 2xx'),
    responseStatus: z.number().int().nullable().describe('the endpoint’s HTTP status; null when it gave no answer'),
    attempt: z.number().int().min(1).describe('1 for the first try of this event, then 2, 3…'),
    createdAt: z.iso.datetime({ offset: true }),
  })
  .meta({ id: 'WebhookDelivery' });

type WebhookDelivery = z.infer<typeof webhookDeliverySchema>;

function toDelivery(row: WebhookDeliveryRow): WebhookDelivery {
  return {
    id: row.id,
    eventId: row.event_id,
    eventType: row.event_type,
    url: row.url,
    status: row.status,
    responseStatus: row.response_status,
    attempt: row.attempt,
    createdAt: row.created_at.toISOString(),
  };
}

/** Routes of `/v1/merchant/webhook*`: merchants only. */
export function merchantWebhookRoutes(dependencies: AppDependencies, docs: ApiDocs): Router {
  const { db, config } = dependencies;
  const router = new Router({ sensitive: true });
  const merchantOnly = [authenticate(db, config.jwt), requireRole('merchant')] as const;
  const registerSchema = z.object({ url: documentedWebhookUrlSchema });

  docs.add({
    method: 'put',
    path: '/v1/merchant/webhook',
    summary: 'Set the webhook URL; answers a new signing secret (shown only here: calling again rotates it)',
    tag: 'Webhooks',
    auth: true,
    body: registerSchema,
    responses: { 200: { description: 'the endpoint and its new secret', schema: webhookRegistrationSchema } },
    errors: [400, 403, 413, 415],
  });
  router.put('/v1/merchant/webhook', ...merchantOnly, async (ctx) => {
    const user = ctx.state.user as User;
    const { url } = parseInput(registerSchema, ctx.request.body);
    // One message whatever the reason, so the answer does not map the internal network (what resolves, and where).
    if (!config.webhookAllowPrivate && (await nonPublicReason(hostOf(new URL(url)))) !== undefined) {
      throw validationError({ url: 'must resolve to public internet addresses only (private, loopback and link-local ones are refused)' });
    }
    ctx.body = await registerWebhookEndpoint(db, user.id, url);
    ctx.set('Cache-Control', 'no-store');
  });

  docs.add({
    method: 'get',
    path: '/v1/merchant/webhook/deliveries',
    summary: 'Every attempt to deliver the merchant’s webhook events, newest first',
    tag: 'Webhooks',
    auth: true,
    query: listQuerySchema,
    responses: {
      200: {
        description: 'a page of delivery attempts; one cut off before its answer was recorded shows failed without responseStatus once the event is tried again (delivery is at-least-once: deduplicate on eventId)',
        schema: listOf(webhookDeliverySchema),
      },
    },
    errors: [400, 403],
  });
  router.get('/v1/merchant/webhook/deliveries', ...merchantOnly, async (ctx) => {
    const user = ctx.state.user as User;
    const page = parseInput(listQuerySchema, ctx.query);
    ctx.body = await paginate<WebhookDeliveryRow, WebhookDelivery>(db('webhook_deliveries').where({ merchant_id: user.id }), page, toDelivery);
  });

  return router;
}
