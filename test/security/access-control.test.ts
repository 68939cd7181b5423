import { buildRouters } from '../../api/app';
import type { AppDependencies } from '../../api/dependencies';
import { openApiPath } from '../../api/openapi/document';
import type { RouteDoc } from '../../api/openapi/registry';
import { insertUser } from '../../api/users';
import { newId } from '../../domain/ids';
import { claimAlias } from '../../store/aliases';
import { actorsOf, expectError } from '../support/actors';
import { uniqueEmail, userWithWallet } from '../support/fixtures';
import type { TestResponse } from '../support/http';
import { startStack, type TestStack } from '../support/stack';
import { buildWorld, documentedRoutes, fillPath, INTERNAL_PROPERTIES, keysDeep, routeKey, type World } from './world';

/**
 * OWASP API1 (object-level), API5 (function-level) and API3 (property-level) authorization.
 * Every table below is checked against the routes the app serves: a new route that takes an id,
 * is limited to a role or takes a body fails these tests until it gets a row here.
 */
let stack: TestStack;
let actors: ReturnType<typeof actorsOf>;
let world: World;
let routes: RouteDoc[];
let blocklistEntryId: string;

beforeAll(async () => {
  stack = await startStack();
  actors = actorsOf(stack);
  world = await buildWorld(stack);
  routes = documentedRoutes(stack.config);
  const entry = await actors.call<{ id: string }>('POST', '/v1/admin/blocklist', {
    token: world.adminToken,
    body: { kind: 'email', value: `nobody-${world.ada.user.id.toLowerCase()}@blocked.example`, reason: 'security test' },
  });
  expect(entry.status).toBe(201);
  blocklistEntryId = entry.body.id;
}, 120_000);

afterAll(async () => {
  await stack.stop();
});

/** Who holds what in the world, as the database says: what no refused request may change. */
async function snapshot() {
  const userIds = [world.ada, world.bob, world.merchant, world.strangerCustomer, world.strangerMerchant].map((actor) => actor.user.id);
  const [wallets, users, payments, refunds, transfers, topups, aliases, blocklist] = await Promise.all([
    stack.db('accounts').whereIn('user_id', userIds).select('id', 'balance', 'held', 'status').orderBy('id'),
    stack.db('users').whereIn('id', userIds).select('id', 'role', 'status', 'token_version', 'email', 'name').orderBy('id'),
    stack.db('payments').whereIn('payer_id', userIds).select('id', 'status').orderBy('id'),
    stack.db('refunds').where({ payment_id: world.paymentId }).select('id', 'status').orderBy('id'),
    stack.db('transfers').whereIn('sender_id', userIds).select('id', 'status').orderBy('id'),
    stack.db('topups').whereIn('user_id', userIds).count({ count: '*' }),
    stack.db('aliases').whereIn('user_id', userIds).select('alias', 'user_id').orderBy('alias'),
    stack.db('risk_blocklist').select('id').orderBy('id'),
  ]);
  return { wallets, users, payments, refunds, transfers, topups, aliases, blocklist };
}

interface Refusal {
  who: string;
  token: () => string;
  status: number;
  code: string;
}

interface ObjectProbe {
  params: () => Record<string, string>;
  body?: () => unknown;
  /** Who may use it (the route answers them with a 2xx): proves the probe names a real object. */
  allowed?: { who: string; token: () => string };
  refused: Refusal[];
}

const as = (who: keyof Omit<World, 'paymentId' | 'refundId' | 'transferId' | 'adaAlias' | 'adminToken'>) => ({ who, token: () => world[who].token });
const admin = { who: 'admin', token: () => world.adminToken };
const refusedAs = (who: Parameters<typeof as>[0], status: number, code: string): Refusal => ({ ...as(who), status, code });
const adminRefused = (status: number, code: string): Refusal => ({ ...admin, status, code });

