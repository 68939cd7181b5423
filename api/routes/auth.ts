import Router from '@koa/router';
import { z } from 'zod';
import { issueRefreshToken, revokeRefreshToken, rotateRefreshToken } from '../../store/refresh-tokens';
import { listWalletsOfUser } from '../../store/wallets';
import { hashPassword, verifyPassword } from '../auth/passwords';
import { refuseCrossSiteRequest, REQUESTED_WITH_HEADER } from '../auth/cross-site';
import { clearRefreshCookie, readRefreshCookie, REFRESH_COOKIE_NAME, REFRESH_COOKIE_PATH, setRefreshCookie } from '../auth/session-cookie';
import { issueAccessToken } from '../auth/tokens';
import type { AppDependencies } from '../dependencies';
import { documentedAs, EMAIL_PATTERN, NOT_ONLY_SPACE, TRIMMED_SPACE, type ApiDocs, type HeaderDoc } from '../openapi/registry';
import { userSchema, walletSchema } from '../schemas';
import { HttpError } from '../errors';
import { authenticate } from '../middleware/authenticate';
import { rateLimitsOf } from '../rate-limits';
import { startOnboarding } from '../../infra/sagas';
import { findUserByEmail, findUserById, insertUser, publicUser, type StoredUser, type User } from '../users';
import { currencySchema, parseInput, plainText, PLAIN_TEXT_PATTERN } from '../validation';

const accessTokenSchema = z.object({ accessToken: z.string(), tokenType: z.literal('Bearer'), expiresIn: z.number().int().describe('seconds') });

/** The refresh token cookie, as login, refresh and logout set it. */
const SET_REFRESH_COOKIE_HEADER: HeaderDoc = {
  description: `\`${REFRESH_COOKIE_NAME}=<token>; Path=${REFRESH_COOKIE_PATH}; Max-Age=<seconds>; HttpOnly; SameSite=Strict\` (plus \`Secure\` behind HTTPS); logout and a refused refresh clear it with an empty value and Max-Age=0`,
  required: true,
  schema: { type: 'string', pattern: `^${REFRESH_COOKIE_NAME}=` },
};

/** The request headers of refresh and logout, which act on the cookie alone: what shows the request is not another site's. */
const SAME_SITE_HEADERS: Record<string, string> = {
  [REQUESTED_WITH_HEADER]: 'any value (the web wallet sends `fetch`); with the cookie, one of this header, `Content-Type: application/json` or an `Origin` of this API is required, else 403 forbidden',
  Origin: 'sent by browsers; another site\'s origin is 403 forbidden, as is `Sec-Fetch-Site: cross-site` or `same-site`',
};

/** A new password, as register and `POST /v1/me/password` accept it. */
export const passwordSchema = z.string({ message: 'must be a string' }).min(8, 'must be at least 8 characters').max(128, 'must be at most 128 characters');

/** A display name, as register and `PATCH /v1/me` accept it. */
export const nameSchema = documentedAs(plainText().trim().min(1, 'must not be empty').max(100, 'must be at most 100 characters'), {
  type: 'string',
  minLength: 1,
  maxLength: 100,
  // One line of plain text that is not only spaces: both rules, as validation checks them.
  allOf: [{ pattern: PLAIN_TEXT_PATTERN.source }, { pattern: NOT_ONLY_SPACE }],
});

/** A phone number in E.164 form, as register and `PATCH /v1/me` accept it. */
export const phoneSchema = z.string({ message: 'must be a string' }).regex(/^\+[1-9]\d{1,14}$/, 'must be an E.164 number such as +14155550123');

/** An e-mail address as register, login and transfers take it: trimmed and lower-cased, then checked. */
export const emailSchema = documentedAs(
  z.string({ message: 'must be an e-mail address' }).trim().toLowerCase().max(254, 'must be at most 254 characters').pipe(z.email('must be an e-mail address')),
  // No `format: email`: validation trims first, so spaces around an address are accepted, as the pattern says.
  {
    type: 'string',
    minLength: 6,
    maxLength: 254,
    pattern: `^${TRIMMED_SPACE}*${EMAIL_PATTERN}${TRIMMED_SPACE}*$`,
    description: 'an e-mail address (zod’s pattern); spaces around it are trimmed and letters lower-cased',
  },
);

