import { createHmac } from 'node:crypto';
import { newId } from '../domain/ids';
import { uniqueEmail } from './support/fixtures';
import { request, type TestResponse } from './support/http';
import { actorsOf, expectError, type WalletBody } from './support/actors';
import { openApiDocumentFor } from './support/openapi';
import { startStack, type TestStack } from './support/stack';
import { stepActivitiesOf } from './support/step-activities';

/** The API end to end: the real Koa app, real workers, the real database and Temporal server. */
let stack: TestStack;
let adminToken: string;
let actors: ReturnType<typeof actorsOf>;

type Body = Record<string, unknown>;

beforeAll(async () => {
  stack = await startStack();
  actors = actorsOf(stack);
  adminToken = await actors.admin();
});

afterAll(async () => {
  await stack.stop();
});

const call = <T = Body>(method: string, path: string, options?: Parameters<ReturnType<typeof actorsOf>['call']>[2]) => actors.call<T>(method, path, options);
const signUp = (options?: Parameters<ReturnType<typeof actorsOf>['signUp']>[0]) => actors.signUp(options);
const balanceOf = (token: string, walletId: string) => actors.balanceOf(token, walletId);

describe('sign-up and onboarding', () => {
  it('when a customer registers, then the onboarding saga gives them a wallet with the promotional credit', async () => {
    const { user, token, wallet } = await signUp({ currency: 'EUR' });

    expect(Object.keys(user).sort()).toEqual(['createdAt', 'email', 'id', 'name', 'phone', 'role']);
    expect(user).toMatchObject({ role: 'customer', name: 'Test User', phone: null });
    expect(wallet).toMatchObject({ userId: user.id, currency: 'EUR', balance: 10_000, status: 'active' });

    const transactions = await call<{ data: Body[]; hasMore: boolean }>('GET', `/v1/wallets/${wallet.id}/transactions`, { token });
    expect(transactions.body.data).toEqual([
      expect.objectContaining({ walletId: wallet.id, amount: 10_000, balanceAfter: 10_000, type: 'promo_credit', referenceId: user.id }),
    ]);

    const handle = stack.temporal.workflow.getHandle(`onboarding-${String(user.id)}`);
    await expect(handle.result()).resolves.toMatchObject({ walletId: wallet.id });
    // Onboarding's steps are regular activities (only money sagas run theirs locally).
    const steps = await stepActivitiesOf(stack.temporal, handle.workflowId);
    expect(steps.map(({ activity, local }) => [activity, local])).toEqual([
      ['createWallet', false],
      ['creditPromotion', false],
      ['sendWelcome', false],
      ['completeOnboarding', false],
    ]);
    const welcome = await stack.db('notifications').where({ user_id: String(user.id), type: 'welcome', channel: 'in_app' });
    expect(welcome).toHaveLength(1);
  });

  it('when a merchant registers, then the wallet starts empty', async () => {
    const { wallet, user } = await signUp({ role: 'merchant' });
    expect(wallet.balance).toBe(0);
    expect(user.role).toBe('merchant');
  });

  it('when an e-mail is taken (in any case), then register is 409 email_taken', async () => {
    const { email } = await signUp();
    const again = await call('POST', '/v1/auth/register', { body: { email: email.toUpperCase(), password: 'another password', name: 'Twin' } });
    expectError(again, 409, 'email_taken');
  });

  it('when register gets bad fields, then each is named and nothing is written', async () => {
    const email = uniqueEmail();
    const response = await call('POST', '/v1/auth/register', {
      body: { email, password: 'short', name: '', phone: '555-1234', role: 'admin', currency: 'XYZ' },
    });
    const error = expectError(response, 400, 'validation_error');
    expect(Object.keys(error.details?.fields ?? {}).sort()).toEqual(['currency', 'name', 'password', 'phone', 'role']);
    expect(await stack.db('users').where({ email }).first()).toBeUndefined();
  });

  it('when the password is wrong or the e-mail unknown, then login answers the same 401 invalid_credentials', async () => {
    const { email } = await signUp();
    const wrong = await call('POST', '/v1/auth/login', { body: { email, password: 'not the password' } });
    const unknown = await call('POST', '/v1/auth/login', { body: { email: uniqueEmail(), password: 'not the password' } });
    expect(expectError(wrong, 401, 'invalid_credentials').message).toBe(expectError(unknown, 401, 'invalid_credentials').message);
  });
});

