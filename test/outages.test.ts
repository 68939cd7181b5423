import type { Knex } from 'knex';
import { createApp } from '../api/app';
import { createDatabase } from '../infra/database';
import { actorsOf, expectError, type Actor } from './support/actors';
import { closedPort } from './support/fixtures';
import { request, type TestResponse } from './support/http';
import { openApiDocumentFor, ResponseValidator } from './support/openapi';
import { serveOnEphemeralPort, startStack, type ListeningApp, type TestStack } from './support/stack';

/**
 * An outage is not a bug: with the database out of reach, its pool exhausted, or a lock held past
 * the transaction's retries, the API answers 503 `service_unavailable` with `Retry-After`, in the
 * contract's shape and as the OpenAPI document declares it, never 500. Real servers, real pools.
 */
let stack: TestStack;
let actors: ReturnType<typeof actorsOf>;
let validator: ResponseValidator;
let customer: Actor;
let merchant: Actor;
let adminToken: string;

beforeAll(async () => {
  stack = await startStack();
  actors = actorsOf(stack);
  validator = new ResponseValidator(openApiDocumentFor(stack.config));
  [customer, merchant] = await Promise.all([actors.signUp(), actors.signUp({ role: 'merchant', name: 'Outage Shop' })]);
  adminToken = await actors.admin();
}, 60_000);

afterAll(async () => {
  try {
    await actors?.expectReconciled(adminToken);
  } finally {
    await stack?.stop();
  }
});

/** Serves the app on `db` instead of the stack's pool, runs `use`, then stops the app and the pool. */
async function withAppOn(db: Knex, use: (app: ListeningApp, reported: unknown[]) => Promise<void>): Promise<void> {
  const reported: unknown[] = [];
  const app = await serveOnEphemeralPort(createApp({ db, temporal: stack.temporal, config: stack.config, report: (error) => reported.push(error) }), stack.config);
  try {
    await use(app, reported);
  } finally {
    await app.close();
    await db.destroy();
  }
}

/** A request to `app`, checked against the OpenAPI document like every answer of the stack's own API. */
async function call(app: ListeningApp, method: string, path: string, options: Parameters<typeof request>[3] = {}): Promise<TestResponse> {
  const response = await request(app.baseUrl, method, path, options);
  validator.validate(method, path, response);
  return response;
}

function expectUnavailable(response: TestResponse, retryAfterSeconds: number): void {
  const error = expectError(response, 503, 'service_unavailable');
  expect(response.headers.get('retry-after')).toBe(String(retryAfterSeconds));
  expect(error.details).toEqual({ retryAfterSeconds });
  expect(JSON.stringify(response.body)).not.toMatch(/ECONN|ER_|knex|mysql|127\.0\.0\.1|select |insert |\.ts:\d+/i);
}

describe('the database out of reach', () => {
  it('when the pool points at a closed port, then reads and money POSTs answer 503 with Retry-After 5 within the acquire bound, and each cause is reported', async () => {
    const url = new URL(stack.config.databaseUrl);
    url.port = String(await closedPort());
    const limits = { ...stack.config.databaseWaitLimits, acquireTimeoutMs: 500 };
    await withAppOn(createDatabase(url.toString(), 2, limits), async (app, reported) => {
      const startedAt = Date.now();
      const answers = [
        await call(app, 'GET', '/v1/me', { token: customer.token }),
        await call(app, 'GET', `/v1/wallets/${customer.wallet.id}`, { token: customer.token }),
        await call(app, 'POST', '/v1/payments', { token: customer.token, body: { merchantId: merchant.user.id, amount: 100, currency: 'USD' }, headers: { 'Idempotency-Key': 'outage-pay' } }),
      ];
      for (const answer of answers) expectUnavailable(answer, 5);
      expect(Date.now() - startedAt).toBeLessThan(answers.length * (limits.acquireTimeoutMs + 1_000));
      expect(reported).toHaveLength(answers.length);
    });
    expect(await stack.db('payments').where({ payer_id: customer.user.id })).toEqual([]);
  });

  it('when every pooled connection is taken past the acquire timeout, then the answer is 503 with Retry-After 5 (KnexTimeoutError), and the next request after the release succeeds', async () => {
    const small = createDatabase(stack.config.databaseUrl, 1, { ...stack.config.databaseWaitLimits, acquireTimeoutMs: 300 });
    await withAppOn(small, async (app) => {
      const holder = await small.transaction();
      try {
        expectUnavailable(await call(app, 'GET', '/v1/me', { token: customer.token }), 5);
      } finally {
        await holder.rollback();
      }
      expect((await call(app, 'GET', '/v1/me', { token: customer.token })).status).toBe(200);
    });
  });
});

describe('a lock held past the retries', () => {
  it('when another session holds the user’s row for longer than the lock waits and retries, then PATCH /v1/me answers 503 with Retry-After 1 within the retry bound, and nothing changed', async () => {
    const holder = await stack.db.transaction();
    let response: TestResponse;
    let elapsedMs: number;
    try {
      await holder('users').where({ id: customer.user.id }).forUpdate().first();
      const startedAt = Date.now();
      response = await actors.call('PATCH', '/v1/me', { token: customer.token, body: { name: 'Never Renamed' } });
      elapsedMs = Date.now() - startedAt;
    } finally {
      await holder.rollback();
    }

    expectUnavailable(response, 1);
    // The retry budget (3 s) plus the lock wait of the attempt running when it ran out (2 s).
    expect(elapsedMs).toBeLessThan(3_000 + stack.config.databaseWaitLimits.lockWaitTimeoutS * 1_000 + 1_000);
    expect(await stack.db('users').select('name').where({ id: customer.user.id }).first()).toEqual({ name: 'Test User' });
  });
});
