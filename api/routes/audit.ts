import Router from '@koa/router';
import { z } from 'zod';
import { auditLogQuery, toAuditRecord, type AuditRecord } from '../../store/audit-log';
import type { AuditLogRow } from '../../infra/tables';
import type { AppDependencies } from '../dependencies';
import { validationError } from '../errors';
import { authenticate, requireRole } from '../middleware/authenticate';
import type { ApiDocs } from '../openapi/registry';
import { paginate } from '../pagination';
import { listOf } from '../schemas';
import { listQuerySchema, parseInput } from '../validation';

const auditRecordSchema = z
  .object({
    id: z.string().describe('an aud_… id'),
    actorId: z.string().nullable().describe('the user who acted; null when the system did'),
    action: z.string().describe('e.g. wallet.frozen, payment.succeeded, user.profile_updated, user.password_changed, user.closed, session.logged_out, session.refresh_reuse_detected'),
    resourceType: z.string(),
    resourceId: z.string(),
    data: z.record(z.string(), z.unknown()),
    createdAt: z.iso.datetime({ offset: true }),
  })
  .meta({ id: 'AuditRecord' });

const token = (max: number) => z.string().min(1, 'must not be empty').max(max, `must be at most ${max} characters`);
const instant = z.iso.datetime({ offset: true, message: 'must be an ISO 8601 time such as 2026-12-01T12:00:00Z' }).transform((value) => new Date(value));

/** Routes of `/v1/admin/audit`: reading the audit log (admins only). */
export function auditRoutes(dependencies: AppDependencies, docs: ApiDocs): Router {
  const { db, config } = dependencies;
  const router = new Router({ sensitive: true });
  const querySchema = listQuerySchema.extend({
    actor: token(40).optional().describe('the acting user id'),
    action: token(64).optional(),
    resourceType: token(32).optional(),
    resourceId: token(64).optional(),
    since: instant.optional().describe('entries at or after this time'),
    until: instant.optional().describe('entries before this time'),
  });

  docs.add({
    method: 'get',
    path: '/v1/admin/audit',
    summary: 'The audit log, newest first, filtered by actor, action, resource and time (admin)',
    tag: 'Administration',
    auth: true,
    query: querySchema,
    responses: { 200: { description: 'a page of audit entries', schema: listOf(auditRecordSchema) } },
    errors: [400, 403],
  });
  router.get('/v1/admin/audit', authenticate(db, config.jwt), requireRole('admin'), async (ctx) => {
    const query = parseInput(querySchema, ctx.query);
    if (query.since && query.until && query.since.getTime() >= query.until.getTime()) throw validationError({ until: 'must be later than since' });
    ctx.body = await paginate<AuditLogRow, AuditRecord>(auditLogQuery(db, query), query, toAuditRecord);
  });

  return router;
}