/** For each route with a path parameter: another user's object, who may read it, and who must be refused with which code. */
const OBJECT_ROUTES: Record<string, ObjectProbe> = {
  'GET /v1/wallets/:id': {
    params: () => ({ id: world.ada.wallet.id }),
    allowed: admin,
    refused: [refusedAs('bob', 404, 'wallet_not_found'), refusedAs('merchant', 404, 'wallet_not_found'), refusedAs('strangerMerchant', 404, 'wallet_not_found')],
  },
  'GET /v1/wallets/:id/transactions': {
    params: () => ({ id: world.ada.wallet.id }),
    allowed: admin,
    refused: [refusedAs('bob', 404, 'wallet_not_found'), refusedAs('merchant', 404, 'wallet_not_found')],
  },
  'POST /v1/wallets/:id/topups': {
    params: () => ({ id: world.ada.wallet.id }),
    body: () => ({ amount: 500, currency: 'USD' }),
    refused: [refusedAs('bob', 404, 'wallet_not_found'), refusedAs('merchant', 404, 'wallet_not_found'), adminRefused(404, 'wallet_not_found')],
  },
  'GET /v1/payments/:id': {
    params: () => ({ id: world.paymentId }),
    allowed: as('merchant'),
    refused: [refusedAs('bob', 404, 'not_found'), refusedAs('strangerCustomer', 404, 'not_found'), refusedAs('strangerMerchant', 404, 'not_found')],
  },
  'POST /v1/payments/:id/refunds': {
    params: () => ({ id: world.paymentId }),
    body: () => ({ amount: 10 }),
    refused: [refusedAs('strangerMerchant', 404, 'not_found'), refusedAs('strangerCustomer', 404, 'not_found'), refusedAs('ada', 403, 'forbidden')],
  },
  'GET /v1/payments/:id/refunds': {
    params: () => ({ id: world.paymentId }),
    allowed: as('ada'),
    refused: [refusedAs('bob', 404, 'not_found'), refusedAs('strangerMerchant', 404, 'not_found')],
  },
  'GET /v1/refunds/:id': {
    params: () => ({ id: world.refundId }),
    allowed: as('ada'),
    refused: [refusedAs('bob', 404, 'not_found'), refusedAs('strangerMerchant', 404, 'not_found')],
  },
  'GET /v1/transfers/:id': {
    params: () => ({ id: world.transferId }),
    allowed: as('bob'),
    refused: [refusedAs('strangerCustomer', 404, 'not_found'), refusedAs('merchant', 404, 'not_found')],
  },
  'DELETE /v1/me/aliases/:alias': {
    params: () => ({ alias: world.adaAlias }),
    refused: [refusedAs('bob', 404, 'not_found'), refusedAs('merchant', 404, 'not_found')],
  },
  'POST /v1/admin/wallets/:id/freeze': {
    params: () => ({ id: world.ada.wallet.id }),
    refused: [refusedAs('ada', 403, 'forbidden'), refusedAs('bob', 403, 'forbidden'), refusedAs('merchant', 403, 'forbidden')],
  },
  'POST /v1/admin/wallets/:id/unfreeze': {
    params: () => ({ id: world.ada.wallet.id }),
    refused: [refusedAs('ada', 403, 'forbidden'), refusedAs('merchant', 403, 'forbidden')],
  },
  'POST /v1/admin/payments/:id/review': {
    params: () => ({ id: world.paymentId }),
    body: () => ({ decision: 'decline' }),
    refused: [refusedAs('ada', 403, 'forbidden'), refusedAs('merchant', 403, 'forbidden')],
  },
  'DELETE /v1/admin/blocklist/:id': {
    params: () => ({ id: blocklistEntryId }),
    refused: [refusedAs('ada', 403, 'forbidden'), refusedAs('merchant', 403, 'forbidden')],
  },
  // Public: serves the files of the interactive docs, no user's object.
  'GET /docs/assets/:file': { params: () => ({ file: 'swagger-ui.css' }), refused: [] },
};

