import type { Knex } from 'knex';
import { hashPassword } from '../api/auth/passwords';
import { issueAccessToken } from '../api/auth/tokens';
import { newId } from '../domain/ids';
import { closeAccount } from '../store/account-closing';
import { actorsOf, expectError } from './support/actors';
import { userWithWallet } from './support/fixtures';
import type { TestResponse } from './support/http';
import { startStack, waitFor, type TestStack } from './support/stack';

/** The caller's own account end to end: profile, password, closing; and what each leaves in the audit log. */
let stack: TestStack;
let actors: ReturnType<typeof actorsOf>;
const PASSWORD = 'correct horse battery';

beforeAll(async () => {
  stack = await startStack();
  actors = actorsOf(stack);
});

afterAll(async () => {
  // The file moves money (top-ups, payments, closings that pay out): it ends with the ledger's invariants.
  await actors.expectReconciled(await actors.admin());
  await stack.stop();
});

type UserBody = { user: { id: string; name: string; phone: string | null } };

/** A user with a wallet (funded with `balance`) and a password, straight in the database, logged in through the API. */
async function member(options: { balance?: number; role?: 'customer' | 'merchant' } = {}) {
  const { user, wallet } = await userWithWallet(stack.db, options);
  await stack.db('users').where({ id: user.id }).update({ password_hash: await hashPassword(PASSWORD) });
  stack.own.add(user.id);
  const login = await actors.call<{ accessToken: string }>('POST', '/v1/auth/login', { body: { email: user.email, password: PASSWORD } });
  expect(login.status).toBe(200);
  return { user, wallet, email: user.email, token: login.body.accessToken, refreshCookie: refreshCookieOf(login) };
}

function refreshCookieOf(response: TestResponse<unknown>): string {
  const cookie = response.headers.getSetCookie().find((line) => line.startsWith('sagapay_refresh='));
  if (!cookie) throw new Error('no refresh cookie');
  return cookie.split(';')[0] ?? '';
}

const auditOf = (db: Knex, userId: string, action: string) => db('audit_log').where({ actor_id: userId, action }).orderBy('seq');

describe('PATCH /v1/me', () => {
  it('when the name and phone change, then the user comes back changed and the audit log names the fields, not their values', async () => {
    const { user, token } = await member();
    const changed = await actors.call<UserBody>('PATCH', '/v1/me', { token, body: { name: '  Ada Lovelace ', phone: '+442071234567' } });

    expect(changed.status).toBe(200);
    expect(changed.body.user).toMatchObject({ id: user.id, name: 'Ada Lovelace', phone: '+442071234567' });
    expect((await actors.call<UserBody>('GET', '/v1/me', { token })).body.user).toMatchObject({ name: 'Ada Lovelace', phone: '+442071234567' });
    const audit = await auditOf(stack.db, user.id, 'user.profile_updated');
    expect(audit).toHaveLength(1);
    expect(audit[0]).toMatchObject({ resource_type: 'user', resource_id: user.id });
    expect(JSON.parse(audit[0]?.data ?? '{}')).toEqual({ fields: ['name', 'phone'] });
    expect(audit[0]?.data).not.toContain('Ada');
  });

  it('when phone is null, then it is cleared; when nothing differs, then nothing is recorded', async () => {
    const { user, token } = await member();
    await actors.call('PATCH', '/v1/me', { token, body: { phone: '+14155550123' } });
    const cleared = await actors.call<UserBody>('PATCH', '/v1/me', { token, body: { phone: null } });
    expect(cleared.body.user.phone).toBeNull();
    const same = await actors.call<UserBody>('PATCH', '/v1/me', { token, body: { name: user.name } });
    expect(same.status).toBe(200);
    expect(await auditOf(stack.db, user.id, 'user.profile_updated')).toHaveLength(2);
  });

  it('when a field is bad, then 400 validation_error names each one and nothing changes', async () => {
    const { user, token } = await member();
    const response = await actors.call('PATCH', '/v1/me', { token, body: { name: '   ', phone: '555-1234' } });
    const error = expectError(response, 400, 'validation_error');
    expect(Object.keys(error.details?.fields ?? {}).sort()).toEqual(['name', 'phone']);
    expect(await stack.db('users').where({ id: user.id }).first()).toMatchObject({ name: user.name, phone: null });
    expectError(await actors.call('PATCH', '/v1/me', { body: { name: 'Anyone' } }), 401, 'unauthorized');
  });
});

