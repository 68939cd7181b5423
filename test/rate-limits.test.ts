import { randomBytes } from 'node:crypto';
import { hashPassword } from '../api/auth/passwords';
import { issueAccessToken } from '../api/auth/tokens';
import { insertUser } from '../api/users';
import { actorsOf, expectError } from './support/actors';
import { userWithWallet, uniqueEmail, balanceOf } from './support/fixtures';
import { request, type TestResponse } from './support/http';
import { openApiDocumentFor, ResponseValidator } from './support/openapi';
import { startStackWith, type TestStack } from './support/stack';

/**
 * The contract's rate limits on the real app and database store, set low for this stack.
 * Every file of the run calls from 127.0.0.1 into one shared database (kept between runs when
 * TEST_DATABASE_URL is set), so these tests come from addresses of their own (X-Forwarded-For,
 * trusted here) and users of their own. The limits count on a clock the test holds: all calls
 * fall in one window however slow the machine is, and the next window comes without waiting.
 */
const LIMITS = {
  TRUST_PROXY: 'true',
  RATE_LIMIT_LOGIN_PER_IP: '5/24h',
  RATE_LIMIT_LOGIN_PER_EMAIL: '3/24h',
  RATE_LIMIT_REGISTER_PER_IP: '2/24h',
  RATE_LIMIT_MONEY_PER_USER: '3/2s',
  RATE_LIMIT_RECIPIENTS_PER_USER: '3/24h',
  RATE_LIMIT_RECIPIENTS_PER_IP: '5/24h',
};
const MONEY_WINDOW_MS = 2_000;
const PASSWORD = 'correct horse battery';

let stack: TestStack;
let validator: ResponseValidator;
/** The rate limits' clock: the start of a 2 s window, moved only by the test. */
let clockMs = Math.floor(Date.now() / MONEY_WINDOW_MS) * MONEY_WINDOW_MS;
/** A documentation-prefix IPv6 network of this run's own: no earlier run against a kept database used it. */
const runNetwork = `2001:db8:${randomBytes(6).toString('hex').match(/.{4}/g)?.join(':') ?? ''}`;
let nextHost = 0;
/** An address no other test of this run, or of an earlier one, used. */
const freshIp = () => `${runNetwork}::${(nextHost += 1).toString(16)}`;

beforeAll(async () => {
  stack = await startStackWith(LIMITS, { rateLimitNowMs: () => clockMs });
  validator = new ResponseValidator(openApiDocumentFor(stack.config));
});

afterAll(async () => {
  // The file moves money (top-ups and payments under their limits): it ends with the ledger's invariants.
  const actors = actorsOf(stack);
  await actors.expectReconciled(await actors.admin());
  await stack.stop();
});

async function call<T = Record<string, unknown>>(method: string, path: string, options: { ip: string; token?: string; body?: unknown }): Promise<TestResponse<T>> {
  const response = await request<T>(stack.baseUrl, method, path, { token: options.token, body: options.body, headers: { 'X-Forwarded-For': options.ip } });
  // Every answer, 429s with their Retry-After included, is what the OpenAPI document promises.
  validator.validate(method, path, response);
  // A sign-up starts an onboarding saga: stack.stop() waits for it to end.
  if (path === '/v1/auth/register' && response.status === 201) stack.own.add((response.body as { user: { id: string } }).user.id);
  return response;
}

/** A user who only logs in: written straight to the database, so no onboarding saga runs for it. */
async function userWithPassword(): Promise<string> {
  const email = uniqueEmail('limited');
  const user = await insertUser(stack.db, { email, passwordHash: await hashPassword(PASSWORD), name: 'Limited', phone: null, role: 'customer', currency: 'USD' });
  await stack.db('users').where({ id: user.id }).update({ onboarding_status: 'completed' });
  return email;
}

function expectRateLimited(response: TestResponse<unknown>, maxRetryAfterSeconds: number): number {
  const error = expectError(response, 429, 'rate_limited');
  const retryAfter = Number(response.headers.get('retry-after'));
  expect(Number.isInteger(retryAfter) && retryAfter >= 1 && retryAfter <= maxRetryAfterSeconds).toBe(true);
  expect(error.details).toMatchObject({ retryAfterSeconds: retryAfter });
  return retryAfter;
}