describe('tokens', () => {
  const forge = (header: Body, payload: Body, secret: string) => {
    const encode = (part: Body) => Buffer.from(JSON.stringify(part)).toString('base64url');
    const unsigned = `${encode(header)}.${encode(payload)}`;
    const signature = secret ? createHmac('sha256', secret).update(unsigned).digest('base64url') : '';
    return `${unsigned}.${signature}`;
  };

  it('when a token is missing, malformed, forged, alg none or expired, then the answer is 401 unauthorized', async () => {
    const { user } = await signUp();
    const now = Math.floor(Date.now() / 1000);
    const claims = { sub: user.id, role: 'admin', iss: 'sagapay', aud: 'sagapay-api', iat: now, exp: now + 600 };
    const secret = stack.config.jwt.secret;
    const tokens = [
      undefined,
      'not-a-token',
      forge({ alg: 'HS256', typ: 'JWT' }, claims, 'some-other-secret-of-at-least-32-chars'),
      forge({ alg: 'none', typ: 'JWT' }, claims, ''),
      forge({ alg: 'HS256', typ: 'JWT' }, { ...claims, exp: now - 10, iat: now - 700 }, secret),
      forge({ alg: 'HS256', typ: 'JWT' }, { ...claims, aud: 'someone-else' }, secret),
      forge({ alg: 'HS512', typ: 'JWT' }, claims, secret),
    ];
    for (const token of tokens) {
      expectError(await call('GET', '/v1/me', token ? { token } : {}), 401, 'unauthorized');
    }
    // The scheme name is case-insensitive (RFC 9110); the token itself is not.
    const { token: realToken } = await signUp();
    expect((await call('GET', '/v1/me', { headers: { authorization: `bearer ${realToken}` } })).status).toBe(200);
    expectError(await call('GET', '/v1/me', { headers: { authorization: `Basic ${realToken}` } }), 401, 'unauthorized');
    // The same claims, properly signed, are accepted: the refusals above are about the token, not the user.
    const genuine = await call<{ user: Body }>('GET', '/v1/me', { token: forge({ alg: 'HS256', typ: 'JWT' }, claims, secret) });
    expect(genuine.status).toBe(200);
    expect(genuine.body.user.role).toBe('customer');
  });

  it('when a validly signed token claims the admin role for a customer, then every admin route refuses it with 403 and changes nothing', async () => {
    const { user, wallet } = await signUp();
    const now = Math.floor(Date.now() / 1000);
    const forged = forge(
      { alg: 'HS256', typ: 'JWT' },
      { sub: user.id, role: 'admin', iss: 'sagapay', aud: 'sagapay-api', iat: now, exp: now + 600 },
      stack.config.jwt.secret,
    );
    // Every admin operation the document lists, so a new admin route is covered the day it is added.
    const paths = (openApiDocumentFor(stack.config) as { paths: Record<string, Record<string, unknown>> }).paths;
    const adminRoutes = Object.entries(paths)
      .filter(([path]) => path.startsWith('/v1/admin/'))
      .flatMap(([path, operations]) => Object.keys(operations).map((method) => [method.toUpperCase(), path.replace('{id}', wallet.id)] as const));
    expect(adminRoutes.map(([method, path]) => `${method} ${path.replace(wallet.id, '{id}')}`).sort()).toEqual(
      expect.arrayContaining(['GET /v1/admin/reconciliation', 'POST /v1/admin/wallets/{id}/freeze', 'POST /v1/admin/wallets/{id}/unfreeze']),
    );

    for (const [method, path] of adminRoutes) expectError(await call(method, path, { token: forged }), 403, 'forbidden');
    expect(await stack.db('accounts').select('status').where({ id: wallet.id }).first()).toEqual({ status: 'active' });
    expect(await stack.db('audit_log').where({ resource_id: wallet.id })).toEqual([]);
  });
});

