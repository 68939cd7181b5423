import { Client, Connection } from '@temporalio/client';
import { MockActivityEnvironment } from '@temporalio/testing';
import { DefaultLogger } from '@temporalio/worker';
import { createRecoveryActivities, type RecoveryReport } from '../activities/recovery';
import { createApp } from '../api/app';
import { insertUser } from '../api/users';
import { onboardingWorkflowId } from '../domain/workflow-ids';
import { SAGA_START_TIMEOUT_MS, startOnboarding, untilTemporalCallsEnd } from '../infra/sagas';
import { ensureRecoverySchedule, recoveryScheduleId } from '../workers/build';
import { actorsOf, type Actor } from './support/actors';
import { closedPort, uniqueEmail } from './support/fixtures';
import { request } from './support/http';
import { serveOnEphemeralPort, startStackWith, waitFor, type ListeningApp, type TestStack } from './support/stack';

/**
 * Sagas never stay unstarted: a payment or transfer row committed while its workflow could not be
 * started is answered 202 with its `Location` and started by the recovery (or failed `expired`
 * once too old), a user whose onboarding was terminated gets it again, and a replayed key of a
 * finished saga never starts a run.
 *
 * "The start fails" is real here: a second instance of the app on the same database whose
 * Temporal client names a namespace that does not exist, so every start is refused; and a third
 * whose Temporal client points at a closed port, so Temporal is out of reach.
 */
let stack: TestStack;
let actors: ReturnType<typeof actorsOf>;
let brokenApi: ListeningApp;
let brokenTemporal: Client;
/** What the broken API reported: each failed start, which its client never sees. */
const brokenReports: unknown[] = [];
let unreachableConnection: Connection;
/** The app with Temporal out of reach, waiting at most UNREACHABLE_SYNC_WAIT_MS for a saga. */
let unreachableApi: ListeningApp;
const UNREACHABLE_SYNC_WAIT_MS = 1_000;
let customer: Actor;
let merchant: Actor;
let adminToken: string;

const MINUTE_MS = 60_000;

beforeAll(async () => {
  stack = await startStackWith();
  actors = actorsOf(stack);
  // Temporal refuses every start of this client at once: its namespace does not exist.
  brokenTemporal = new Client({ connection: stack.connection, namespace: 'no-such-namespace' });
  const app = createApp({ db: stack.db, temporal: brokenTemporal, config: stack.config, report: (error) => brokenReports.push(error) });
  brokenApi = await serveOnEphemeralPort(app, stack.config);
  // Nothing listens there: every call is refused, and the client would retry it for half a minute.
  unreachableConnection = Connection.lazy({ address: `127.0.0.1:${await closedPort()}` });
  const unreachableTemporal = new Client({ connection: unreachableConnection, namespace: stack.config.temporal.namespace });
  const config = { ...stack.config, paymentSyncWaitMs: UNREACHABLE_SYNC_WAIT_MS };
  unreachableApi = await serveOnEphemeralPort(createApp({ db: stack.db, temporal: unreachableTemporal, config, report: () => undefined }), config);
  [customer, merchant] = await Promise.all([actors.signUp(), actors.signUp({ role: 'merchant', name: 'Recovered Shop' })]);
  adminToken = await actors.admin();
}, 60_000);

afterAll(async () => {
  try {
    // The file ends reconciled: every saga it started or expired is final, the ledger's invariants hold.
    await actors?.expectReconciled(adminToken);
  } finally {
    await brokenApi?.close();
    await unreachableApi?.close();
    await untilTemporalCallsEnd();
    await unreachableConnection?.close();
    await stack?.stop();
  }
});

/** One recovery pass with the stack's settings, as the schedule's workflow runs it. */
function recoverOnce(): Promise<RecoveryReport> {
  const { config } = stack;
  const { recoverUnstartedSagas } = createRecoveryActivities({
    db: stack.db,
    temporal: stack.temporal,
    sagas: { paymentsTaskQueue: config.temporal.paymentsTaskQueue, notificationsTaskQueue: config.temporal.notificationsTaskQueue },
    minAgeMs: config.sagaRecovery.minAgeMs,
    expireAfterMs: config.sagaRecovery.expireAfterMs,
    promoCredit: config.money.promoCredit,
  });
  return new MockActivityEnvironment(undefined, { logger: new DefaultLogger('ERROR') }).run(recoverUnstartedSagas);
}

/** Moves a row's creation time into the past, as if the API had died that long ago. */
async function age(table: 'payments' | 'transfers' | 'users', id: string, ageMs: number): Promise<void> {
  await stack.db(table).where({ id }).update({ created_at: new Date(Date.now() - ageMs) });
}