/** Routes of `/v1/auth/*` and `/v1/me`. */
export function authRoutes(dependencies: AppDependencies, docs: ApiDocs): Router {
  const { db, config, temporal } = dependencies;
  const router = new Router({ sensitive: true });
  const sessionNow = () => new Date(dependencies.sessionNowMs?.() ?? Date.now());
  const registerSchema = z.object({
    email: emailSchema,
    password: passwordSchema,
    name: nameSchema,
    phone: phoneSchema.nullish(),
    role: z.enum(['customer', 'merchant'], { message: 'must be customer or merchant' }).optional().default('customer'),
    currency: currencySchema(config.money.currencies).optional().default(config.money.defaultCurrency),
  });
  const loginSchema = z.object({ email: emailSchema, password: z.string({ message: 'must be a string' }).min(1).max(128) });

  /**
   * The login body; `tokenVersion` is the one the credentials were checked against, so a version
   * bumped meanwhile makes the token useless, and `sessionId` the refresh token family it was
   * issued with, so logging that session out ends the token too.
   */
  const accessTokenBody = async (user: StoredUser, tokenVersion: number, sessionId: string) => ({
    accessToken: await issueAccessToken(config.jwt, { userId: user.id, role: user.role, tokenVersion, sessionId }),
    tokenType: 'Bearer' as const,
    expiresIn: config.jwt.ttlSeconds,
  });

  const beginOnboarding = (user: StoredUser) =>
    startOnboarding(
      temporal,
      { paymentsTaskQueue: config.temporal.paymentsTaskQueue, notificationsTaskQueue: config.temporal.notificationsTaskQueue },
      { userId: user.id, role: user.role, currency: user.currency, promoCredit: config.money.promoCredit },
    );

  docs.add({
    method: 'post',
    path: '/v1/auth/register',
    summary: 'Sign up; the onboarding saga then creates the wallet (customers get a promotional credit)',
    tag: 'Auth',
    auth: false,
    body: registerSchema,
    responses: { 201: { description: 'the user; the wallet appears within seconds', schema: z.object({ user: userSchema }) } },
    errors: [400, 409, 413, 415, 429],
  });
  const limits = rateLimitsOf(dependencies);
  router.post('/v1/auth/register', limits.registerPerIp, async (ctx) => {
    const input = parseInput(registerSchema, ctx.request.body);
    const user = await insertUser(db, {
      email: input.email,
      passwordHash: await hashPassword(input.password),
      name: input.name,
      phone: input.phone ?? null,
      role: input.role,
      currency: input.currency,
    });
    try {
      await beginOnboarding(user);
    } catch (error) {
      // The user exists either way; login starts onboarding again while it is pending.
      dependencies.report(error, String(ctx.state.requestId));
    }
    ctx.status = 201;
    ctx.body = { user: publicUser(user) };
  });

  docs.add({
    method: 'post',
    path: '/v1/auth/login',
    summary: 'Log in for a bearer access token',
    tag: 'Auth',
    auth: false,
    body: loginSchema,
    responses: { 200: { description: 'an access token (its claim `sid` names the session, which logout ends); the refresh token cookie starts a web session', schema: accessTokenSchema, headers: { 'Set-Cookie': SET_REFRESH_COOKIE_HEADER } } },
    errors: [400, 401, 413, 415, 429],
  });
  router.post('/v1/auth/login', limits.loginPerIp, limits.loginPerEmail, async (ctx) => {
    const input = parseInput(loginSchema, ctx.request.body);
    const user = await findUserByEmail(db, input.email);
    // A closed account answers like a wrong password: the e-mail's owner learns nothing new, a guesser nothing at all.
    if (!(await verifyPassword(user?.passwordHash, input.password)) || !user || user.status === 'closed') {
      throw new HttpError(401, 'invalid_credentials', 'The e-mail or password is wrong.');
    }
    if (user.onboardingStatus === 'pending') {
      await beginOnboarding(user).catch((error: unknown) =>
        dependencies.report(error, String(ctx.state.requestId)),
      );
    }
    const session = await issueRefreshToken(db, { userId: user.id, tokenVersion: user.tokenVersion }, config.session.refreshTtlSeconds, sessionNow());
    setRefreshCookie(ctx, session.token, config.session.refreshTtlSeconds, config.session.cookieSecure);
    ctx.body = await accessTokenBody(user, user.tokenVersion, session.sessionId);
  });

  docs.add({
    method: 'post',
    path: '/v1/auth/refresh',
    summary: 'Exchange the refresh token cookie for a new access token; the cookie is rotated (web sessions)',
    tag: 'Auth',
    auth: false,
    headers: { Cookie: `${REFRESH_COOKIE_NAME}=<refresh token>, as set by login or the previous refresh`, ...SAME_SITE_HEADERS },
    responses: { 200: { description: 'a new access token, the same body as login, and the next refresh token cookie', schema: accessTokenSchema, headers: { 'Set-Cookie': SET_REFRESH_COOKIE_HEADER } } },
    errors: [401, 403, 429],
  });
  router.post('/v1/auth/refresh', limits.refreshPerIp, async (ctx) => {
    const token = readRefreshCookie(ctx);
    // Without the cookie there is nothing another site could borrow: that is a plain 401.
    if (token !== undefined) refuseCrossSiteRequest(ctx);
    const policy = { ttlSeconds: config.session.refreshTtlSeconds, reuseGraceSeconds: config.session.reuseGraceSeconds, now: sessionNow() };
    const outcome = token === undefined ? ({ kind: 'refused' } as const) : await rotateRefreshToken(db, token, policy);
    const user = outcome.kind === 'rotated' ? await findUserById(db, outcome.userId) : null;
    if (outcome.kind !== 'rotated' || !user) {
      clearRefreshCookie(ctx, config.session.cookieSecure);
      throw new HttpError(401, 'unauthorized', 'A valid refresh token is required; log in again.');
    }
    setRefreshCookie(ctx, outcome.next.token, config.session.refreshTtlSeconds, config.session.cookieSecure);
    ctx.body = await accessTokenBody(user, outcome.tokenVersion, outcome.next.sessionId);
  });

  docs.add({
    method: 'post',
    path: '/v1/auth/logout',
    summary: 'End the web session: its refresh tokens are revoked and the cookie cleared; the access tokens issued in the session (login and refreshes) stop working at once',
    tag: 'Auth',
    auth: false,
    headers: { Cookie: `${REFRESH_COOKIE_NAME}=<refresh token>; without it there is nothing to revoke and the answer is the same`, ...SAME_SITE_HEADERS },
    responses: { 204: { description: 'the session is over, its refresh and access tokens refused from now on (also 204 when there was none); the user\'s other sessions go on', headers: { 'Set-Cookie': SET_REFRESH_COOKIE_HEADER } } },
    errors: [403],
  });
  router.post('/v1/auth/logout', async (ctx) => {
    const token = readRefreshCookie(ctx);
    if (token !== undefined) {
      // Another site must not end the session either: the cookie stays as it is.
      refuseCrossSiteRequest(ctx);
      await revokeRefreshToken(db, token);
    }
    clearRefreshCookie(ctx, config.session.cookieSecure);
    ctx.status = 204;
  });

  docs.add({
    method: 'get',
    path: '/v1/me',
    summary: 'The caller and their wallets',
    tag: 'Auth',
    auth: true,
    responses: { 200: { description: 'the user and wallets', schema: z.object({ user: userSchema, wallets: z.array(walletSchema) }) } },
    errors: [],
  });
  router.get('/v1/me', authenticate(db, config.jwt), async (ctx) => {
    const user = ctx.state.user as User;
    ctx.body = { user: publicUser(user), wallets: await listWalletsOfUser(db, user.id) };
  });

  return router;
}