describe('rate limits', () => {
  it('when one IP tries more logins than its limit, then it gets 429 rate_limited with Retry-After, and another IP still logs in', async () => {
    const email = await userWithPassword();
    const attacker = freshIp();
    // Five wrong passwords, each against its own e-mail so only the per-IP limit counts them.
    for (let attempt = 0; attempt < 5; attempt += 1) {
      expectError(await call('POST', '/v1/auth/login', { ip: attacker, body: { email: uniqueEmail(), password: 'wrong password' } }), 401, 'invalid_credentials');
    }
    const refused = await call('POST', '/v1/auth/login', { ip: attacker, body: { email, password: PASSWORD } });
    expectRateLimited(refused, 86_400);

    const other = await call<{ accessToken: string }>('POST', '/v1/auth/login', { ip: freshIp(), body: { email, password: PASSWORD } });
    expect(other.status).toBe(200);
  });

  it('when one IP refreshes more often than the login limit, then refresh gets 429 too, counted apart from logins', async () => {
    const client = freshIp();
    for (let attempt = 0; attempt < 5; attempt += 1) expectError(await call('POST', '/v1/auth/refresh', { ip: client }), 401, 'unauthorized');
    expectRateLimited(await call('POST', '/v1/auth/refresh', { ip: client }), 86_400);

    const email = await userWithPassword();
    expect((await call('POST', '/v1/auth/login', { ip: client, body: { email, password: PASSWORD } })).status).toBe(200);
  });

  it('when one e-mail fails from many IPs past its limit, then the next login from a new address is refused even with the right password', async () => {
    const email = await userWithPassword();
    for (const spelling of [email, email.toUpperCase(), ` ${email} `]) {
      expectError(await call('POST', '/v1/auth/login', { ip: freshIp(), body: { email: spelling, password: 'wrong password' } }), 401, 'invalid_credentials');
    }
    expectRateLimited(await call('POST', '/v1/auth/login', { ip: freshIp(), body: { email, password: PASSWORD } }), 86_400);

    const bystander = await userWithPassword();
    expect((await call('POST', '/v1/auth/login', { ip: freshIp(), body: { email: bystander, password: PASSWORD } })).status).toBe(200);
  });

  it('when the owner logs in more often than the e-mail limit, then every login succeeds: successes are not counted', async () => {
    const email = await userWithPassword();
    const statuses = [];
    for (let login = 0; login < 5; login += 1) statuses.push((await call('POST', '/v1/auth/login', { ip: freshIp(), body: { email, password: PASSWORD } })).status);
    expect(statuses).toEqual([200, 200, 200, 200, 200]);
  });

  it('when strangers fail past the e-mail limit, then the owner still logs in from an address they used before, and an unknown address is refused even with the right password', async () => {
    const email = await userWithPassword();
    const home = freshIp();
    expect((await call('POST', '/v1/auth/login', { ip: home, body: { email, password: PASSWORD } })).status).toBe(200);
    for (let attempt = 0; attempt < 3; attempt += 1) {
      expectError(await call('POST', '/v1/auth/login', { ip: freshIp(), body: { email, password: 'a stranger guessing' } }), 401, 'invalid_credentials');
    }

    expectRateLimited(await call('POST', '/v1/auth/login', { ip: freshIp(), body: { email, password: PASSWORD } }), 86_400);
    expect((await call('POST', '/v1/auth/login', { ip: home, body: { email, password: PASSWORD } })).status).toBe(200);
    // From the known address the password is still checked: a wrong one is a 401, not a way in.
    expectError(await call('POST', '/v1/auth/login', { ip: home, body: { email, password: 'a typo' } }), 401, 'invalid_credentials');
  });

  it('when guesses at one e-mail arrive all at once, then no more than the limit get a password check', async () => {
    const email = await userWithPassword();
    const answers = await Promise.all(
      Array.from({ length: 8 }, () => call('POST', '/v1/auth/login', { ip: freshIp(), body: { email, password: 'parallel guess' } })),
    );
    const statuses = answers.map((answer) => answer.status).sort();
    expect(statuses).toEqual([401, 401, 401, 429, 429, 429, 429, 429]);
  });

  it('when one IP registers past its limit, then it gets 429 and no user is written', async () => {
    const ip = freshIp();
    const emails = [uniqueEmail(), uniqueEmail(), uniqueEmail()];
    const answers = [];
    for (const email of emails) answers.push(await call('POST', '/v1/auth/register', { ip, body: { email, password: PASSWORD, name: 'Sign Up' } }));

    expect(answers.slice(0, 2).map((answer) => answer.status)).toEqual([201, 201]);
    expectRateLimited(answers[2] as TestResponse<unknown>, 86_400);
    expect(await stack.db('users').where({ email: emails[2] ?? '' }).first()).toBeUndefined();
    expect((await call('POST', '/v1/auth/register', { ip: freshIp(), body: { email: uniqueEmail(), password: PASSWORD, name: 'Other' } })).status).toBe(201);
  });

  it('when a client forges X-Forwarded-For entries in front of its address, then the limit still counts the address the proxy appended', async () => {
    const client = freshIp();
    const register = (forged: string) =>
      call('POST', '/v1/auth/register', { ip: `${forged}, ${client}`, body: { email: uniqueEmail(), password: PASSWORD, name: 'Forger' } });
    const statuses = [];
    for (const forged of [freshIp(), freshIp(), freshIp()]) statuses.push((await register(forged)).status);
    expect(statuses).toEqual([201, 201, 429]);
  });

  it('when one user moves money past the limit, then top-ups and payments share it, nothing moves on a 429, and it resets after Retry-After', async () => {
    const { user, wallet } = await userWithWallet(stack.db, { balance: 10_000 });
    const token = await issueAccessToken(stack.config.jwt, { userId: user.id, role: user.role, tokenVersion: 0 });
    const other = await userWithWallet(stack.db);
    const otherToken = await issueAccessToken(stack.config.jwt, { userId: other.user.id, role: other.user.role, tokenVersion: 0 });
    const merchant = await userWithWallet(stack.db, { role: 'merchant' });
    const ip = freshIp();
    const topUp = (as: string, walletId: string) => call('POST', `/v1/wallets/${walletId}/topups`, { ip, token: as, body: { amount: 100, currency: 'USD' } });

    const allowed = [await topUp(token, wallet.id), await topUp(token, wallet.id), await topUp(token, wallet.id)];
    const payment = await call('POST', '/v1/payments', { ip, token, body: { merchantId: merchant.user.id, amount: 100, currency: 'USD' } });
    const extraTopUp = await topUp(token, wallet.id);

    expect(allowed.map((answer) => answer.status)).toEqual([201, 201, 201]);
    expect(expectRateLimited(payment, 2)).toBe(2);
    const retryAfter = expectRateLimited(extraTopUp, 2);
    expect(retryAfter).toBe(2);
    expect((await topUp(otherToken, other.wallet.id)).status).toBe(201);
    // The refused payment was never written, and no money moved for it.
    expect(await stack.db('payments').where({ payer_id: user.id })).toEqual([]);
    expect(await balanceOf(stack.db, wallet.id)).toBe(10_300);
    expect(await balanceOf(stack.db, merchant.wallet.id)).toBe(0);

    // One instant before Retry-After is still the same window; at Retry-After the next one starts.
    clockMs += retryAfter * 1_000 - 1;
    expectRateLimited(await topUp(token, wallet.id), 1);
    clockMs += 1;
    expect((await topUp(token, wallet.id)).status).toBe(201);
    expect(await balanceOf(stack.db, wallet.id)).toBe(10_400);
  });

  it('when one user looks up recipients past the per-user limit, or one IP past the per-IP limit, then 429 before any lookup; found and unknown both count', async () => {
    const tokenOfNewUser = async () => {
      const { user } = await userWithWallet(stack.db);
      return issueAccessToken(stack.config.jwt, { userId: user.id, role: user.role, tokenVersion: 0 });
    };
    const [first, second, third] = [await tokenOfNewUser(), await tokenOfNewUser(), await tokenOfNewUser()];
    const known = await userWithWallet(stack.db);
    const [ip, otherIp] = [freshIp(), freshIp()];
    const lookUp = (token: string, from: string, to = known.user.email) => call('GET', `/v1/recipients?to=${encodeURIComponent(to)}`, { ip: from, token });

    const allowed = [await lookUp(first, ip), await lookUp(first, ip, uniqueEmail('nobody')), await lookUp(first, ip)];
    const overUser = await lookUp(first, ip);
    const fromElsewhere = await lookUp(first, otherIp);

    expect(allowed.map((answer) => answer.status)).toEqual([200, 404, 200]);
    expectRateLimited(overUser, 86_400);
    expectRateLimited(fromElsewhere, 86_400);
    // The IP has counted four lookups (the refused one too): a second user gets the fifth, a third user is refused by the per-IP limit.
    expect((await lookUp(second, ip)).status).toBe(200);
    expectRateLimited(await lookUp(third, ip), 86_400);
    expect((await lookUp(third, freshIp())).status).toBe(200);
  });

  it('when recipients are probed through transfers and payments, then those checks count in the recipients limits with /v1/recipients: 429 at the same count', async () => {
    const senders: string[] = [];
    const tokenOfNewUser = async () => {
      const { user } = await userWithWallet(stack.db);
      senders.push(user.id);
      return issueAccessToken(stack.config.jwt, { userId: user.id, role: user.role, tokenVersion: 0 });
    };
    const [first, second, third, fourth] = [await tokenOfNewUser(), await tokenOfNewUser(), await tokenOfNewUser(), await tokenOfNewUser()];
    const lookUp = (token: string, ip: string) => call('GET', `/v1/recipients?to=${encodeURIComponent(uniqueEmail('nobody'))}`, { ip, token });
    const send = (token: string, ip: string) => call('POST', '/v1/transfers', { ip, token, body: { toEmail: uniqueEmail('nobody'), amount: 100, currency: 'USD' } });
    const pay = (token: string, ip: string) => call('POST', '/v1/payments', { ip, token, body: { merchantId: `usr_nobody${clockMs}`, amount: 100, currency: 'USD' } });
    // Refused by a recipients limit (a 24 h window), not by the money limit (3 per 2 s), which each user here stays within.
    const expectRecipientsLimited = (response: TestResponse<unknown>) => {
      expectRateLimited(response, 86_400);
      expect((response.body as { error: { details: { windowSeconds: number } } }).error.details.windowSeconds).toBe(86_400);
    };

    // Per user, 3: two lookups and a transfer, then the next transfer or payment is refused.
    const ip = freshIp();
    expect([(await lookUp(first, ip)).status, (await lookUp(first, ip)).status, (await send(first, ip)).status]).toEqual([404, 404, 404]);
    expectRecipientsLimited(await send(first, ip));
    expectRecipientsLimited(await pay(first, freshIp()));
    // The other way round: a transfer, a payment and a lookup, then /v1/recipients refuses.
    const otherIp = freshIp();
    expect([(await send(second, otherIp)).status, (await pay(second, otherIp)).status, (await lookUp(second, otherIp)).status]).toEqual([404, 404, 404]);
    expectRecipientsLimited(await lookUp(second, otherIp));

    // Per IP, 5: three checks of one user and two of another, then a sixth from that address is refused.
    const sharedIp = freshIp();
    expect([(await send(third, sharedIp)).status, (await pay(third, sharedIp)).status, (await send(third, sharedIp)).status]).toEqual([404, 404, 404]);
    expect([(await send(fourth, sharedIp)).status, (await send(fourth, sharedIp)).status]).toEqual([404, 404]);
    expectRecipientsLimited(await pay(fourth, sharedIp));
    expect(senders).toHaveLength(4);
    expect(await stack.db('transfers').whereIn('sender_id', senders)).toEqual([]);
    expect(await stack.db('payments').whereIn('payer_id', senders)).toEqual([]);
  });

  it('when requests were refused, then /metrics counts them per limit', async () => {
    const metrics = await fetch(`${stack.baseUrl}/metrics`).then((response) => response.text());
    for (const limit of ['login_ip', 'login_email', 'register_ip', 'money_user', 'recipients_user', 'recipients_ip']) {
      expect(metrics).toMatch(new RegExp(`^sagapay_rate_limited_total\\{limit="${limit}"\\} [1-9]`, 'm'));
    }
  });
});
