import { createHash } from 'node:crypto';
import { hashPassword } from '../api/auth/passwords';
import { issueAccessToken } from '../api/auth/tokens';
import { insertUser } from '../api/users';
import { actorsOf, expectError } from './support/actors';
import { uniqueEmail } from './support/fixtures';
import type { TestResponse } from './support/http';
import { startStackWith, type TestStack } from './support/stack';

/** Web sessions end to end: the refresh token cookie of login, its rotation, reuse detection and logout. */
let stack: TestStack;
let actors: ReturnType<typeof actorsOf>;
const PASSWORD = 'correct horse battery';
/** How far the sessions' clock runs ahead of the real one: moved only by the test, never back. */
let sessionClockAheadMs = 0;

beforeAll(async () => {
  stack = await startStackWith({}, { sessionNowMs: () => Date.now() + sessionClockAheadMs });
  actors = actorsOf(stack);
});

/** Moves the sessions' clock past the reuse grace window: a token rotated before is now plain reuse. */
function passTheGraceWindow(): void {
  sessionClockAheadMs += (stack.config.session.reuseGraceSeconds + 1) * 1_000;
}

afterAll(async () => {
  await stack.stop();
});

/** A user who only logs in: written straight to the database, so no onboarding saga runs for it. */
async function userWithPassword(): Promise<{ id: string; email: string }> {
  const email = uniqueEmail('session');
  const user = await insertUser(stack.db, { email, passwordHash: await hashPassword(PASSWORD), name: 'Session', phone: null, role: 'customer', currency: 'USD' });
  await stack.db('users').where({ id: user.id }).update({ onboarding_status: 'completed' });
  return { id: user.id, email };
}

/** The refresh cookie an answer sets, with its attributes. */
function refreshCookieOf(response: TestResponse<unknown>): { token: string; attributes: string[] } {
  const cookies = response.headers.getSetCookie().filter((cookie) => cookie.startsWith('sagapay_refresh='));
  expect(cookies).toHaveLength(1);
  const [pair = '', ...attributes] = (cookies[0] ?? '').split('; ');
  return { token: pair.slice('sagapay_refresh='.length), attributes };
}

/** The cookie, sent as the web wallet sends it (X-Requested-With: refresh and logout refuse a bare cookie). */
const withCookie = (token: string) => ({ headers: { cookie: `sagapay_refresh=${token}`, 'x-requested-with': 'fetch' } });
const login = (email: string) => actors.call<{ accessToken: string }>('POST', '/v1/auth/login', { body: { email, password: PASSWORD } });
const me = (token: string) => actors.call<{ user: { id: string } }>('GET', '/v1/me', { token });
/** The claims of an access token, read without checking it (the test only looks). */
const claimsOf = (token: string) => JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString()) as Record<string, unknown>;
const refresh = (token: string) => actors.call<{ accessToken: string; tokenType: string; expiresIn: number }>('POST', '/v1/auth/refresh', withCookie(token));

