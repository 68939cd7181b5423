import { SignJWT } from 'jose';
import { hashPassword } from '../../api/auth/passwords';
import { issueAccessToken } from '../../api/auth/tokens';
import { newId } from '../../domain/ids';
import { actorsOf, expectError } from '../support/actors';
import { userWithWallet } from '../support/fixtures';
import type { TestResponse } from '../support/http';
import { startStackWith, type TestStack } from '../support/stack';

/**
 * OWASP API2 (broken authentication) and the login part of API6 (sensitive business flows):
 * every token that is not exactly one this API signed for a live user, its current
 * version and a session not logged out is refused; refresh tokens are single-use; guessing passwords is bounded.
 * Logins come from distinct X-Forwarded-For addresses (TRUST_PROXY), so the low limits
 * of this file count only this file's attempts.
 */
const LIMITS = { TRUST_PROXY: 'true', RATE_LIMIT_LOGIN_PER_EMAIL: '5/15m', RATE_LIMIT_LOGIN_PER_IP: '12/15m' };
const PASSWORD = 'correct horse battery';
let stack: TestStack;
let actors: ReturnType<typeof actorsOf>;
/** How far the sessions' clock runs ahead of the real one (the refresh reuse grace window): moved only by the test. */
let sessionClockAheadMs = 0;

beforeAll(async () => {
  stack = await startStackWith(LIMITS, { sessionNowMs: () => Date.now() + sessionClockAheadMs });
  actors = actorsOf(stack);
});

afterAll(async () => {
  await stack.stop();
});

/** An address (benchmarking range, a block picked per run) no other login used: the per-IP limit starts from zero for it. */
const freshAddress = (() => {
  const block = Math.floor(Math.random() * 256);
  let next = 0;
  return () => `198.18.${block}.${(next += 1)}`;
})();

/** A customer made in the database (their wallet included), with a password. */
async function customer(role: 'customer' | 'admin' = 'customer') {
  const { user, wallet } = await userWithWallet(stack.db, { role: role === 'admin' ? 'admin' : 'customer' });
  await stack.db('users').where({ id: user.id }).update({ password_hash: await hashPassword(PASSWORD) });
  stack.own.add(user.id);
  return { user, wallet };
}

async function login(email: string, password = PASSWORD, address = freshAddress()): Promise<TestResponse<{ accessToken: string }>> {
  return actors.call<{ accessToken: string }>('POST', '/v1/auth/login', { body: { email, password }, headers: { 'x-forwarded-for': address } });
}

function refreshCookieOf(response: TestResponse<unknown>): string {
  const cookie = response.headers.getSetCookie().find((line) => line.startsWith('sagapay_refresh='));
  if (!cookie) throw new Error('no refresh cookie');
  return cookie.split(';')[0] ?? '';
}

const base64url = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

