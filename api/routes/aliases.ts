import Router from '@koa/router';
import { z } from 'zod';
import { displayAlias, aliasProblem, MAX_ALIASES_PER_USER, normaliseAlias } from '../../domain/aliases';
import { claimAlias, listAliasesOfUser, releaseAlias, type AliasRecord } from '../../store/aliases';
import type { AppDependencies } from '../dependencies';
import type { ApiDocs } from '../openapi/registry';
import { aliasSchema, listOf } from '../schemas';
import { HttpError, notFound, validationError } from '../errors';
import { authenticate, requireRole } from '../middleware/authenticate';
import type { User } from '../users';
import { parseInput } from '../validation';
import { handleSchema } from '../recipients';

/** An alias as the API shows it. */
function aliasBody(record: AliasRecord): { alias: string; createdAt: string } {
  return { alias: displayAlias(record.alias), createdAt: record.createdAt };
}

/** Routes of `/v1/me/aliases`: the caller's `@handle`s (customers and merchants). */
export function aliasRoutes(dependencies: AppDependencies, docs: ApiDocs): Router {
  const { db, config } = dependencies;
  const router = new Router({ sensitive: true });
  const holders = [authenticate(db, config.jwt), requireRole('customer', 'merchant')] as const;
  const claimSchema = z.object({ alias: handleSchema });

  docs.add({
    method: 'post',
    path: '/v1/me/aliases',
    summary: `Claim an @handle (3–30 of a-z, 0-9, _; case-insensitive; reserved handles, and any containing admin, support, security or sagapay once digits are read as the letters they look like and _ dropped, refused; at most ${MAX_ALIASES_PER_USER} each)`,
    tag: 'Aliases',
    auth: true,
    body: claimSchema,
    responses: { 201: { description: 'the handle, now yours', schema: aliasSchema } },
    errors: [400, 403, 409, 413, 415],
  });
  router.post('/v1/me/aliases', ...holders, async (ctx) => {
    const user = ctx.state.user as User;
    const { alias } = parseInput(claimSchema, ctx.request.body);
    if (aliasProblem(alias) === 'reserved') throw validationError({ alias: 'is reserved' });
    const outcome = await claimAlias(db, user.id, alias);
    if (outcome.status === 'taken') throw new HttpError(409, 'alias_taken', `${displayAlias(alias)} is taken.`);
    if (outcome.status === 'limit_reached') {
      throw new HttpError(409, 'alias_limit_reached', `You already hold ${MAX_ALIASES_PER_USER} aliases; release one first.`, { max: MAX_ALIASES_PER_USER });
    }
    ctx.status = 201;
    ctx.body = aliasBody(outcome.alias);
  });

  docs.add({
    method: 'get',
    path: '/v1/me/aliases',
    summary: `The caller’s handles, newest first (all of them: at most ${MAX_ALIASES_PER_USER})`,
    tag: 'Aliases',
    auth: true,
    responses: { 200: { description: 'every handle of the caller, on one page', schema: listOf(aliasSchema) } },
    errors: [403],
  });
  router.get('/v1/me/aliases', ...holders, async (ctx) => {
    const user = ctx.state.user as User;
    const aliases = await listAliasesOfUser(db, user.id);
    ctx.body = { data: aliases.map(aliasBody), hasMore: false, nextCursor: null };
  });

  docs.add({
    method: 'delete',
    path: '/v1/me/aliases/:alias',
    summary: 'Release one of the caller’s handles (`@` optional, URL-encoded as %40; any case)',
    tag: 'Aliases',
    auth: true,
    responses: { 204: { description: 'released: anyone may claim it now' } },
    errors: [403, 404],
  });
  router.delete('/v1/me/aliases/:alias', ...holders, async (ctx) => {
    const user = ctx.state.user as User;
    const alias = normaliseAlias(String(ctx.params.alias));
    if (!(await releaseAlias(db, user.id, alias))) throw notFound();
    ctx.status = 204;
  });

  return router;
}