describe('API1 object-level authorization', () => {
  it('when the routes are listed, then every route with a path parameter has a row in the object table', () => {
    const withParameters = routes.filter((route) => route.path.includes(':')).map(routeKey).sort();
    expect(withParameters).toEqual(Object.keys(OBJECT_ROUTES).sort());
  });

  it('when another user calls an id-taking route with an object that is not theirs, then it is refused with the contract’s code and nothing changes', async () => {
    const before = await snapshot();
    let refusals = 0;
    for (const route of routes.filter((candidate) => candidate.path.includes(':'))) {
      const probe = OBJECT_ROUTES[routeKey(route)];
      if (!probe) throw new Error(`no row for ${routeKey(route)}`);
      const path = fillPath(route.path, probe.params());
      for (const refusal of probe.refused) {
        const response = await actors.call(route.method.toUpperCase(), path, { token: refusal.token(), body: probe.body?.(), headers: { 'idempotency-key': `sec-${refusal.who}-${route.path}` } });
        const label = `${routeKey(route)} as ${refusal.who}`;
        expect({ label, status: response.status, code: (response.body as { error?: { code?: string } } | null)?.error?.code }).toEqual({ label, status: refusal.status, code: refusal.code });
        expectError(response, refusal.status, refusal.code);
        refusals += 1;
      }
      if (probe.allowed) {
        const response = await actors.call(route.method.toUpperCase(), path, { token: probe.allowed.token() });
        expect({ route: routeKey(route), status: response.status }).toEqual({ route: routeKey(route), status: 200 });
      }
    }
    expect(refusals).toBeGreaterThan(25);
    expect(await snapshot()).toEqual(before);
  });

  it('when a payment names another user’s wallet as its source, then 404 wallet_not_found and no payment is made', async () => {
    const before = await snapshot();
    const response = await actors.call('POST', '/v1/payments', {
      token: world.ada.token,
      body: { merchantId: world.merchant.user.id, amount: 100, currency: 'USD', sourceWalletId: world.bob.wallet.id },
    });
    expectError(response, 404, 'wallet_not_found');
    expect(await snapshot()).toEqual(before);
  });

  it('when another user sends the same Idempotency-Key and body as a payment of Ada’s, then they get a payment of their own, never hers', async () => {
    const body = { merchantId: world.merchant.user.id, amount: 150, currency: 'USD' };
    const first = await actors.call<{ id: string }>('POST', '/v1/payments', { token: world.ada.token, body, headers: { 'idempotency-key': 'shared-key-1' } });
    const second = await actors.call<{ id: string; sourceWalletId: string }>('POST', '/v1/payments', { token: world.bob.token, body, headers: { 'idempotency-key': 'shared-key-1' } });
    expect([first.status, second.status]).toEqual([201, 201]);
    expect(second.headers.get('idempotent-replayed')).toBeNull();
    expect(second.body.id).not.toBe(first.body.id);
    expect(second.body.sourceWalletId).toBe(world.bob.wallet.id);
  });

  it('when a stranger reads every list route, then no object of the world shows up in any answer', async () => {
    const secrets = [world.paymentId, world.refundId, world.transferId, world.ada.wallet.id, world.bob.wallet.id, world.ada.user.id, world.ada.email, world.adaAlias];
    const lists = routes.filter((route) => route.method === 'get' && route.auth && !route.path.includes(':'));
    expect(lists.length).toBeGreaterThan(8);
    for (const stranger of [world.strangerCustomer, world.strangerMerchant]) {
      for (const route of lists) {
        const response = await actors.call('GET', `${route.path}?limit=100`, { token: stranger.token });
        expect(response.status).toBeLessThan(500);
        const text = JSON.stringify(response.body);
        for (const secret of secrets) expect({ route: route.path, leaked: text.includes(secret) ? secret : null }).toEqual({ route: route.path, leaked: null });
      }
    }
  });
});

/** For each route that names roles: who is refused with 403 (the route's documentation lists 403). */
const ROLE_LIMITED: Record<string, Array<'customer' | 'merchant' | 'admin'>> = {
  'DELETE /v1/me': ['admin'],
  'POST /v1/wallets': ['admin'],
  'POST /v1/payments/:id/refunds': ['customer'],
  'PUT /v1/merchant/webhook': ['customer', 'admin'],
  'GET /v1/merchant/webhook/deliveries': ['customer', 'admin'],
  'POST /v1/me/aliases': ['admin'],
  'GET /v1/me/aliases': ['admin'],
  'DELETE /v1/me/aliases/:alias': ['admin'],
};