describe('API2 access tokens', () => {
  it('when a token is expired, forged, unsigned, of another algorithm, audience or issuer, or lacks a claim, then 401 unauthorized', async () => {
    const { user } = await customer();
    const jwt = stack.config.jwt;
    const key = new TextEncoder().encode(jwt.secret);
    const nowSeconds = Math.floor(Date.now() / 1000);
    const signed = (options: { alg?: string; key?: Uint8Array; issuer?: string; audience?: string; exp?: number; iat?: number; sub?: string | null; claims?: Record<string, unknown> }) => {
      let token = new SignJWT({ role: 'customer', tv: 0, ...options.claims }).setProtectedHeader({ alg: options.alg ?? 'HS256', typ: 'JWT' });
      if (options.sub !== null) token = token.setSubject(options.sub ?? user.id);
      token = token.setIssuer(options.issuer ?? jwt.issuer).setAudience(options.audience ?? jwt.audience).setIssuedAt(options.iat ?? nowSeconds);
      if (options.exp !== -1) token = token.setExpirationTime(options.exp ?? nowSeconds + 600);
      return token.sign(options.key ?? key);
    };
    const good = await signed({});
    expect((await actors.call('GET', '/v1/me', { token: good })).status).toBe(200);

    const [header = '', payload = '', signature = ''] = good.split('.');
    const refused: Record<string, string> = {
      expired: await signed({ exp: nowSeconds - 5, iat: nowSeconds - 905 }),
      'signed with another key': await signed({ key: new TextEncoder().encode('another-secret-another-secret-another-secret') }),
      'alg none, no signature': `${base64url({ alg: 'none', typ: 'JWT' })}.${payload}.`,
      'alg none, the good signature kept': `${base64url({ alg: 'none', typ: 'JWT' })}.${payload}.${signature}`,
      'HS512 with the right key': await signed({ alg: 'HS512' }),
      'HS384 with the right key': await signed({ alg: 'HS384' }),
      'another audience': await signed({ audience: 'someone-else' }),
      'another issuer': await signed({ issuer: 'evil' }),
      'no expiry': await signed({ exp: -1 }),
      'no subject': await signed({ sub: null }),
      'a user that does not exist': await signed({ sub: newId('usr') }),
      'a token version from the future': await signed({ claims: { tv: 1 } }),
      'a token version that is not a number': await signed({ claims: { tv: '0' } }),
      'the payload changed (role admin), signature kept': `${header}.${base64url({ ...JSON.parse(Buffer.from(payload, 'base64url').toString()), role: 'admin' })}.${signature}`,
      'the signature cut short': `${header}.${payload}.${signature.slice(0, 20)}`,
      'issued in the future': await signed({ iat: nowSeconds + 3_600, exp: nowSeconds + 7_200 }),
      'older than JWT_TTL_SECONDS, with a far expiry': await signed({ iat: nowSeconds - jwt.ttlSeconds - 60, exp: nowSeconds + 86_400 }),
    };
    for (const [what, token] of Object.entries(refused)) {
      const response = await actors.call('GET', '/v1/me', { token });
      expect({ what, status: response.status }).toEqual({ what, status: 401 });
      expectError(response, 401, 'unauthorized');
    }
  });

  it('when a customer’s token says role admin (signed with the right key), then the role comes from the database: admin routes are 403', async () => {
    const { user } = await customer();
    const token = await issueAccessToken(stack.config.jwt, { userId: user.id, role: 'admin', tokenVersion: 0 });
    expectError(await actors.call('GET', '/v1/admin/reconciliation', { token }), 403, 'forbidden');
    expect((await actors.call<{ user: { role: string } }>('GET', '/v1/me', { token })).body.user.role).toBe('customer');
  });

  it('when a token comes in the query string, a cookie or another header, then it is not accepted', async () => {
    const { user } = await customer();
    const token = await issueAccessToken(stack.config.jwt, { userId: user.id, role: 'customer', tokenVersion: 0 });
    expectError(await actors.call('GET', `/v1/me?access_token=${token}`), 401, 'unauthorized');
    expectError(await actors.call('GET', '/v1/me', { headers: { cookie: `access_token=${token}` } }), 401, 'unauthorized');
    expectError(await actors.call('GET', '/v1/me', { headers: { 'x-access-token': token } }), 401, 'unauthorized');
    expectError(await actors.call('GET', '/v1/me', { headers: { authorization: `Bearer ${token}, Bearer ${token}` } }), 401, 'unauthorized');
  });
});