describe('wallets and top-ups', () => {
  it('when a top-up is replayed with its Idempotency-Key, then the same top-up comes back and money moves once', async () => {
    const { token, wallet } = await signUp();
    const headers = { 'Idempotency-Key': `topup-${wallet.id}` };
    const first = await call<Body>('POST', `/v1/wallets/${wallet.id}/topups`, { token, headers, body: { amount: 2_500, currency: 'USD' } });
    const replay = await call<Body>('POST', `/v1/wallets/${wallet.id}/topups`, { token, headers, body: { currency: 'USD', amount: 2_500 } });

    expect(first.status).toBe(201);
    expect(first.body).toMatchObject({ walletId: wallet.id, amount: 2_500, currency: 'USD', status: 'succeeded' });
    expect(first.headers.get('idempotent-replayed')).toBeNull();
    expect(replay.status).toBe(201);
    expect(replay.body).toEqual(first.body);
    expect(replay.headers.get('idempotent-replayed')).toBe('true');
    expect(await balanceOf(token, wallet.id)).toBe(12_500);

    const reused = await call('POST', `/v1/wallets/${wallet.id}/topups`, { token, headers, body: { amount: 2_501, currency: 'USD' } });
    expectError(reused, 422, 'idempotency_key_reused');
    expect(await balanceOf(token, wallet.id)).toBe(12_500);
  });

  it('when 10 identical top-ups race with one key, then one top-up is made', async () => {
    const { token, wallet } = await signUp();
    const headers = { 'Idempotency-Key': 'race' };
    const responses = await Promise.all(
      Array.from({ length: 10 }, () => call<Body>('POST', `/v1/wallets/${wallet.id}/topups`, { token, headers, body: { amount: 100, currency: 'USD' } })),
    );

    expect(responses.map((response) => response.status)).toEqual(Array(10).fill(201));
    expect(new Set(responses.map((response) => response.body.id)).size).toBe(1);
    expect(responses.filter((response) => response.headers.get('idempotent-replayed') === 'true')).toHaveLength(9);
    expect(await balanceOf(token, wallet.id)).toBe(10_100);
  });

  it('when two keys differ only by letter case, then each makes its own top-up', async () => {
    const { token, wallet } = await signUp();
    const topUp = (key: string) => call<Body>('POST', `/v1/wallets/${wallet.id}/topups`, { token, headers: { 'Idempotency-Key': key }, body: { amount: 100, currency: 'USD' } });
    const first = await topUp('Order-1');
    const second = await topUp('order-1');

    expect([first.status, second.status]).toEqual([201, 201]);
    expect(second.headers.get('idempotent-replayed')).toBeNull();
    expect(second.body.id).not.toBe(first.body.id);
    expect(await balanceOf(token, wallet.id)).toBe(10_200);
  });

  it('when top-ups have no key, then each one is its own', async () => {
    const { token, wallet } = await signUp();
    for (let index = 0; index < 2; index += 1) {
      expect((await call('POST', `/v1/wallets/${wallet.id}/topups`, { token, body: { amount: 1, currency: 'USD' } })).status).toBe(201);
    }
    expect(await balanceOf(token, wallet.id)).toBe(10_002);
  });

  it('when a top-up is malformed, then it is refused with the contract code and the balance is unchanged', async () => {
    const { token, wallet } = await signUp();
    const path = `/v1/wallets/${wallet.id}/topups`;
    for (const amount of [0, -5, 12.5, '100', 100_000_001, 2 ** 53]) {
      const error = expectError(await call('POST', path, { token, body: { amount, currency: 'USD' } }), 400, 'validation_error');
      expect(Object.keys(error.details?.fields ?? {})).toEqual(['amount']);
    }
    expectError(await call('POST', path, { token, body: { amount: 100, currency: 'usd' } }), 400, 'validation_error');
    expectError(await call('POST', path, { token, body: { amount: 100, currency: 'EUR' } }), 422, 'currency_mismatch');
    expectError(await call('POST', path, { token, raw: '{"amount": 100,', headers: { 'content-type': 'application/json' } }), 400, 'invalid_json');
    expectError(await call('POST', path, { token, raw: 'amount=100', headers: { 'content-type': 'text/plain' } }), 415, 'unsupported_media_type');
    const huge = JSON.stringify({ amount: 100, currency: 'USD', padding: 'x'.repeat(70 * 1024) });
    expectError(await call('POST', path, { token, raw: huge, headers: { 'content-type': 'application/json' } }), 413, 'payload_too_large');
    expectError(await call('POST', path, { token, body: { amount: 100, currency: 'USD' }, headers: { 'Idempotency-Key': 'é'.repeat(3) } }), 400, 'validation_error');
    expect(await balanceOf(token, wallet.id)).toBe(10_000);
  });

  it("when a user asks for another user's wallet, then it is 404 wallet_not_found", async () => {
    const owner = await signUp();
    const stranger = await signUp();
    expectError(await call('GET', `/v1/wallets/${owner.wallet.id}`, { token: stranger.token }), 404, 'wallet_not_found');
    expectError(await call('GET', `/v1/wallets/${owner.wallet.id}/transactions`, { token: stranger.token }), 404, 'wallet_not_found');
    expectError(
      await call('POST', `/v1/wallets/${owner.wallet.id}/topups`, { token: stranger.token, body: { amount: 100, currency: 'USD' } }),
      404,
      'wallet_not_found',
    );
    expectError(await call('GET', '/v1/wallets/wal_does_not_exist', { token: stranger.token }), 404, 'wallet_not_found');
    const asAdmin = await call<WalletBody>('GET', `/v1/wallets/${owner.wallet.id}`, { token: adminToken });
    expect({ status: asAdmin.status, body: asAdmin.body }).toEqual({ status: 200, body: { ...owner.wallet, balance: 10_000 } });
    expect(await balanceOf(owner.token, owner.wallet.id)).toBe(10_000);
  });

  it('when transactions are paged with limit and startingAfter, then pages are newest first and join up', async () => {
    const { token, wallet } = await signUp();
    for (const amount of [1, 2, 3]) await call('POST', `/v1/wallets/${wallet.id}/topups`, { token, body: { amount, currency: 'USD' } });
    const amounts: number[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const query: string = cursor ? `?limit=2&startingAfter=${cursor}` : '?limit=2';
      const page: TestResponse<{ data: Array<{ amount: number }>; hasMore: boolean; nextCursor: string | null }> = await call(
        'GET',
        `/v1/wallets/${wallet.id}/transactions${query}`,
        { token },
      );
      amounts.push(...page.body.data.map((item) => item.amount));
      cursor = page.body.nextCursor;
      expect(page.body.hasMore).toBe(cursor !== null);
      pages += 1;
    } while (cursor);
    expect(amounts).toEqual([3, 2, 1, 10_000]);
    expect(pages).toBe(2);
    expectError(await call('GET', `/v1/wallets/${wallet.id}/transactions?limit=0`, { token }), 400, 'validation_error');
    expectError(await call('GET', `/v1/wallets/${wallet.id}/transactions?startingAfter=txn_nope`, { token }), 404, 'not_found');
  });
});