describe('API5 function-level authorization', () => {
  const tokenOf = (role: 'customer' | 'merchant' | 'admin') => (role === 'customer' ? world.ada.token : role === 'merchant' ? world.merchant.token : world.adminToken);
  const bodyFor = (route: RouteDoc): unknown => (route.body ? (OBJECT_ROUTES[routeKey(route)]?.body?.() ?? FUNCTION_BODIES[routeKey(route)]) : undefined);
  const FUNCTION_BODIES: Record<string, unknown> = {
    'POST /v1/admin/blocklist': { kind: 'user', value: 'usr_nobody', reason: 'not an admin' },
    'PUT /v1/merchant/webhook': { url: 'https://93.184.216.34/hooks' },
    'POST /v1/me/aliases': { alias: '@not_for_staff' },
    'POST /v1/wallets': { currency: 'EUR' },
  };

  /** Routes whose 403 refuses another site's request, not a role (their table is in authentication.test.ts). */
  const CROSS_SITE_REFUSED = ['POST /v1/auth/logout', 'POST /v1/auth/refresh'];

  it('when every route documented with 403 is listed, then it is an admin route, refuses cross-site requests, or has a row in the role table', () => {
    const limited = routes.filter((route) => route.errors.includes(403) && !route.path.startsWith('/v1/admin/') && !CROSS_SITE_REFUSED.includes(routeKey(route))).map(routeKey).sort();
    expect(limited).toEqual(Object.keys(ROLE_LIMITED).sort());
  });

  it('when a customer or a merchant calls any admin route, then 403 forbidden and nothing changes', async () => {
    const adminRoutes = routes.filter((route) => route.path.startsWith('/v1/admin/'));
    expect(adminRoutes.length).toBeGreaterThanOrEqual(9);
    const before = await snapshot();
    for (const route of adminRoutes) {
      const path = fillPath(route.path, { id: route.path.includes('wallets') ? world.ada.wallet.id : route.path.includes('blocklist') ? blocklistEntryId : world.paymentId });
      for (const role of ['customer', 'merchant'] as const) {
        const response = await actors.call(route.method.toUpperCase(), path, { token: tokenOf(role), body: bodyFor(route) });
        expect({ route: routeKey(route), role, status: response.status }).toEqual({ route: routeKey(route), role, status: 403 });
        expectError(response, 403, 'forbidden');
      }
    }
    expect(await snapshot()).toEqual(before);
  });

  it('when a role-limited route is called by a role it excludes, then 403 forbidden and nothing changes', async () => {
    const before = await snapshot();
    for (const [key, roles] of Object.entries(ROLE_LIMITED)) {
      const route = routes.find((candidate) => routeKey(candidate) === key);
      if (!route) throw new Error(`${key} is not routed`);
      const path = fillPath(route.path, { id: world.paymentId, alias: world.adaAlias });
      for (const role of roles) {
        const response = await actors.call(route.method.toUpperCase(), path, { token: tokenOf(role), body: bodyFor(route) });
        expect({ key, role, status: response.status }).toEqual({ key, role, status: 403 });
        expectError(response, 403, 'forbidden');
      }
    }
    expect(await snapshot()).toEqual(before);
  });

  it('when any route that needs a token is called without one, with a malformed one or with another scheme, then 401 unauthorized', async () => {
    const guarded = routes.filter((route) => route.auth);
    expect(guarded.length).toBeGreaterThan(30);
    for (const route of guarded) {
      const path = fillPath(route.path, { id: world.paymentId, alias: world.adaAlias, file: 'x' });
      for (const headers of [{} as Record<string, string>, { authorization: 'Bearer not-a-token' }, { authorization: `Basic ${Buffer.from('ada:pw').toString('base64')}` }, { authorization: `Bearer ${world.ada.token}x` }]) {
        const response = await actors.call(route.method.toUpperCase(), path, { headers, body: bodyFor(route) });
        expect({ route: routeKey(route), headers, status: response.status }).toEqual({ route: routeKey(route), headers, status: 401 });
        expectError(response, 401, 'unauthorized');
      }
    }
  });
});