describe('API2 revoked sessions', () => {
  it('when the password changes, then every earlier access token and refresh token is refused', async () => {
    const { user } = await customer();
    const first = await login(user.email);
    const { accessToken } = first.body;
    const changed = await actors.call('POST', '/v1/me/password', { token: accessToken, body: { currentPassword: PASSWORD, newPassword: 'a whole new passphrase' } });
    expect(changed.status).toBe(204);
    expectError(await actors.call('GET', '/v1/me', { token: accessToken }), 401, 'unauthorized');
    expectError(await actors.call('POST', '/v1/auth/refresh', { headers: { 'x-requested-with': 'fetch', cookie: refreshCookieOf(first) } }), 401, 'unauthorized');
  });

  it('when a session logs out, then its refresh token and its access tokens are refused at once, and another session of the user goes on', async () => {
    const { user } = await customer();
    const session = await login(user.email);
    const other = await login(user.email);
    const cookie = refreshCookieOf(session);
    const refreshed = await actors.call<{ accessToken: string }>('POST', '/v1/auth/refresh', { headers: { 'x-requested-with': 'fetch', cookie } });
    expect(refreshed.status).toBe(200);
    expect((await actors.call('GET', '/v1/me', { token: session.body.accessToken })).status).toBe(200);
    expect((await actors.call('GET', '/v1/me', { token: refreshed.body.accessToken })).status).toBe(200);

    expect((await actors.call('POST', '/v1/auth/logout', { headers: { 'x-requested-with': 'fetch', cookie: refreshCookieOf(refreshed) } })).status).toBe(204);

    // Both access tokens of the session end now, not at their expiry: the one from login and the one from refresh.
    expectError(await actors.call('GET', '/v1/me', { token: session.body.accessToken }), 401, 'unauthorized');
    expectError(await actors.call('GET', '/v1/me', { token: refreshed.body.accessToken }), 401, 'unauthorized');
    expectError(await actors.call('POST', '/v1/auth/refresh', { headers: { 'x-requested-with': 'fetch', cookie: refreshCookieOf(refreshed) } }), 401, 'unauthorized');
    expect((await actors.call<{ user: { id: string } }>('GET', '/v1/me', { token: other.body.accessToken })).body.user.id).toBe(user.id);
    expect((await actors.call('POST', '/v1/auth/refresh', { headers: { 'x-requested-with': 'fetch', cookie: refreshCookieOf(other) } })).status).toBe(200);
  });

  it('when a token names a session and its signature is good, then the session id must be well formed', async () => {
    const { user } = await customer();
    const good = await issueAccessToken(stack.config.jwt, { userId: user.id, role: 'customer', tokenVersion: 0, sessionId: newId('ses') });
    // A session this API never revoked (here: never started) does not stop a token the API signed.
    expect((await actors.call('GET', '/v1/me', { token: good })).status).toBe(200);
    for (const sid of [42, '', 'ses_x', "ses_' or '1'='1", ['ses'], null]) {
      const token = await new SignJWT({ role: 'customer', tv: 0, sid })
        .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
        .setSubject(user.id)
        .setIssuer(stack.config.jwt.issuer)
        .setAudience(stack.config.jwt.audience)
        .setIssuedAt()
        .setExpirationTime('5m')
        .sign(new TextEncoder().encode(stack.config.jwt.secret));
      const response = await actors.call('GET', '/v1/me', { token });
      expect({ sid, status: response.status }).toEqual({ sid, status: 401 });
    }
  });

  it('when the account is closed, then its tokens and its refresh token are refused and it cannot log in', async () => {
    const { user } = await customer();
    const session = await login(user.email);
    expect((await actors.call('DELETE', '/v1/me', { token: session.body.accessToken })).status).toBe(204);
    expectError(await actors.call('GET', '/v1/me', { token: session.body.accessToken }), 401, 'unauthorized');
    expectError(await actors.call('POST', '/v1/auth/refresh', { headers: { 'x-requested-with': 'fetch', cookie: refreshCookieOf(session) } }), 401, 'unauthorized');
    expectError(await login(user.email), 401, 'invalid_credentials');
  });

  it('when a refresh token is used twice, the second time after the grace window, then the second use is refused and the session it started is revoked too, its access tokens included', async () => {
    const { user } = await customer();
    const session = await login(user.email);
    const stolen = refreshCookieOf(session);
    const rotated = await actors.call<{ accessToken: string }>('POST', '/v1/auth/refresh', { headers: { 'x-requested-with': 'fetch', cookie: stolen } });
    expect(rotated.status).toBe(200);
    const next = refreshCookieOf(rotated);
    expect(next).not.toBe(stolen);
    expect((await actors.call('GET', '/v1/me', { token: rotated.body.accessToken })).status).toBe(200);
    // Past the grace window that lets two tabs refresh at once (sessions.test.ts covers the window itself).
    sessionClockAheadMs += (stack.config.session.reuseGraceSeconds + 1) * 1_000;
    expectError(await actors.call('POST', '/v1/auth/refresh', { headers: { 'x-requested-with': 'fetch', cookie: stolen } }), 401, 'unauthorized');
    expectError(await actors.call('POST', '/v1/auth/refresh', { headers: { 'x-requested-with': 'fetch', cookie: next } }), 401, 'unauthorized');
    expectError(await actors.call('POST', '/v1/auth/refresh', { headers: { 'x-requested-with': 'fetch', cookie: 'sagapay_refresh=forged-value' } }), 401, 'unauthorized');
    // The session's access tokens end with it: whoever holds them, thief or owner, logs in again.
    expectError(await actors.call('GET', '/v1/me', { token: session.body.accessToken }), 401, 'unauthorized');
    expectError(await actors.call('GET', '/v1/me', { token: rotated.body.accessToken }), 401, 'unauthorized');
  });
});

