import Router from '@koa/router';
import { z } from 'zod';
import { listWalletsOfUser } from '../../store/wallets';
import { hashPassword, verifyPassword } from '../auth/passwords';
import { issueAccessToken } from '../auth/tokens';
import type { AppDependencies } from '../dependencies';
import type { ApiDocs } from '../openapi/registry';
import { userSchema, walletSchema } from '../schemas';
import { HttpError } from '../errors';
import { authenticate } from '../middleware/authenticate';
import { rateLimitsOf } from '../rate-limits';
import { startOnboarding } from '../../infra/sagas';
import { findUserByEmail, insertUser, publicUser, type StoredUser, type User } from '../users';
import { currencySchema, parseInput } from '../validation';

const emailSchema = z
  .string({ message: 'must be an e-mail address' })
  .trim()
  .toLowerCase()
  .max(254, 'must be at most 254 characters')
  .pipe(z.email('must be an e-mail address'));

/** Routes of `/v1/auth/*` and `/v1/me`. */
export function authRoutes(dependencies: AppDependencies, docs: ApiDocs): Router {
  const { db, config, temporal } = dependencies;
  const router = new Router();
  const registerSchema = z.object({
    email: emailSchema,
    password: z.string({ message: 'must be a string' }).min(8, 'must be at least 8 characters').max(128, 'must be at most 128 characters'),
    name: z.string({ message: 'must be a string' }).trim().min(1, 'must not be empty').max(100, 'must be at most 100 characters'),
    phone: z.string().regex(/^\+[1-9]\d{1,14}$/, 'must be an E.164 number such as +14155550123').nullish(),
    role: z.enum(['customer', 'merchant'], { message: 'must be customer or merchant' }).optional().default('customer'),
    currency: currencySchema(config.money.currencies).optional().default(config.money.defaultCurrency),
  });
  const loginSchema = z.object({ email: emailSchema, password: z.string({ message: 'must be a string' }).min(1).max(128) });

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
    responses: {
      200: {
        description: 'an access token',
        schema: z.object({ accessToken: z.string(), tokenType: z.literal('Bearer'), expiresIn: z.number().int().describe('seconds') }),
      },
    },
    errors: [400, 401, 413, 415, 429],
  });
  router.post('/v1/auth/login', limits.loginPerIp, limits.loginPerEmail, async (ctx) => {
    const input = parseInput(loginSchema, ctx.request.body);
    const user = await findUserByEmail(db, input.email);
    if (!(await verifyPassword(user?.passwordHash, input.password)) || !user) {
      throw new HttpError(401, 'invalid_credentials', 'The e-mail or password is wrong.');
    }
    if (user.onboardingStatus === 'pending') {
      await beginOnboarding(user).catch((error: unknown) =>
        dependencies.report(error, String(ctx.state.requestId)),
      );
    }
    const accessToken = await issueAccessToken(config.jwt, { userId: user.id, role: user.role });
    ctx.body = { accessToken, tokenType: 'Bearer', expiresIn: config.jwt.ttlSeconds };
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