/** Values a client might try to set on itself; none may stick or show up in an answer. */
const INJECTED = {
  id: 'usr_INJECTEDID0000000000000000',
  userId: 'usr_INJECTEDUSER00000000000000',
  walletId: 'wal_INJECTEDWALLET0000000000000',
  createdAt: '2001-02-03T04:05:06.000Z',
  updatedAt: '2001-02-03T04:05:06.000Z',
  status: 'injected_status',
  balance: 987654321,
  held: 987654321,
  fee: 0,
  feeBps: 0,
  netAmount: 987654321,
  feeRefunded: 987654321,
  refundedAmount: 987654321,
  tokenVersion: 987654321,
  token_version: 987654321,
  passwordHash: 'injected-hash',
  secret: 'whsec_injected_secret',
  merchantWalletId: 'wal_INJECTEDMERCHANT000000000000',
  fromWalletId: 'wal_INJECTEDFROM0000000000000000',
  toWalletId: 'wal_INJECTEDTO000000000000000000',
  emailVerified: true,
  isAdmin: true,
  workflowId: 'injected-workflow',
};
const INJECTED_MARKS = ['INJECTED', '987654321', '2001-02-03', 'injected_status', 'injected-hash', 'whsec_injected', 'injected-workflow'];

describe('API3 property-level authorization', () => {
  /** A valid body for each route that takes one, and who sends it; a new body route fails the first test until it has a row. */
  const BODIES: Record<string, { token: () => string; body: (run: number) => Record<string, unknown>; params?: () => Record<string, string> }> = {
    'POST /v1/auth/register': { token: () => '', body: (run) => ({ email: `mass-${run}-${world.ada.email}`, password: 'correct horse battery', name: 'Mass Assignment' }) },
    'POST /v1/auth/login': { token: () => '', body: () => ({ email: world.bob.email, password: 'correct horse battery' }) },
    'PATCH /v1/me': { token: () => world.bob.token, body: () => ({ name: 'Bob Again' }) },
    'POST /v1/me/password': { token: () => world.strangerCustomer.token, body: () => ({ currentPassword: 'not the password', newPassword: 'another passphrase' }) },
    'POST /v1/wallets': { token: () => world.bob.token, body: (run) => ({ currency: run === 0 ? 'EUR' : 'GBP' }) },
    'POST /v1/wallets/:id/topups': { token: () => world.bob.token, params: () => ({ id: world.bob.wallet.id }), body: () => ({ amount: 500, currency: 'USD' }) },
    'POST /v1/payments': { token: () => world.bob.token, body: () => ({ merchantId: world.merchant.user.id, amount: 1000, currency: 'USD' }) },
    'POST /v1/payments/:id/refunds': { token: () => world.merchant.token, params: () => ({ id: world.paymentId }), body: () => ({ amount: 50 }) },
    'POST /v1/transfers': { token: () => world.bob.token, body: () => ({ toUserId: world.ada.user.id, amount: 100, currency: 'USD' }) },
    'PUT /v1/merchant/webhook': { token: () => world.strangerMerchant.token, body: () => ({ url: 'http://127.0.0.1:9/hooks' }) },
    'POST /v1/admin/payments/:id/review': { token: () => world.adminToken, params: () => ({ id: world.paymentId }), body: () => ({ decision: 'approve' }) },
    'POST /v1/admin/blocklist': { token: () => world.adminToken, body: (run) => ({ kind: 'email', value: `mass-${run}-${world.bob.email}` }) },
    'POST /v1/me/aliases': { token: () => world.bob.token, body: (run) => ({ alias: `@bob${run}_${world.bob.user.id.slice(-8).toLowerCase()}` }) },
  };

  it('when the routes are listed, then every route with a body has a row in the body table', () => {
    expect(routes.filter((route) => route.body).map(routeKey).sort()).toEqual(Object.keys(BODIES).sort());
  });

  it('when a body also carries fee, status, balance, role, held, id, createdAt, userId, tokenVersion…, then each is refused or ignored and no answer repeats it', async () => {
    const roleOf = async (userId: string) => ((await stack.db('users').where({ id: userId }).first()) as { role: string }).role;
    for (const route of routes.filter((candidate) => candidate.body)) {
      const row = BODIES[routeKey(route)];
      if (!row) throw new Error(`no body for ${routeKey(route)}`);
      const path = fillPath(route.path, row.params?.() ?? {});
      for (const [run, extra] of [{ ...INJECTED, role: 'admin' }, INJECTED].entries()) {
        const response = await actors.call(route.method.toUpperCase(), path, {
          token: row.token() || undefined,
          body: { ...row.body(run), ...extra },
          headers: { 'idempotency-key': `mass-${run}-${route.path}` },
        });
        const label = `${routeKey(route)} run ${run}`;
        expect({ label, serverError: response.status >= 500 }).toEqual({ label, serverError: false });
        const text = JSON.stringify(response.body);
        const internal = [...keysDeep(response.body)].filter((key) => INTERNAL_PROPERTIES.includes(key) && !(key === 'secret' && routeKey(route) === 'PUT /v1/merchant/webhook'));
        expect({ label, internal }).toEqual({ label, internal: [] });
        for (const mark of INJECTED_MARKS) expect({ label, mark, echoed: text.includes(mark) }).toEqual({ label, mark, echoed: false });
        if (response.status < 300 && response.body && typeof response.body === 'object' && 'user' in response.body) {
          expect((response.body as { user: { role: string } }).user.role).not.toBe('admin');
        }
      }
    }
    // Nobody became an admin, no wallet holds the injected amount, the payment's fee is the configured one.
    for (const actor of [world.ada, world.bob, world.merchant, world.strangerCustomer, world.strangerMerchant]) expect(await roleOf(actor.user.id)).toBe(actor.user.role);
    expect(await stack.db('accounts').where({ balance: INJECTED.balance }).orWhere({ held: INJECTED.held })).toEqual([]);
    expect(await stack.db('users').where({ token_version: INJECTED.tokenVersion }).orWhere({ role: 'admin', name: 'Mass Assignment' })).toEqual([]);
    const bobsPayments = await stack.db('payments').where({ payer_id: world.bob.user.id, amount: 1000 });
    expect(bobsPayments.map((payment) => [Number(payment.amount), Number(payment.fee)])).toEqual([[1000, 20], [1000, 20]]);
    const registered = await stack.db('users').where({ email: `mass-1-${world.ada.email}` }).first();
    expect(registered).toMatchObject({ role: 'customer', token_version: 0 });
    expect(registered?.id).not.toBe(INJECTED.id);
    const webhook = await stack.db('webhook_endpoints').where({ merchant_id: world.strangerMerchant.user.id }).first();
    expect(webhook?.secret).not.toBe(INJECTED.secret);
  });

  it('when every readable route is read by every role, then no answer carries a password hash, token version, refresh token or secret', async () => {
    const readable = routes.filter((route) => route.method === 'get' && route.path.startsWith('/v1/'));
    const answers: Array<{ route: string; response: TestResponse<unknown> }> = [];
    for (const token of [world.ada.token, world.merchant.token, world.adminToken]) {
      for (const route of readable) {
        const path = fillPath(route.path, { id: route.path.includes('wallets') ? world.ada.wallet.id : route.path.includes('transfers') ? world.transferId : route.path.includes('refunds/') ? world.refundId : world.paymentId });
        answers.push({ route: routeKey(route), response: await actors.call('GET', `${path}${path.includes('recipients') ? `?to=${encodeURIComponent(world.adaAlias)}` : ''}`, { token }) });
      }
    }
    answers.push({ route: 'POST /v1/auth/login', response: await actors.call('POST', '/v1/auth/login', { body: { email: world.bob.email, password: 'correct horse battery' } }) });
    expect(answers.filter((answer) => answer.response.status === 200).length).toBeGreaterThan(30);
    for (const { route, response } of answers) {
      const keys = [...keysDeep(response.body)];
      expect({ route, internal: keys.filter((key) => INTERNAL_PROPERTIES.includes(key)) }).toEqual({ route, internal: [] });
      expect({ route, hash: JSON.stringify(response.body).includes('$argon2') }).toEqual({ route, hash: false });
    }
  });
});