describe('foreign cursors', () => {
  /**
   * A list's cursor is the id of the last item seen. One made from another user's row must page
   * nothing of theirs, and must be refused exactly like an id that names no row at all, so the
   * answer does not tell whether the row exists.
   */
  async function expectRefusedLikeUnknown(token: string, path: string, foreignId: string, unknownId: string, foreignIds: string[]): Promise<void> {
    const separator = path.includes('?') ? '&' : '?';
    const foreign = await call('GET', `${path}${separator}startingAfter=${foreignId}`, { token });
    const unknown = await call('GET', `${path}${separator}startingAfter=${unknownId}`, { token });
    const [foreignError, unknownError] = [expectError(foreign, 404, 'not_found'), expectError(unknown, 404, 'not_found')];
    expect({ path, message: foreignError.message, details: foreignError.details }).toEqual({ path, message: unknownError.message, details: unknownError.details });
    for (const id of foreignIds) expect(JSON.stringify(foreign.body)).not.toContain(id);
  }

  it("when a list is paged with a cursor made from another user's row, then it is refused like an unknown cursor and shows nothing of theirs", async () => {
    const [owner, friend, shop, outsider, outsiderShop] = [await signUp(), await signUp(), await signUp({ role: 'merchant' }), await signUp(), await signUp({ role: 'merchant' })];
    const payment = await call<{ id: string; status: string }>('POST', '/v1/payments', { token: owner.token, body: { merchantId: shop.user.id, amount: 300, currency: 'USD' } });
    const transfer = await call<{ id: string; status: string }>('POST', '/v1/transfers', { token: owner.token, body: { toUserId: friend.user.id, amount: 200, currency: 'USD' } });
    expect([payment.status, payment.body.status, transfer.status, transfer.body.status]).toEqual([201, 'succeeded', 201, 'succeeded']);
    // The outsiders have rows of their own in every list.
    const ownPayment = await call('POST', '/v1/payments', { token: outsider.token, body: { merchantId: outsiderShop.user.id, amount: 100, currency: 'USD' } });
    const ownTransfer = await call('POST', '/v1/transfers', { token: outsider.token, body: { toUserId: friend.user.id, amount: 100, currency: 'USD' } });
    expect([ownPayment.status, ownTransfer.status]).toEqual([201, 201]);
    const notification = await stack.db('notifications').select('id').where({ user_id: owner.user.id }).orderBy('seq', 'desc').first();
    const entry = await stack.db('entries').select('id').where({ account_id: owner.wallet.id }).orderBy('seq', 'desc').first();
    const deliveryOf = async (merchantId: string) => {
      const now = new Date();
      const [eventId, deliveryId] = [newId('evt'), newId('whd')];
      await stack.db('webhook_events').insert({ id: eventId, merchant_id: merchantId, type: 'payment.succeeded', payload: '{}', dedupe_key: `cursor-test:${eventId}`, status: 'delivered', created_at: now, updated_at: now });
      await stack.db('webhook_deliveries').insert({
        id: deliveryId,
        event_id: eventId,
        merchant_id: merchantId,
        event_type: 'payment.succeeded',
        url: 'https://shop.example/hooks',
        attempt: 1,
        status: 'succeeded',
        response_status: 200,
        error: null,
        created_at: now,
        updated_at: now,
      });
      return deliveryId;
    };
    const [delivery] = [await deliveryOf(shop.user.id), await deliveryOf(outsiderShop.user.id)];
    if (!notification || !entry) throw new Error('the owner has no notification or wallet entry');
    const ownerIds = [owner.user.id, owner.wallet.id, shop.user.id, payment.body.id, transfer.body.id];

    await expectRefusedLikeUnknown(outsider.token, '/v1/payments', payment.body.id, 'pay_nope', ownerIds);
    await expectRefusedLikeUnknown(outsider.token, '/v1/transfers', transfer.body.id, 'trf_nope', ownerIds);
    await expectRefusedLikeUnknown(outsider.token, '/v1/notifications', notification.id, 'ntf_nope', ownerIds);
    await expectRefusedLikeUnknown(outsider.token, `/v1/wallets/${outsider.wallet.id}/transactions`, entry.id, 'txn_nope', ownerIds);
    await expectRefusedLikeUnknown(outsiderShop.token, '/v1/merchant/webhook/deliveries', delivery, 'whd_nope', ownerIds);
    // A role filter narrows the list the cursor must belong to: the payer's own payment is foreign to its merchant view.
    await expectRefusedLikeUnknown(owner.token, '/v1/payments?role=merchant', payment.body.id, 'pay_nope', [shop.user.id]);

    // The same cursors page on for their owners: they were refused for being foreign, not malformed.
    expect((await call('GET', `/v1/payments?startingAfter=${payment.body.id}`, { token: owner.token })).status).toBe(200);
    expect((await call('GET', `/v1/merchant/webhook/deliveries?startingAfter=${delivery}`, { token: shop.token })).status).toBe(200);
  });
});