describe('POST /v1/me/password', () => {
  it('when the current password is right, then 204, and every older access and refresh token stops working', async () => {
    const { user, email, token, refreshCookie } = await member();
    const secondLogin = await actors.call<{ accessToken: string }>('POST', '/v1/auth/login', { body: { email, password: PASSWORD } });

    const changed = await actors.call('POST', '/v1/me/password', { token, body: { currentPassword: PASSWORD, newPassword: 'a brand new passphrase' } });
    expect(changed.status).toBe(204);

    expectError(await actors.call('GET', '/v1/me', { token }), 401, 'unauthorized');
    expectError(await actors.call('GET', '/v1/me', { token: secondLogin.body.accessToken }), 401, 'unauthorized');
    expectError(await actors.call('POST', '/v1/auth/refresh', { headers: { 'x-requested-with': 'fetch', cookie: refreshCookie } }), 401, 'unauthorized');
    expectError(await actors.call('POST', '/v1/auth/refresh', { headers: { 'x-requested-with': 'fetch', cookie: refreshCookieOf(secondLogin) } }), 401, 'unauthorized');
    expectError(await actors.call('POST', '/v1/auth/login', { body: { email, password: PASSWORD } }), 401, 'invalid_credentials');

    const fresh = await actors.call<{ accessToken: string }>('POST', '/v1/auth/login', { body: { email, password: 'a brand new passphrase' } });
    expect(fresh.status).toBe(200);
    expect((await actors.call('GET', '/v1/me', { token: fresh.body.accessToken })).status).toBe(200);
    expect((await actors.call('POST', '/v1/auth/refresh', { headers: { 'x-requested-with': 'fetch', cookie: refreshCookieOf(fresh) } })).status).toBe(200);
    expect(await auditOf(stack.db, user.id, 'user.password_changed')).toHaveLength(1);
  });

  it('when the current password is wrong, then 401 invalid_credentials and the old password and token still work', async () => {
    const { user, email, token } = await member();
    const wrong = await actors.call('POST', '/v1/me/password', { token, body: { currentPassword: 'not my password', newPassword: 'a brand new passphrase' } });
    expectError(wrong, 401, 'invalid_credentials');
    expect((await actors.call('GET', '/v1/me', { token })).status).toBe(200);
    expect((await actors.call('POST', '/v1/auth/login', { body: { email, password: PASSWORD } })).status).toBe(200);
    expect(await auditOf(stack.db, user.id, 'user.password_changed')).toHaveLength(0);
  });

  it('when the new password is too short or a field is missing, then 400 validation_error names it', async () => {
    const { token } = await member();
    const short = expectError(await actors.call('POST', '/v1/me/password', { token, body: { currentPassword: PASSWORD, newPassword: 'short' } }), 400, 'validation_error');
    expect(Object.keys(short.details?.fields ?? {})).toEqual(['newPassword']);
    const missing = expectError(await actors.call('POST', '/v1/me/password', { token, body: {} }), 400, 'validation_error');
    expect(Object.keys(missing.details?.fields ?? {}).sort()).toEqual(['currentPassword', 'newPassword']);
    expect((await actors.call('GET', '/v1/me', { token })).status).toBe(200);
  });

  it('when a request is authenticated, then the version and session checks cost no query of their own: GET /v1/me reads the user row once, by primary key', async () => {
    const { user, token } = await member();
    const queries: string[] = [];
    const onQuery = (query: { sql: string; bindings?: unknown[] }) => {
      if (query.bindings?.includes(user.id)) queries.push(query.sql);
    };
    stack.db.on('query', onQuery);
    try {
      expect((await actors.call('GET', '/v1/me', { token })).status).toBe(200);
    } finally {
      stack.db.off('query', onQuery);
    }
    // One round trip authenticates: the user row by primary key, with the session's revocation as a subquery of the same statement.
    expect(queries).toEqual([
      'select `users`.*, exists (select 1 from `refresh_tokens` where `family_id` = ? and `revoked_at` is not null) as session_revoked from `users` where `users`.`id` = ? limit ?',
      expect.stringMatching(/^select \* from `accounts` where/) as string,
    ]);
  });

  it('when a token names an older token version, then it is refused although its signature is good', async () => {
    const { user, token } = await member();
    await stack.db('users').where({ id: user.id }).increment('token_version', 1);
    expectError(await actors.call('GET', '/v1/me', { token }), 401, 'unauthorized');
    const current = await issueAccessToken(stack.config.jwt, { userId: user.id, role: user.role, tokenVersion: 1 });
    expect((await actors.call('GET', '/v1/me', { token: current })).status).toBe(200);
  });
});