/** The kinds of recipient a client may name, and the ways of naming one. */
const RECIPIENT_KINDS = ['unknown', 'person', 'merchant', 'admin', 'closed'] as const;
type RecipientKind = (typeof RECIPIENT_KINDS)[number];
const NAMED_BY = ['handle', 'email', 'id'] as const;

/** One of each kind, with a handle (an admin's and a closed account's held straight in the database, as no route lets them). */
async function recipientsOfEveryKind(): Promise<Record<RecipientKind, { handle: string; email: string; id: string }>> {
  const tag = newId('req').slice(-8).toLowerCase();
  const withHandle = async (kind: Exclude<RecipientKind, 'unknown'>, userId: string, email: string) => {
    const handle = `${kind}_${tag}`;
    expect((await claimAlias(stack.db, userId, handle)).status).toBe('claimed');
    return { handle: `@${handle}`, email, id: userId };
  };
  const person = await userWithWallet(stack.db);
  const merchant = await userWithWallet(stack.db, { role: 'merchant' });
  const adminEmail = uniqueEmail('admin');
  const admin = await insertUser(stack.db, { email: adminEmail, passwordHash: 'x', name: 'Admin', phone: null, role: 'admin', currency: 'USD' });
  const closed = await userWithWallet(stack.db);
  const closedRecipient = await withHandle('closed', closed.user.id, closed.user.email);
  await stack.db('users').where({ id: closed.user.id }).update({ status: 'closed' });
  return {
    unknown: { handle: `@nobody_${tag}`, email: uniqueEmail('nobody'), id: newId('usr') },
    person: await withHandle('person', person.user.id, person.user.email),
    merchant: await withHandle('merchant', merchant.user.id, merchant.user.email),
    admin: await withHandle('admin', admin.id, adminEmail),
    closed: closedRecipient,
  };
}