describe('API2 cookie-only endpoints refuse another site’s requests', () => {
  /** How the request is sent, besides the refresh cookie, and whether a page of another site could send it so. */
  const REQUESTS: Array<[what: string, headers: (own: string) => Record<string, string>, body: string | undefined, allowed: boolean]> = [
    ['a form post, no Origin', () => ({ 'content-type': 'application/x-www-form-urlencoded' }), '', false],
    ['a form post from another site', () => ({ 'content-type': 'application/x-www-form-urlencoded', origin: 'https://evil.example' }), '', false],
    ['a text/plain post from another site', () => ({ 'content-type': 'text/plain', origin: 'https://evil.example' }), '', false],
    ['a multipart form post', () => ({ 'content-type': 'multipart/form-data; boundary=x' }), '', false],
    ['no Origin and no header', () => ({}), undefined, false],
    ['Origin null (a sandboxed page)', () => ({ origin: 'null' }), undefined, false],
    ['another site’s Origin, even with JSON', () => ({ 'content-type': 'application/json', origin: 'https://evil.example' }), undefined, false],
    ['another port of the same host', (own) => ({ origin: own.replace(/:(\d+)$/, (_port, port: string) => `:${Number(port) + 1}`) }), undefined, false],
    ['Sec-Fetch-Site: cross-site, with X-Requested-With', () => ({ 'sec-fetch-site': 'cross-site', 'x-requested-with': 'fetch' }), undefined, false],
    ['this API’s own Origin', (own) => ({ origin: own }), undefined, true],
    ['this API’s own Origin, as a form', (own) => ({ origin: own, 'content-type': 'application/x-www-form-urlencoded', 'sec-fetch-site': 'same-origin' }), '', true],
    ['Content-Type: application/json, no body', () => ({ 'content-type': 'application/json' }), undefined, true],
    ['Content-Type: application/json; charset=utf-8 and {}', () => ({ 'content-type': 'application/json; charset=utf-8' }), '{}', true],
    ['X-Requested-With (the web wallet)', () => ({ 'x-requested-with': 'fetch' }), undefined, true],
  ];

  it.each(REQUESTS.flatMap(([what, headers, body, allowed]) => (['refresh', 'logout'] as const).map((route) => [route, what, headers, body, allowed] as const)))(
    'when %s gets the refresh cookie with %s, then it is refused 403 forbidden unless the request is the site’s own',
    async (route, _what, headers, body, allowed) => {
      const { user } = await customer();
      const session = await login(user.email);
      const cookie = refreshCookieOf(session);
      const response = await actors.call('POST', `/v1/auth/${route}`, { headers: { ...headers(stack.baseUrl), cookie, 'x-forwarded-for': freshAddress() }, raw: body });
      if (!allowed) {
        expectError(response, 403, 'forbidden');
        // Refused before anything happened: no cookie cleared, the session and its access token go on.
        expect(response.headers.getSetCookie()).toEqual([]);
        expect((await actors.call('GET', '/v1/me', { token: session.body.accessToken })).status).toBe(200);
        expect(await stack.db('refresh_tokens').where({ user_id: user.id }).whereNull('rotated_at').whereNull('revoked_at')).toHaveLength(1);
        return;
      }
      expect(response.status).toBe(route === 'refresh' ? 200 : 204);
      // A refresh leaves the session's access token working; a logout ends it at once.
      expect((await actors.call('GET', '/v1/me', { token: session.body.accessToken })).status).toBe(route === 'refresh' ? 200 : 401);
    },
  );

  it('when refresh and logout carry no cookie at all, then there is nothing to borrow: 401 and 204 as before', async () => {
    const form = { 'content-type': 'application/x-www-form-urlencoded', origin: 'https://evil.example', 'x-forwarded-for': freshAddress() };
    expectError(await actors.call('POST', '/v1/auth/refresh', { headers: form, raw: '' }), 401, 'unauthorized');
    expect((await actors.call('POST', '/v1/auth/logout', { headers: form, raw: '' })).status).toBe(204);
  });
});

