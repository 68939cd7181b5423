import Router from '@koa/router';
import { z } from 'zod';
import { displayAlias } from '../../domain/aliases';
import { firstAliasOf } from '../../store/aliases';
import { MAX_SEARCH_LENGTH, merchantsMatching, usersMatching } from '../../store/directory';
import { toWallet, type Wallet } from '../../store/wallets';
import type { AccountRow, UserRow } from '../../infra/tables';
import type { AppDependencies } from '../dependencies';
import { documentedAs, NOT_ONLY_SPACE, type ApiDocs } from '../openapi/registry';
import { listOf, merchantListingSchema, recipientSchema, userWithWalletsSchema } from '../schemas';
import { notFound } from '../errors';
import { authenticate, requireRole } from '../middleware/authenticate';
import { paginate } from '../pagination';
import { rateLimitsOf } from '../rate-limits';
import { findRecipient, recipientReferenceSchema } from '../recipients';
import type { User } from '../users';
import { listQuerySchema, parseInput } from '../validation';

const searchSchema = documentedAs(z.string().trim().min(1, 'must not be empty').max(MAX_SEARCH_LENGTH, `must be at most ${MAX_SEARCH_LENGTH} characters`), {
  type: 'string',
  minLength: 1,
  maxLength: MAX_SEARCH_LENGTH,
  pattern: NOT_ONLY_SPACE,
})
  .optional()
  .describe('text to look for; omit it to list everyone');

/** Routes of the directory: `GET /v1/recipients`, `GET /v1/merchants` and `GET /v1/admin/users`. */
export function directoryRoutes(dependencies: AppDependencies, docs: ApiDocs): Router {
  const { db, config } = dependencies;
  const router = new Router({ sensitive: true });
  const auth = authenticate(db, config.jwt);
  const limits = rateLimitsOf(dependencies);
  const recipientQuerySchema = z.object({ to: recipientReferenceSchema.describe('an @handle or an e-mail address') });
  const merchantQuerySchema = listQuerySchema.extend({ query: searchSchema.describe('part of a merchant’s name or handle; omit it to list every merchant') });
  const userQuerySchema = listQuerySchema.extend({ query: searchSchema.describe('the start of an e-mail address, or part of a name; omit it to list every user') });

  docs.add({
    method: 'get',
    path: '/v1/recipients',
    summary: 'Who an @handle or e-mail belongs to, for a confirmation screen: name and kind only (rate limited per user and per IP)',
    tag: 'Directory',
    auth: true,
    query: recipientQuerySchema,
    responses: { 200: { description: 'the name and kind of the person or merchant', schema: recipientSchema } },
    errors: [400, 404, 429],
  });
  router.get('/v1/recipients', limits.recipientsPerIp, auth, limits.recipientsPerUser, async (ctx) => {
    const { to } = parseInput(recipientQuerySchema, ctx.query);
    const recipient = await findRecipient(db, to);
    if (!recipient) throw notFound();
    ctx.body = { name: recipient.name, kind: recipient.role === 'merchant' ? 'merchant' : 'person' };
  });

  docs.add({
    method: 'get',
    path: '/v1/merchants',
    summary: 'The merchant directory: merchants whose name or handle contains the query, newest first',
    tag: 'Directory',
    auth: true,
    query: merchantQuerySchema,
    responses: { 200: { description: 'a page of merchants', schema: listOf(merchantListingSchema) } },
    errors: [400],
  });
  router.get('/v1/merchants', auth, async (ctx) => {
    const query = parseInput(merchantQuerySchema, ctx.query);
    const page = await paginate<UserRow, UserRow>(merchantsMatching(db, query.query), query, (row) => row);
    const handles = await firstAliasOf(
      db,
      page.data.map((row) => row.id),
    );
    ctx.body = {
      ...page,
      data: page.data.map((row) => {
        const handle = handles.get(row.id);
        return { id: row.id, name: row.name, handle: handle === undefined ? null : displayAlias(handle) };
      }),
    };
  });

  docs.add({
    method: 'get',
    path: '/v1/admin/users',
    summary: 'Find users by e-mail or name, with their wallets (admin)',
    tag: 'Administration',
    auth: true,
    query: userQuerySchema,
    responses: { 200: { description: 'a page of users with their wallets', schema: listOf(userWithWalletsSchema) } },
    errors: [400, 403],
  });
  router.get('/v1/admin/users', auth, requireRole('admin'), async (ctx) => {
    const query = parseInput(userQuerySchema, ctx.query);
    const page = await paginate<UserRow, UserRow>(usersMatching(db, query.query), query, (row) => row);
    const ids = page.data.map((row) => row.id);
    const walletRows: AccountRow[] = ids.length === 0 ? [] : await db('accounts').where({ kind: 'wallet' }).whereIn('user_id', ids).orderBy('seq', 'asc');
    const wallets = new Map<string, Wallet[]>();
    for (const row of walletRows) {
      const wallet = toWallet(row);
      wallets.set(wallet.userId, [...(wallets.get(wallet.userId) ?? []), wallet]);
    }
    ctx.body = {
      ...page,
      data: page.data.map((row) => ({
        user: { id: row.id, email: row.email, name: row.name, phone: row.phone, role: row.role, createdAt: row.created_at.toISOString() } satisfies User,
        wallets: wallets.get(row.id) ?? [],
      })),
    };
  });

  return router;
}