describe('web sessions', () => {
  it('when a user logs in, then the body is unchanged and an httpOnly, SameSite=Strict refresh cookie for /v1/auth is set, stored only hashed', async () => {
    const user = await userWithPassword();
    const response = await login(user.email);

    expect(response.status).toBe(200);
    expect(Object.keys(response.body).sort()).toEqual(['accessToken', 'expiresIn', 'tokenType']);
    const { token, attributes } = refreshCookieOf(response);
    expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(attributes).toEqual(['Path=/v1/auth', `Max-Age=${stack.config.session.refreshTtlSeconds}`, 'HttpOnly', 'SameSite=Strict']);
    const rows = await stack.db('refresh_tokens').where({ user_id: user.id });
    expect(rows).toHaveLength(1);
    expect(rows[0]?.token_hash.equals(createHash('sha256').update(token).digest())).toBe(true);
    expect(JSON.stringify(rows)).not.toContain(token);
  });

  it('when the cookie is refreshed, then a working access token comes back with a rotated cookie, and the old cookie no longer works', async () => {
    const user = await userWithPassword();
    const first = refreshCookieOf(await login(user.email)).token;

    const refreshed = await refresh(first);
    expect(refreshed.status).toBe(200);
    expect(refreshed.body).toMatchObject({ tokenType: 'Bearer', expiresIn: stack.config.jwt.ttlSeconds });
    const second = refreshCookieOf(refreshed).token;
    expect(second).not.toBe(first);
    const me = await actors.call<{ user: { id: string } }>('GET', '/v1/me', { token: refreshed.body.accessToken });
    expect(me.body.user.id).toBe(user.id);

    const third = refreshCookieOf(await refresh(second)).token;
    expect(third).not.toBe(second);
    expect(await stack.db('refresh_tokens').where({ user_id: user.id }).whereNull('revoked_at').whereNull('rotated_at')).toHaveLength(1);
  });

  it('when a rotated refresh token is presented again, then it is reuse: 401, the whole session is revoked and the audit log says so', async () => {
    const user = await userWithPassword();
    const stolen = refreshCookieOf(await login(user.email)).token;
    const current = refreshCookieOf(await refresh(stolen)).token;
    passTheGraceWindow();

    const reused = await refresh(stolen);
    expectError(reused, 401, 'unauthorized');
    expect(refreshCookieOf(reused)).toEqual({ token: '', attributes: expect.arrayContaining(['Max-Age=0', 'Path=/v1/auth']) as string[] });
    // The legitimate holder's newer token dies with the family: the thief's copy is worth nothing either.
    expectError(await refresh(current), 401, 'unauthorized');
    const audit = await stack.db('audit_log').where({ actor_id: user.id, action: 'session.refresh_reuse_detected' });
    expect(audit).toHaveLength(1);
    expect(audit[0]).toMatchObject({ resource_type: 'session' });
  });

  it('when two logins hold sessions and one session is reused, then only that session is revoked', async () => {
    const user = await userWithPassword();
    const laptop = refreshCookieOf(await login(user.email)).token;
    const phone = refreshCookieOf(await login(user.email)).token;
    await refresh(laptop);
    passTheGraceWindow();
    expectError(await refresh(laptop), 401, 'unauthorized');
    expect((await refresh(phone)).status).toBe(200);
  });

  it('when the cookie is missing, malformed, unknown or expired, then refresh is 401 unauthorized', async () => {
    expectError(await actors.call('POST', '/v1/auth/refresh'), 401, 'unauthorized');
    expectError(await refresh('not a token'), 401, 'unauthorized');
    expectError(await refresh('A'.repeat(43)), 401, 'unauthorized');

    const user = await userWithPassword();
    const token = refreshCookieOf(await login(user.email)).token;
    await stack.db('refresh_tokens').where({ user_id: user.id }).update({ expires_at: new Date(Date.now() - 1_000) });
    expectError(await refresh(token), 401, 'unauthorized');
  });

  it('when two tabs refresh one session at the same instant, then both succeed with the same new refresh token and access tokens of the same session', async () => {
    const user = await userWithPassword();
    const first = refreshCookieOf(await login(user.email)).token;

    const [one, two] = await Promise.all([refresh(first), refresh(first)]);

    expect([one.status, two.status]).toEqual([200, 200]);
    const [next, alsoNext] = [refreshCookieOf(one).token, refreshCookieOf(two).token];
    expect(next).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(alsoNext).toBe(next);
    expect(next).not.toBe(first);
    expect(claimsOf(one.body.accessToken).sid).toBe(claimsOf(two.body.accessToken).sid);
    expect((await me(one.body.accessToken)).body.user.id).toBe(user.id);
    expect((await me(two.body.accessToken)).body.user.id).toBe(user.id);
    // One rotation happened, not two, and nothing was taken for reuse: the session goes on with that token.
    expect(await stack.db('refresh_tokens').where({ user_id: user.id })).toHaveLength(2);
    expect(await stack.db('audit_log').where({ actor_id: user.id, action: 'session.refresh_reuse_detected' })).toHaveLength(0);
    expect((await refresh(next)).status).toBe(200);
  });

  it('when a token rotated moments ago comes back within the window, then it answers the same successor, which is stored only sealed', async () => {
    const user = await userWithPassword();
    const first = refreshCookieOf(await login(user.email)).token;
    const next = refreshCookieOf(await refresh(first)).token;

    const again = await refresh(first);

    expect(again.status).toBe(200);
    expect(refreshCookieOf(again).token).toBe(next);
    const rotated = await stack.db('refresh_tokens').where({ token_hash: createHash('sha256').update(first).digest() }).first();
    expect(rotated?.successor_sealed).toBeInstanceOf(Buffer);
    expect(rotated?.successor_sealed?.includes(Buffer.from(next))).toBe(false);
    expect(JSON.stringify(await stack.db('refresh_tokens').where({ user_id: user.id }))).not.toContain(next);
  });

  it('when the rotated token comes back after the grace window, then it is reuse: 401, the whole session revoked and audited', async () => {
    const user = await userWithPassword();
    const first = refreshCookieOf(await login(user.email)).token;
    const refreshed = await refresh(first);
    const next = refreshCookieOf(refreshed).token;
    passTheGraceWindow();

    expectError(await refresh(first), 401, 'unauthorized');

    expectError(await refresh(next), 401, 'unauthorized');
    expectError(await me(refreshed.body.accessToken), 401, 'unauthorized');
    expect(await stack.db('refresh_tokens').where({ user_id: user.id }).whereNull('revoked_at')).toHaveLength(0);
    expect(await stack.db('audit_log').where({ actor_id: user.id, action: 'session.refresh_reuse_detected' })).toHaveLength(1);
  });

  it('when the successor was already rotated, then the older token is reuse even within the window', async () => {
    const user = await userWithPassword();
    const first = refreshCookieOf(await login(user.email)).token;
    const second = refreshCookieOf(await refresh(first)).token;
    const third = refreshCookieOf(await refresh(second)).token;

    expectError(await refresh(first), 401, 'unauthorized');

    expectError(await refresh(third), 401, 'unauthorized');
    expect(await stack.db('audit_log').where({ actor_id: user.id, action: 'session.refresh_reuse_detected' })).toHaveLength(1);
  });

  it('when a user logs in again, then their expired refresh tokens are deleted and their live ones kept', async () => {
    const user = await userWithPassword();
    const live = refreshCookieOf(await login(user.email)).token;
    const expired = refreshCookieOf(await login(user.email)).token;
    await stack.db('refresh_tokens').where({ token_hash: createHash('sha256').update(expired).digest() }).update({ expires_at: new Date(Date.now() - 1_000) });

    await login(user.email);
    expect(await stack.db('refresh_tokens').where({ user_id: user.id })).toHaveLength(2);
    expect(await stack.db('refresh_tokens').where({ token_hash: createHash('sha256').update(expired).digest() })).toHaveLength(0);
    expect((await refresh(live)).status).toBe(200);
  });

  it('when a user logs out, then 204 clears the cookie, the refresh token is revoked, and the audit log records it', async () => {
    const user = await userWithPassword();
    const token = refreshCookieOf(await login(user.email)).token;

    const out = await actors.call('POST', '/v1/auth/logout', withCookie(token));
    expect(out.status).toBe(204);
    expect(refreshCookieOf(out)).toEqual({ token: '', attributes: expect.arrayContaining(['Max-Age=0', 'Path=/v1/auth', 'HttpOnly']) as string[] });
    expectError(await refresh(token), 401, 'unauthorized');
    expect(await stack.db('audit_log').where({ actor_id: user.id, action: 'session.logged_out' })).toHaveLength(1);
    // A revoked token presented again is not reuse: nothing more is recorded.
    expect(await stack.db('audit_log').where({ actor_id: user.id, action: 'session.refresh_reuse_detected' })).toHaveLength(0);

    const again = await actors.call('POST', '/v1/auth/logout', withCookie(token));
    expect(again.status).toBe(204);
    expect((await actors.call('POST', '/v1/auth/logout')).status).toBe(204);
    expect(await stack.db('audit_log').where({ actor_id: user.id, action: 'session.logged_out' })).toHaveLength(1);
  });
  it('when login and refresh issue access tokens, then each names its session (the refresh token family) in the sid claim', async () => {
    const user = await userWithPassword();
    const first = await login(user.email);
    const refreshed = await refresh(refreshCookieOf(first).token);
    const [row] = await stack.db('refresh_tokens').where({ user_id: user.id }).distinct('family_id');

    expect(claimsOf(first.body.accessToken).sid).toBe(row?.family_id);
    expect(claimsOf(refreshed.body.accessToken).sid).toBe(row?.family_id);
  });

  it('when a user logs out of one session, then that session\'s access tokens get 401 at once while a second login of theirs keeps working', async () => {
    const user = await userWithPassword();
    const laptop = await login(user.email);
    const phone = await login(user.email);
    expect((await me(laptop.body.accessToken)).status).toBe(200);

    expect((await actors.call('POST', '/v1/auth/logout', withCookie(refreshCookieOf(laptop).token))).status).toBe(204);

    expectError(await me(laptop.body.accessToken), 401, 'unauthorized');
    expect((await me(phone.body.accessToken)).body.user.id).toBe(user.id);
    const phoneRefreshed = await refresh(refreshCookieOf(phone).token);
    expect((await me(phoneRefreshed.body.accessToken)).status).toBe(200);
  });

  it('when a rotated refresh token is reused, then the access tokens of that session get 401, those of another session do not', async () => {
    const user = await userWithPassword();
    const stolenLogin = await login(user.email);
    const other = await login(user.email);
    const rotated = await refresh(refreshCookieOf(stolenLogin).token);
    expect((await me(rotated.body.accessToken)).status).toBe(200);
    passTheGraceWindow();

    expectError(await refresh(refreshCookieOf(stolenLogin).token), 401, 'unauthorized');

    expectError(await me(stolenLogin.body.accessToken), 401, 'unauthorized');
    expectError(await me(rotated.body.accessToken), 401, 'unauthorized');
    expect((await me(other.body.accessToken)).status).toBe(200);
  });

  it('when an access token was signed without a session (scripts, benchmarks), then it keeps working after every session of its user is logged out', async () => {
    const user = await userWithPassword();
    const session = await login(user.email);
    const sessionless = await issueAccessToken(stack.config.jwt, { userId: user.id, role: 'customer', tokenVersion: 0 });
    expect(claimsOf(sessionless)).not.toHaveProperty('sid');

    expect((await actors.call('POST', '/v1/auth/logout', withCookie(refreshCookieOf(session).token))).status).toBe(204);

    expectError(await me(session.body.accessToken), 401, 'unauthorized');
    expect((await me(sessionless)).body.user.id).toBe(user.id);
  });
});