describe('administration', () => {
  it('when an admin freezes a wallet, then top-ups are refused until it is unfrozen', async () => {
    const { token, wallet } = await signUp();
    const frozen = await call<WalletBody>('POST', `/v1/admin/wallets/${wallet.id}/freeze`, { token: adminToken });
    expect(frozen.status).toBe(200);
    expect(frozen.body).toMatchObject({ id: wallet.id, status: 'frozen', balance: 10_000 });

    expectError(await call('POST', `/v1/wallets/${wallet.id}/topups`, { token, body: { amount: 100, currency: 'USD' } }), 422, 'wallet_frozen');

    const unfrozen = await call<WalletBody>('POST', `/v1/admin/wallets/${wallet.id}/unfreeze`, { token: adminToken });
    expect(unfrozen.body.status).toBe('active');
    expect((await call('POST', `/v1/wallets/${wallet.id}/topups`, { token, body: { amount: 100, currency: 'USD' } })).status).toBe(201);
    const audit = await stack.db('audit_log').where({ resource_id: wallet.id }).orderBy('seq');
    expect(audit.map((row) => row.action)).toEqual(['wallet.frozen', 'wallet.unfrozen']);
  });

  it('when a customer calls an admin path, then it is 403 forbidden; an unknown wallet is 404', async () => {
    const { token, wallet } = await signUp();
    expectError(await call('POST', `/v1/admin/wallets/${wallet.id}/freeze`, { token }), 403, 'forbidden');
    expectError(await call('GET', '/v1/admin/reconciliation', { token }), 403, 'forbidden');
    expectError(await call('POST', '/v1/admin/wallets/wal_nope/freeze', { token: adminToken }), 404, 'wallet_not_found');
  });

  it('when the admin asks for reconciliation, then the ledger is balanced and this file left no saga unfinished', async () => {
    await actors.expectReconciled(adminToken);
  });
});

