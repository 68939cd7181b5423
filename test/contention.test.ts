import type { RowDataPacket } from 'mysql2/promise';
import { actorsOf, type Actor } from './support/actors';
import { INNODB_VIEW_REFRESH_MS, lockWaitsBlockedBy, openTestSession, type TestSession } from './support/row-lock';
import { startStackWith, waitFor, type TestStack } from './support/stack';

/**
 * Contention is not an error: a payment to a merchant whose wallet a money step holds is stored
 * without waiting for that lock, and a deadlock of the API's own transaction is run again, so the
 * client sees 201 or 202, never 500 nor 503. Real row locks, taken by sessions of the test's own.
 * Each test ends with the reconciliation check (afterEach).
 */
let stack: TestStack;
let actors: ReturnType<typeof actorsOf>;
let adminToken: string;
let merchant: Actor;

/** Short enough to keep the file fast, longer than one lock wait (DATABASE_LOCK_WAIT_TIMEOUT_S, 2 s). */
const SYNC_WAIT_MS = 3_000;
/** What a request may take besides the sync wait: reading the row again, one start, the HTTP round trip. */
const ANSWER_MARGIN_MS = 1_500;

interface PaymentBody {
  id: string;
  status: string;
}

beforeAll(async () => {
  stack = await startStackWith({ PAYMENT_SYNC_WAIT_MS: String(SYNC_WAIT_MS) });
  actors = actorsOf(stack);
  adminToken = await actors.admin();
  merchant = await actors.signUp({ role: 'merchant', name: 'Busy Shop' });
}, 60_000);

afterEach(async () => {
  await actors.expectReconciled(adminToken);
});

afterAll(async () => {
  await stack.stop();
});

async function insertKey(session: TestSession, userId: string, key: string, resourceId: string): Promise<void> {
  await session.connection.query(
    'INSERT INTO idempotency_keys (user_id, idempotency_key, request_hash, resource_type, resource_id, created_at) VALUES (?, ?, ?, ?, ?, NOW(3))',
    [userId, key, 'r'.repeat(64), 'payment', resourceId],
  );
}

function pay(payer: Actor, amount: number, headers: Record<string, string> = {}) {
  return actors.call<PaymentBody>('POST', '/v1/payments', { token: payer.token, headers, body: { merchantId: merchant.user.id, amount, currency: 'USD' } });
}

async function finalPayment(payer: Actor, paymentId: string): Promise<PaymentBody> {
  return waitFor(
    async () => {
      const payment = (await actors.call<PaymentBody>('GET', `/v1/payments/${paymentId}`, { token: payer.token })).body;
      return payment.status === 'succeeded' || payment.status === 'failed' ? payment : undefined;
    },
    { what: `payment ${paymentId} to be final` },
  );
}

describe('a hot merchant wallet', () => {
  it('when a session holds the merchant’s wallet row FOR UPDATE, then POST /v1/payments answers 201 or 202 within PAYMENT_SYNC_WAIT_MS, and the payments succeed once it lets go', async () => {
    const payer = await actors.signUp();
    const merchantBefore = await actors.balanceOf(merchant.token, merchant.wallet.id);
    const holder = await openTestSession(stack.config.databaseUrl, 20);
    let answers: Array<{ status: number; elapsedMs: number; id: string }>;
    try {
      const [locked] = await holder.connection.query<RowDataPacket[]>('SELECT id FROM accounts WHERE id = ? FOR UPDATE', [merchant.wallet.id]);
      expect(locked).toHaveLength(1);

      const timed = async (headers: Record<string, string>) => {
        const startedAt = Date.now();
        const response = await pay(payer, 1_000, headers);
        return { status: response.status, elapsedMs: Date.now() - startedAt, id: response.body.id };
      };
      // One waits for the saga (which waits for the lock), one asks for the answer at once.
      answers = await Promise.all([timed({}), timed({ Prefer: 'respond-async' })]);
    } finally {
      await holder.end();
    }

    const [synchronous, asynchronous] = answers;
    expect([201, 202]).toContain(synchronous?.status);
    expect(synchronous?.elapsedMs).toBeLessThan(SYNC_WAIT_MS + ANSWER_MARGIN_MS);
    expect(asynchronous?.status).toBe(202);
    // Stored without waiting for the wallet's lock: well inside one lock wait (2 s).
    expect(asynchronous?.elapsedMs).toBeLessThan(1_000);
    for (const answer of answers) expect(await finalPayment(payer, answer.id)).toMatchObject({ status: 'succeeded' });
    expect(await actors.balanceOf(merchant.token, merchant.wallet.id)).toBe(merchantBefore + 2 * 980);
  });
});

describe('a deadlock on the API’s own insert', () => {
  it('when the payment’s transaction is chosen as a deadlock victim, then it runs again and the answer is 201 or 202 with exactly one payment', async () => {
    const payer = await actors.signUp();
    const key = `deadlock-${Date.now()}`;
    const rival = await openTestSession(stack.config.databaseUrl, 20);
    const cycle = (async () => {
      // The rival weighs more than the API's transaction (rows written), so InnoDB picks the API's as the victim.
      for (let index = 0; index < 20; index += 1) await insertKey(rival, payer.user.id, `${key}-ballast-${index}`, `pay_ballast_${index}`);
      // The payer's user row: the payment's insert checks its payer_id foreign key with a shared lock on it.
      await rival.connection.query('SELECT id FROM users WHERE id = ? FOR UPDATE', [payer.user.id]);
      const answer = pay(payer, 700, { 'Idempotency-Key': key });
      // The API's transaction has inserted its key row and waits for the user row.
      await waitFor(async () => (await lockWaitsBlockedBy(stack.db, rival.threadId)).some((query) => /insert into `payments`/i.test(query)), {
        intervalMs: INNODB_VIEW_REFRESH_MS,
        what: 'the payment insert to wait for the rival’s lock',
      });
      // The rival now wants the API's key row: a cycle. Its insert goes through only once the API's transaction is rolled back.
      const startedAt = Date.now();
      await insertKey(rival, payer.user.id, key, 'pay_rival');
      return { answer, cycleClosedInMs: Date.now() - startedAt };
    })();
    // The API's next attempt waits for the rival's key row, which the rollback as the session ends removes.
    const { answer, cycleClosedInMs } = await cycle.finally(() => rival.end());
    const response = await answer;

    // At once: InnoDB broke the cycle by rolling back the API's transaction, no lock wait (2 s) ran out.
    expect(cycleClosedInMs).toBeLessThan(1_000);
    expect([201, 202]).toContain(response.status);
    const rows = await stack.db('payments').select('id').where({ payer_id: payer.user.id });
    expect(rows.map((row) => String(row.id))).toEqual([response.body.id]);
    const keys = await stack.db('idempotency_keys').select('resource_id').where({ user_id: payer.user.id });
    expect(keys.map((row) => String(row.resource_id))).toEqual([response.body.id]);
    expect(await finalPayment(payer, response.body.id)).toMatchObject({ status: 'succeeded' });
  });
});