/** Pays through the API whose Temporal start fails; answers the committed payment's id. */
async function payWithoutStart(amount: number, key: string): Promise<string> {
  const reportsBefore = brokenReports.length;
  const response = await request<{ id: string; status: string }>(brokenApi.baseUrl, 'POST', '/v1/payments', {
    token: customer.token,
    body: { merchantId: merchant.user.id, amount, currency: 'USD' },
    headers: { 'Idempotency-Key': key },
  });
  expect({ status: response.status, location: response.headers.get('location'), body: response.body.status }).toEqual({ status: 202, location: `/v1/payments/${response.body.id}`, body: 'pending' });
  expect(brokenReports).toHaveLength(reportsBefore + 1);
  const row = (await stack.db('payments').select('id', 'status').where({ payer_id: customer.user.id, amount }).first()) as { id: string; status: string } | undefined;
  expect(row).toEqual({ id: response.body.id, status: 'pending' });
  return response.body.id;
}

async function statusOf(path: string, token: string): Promise<{ status: string; failure: { code: string } | null }> {
  return (await actors.call<{ status: string; failure: { code: string } | null }>('GET', path, { token })).body;
}

describe('recovery of sagas that never started', () => {
  it('when the API committed a payment but could not start it, then recovery starts it once it is old enough and it succeeds', async () => {
    const before = await actors.balanceOf(customer.token, customer.wallet.id);
    const paymentId = await payWithoutStart(1_111, 'recover-me');

    expect((await recoverOnce()).started).not.toContain(paymentId);
    await age('payments', paymentId, stack.config.sagaRecovery.minAgeMs + MINUTE_MS);
    const report = await recoverOnce();

    expect(report.started).toContain(paymentId);
    const final = await waitFor(async () => {
      const payment = await statusOf(`/v1/payments/${paymentId}`, customer.token);
      return payment.status === 'succeeded' || payment.status === 'failed' ? payment : undefined;
    });
    expect(final).toMatchObject({ status: 'succeeded', failure: null });
    expect(await actors.balanceOf(customer.token, customer.wallet.id)).toBe(before - 1_111);
    expect((await recoverOnce()).started).not.toContain(paymentId);
  });

  it('when Temporal is out of reach, then payments answer 202 with Location within the start bound, stay pending, and recovery starts them once Temporal answers', async () => {
    const before = await actors.balanceOf(customer.token, customer.wallet.id);
    const post = async (amount: number, headers: Record<string, string>) => {
      const startedAt = Date.now();
      const response = await request<{ id: string; status: string }>(unreachableApi.baseUrl, 'POST', '/v1/payments', {
        token: customer.token,
        body: { merchantId: merchant.user.id, amount, currency: 'USD' },
        headers: { 'Idempotency-Key': `unreachable-${amount}`, ...headers },
      });
      return { response, elapsedMs: Date.now() - startedAt };
    };
    const answers = [await post(1_201, { Prefer: 'respond-async' }), await post(1_202, {})];

    // Each start gives up after SAGA_START_TIMEOUT_MS; the synchronous one waited its own wait first.
    const [asynchronous, synchronous] = answers;
    expect(asynchronous?.elapsedMs).toBeLessThan(SAGA_START_TIMEOUT_MS + 1_500);
    expect(synchronous?.elapsedMs).toBeLessThan(UNREACHABLE_SYNC_WAIT_MS + SAGA_START_TIMEOUT_MS + 1_500);
    for (const { response } of answers) {
      expect({ status: response.status, location: response.headers.get('location'), body: response.body.status }).toEqual({ status: 202, location: `/v1/payments/${response.body.id}`, body: 'pending' });
      expect(await stack.db('payments').select('status').where({ id: response.body.id }).first()).toEqual({ status: 'pending' });
      await age('payments', response.body.id, stack.config.sagaRecovery.minAgeMs + MINUTE_MS);
    }

    const report = await recoverOnce();

    for (const { response } of answers) {
      expect(report.started).toContain(response.body.id);
      const final = await waitFor(async () => {
        const payment = await statusOf(`/v1/payments/${response.body.id}`, customer.token);
        return payment.status === 'succeeded' || payment.status === 'failed' ? payment : undefined;
      });
      expect(final).toMatchObject({ status: 'succeeded', failure: null });
    }
    expect(await actors.balanceOf(customer.token, customer.wallet.id)).toBe(before - 1_201 - 1_202);
  });

  it('when a payment that never started is older than the expiry age, then it fails with code expired and no money moves', async () => {
    const before = await actors.balanceOf(customer.token, customer.wallet.id);
    const paymentId = await payWithoutStart(2_222, 'expire-me');
    await age('payments', paymentId, stack.config.sagaRecovery.expireAfterMs + MINUTE_MS);

    const report = await recoverOnce();

    expect(report.expired).toContain(paymentId);
    expect(report.started).not.toContain(paymentId);
    expect(await statusOf(`/v1/payments/${paymentId}`, customer.token)).toMatchObject({ status: 'failed', failure: { code: 'expired' } });
    expect(await actors.balanceOf(customer.token, customer.wallet.id)).toBe(before);
    expect(await stack.db('journals').where({ reference_id: paymentId }).count({ n: '*' }).first()).toEqual({ n: 0 });
  });

  it('when a finished payment is replayed with its key, then the answer comes from the database and no workflow is started', async () => {
    const key = `finished-${Date.now()}`;
    const first = await actors.call<{ id: string; status: string }>('POST', '/v1/payments', {
      token: customer.token,
      body: { merchantId: merchant.user.id, amount: 333, currency: 'USD' },
      headers: { 'Idempotency-Key': key },
    });
    expect(first.body.status).toBe('succeeded');

    // The broken API cannot start anything: a replay that tried would report the failed start.
    const reportsBefore = brokenReports.length;
    const replay = await request<{ id: string; status: string }>(brokenApi.baseUrl, 'POST', '/v1/payments', {
      token: customer.token,
      body: { merchantId: merchant.user.id, amount: 333, currency: 'USD' },
      headers: { 'Idempotency-Key': key },
    });

    expect(replay.status).toBe(201);
    expect(replay.headers.get('idempotent-replayed')).toBe('true');
    expect(replay.body).toMatchObject({ id: first.body.id, status: 'succeeded' });
    expect(brokenReports).toHaveLength(reportsBefore);
  });

  it('when the schedule runs, then a transfer whose start failed is started by it (the schedule is created idempotently, overlap SKIP)', async () => {
    const recipient = await actors.signUp({ name: 'Scheduled Recipient' });
    const response = await request(brokenApi.baseUrl, 'POST', '/v1/transfers', {
      token: customer.token,
      body: { toUserId: recipient.user.id, amount: 444, currency: 'USD' },
      headers: { 'Idempotency-Key': 'scheduled-transfer' },
    });
    expect(response.status).toBe(202);
    const row = (await stack.db('transfers').select('id').where({ sender_id: customer.user.id, amount: 444 }).first()) as { id: string };
    await age('transfers', row.id, stack.config.sagaRecovery.minAgeMs + MINUTE_MS);
    const queue = stack.config.temporal.paymentsTaskQueue;

    await ensureRecoverySchedule(stack.temporal, queue, 60_000);
    await ensureRecoverySchedule(stack.temporal, queue, 1_000);
    const schedule = stack.temporal.schedule.getHandle(recoveryScheduleId(queue));
    try {
      const description = await schedule.describe();
      expect(description.policies.overlap).toBe('SKIP');
      expect(description.spec.intervals?.map((interval) => interval.every)).toEqual([1_000]);

      const final = await waitFor(
        async () => {
          const transfer = await statusOf(`/v1/transfers/${row.id}`, customer.token);
          return transfer.status === 'succeeded' || transfer.status === 'failed' ? transfer : undefined;
        },
        { timeoutMs: 30_000, what: 'the scheduled recovery to start and finish the transfer' },
      );
      expect(final).toMatchObject({ status: 'succeeded' });
    } finally {
      await schedule.delete();
    }
  });

  it('when a user’s onboarding was terminated, then recovery runs it again and the wallet appears', async () => {
    const user = await insertUser(stack.db, {
      email: uniqueEmail('terminated'),
      passwordHash: 'not-a-real-hash',
      name: 'Terminated',
      phone: null,
      role: 'customer',
      currency: 'USD',
    });
    // The first run goes to a task queue nobody polls, and is terminated there: the onboarding is lost.
    await startOnboarding(
      stack.temporal,
      { paymentsTaskQueue: `nobody-polls-${user.id}`, notificationsTaskQueue: stack.config.temporal.notificationsTaskQueue },
      { userId: user.id, role: 'customer', currency: 'USD', promoCredit: 500 },
    );
    const lost = stack.temporal.workflow.getHandle(onboardingWorkflowId(user.id));
    await lost.terminate('test: the onboarding is lost');
    await age('users', user.id, stack.config.sagaRecovery.minAgeMs + MINUTE_MS);

    const report = await recoverOnce();

    expect(report.onboardingsStarted).toContain(user.id);
    await waitFor(async () => (await stack.db('users').select('onboarding_status').where({ id: user.id }).first())?.onboarding_status === 'completed', {
      what: 'the second onboarding run to complete',
    });
    const wallets = (await stack.db('accounts').select('balance').where({ user_id: user.id })) as Array<{ balance: number | string }>;
    expect(wallets.map((wallet) => Number(wallet.balance))).toEqual([stack.config.money.promoCredit]);
    expect((await recoverOnce()).onboardingsStarted).not.toContain(user.id);
  });
});