describe('API2 and API6 password guessing', () => {
  /** Every route that checks a password, and how one guess is sent to it for a customer (a stolen access token for the password change). */
  const PASSWORD_CHECKS: Array<{ route: string; guess: (who: { email: string; token: string }, password: string) => Promise<TestResponse<unknown>> }> = [
    { route: 'POST /v1/auth/login', guess: (who, password) => login(who.email, password) },
    {
      route: 'POST /v1/me/password',
      guess: (who, password) =>
        actors.call('POST', '/v1/me/password', { token: who.token, body: { currentPassword: password, newPassword: 'a new long password' }, headers: { 'x-forwarded-for': freshAddress() } }),
    },
  ];

  async function guesser() {
    const { user } = await customer();
    return { id: user.id, email: user.email, token: await issueAccessToken(stack.config.jwt, { userId: user.id, role: user.role, tokenVersion: 0 }) };
  }

  it.each(PASSWORD_CHECKS)('when $route gets more wrong passwords than RATE_LIMIT_LOGIN_PER_EMAIL, then even the right one is 429 with Retry-After', async ({ route, guess }) => {
    const who = await guesser();
    for (let attempt = 0; attempt < 5; attempt += 1) expectError(await guess(who, `wrong guess ${attempt}`), 401, 'invalid_credentials');

    const limited = await guess(who, PASSWORD);

    expect({ route, status: limited.status }).toEqual({ route, status: 429 });
    expectError(limited, 429, 'rate_limited');
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(await stack.db('users').select('token_version').where({ id: who.id }).first()).toMatchObject({ token_version: 0 });
  });

  it('when wrong logins and wrong current passwords add up past the limit, then both routes are 429 and the refused password change is audited', async () => {
    const who = await guesser();
    const [viaLogin, viaPasswordChange] = PASSWORD_CHECKS.map((check) => check.guess);
    if (!viaLogin || !viaPasswordChange) throw new Error('both checks are in the table');
    for (let attempt = 0; attempt < 3; attempt += 1) expectError(await viaPasswordChange(who, `token guess ${attempt}`), 401, 'invalid_credentials');
    for (let attempt = 0; attempt < 2; attempt += 1) expectError(await viaLogin(who, `login guess ${attempt}`), 401, 'invalid_credentials');

    expectError(await viaLogin(who, PASSWORD), 429, 'rate_limited');
    expectError(await viaPasswordChange(who, PASSWORD), 429, 'rate_limited');

    const audited = await stack.db('audit_log').where({ actor_id: who.id, action: 'user.password_guessing_limited' });
    expect(audited).toHaveLength(1);
  });

  it('when one address tries more logins than RATE_LIMIT_LOGIN_PER_IP, over many e-mails, then it is 429 until the window ends', async () => {
    const address = freshAddress();
    for (let attempt = 0; attempt < 12; attempt += 1) {
      expectError(await login(`nobody-${attempt}-${newId('req').toLowerCase()}@example.test`, 'any guess at all', address), 401, 'invalid_credentials');
    }
    const limited = await login(`nobody-else-${newId('req').toLowerCase()}@example.test`, 'any guess at all', address);
    expectError(limited, 429, 'rate_limited');
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
  });

  it('when the e-mail is unknown or the password wrong, then the answers are the same 401 invalid_credentials', async () => {
    const { user } = await customer();
    const wrong = expectError(await login(user.email, 'not the password'), 401, 'invalid_credentials');
    const unknown = expectError(await login(`nobody-${newId('req').toLowerCase()}@example.test`, 'not the password'), 401, 'invalid_credentials');
    expect(wrong.message).toBe(unknown.message);
  });
});
