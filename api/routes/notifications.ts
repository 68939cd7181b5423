import Router from '@koa/router';
import { z } from 'zod';
import type { NotificationRow } from '../../infra/tables';
import type { AppDependencies } from '../dependencies';
import { authenticate } from '../middleware/authenticate';
import type { ApiDocs } from '../openapi/registry';
import { paginate } from '../pagination';
import { listOf } from '../schemas';
import type { User } from '../users';
import { listQuerySchema, parseInput } from '../validation';

/** A notification as the API shows it: one row per channel (the in-app message and its e-mail). */
export const notificationSchema = z
  .object({
    id: z.string().regex(/^ntf_\w+$/).describe('a ntf_… id'),
    type: z.string().describe('welcome, payment_succeeded, payment_failed, payment_received, transfer_sent, transfer_received, transfer_failed'),
    channel: z.enum(['in_app', 'email']),
    title: z.string().describe('the in-app title, or the e-mail subject'),
    body: z.string().describe('the in-app text, or the e-mail text'),
    data: z.record(z.string(), z.unknown()).describe('what the notification is about: ids, amount (minor units), currency…'),
    status: z.enum(['delivered', 'pending', 'sent', 'failed']).describe('in_app: delivered; email: pending → sent | failed'),
    createdAt: z.iso.datetime({ offset: true }),
  })
  .meta({ id: 'Notification' });

export type Notification = z.infer<typeof notificationSchema>;

function toNotification(row: NotificationRow): Notification {
  return {
    id: row.id,
    type: row.type,
    channel: row.channel,
    title: row.title,
    body: row.body,
    data: JSON.parse(row.data) as Record<string, unknown>,
    status: row.status as Notification['status'],
    createdAt: row.created_at.toISOString(),
  };
}

/** Routes of `/v1/notifications`: the caller's own notifications. */
export function notificationRoutes(dependencies: AppDependencies, docs: ApiDocs): Router {
  const { db, config } = dependencies;
  const router = new Router({ sensitive: true });
  const auth = authenticate(db, config.jwt);
  const listSchema = listQuerySchema.extend({
    channel: z.enum(['in_app', 'email'], { message: 'must be in_app or email' }).optional(),
  });

  docs.add({
    method: 'get',
    path: '/v1/notifications',
    summary: 'The caller’s notifications, in-app and e-mail, newest first',
    tag: 'Notifications',
    auth: true,
    query: listSchema,
    responses: { 200: { description: 'a page of notifications', schema: listOf(notificationSchema) } },
    errors: [400],
  });
  router.get('/v1/notifications', auth, async (ctx) => {
    const user = ctx.state.user as User;
    const query = parseInput(listSchema, ctx.query);
    const rows = db('notifications').where({ user_id: user.id });
    if (query.channel) void rows.andWhere({ channel: query.channel });
    ctx.body = await paginate<NotificationRow, Notification>(rows, query, toNotification);
  });

  return router;
}