/** What an answer tells a client: everything but its request id. */
function told(response: TestResponse<unknown>): string {
  const error = (response.body as { error?: { code: string; message: string; details?: unknown } }).error;
  return error ? `${response.status} ${error.code} ${error.message} ${JSON.stringify(error.details ?? null)}` : `${response.status} ${JSON.stringify(response.body)}`;
}

describe('API6 recipient enumeration', () => {
  it('when a sender without a GBP wallet names every kind of recipient every way, then transfers and payments tell no more than /v1/recipients', async () => {
    const recipients = await recipientsOfEveryKind();
    const sender = world.strangerCustomer;
    const transfersBefore = await stack.db('transfers').where({ sender_id: sender.user.id }).count({ n: '*' });
    const answers: Array<{ kind: RecipientKind; by: string; lookup: string | null; transfer: string; payment: string | null }> = [];
    for (const kind of RECIPIENT_KINDS) {
      for (const by of NAMED_BY) {
        const name = recipients[kind][by];
        const target = by === 'handle' ? { to: name } : by === 'email' ? { toEmail: name } : { toUserId: name };
        const transfer = await actors.call('POST', '/v1/transfers', { token: sender.token, body: { ...target, amount: 100, currency: 'GBP' } });
        const lookup = by === 'id' ? null : await actors.call('GET', `/v1/recipients?to=${encodeURIComponent(name)}`, { token: sender.token });
        const merchantNamed = by === 'handle' ? { merchant: name } : by === 'id' ? { merchantId: name } : null;
        const payment = merchantNamed ? await actors.call('POST', '/v1/payments', { token: sender.token, body: { ...merchantNamed, amount: 100, currency: 'GBP' } }) : null;
        answers.push({ kind, by, lookup: lookup && told(lookup), transfer: told(transfer), payment: payment && told(payment) });
      }
    }

    const of = (kind: RecipientKind, by: string) => answers.find((answer) => answer.kind === kind && answer.by === by);
    for (const by of NAMED_BY) {
      const nobody = of('unknown', by);
      expect(nobody?.transfer).toMatch(/^404 not_found /);
      // Admins and closed accounts are answered exactly as nobody is, by every route and every way of naming them.
      for (const kind of ['admin', 'closed'] as const) expect({ kind, by, ...of(kind, by) }).toEqual({ ...nobody, kind, by });
      expect(of('person', by)?.transfer).toMatch(/^422 currency_mismatch You have no GBP wallet\./);
      expect(of('merchant', by)?.transfer).toMatch(/^422 recipient_is_merchant /);
      if (by !== 'id') {
        expect(nobody?.lookup).toMatch(/^404 not_found /);
        expect(of('person', by)?.lookup).toMatch(/"kind":"person"/);
        expect(of('merchant', by)?.lookup).toMatch(/"kind":"merchant"/);
      }
      if (by !== 'email') {
        expect(nobody?.payment).toMatch(/^404 merchant_not_found /);
        expect(of('person', by)?.payment).toBe(nobody?.payment);
        expect(of('merchant', by)?.payment).toMatch(/^422 currency_mismatch You have no GBP wallet\./);
      }
    }
    expect(await stack.db('transfers').where({ sender_id: sender.user.id }).count({ n: '*' })).toEqual(transfersBefore);
  });
});

