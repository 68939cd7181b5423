import Router from '@koa/router';
import { z } from 'zod';
import { closeAccount, type ClosingRefusal } from '../../store/account-closing';
import { changePassword, updateProfile } from '../../store/profile';
import { hashPassword, verifyPassword } from '../auth/passwords';
import type { AppDependencies } from '../dependencies';
import { HttpError } from '../errors';
import { authenticate } from '../middleware/authenticate';
import type { ApiDocs } from '../openapi/registry';
import { userSchema } from '../schemas';
import { findUserById, publicUser, type User } from '../users';
import { rateLimitsOf } from '../rate-limits';
import { parseInput } from '../validation';
import { nameSchema, passwordSchema, phoneSchema } from './auth';

const CLOSING_REFUSALS: Record<ClosingRefusal, string> = {
  balance: 'A wallet still holds money; spend or move it first.',
  held: 'A wallet holds money a saga has not released yet; try again once it has.',
  saga_in_flight: 'A payment, transfer or refund of yours is still in flight; try again once it is final.',
  onboarding: 'Your wallet is still being set up; try again in a moment.',
};

/** Routes of the caller's own account: `PATCH /v1/me`, `POST /v1/me/password`, `DELETE /v1/me`. */
export function profileRoutes(dependencies: AppDependencies, docs: ApiDocs): Router {
  const { db, config } = dependencies;
  const router = new Router({ sensitive: true });
  const signedIn = authenticate(db, config.jwt);
  const profileSchema = z.object({ name: nameSchema.optional(), phone: phoneSchema.nullable().optional() });
  const passwordChangeSchema = z.object({ currentPassword: z.string({ message: 'must be a string' }).min(1, 'must not be empty').max(128), newPassword: passwordSchema });

  docs.add({
    method: 'patch',
    path: '/v1/me',
    summary: 'Change your name or phone (null clears the phone)',
    tag: 'Auth',
    auth: true,
    body: profileSchema,
    responses: { 200: { description: 'the user as now stored', schema: z.object({ user: userSchema }) } },
    errors: [400, 413, 415],
  });
  router.patch('/v1/me', signedIn, async (ctx) => {
    const input = parseInput(profileSchema, ctx.request.body);
    const { id } = ctx.state.user as User;
    await updateProfile(db, id, input);
    const user = await findUserById(db, id);
    if (!user) throw new Error(`user ${id} vanished`);
    ctx.body = { user: publicUser(user) };
  });

  docs.add({
    method: 'post',
    path: '/v1/me/password',
    summary: 'Change your password; every older access and refresh token stops working',
    tag: 'Auth',
    auth: true,
    body: passwordChangeSchema,
    responses: { 204: { description: 'changed; log in again with the new password' } },
    errors: [400, 401, 413, 415, 429],
  });
  // A wrong current password counts in the per-e-mail failure limit of logins (429 past it).
  router.post('/v1/me/password', signedIn, rateLimitsOf(dependencies).passwordChangePerEmail, async (ctx) => {
    const input = parseInput(passwordChangeSchema, ctx.request.body);
    const { id } = ctx.state.user as User;
    const user = await findUserById(db, id);
    if (!user || !(await verifyPassword(user.passwordHash, input.currentPassword))) {
      throw new HttpError(401, 'invalid_credentials', 'The current password is wrong.');
    }
    if (!(await changePassword(db, id, user.tokenVersion, await hashPassword(input.newPassword)))) {
      throw new HttpError(401, 'unauthorized', 'A valid bearer token is required.');
    }
    ctx.status = 204;
  });

  docs.add({
    method: 'delete',
    path: '/v1/me',
    summary: 'Close your account: only with every wallet at zero, nothing held and no saga in flight',
    tag: 'Auth',
    auth: true,
    responses: { 204: { description: 'closed: wallets frozen, every token revoked, login refused; the e-mail stays taken' } },
    errors: [403, 409],
  });
  router.delete('/v1/me', signedIn, async (ctx) => {
    const user = ctx.state.user as User;
    // An admin is an operator, not a customer: closing that account is an operator's act, not a self-service one.
    if (user.role === 'admin') throw new HttpError(403, 'forbidden', 'An admin account is not closed through the API.');
    const outcome = await closeAccount(db, user.id);
    if (!outcome.closed) throw new HttpError(409, 'wallet_not_empty', CLOSING_REFUSALS[outcome.reason], { reason: outcome.reason });
    ctx.status = 204;
  });

  return router;
}