describe('DELETE /v1/me', () => {
  it('when every wallet is at zero and nothing is in flight, then 204: wallets frozen, tokens dead, login refused, e-mail still taken, rows kept', async () => {
    const { user, wallet, email, token, refreshCookie } = await member();

    const closed = await actors.call('DELETE', '/v1/me', { token });
    expect(closed.status).toBe(204);

    expect(await stack.db('users').where({ id: user.id }).first()).toMatchObject({ status: 'closed', token_version: 1 });
    expect(await stack.db('accounts').where({ id: wallet.id }).first()).toMatchObject({ status: 'frozen', balance: 0 });
    expectError(await actors.call('GET', '/v1/me', { token }), 401, 'unauthorized');
    expectError(await actors.call('POST', '/v1/auth/refresh', { headers: { 'x-requested-with': 'fetch', cookie: refreshCookie } }), 401, 'unauthorized');
    expectError(await actors.call('POST', '/v1/auth/login', { body: { email, password: PASSWORD } }), 401, 'invalid_credentials');
    expectError(await actors.call('POST', '/v1/auth/register', { body: { email, password: 'another passphrase', name: 'Again' } }), 409, 'email_taken');
    // A token signed for the new version still meets a closed account.
    const forged = await issueAccessToken(stack.config.jwt, { userId: user.id, role: user.role, tokenVersion: 1 });
    expectError(await actors.call('GET', '/v1/me', { token: forged }), 401, 'unauthorized');
    const audit = await auditOf(stack.db, user.id, 'user.closed');
    expect(audit).toHaveLength(1);
    expect(JSON.parse(audit[0]?.data ?? '{}')).toEqual({ wallets: [wallet.id] });
    // An admin cannot reopen the wallet for money either.
    const adminToken = await actors.admin();
    expectError(await actors.call('POST', `/v1/admin/wallets/${wallet.id}/unfreeze`, { token: adminToken }), 409, 'account_closed');
    expect(await stack.db('accounts').where({ id: wallet.id }).first()).toMatchObject({ status: 'frozen' });
  });

  it('when a wallet holds money, then 409 wallet_not_empty and nothing changes', async () => {
    const { user, wallet, token } = await member({ balance: 500 });
    const refused = expectError(await actors.call('DELETE', '/v1/me', { token }), 409, 'wallet_not_empty');
    expect(refused.details).toEqual({ reason: 'balance' });
    expect(await stack.db('users').where({ id: user.id }).first()).toMatchObject({ status: 'active', token_version: 0 });
    expect(await stack.db('accounts').where({ id: wallet.id }).first()).toMatchObject({ status: 'active' });
    expect((await actors.call('GET', '/v1/me', { token })).status).toBe(200);
  });

  it('when a wallet holds money a saga has not released, then 409 wallet_not_empty (held)', async () => {
    const { wallet, token } = await member({ balance: 300 });
    await stack.db('accounts').where({ id: wallet.id }).update({ held: 300 });
    try {
      expect(expectError(await actors.call('DELETE', '/v1/me', { token }), 409, 'wallet_not_empty').details).toEqual({ reason: 'held' });
    } finally {
      await stack.db('accounts').where({ id: wallet.id }).update({ held: 0 });
    }
  });

  it('when a payment, transfer or refund naming the user is not final, then 409 wallet_not_empty (saga_in_flight) even at zero', async () => {
    const { user, wallet, token } = await member();
    const merchant = await userWithWallet(stack.db, { role: 'merchant' });
    const now = new Date();
    const paymentId = newId('pay');
    // A saga in flight as its row says; it never runs, and is failed below so nothing is left behind.
    await stack.db('payments').insert({
      id: paymentId,
      payer_id: merchant.user.id,
      source_wallet_id: merchant.wallet.id,
      merchant_id: user.id,
      merchant_wallet_id: wallet.id,
      amount: 100,
      fee: 2,
      net_amount: 98,
      currency: 'USD',
      description: null,
      status: 'processing',
      failure_code: null,
      failure_message: null,
      fault_step: null,
      workflow_id: `payment-${paymentId}`,
      compensation_started_at: null,
      created_at: now,
      updated_at: now,
    });
    try {
      expect(expectError(await actors.call('DELETE', '/v1/me', { token }), 409, 'wallet_not_empty').details).toEqual({ reason: 'saga_in_flight' });
    } finally {
      await stack.db('payments').where({ id: paymentId }).update({ status: 'failed', failure_code: 'test_cleanup', failure_message: 'never ran' });
    }
    expect((await actors.call('DELETE', '/v1/me', { token })).status).toBe(204);
  });

  it('when a transfer to the user races the closing, then the closing is refused, or the transfer fails or finds nobody: a closed wallet never receives money', async () => {
    const { user, wallet, token } = await member();
    const sender = await member({ balance: 1_000 });
    const [transfer, closing] = await Promise.all([
      actors.call<{ id: string }>('POST', '/v1/transfers', {
        token: sender.token,
        body: { toUserId: user.id, amount: 250, currency: 'USD' },
        headers: { prefer: 'respond-async', 'idempotency-key': newId('req') },
      }),
      actors.call('DELETE', '/v1/me', { token }),
    ]);
    if (transfer.status === 404) {
      // The closing committed before the transfer named its recipient: a closed account is nobody to send to.
      expect(closing.status).toBe(204);
      expect(await stack.db('accounts').where({ id: wallet.id }).first()).toMatchObject({ status: 'frozen', balance: 0, held: 0 });
      return;
    }
    expect([201, 202]).toContain(transfer.status);
    const final = await waitFor(
      async () => {
        const read = await actors.call<{ status: string; failure: { code: string } | null }>('GET', `/v1/transfers/${transfer.body.id}`, { token: sender.token });
        return ['succeeded', 'failed'].includes(read.body.status) ? read.body : undefined;
      },
      { what: 'the transfer to end' },
    );
    const stored = await stack.db('accounts').where({ id: wallet.id }).first();
    if (closing.status === 204) {
      expect(final).toMatchObject({ status: 'failed', failure: { code: 'wallet_frozen' } });
      expect(stored).toMatchObject({ status: 'frozen', balance: 0, held: 0 });
    } else {
      expectError(closing, 409, 'wallet_not_empty');
      expect(final.status).toBe('succeeded');
      expect(Number(stored?.balance)).toBe(250);
    }
  });

  it('when a closed customer’s old payment is refunded, then 422 payment_not_refundable: no money goes into a closed account', async () => {
    const payer = await member({ balance: 1_000 });
    const merchant = await member({ role: 'merchant' });
    const payment = await actors.call<{ id: string; status: string }>('POST', '/v1/payments', {
      token: payer.token,
      body: { merchantId: merchant.user.id, amount: 1_000, currency: 'USD' },
      headers: { 'idempotency-key': newId('req') },
    });
    expect(payment.body.status).toBe('succeeded');
    expect((await actors.call('DELETE', '/v1/me', { token: payer.token })).status).toBe(204);

    const refund = await actors.call('POST', `/v1/payments/${payment.body.id}/refunds`, { token: merchant.token, body: {}, headers: { 'idempotency-key': newId('req') } });
    expectError(refund, 422, 'payment_not_refundable');
    expect(await stack.db('refunds').where({ payment_id: payment.body.id })).toHaveLength(0);
    expect(await stack.db('accounts').where({ id: payer.wallet.id }).first()).toMatchObject({ balance: 0, status: 'frozen' });
  });

  it('when an admin asks, then 403 forbidden: operators are not closed through the API', async () => {
    const adminToken = await actors.admin();
    expectError(await actors.call('DELETE', '/v1/me', { token: adminToken }), 403, 'forbidden');
    expect((await actors.call('GET', '/v1/me', { token: adminToken })).status).toBe(200);
  });
});