describe('API9 inventory', () => {
  it('when the router and the documented routes are compared, then they are the same list: no route escapes the tables above', () => {
    const { routers, docs } = buildRouters({ config: stack.config } as unknown as AppDependencies);
    const routed = routers.flatMap((router) => router.stack.flatMap((layer) => layer.methods.filter((method) => method !== 'HEAD').map((method) => `${method} ${openApiPath(String(layer.path))}`)));
    const documented = docs.routes.map((route) => `${route.method.toUpperCase()} ${openApiPath(route.path)}`);
    expect([...new Set(routed)].sort()).toEqual(documented.sort());
  });

  it('when every route is asked in upper case, then 404 not_found in the error shape: paths match exactly', async () => {
    const ids = { id: world.paymentId, alias: world.adaAlias, file: 'swagger-ui.css' };
    for (const route of routes) {
      const path = fillPath(route.path, ids).toUpperCase();
      const response = await actors.call(route.method.toUpperCase(), path, { token: world.adminToken });
      expect({ route: routeKey(route), path, status: response.status }).toEqual({ route: routeKey(route), path, status: 404 });
      expectError(response, 404, 'not_found');
    }
  });

  it.each([
    ['GET', '/V1/me'],
    ['GET', '/v1/ME'],
    ['GET', '/V1/Me'],
    ['POST', '/V1/auth/login'],
    ['POST', '/v1/AUTH/login'],
  ])('when %s %s is asked, then 404 not_found, where the exact path answers with Cache-Control: no-store', async (method, path) => {
    const body = method === 'POST' ? { email: world.ada.email, password: 'correct horse battery' } : undefined;
    expectError(await actors.call(method, path, { token: world.ada.token, body }), 404, 'not_found');
    const exact = await actors.call(method, path.toLowerCase(), { token: world.ada.token, body });
    expect(exact.status).toBe(200);
    expect(exact.headers.get('cache-control')).toBe('no-store');
  });

  it('when paths that often hide debug or old versions are probed, then 404 with the error shape, and no file is served', async () => {
    for (const path of ['/v1/debug', '/v1/admin', '/v1/internal/users', '/v2/payments', '/v0/payments', '/v1/users', '/v1/config', '/v1/env']) {
      const response = await actors.call('GET', path, { token: world.adminToken });
      expect({ path, status: response.status }).toEqual({ path, status: 404 });
    }
    for (const path of ['/.env', '/.git/config', '/package.json', '/.data/jwt-secret']) {
      const text = await (await fetch(`${stack.baseUrl}${path}`)).text();
      expect({ path, leaked: /JWT_SECRET=|\[core\]|"dependencies"|repositoryformatversion/.test(text) }).toEqual({ path, leaked: false });
    }
  });
});