describe('the fault drill', () => {
  it('when SAGA_FAULTS is off, then X-Saga-Fault is ignored: the payment succeeds and moves its money', async () => {
    expect(stack.config.sagaFaultsEnabled).toBe(false);
    const merchant = await signUp({ role: 'merchant' });
    const payer = await signUp();

    const payment = await call<{ id: string; status: string; failure: unknown; steps: Array<{ name: string; status: string }> }>('POST', '/v1/payments', {
      token: payer.token,
      headers: { 'X-Saga-Fault': 'debit_payer' },
      body: { merchantId: merchant.user.id, amount: 1_000, currency: 'USD' },
    });

    expect({ status: payment.status, paymentStatus: payment.body.status, failure: payment.body.failure }).toEqual({ status: 201, paymentStatus: 'succeeded', failure: null });
    expect(await stack.db('payments').select('fault_step').where({ id: payment.body.id }).first()).toEqual({ fault_step: null });
    expect(await balanceOf(payer.token, payer.wallet.id)).toBe(9_000);
    expect(await balanceOf(merchant.token, merchant.wallet.id)).toBe(980);
  });
});

describe('conventions', () => {
  it('when a client sends X-Request-Id, then it is echoed; otherwise one is minted', async () => {
    const echoed = await call('GET', '/healthz', { headers: { 'X-Request-Id': 'trace-123' } });
    expect(echoed.headers.get('x-request-id')).toBe('trace-123');
    const minted = await call('GET', '/healthz');
    expect(minted.headers.get('x-request-id')).toMatch(/^req_/);
    expect(minted.body).toEqual({ status: 'ok' });
  });

  it('when the database and Temporal answer, then /readyz is 200', async () => {
    const ready = await call('GET', '/readyz');
    expect(ready.status).toBe(200);
    expect(ready.body).toEqual({ status: 'ok', checks: { database: 'ok', temporal: 'ok' } });
  });

  it('when a route does not exist or the method is wrong, then the error shape is kept', async () => {
    expectError(await call('GET', '/v1/nothing-here'), 404, 'not_found');
    expectError(await call('DELETE', '/v1/auth/login'), 405, 'method_not_allowed');
  });

  it('when a path is asked with a method it does not have, known to HTTP or not, then it is 405 method_not_allowed with Allow', async () => {
    const { token } = await signUp();
    for (const method of ['PURGE', 'PROPFIND', 'POST', 'PUT']) {
      const answer = await request(stack.baseUrl, method, '/v1/me', { token });
      expectError(answer, 405, 'method_not_allowed');
      expect(answer.headers.get('allow')).toBe('HEAD, GET, PATCH, DELETE');
    }
    const onPayment = await request(stack.baseUrl, 'PURGE', '/v1/payments/pay_unknown', { token });
    expectError(onPayment, 405, 'method_not_allowed');
    expect(onPayment.headers.get('allow')).toBe('HEAD, GET');
    expect((await request(stack.baseUrl, 'PURGE', '/v1/nothing-here')).status).toBe(404);

    const options = await request(stack.baseUrl, 'OPTIONS', '/v1/payments');
    expect(options.status).toBe(200);
    expect(options.headers.get('allow')?.split(', ').sort()).toEqual(['GET', 'HEAD', 'POST']);
  });
});