describe('closing releases (the hook other tables plug into)', () => {
  it('when closing succeeds, then each release runs inside its transaction; when a release fails, then the closing is undone', async () => {
    const { user } = await member();
    const failing = jest.fn(() => Promise.reject(new Error('release failed')));
    await expect(closeAccount(stack.db, user.id, [failing])).rejects.toThrow('release failed');
    expect(failing).toHaveBeenCalledWith(expect.anything(), user.id, expect.any(Date));
    expect(await stack.db('users').where({ id: user.id }).first()).toMatchObject({ status: 'active', token_version: 0 });

    const seen: string[] = [];
    const release = async (trx: Knex.Transaction, userId: string) => {
      // Inside the closing's transaction, the user already reads as closed.
      const row = await trx('users').where({ id: userId }).first();
      seen.push(`${userId}:${row?.status ?? 'missing'}`);
    };
    await expect(closeAccount(stack.db, user.id, [release])).resolves.toEqual({ closed: true });
    expect(seen).toEqual([`${user.id}:closed`]);
  });

  it('when closing is refused, then no release runs', async () => {
    const { user } = await member({ balance: 10 });
    const release = jest.fn(() => Promise.resolve());
    await expect(closeAccount(stack.db, user.id, [release])).resolves.toEqual({ closed: false, reason: 'balance' });
    expect(release).not.toHaveBeenCalled();
  });
});
