import type { paymentWorkflow } from '../workflows/payment';
import type { Payment } from '../store/payment-records';
import { currentStepQuery } from '../workflows/queries';
import { MerchantIdKey, PaymentIdKey, SagaStatusKey } from '../domain/search-attributes';
import { actorsOf, expectError, type Actor } from './support/actors';
import { clearingOf, feesOf } from './support/saga-activities';
import { serveOnEphemeralPort, startStack, waitFor, type TestStack } from './support/stack';
import { activityNamesOf } from './support/step-activities';
import { createApp } from '../api/app';
import { request, type TestResponse } from './support/http';

/**
 * The payment saga on the real stack: API → Temporal → workers → MariaDB.
 * Each test ends with the reconciliation check (afterEach): this file's sagas all final, the ledger's invariants held.
 */
let stack: TestStack;
let actors: ReturnType<typeof actorsOf>;
let adminToken: string;
let merchant: Actor;

/** A payment as the API answers it. */
type PaymentBody = Payment;

const DAILY_LIMIT = 60_000;

beforeAll(async () => {
  stack = await startStack({ SAGA_FAULTS: 'enabled', PAYMENT_DAILY_LIMIT: String(DAILY_LIMIT) });
  actors = actorsOf(stack);
  adminToken = await actors.admin();
  merchant = await actors.signUp({ role: 'merchant', name: 'Acme' });
});

afterEach(async () => {
  await actors.expectReconciled(adminToken);
});

afterAll(async () => {
  await stack.stop();
});

function pay(payer: Actor, body: Record<string, unknown>, headers: Record<string, string> = {}) {
  return actors.call<PaymentBody>('POST', '/v1/payments', { token: payer.token, headers, body: { merchantId: merchant.user.id, currency: 'USD', ...body } });
}

/** The payment once its saga has finished, notify step included. */
async function settled(payer: Actor, payment: PaymentBody): Promise<PaymentBody> {
  await stack.temporal.workflow.getHandle(payment.workflowId).result();
  return (await actors.call<PaymentBody>('GET', `/v1/payments/${payment.id}`, { token: payer.token })).body;
}

const stepsOf = (payment: PaymentBody) => payment.steps.map((step) => `${step.name}:${step.status}`);

async function journalsOf(paymentId: string) {
  const rows = await stack.db('entries as e')
    .join('journals as j', 'j.id', 'e.journal_id')
    .select('j.journal_key', 'e.account_id', 'e.amount', 'e.type')
    .where('j.reference_id', paymentId)
    .orderBy('e.seq', 'asc');
  return rows.map((row: { journal_key: string; account_id: string; amount: number; type: string }) => [
    row.journal_key.slice(paymentId.length + 1),
    row.account_id,
    Number(row.amount),
    row.type,
  ]);
}

/**
 * What one payment's entries moved on an account. The platform's system accounts are
 * shared with every test file running at the same time, so their balances cannot be compared.
 */
async function movedOnAccountBy(paymentId: string, accountId: string): Promise<number> {
  const row = (await stack.db('entries').sum({ total: 'amount' }).where({ account_id: accountId, reference_id: paymentId }).first()) as
    | { total: string | number | null }
    | undefined;
  return Number(row?.total ?? 0);
}

async function notificationTypes(userId: string, paymentId: string): Promise<string[]> {
  const rows = await stack.db('notifications').select('type').where({ user_id: userId, channel: 'in_app' }).andWhere('dedupe_key', 'like', `${paymentId}:%`);
  return rows.map((row) => row.type);
}

describe('a payment that succeeds', () => {
  it('when a customer pays 12.34 USD, then the merchant gets 12.09, the platform 0.25, and every step is recorded', async () => {
    const payer = await actors.signUp();
    const merchantBefore = await actors.balanceOf(merchant.token, merchant.wallet.id);

    const response = await pay(payer, { amount: 1_234, description: 'Coffee beans' });

    expect(response.status).toBe(201);
    const payment = response.body;
    expect(payment).toMatchObject({
      status: 'succeeded',
      amount: 1_234,
      fee: 25,
      netAmount: 1_209,
      currency: 'USD',
      sourceWalletId: payer.wallet.id,
      merchantId: merchant.user.id,
      merchantWalletId: merchant.wallet.id,
      description: 'Coffee beans',
      failure: null,
      workflowId: `payment-${payment.id}`,
    });
    expect(payment.id).toMatch(/^pay_/);
    const final = await settled(payer, payment);
    expect(stepsOf(final)).toEqual(['validate:completed', 'risk_check:completed', 'debit_payer:completed', 'credit_merchant:completed', 'write_ledger:completed', 'notify:completed']);

    expect(await actors.balanceOf(payer.token, payer.wallet.id)).toBe(10_000 - 1_234);
    expect(await actors.balanceOf(merchant.token, merchant.wallet.id)).toBe(merchantBefore + 1_209);
    expect(await movedOnAccountBy(payment.id, feesOf(payment.id))).toBe(25);
    const clearing = clearingOf(payment.id);
    expect(await journalsOf(payment.id)).toEqual([
      ['debit_payer', payer.wallet.id, -1_234, 'payment_debit'],
      ['debit_payer', clearing, 1_234, 'payment_debit'],
      ['credit_merchant', clearing, -1_234, 'payment_credit'],
      ['credit_merchant', merchant.wallet.id, 1_209, 'payment_credit'],
      ['credit_merchant', feesOf(payment.id), 25, 'fee'],
    ]);
    expect(await notificationTypes(payer.user.id, payment.id)).toEqual(['payment_succeeded']);
    expect(await notificationTypes(merchant.user.id, payment.id)).toEqual(['payment_received']);

    const handle = stack.temporal.workflow.getHandle(payment.workflowId);
    await expect(handle.result()).resolves.toEqual({ status: 'succeeded', failure: null, compensated: [], notified: true });
    expect(await activityNamesOf(stack.temporal, payment.workflowId)).toEqual(['validatePayment', 'checkPaymentRisk', 'debitPayer', 'creditMerchant', 'writeLedger', 'notifyPayment']);
    expect(await handle.query(currentStepQuery)).toBe('completed');
    const description = await handle.describe();
    expect(description.typedSearchAttributes.get(PaymentIdKey)).toBe(payment.id);
    expect(description.typedSearchAttributes.get(MerchantIdKey)).toBe(merchant.user.id);
    expect(description.typedSearchAttributes.get(SagaStatusKey)).toBe('succeeded');
    expect(await description.staticSummary()).toBe('pay 12.34 USD to Acme');
  });
});

describe('business refusals end the payment failed, with nothing moved', () => {
  it('when the payer lacks funds, then the payment fails insufficient_funds', async () => {
    const payer = await actors.signUp();
    const response = await pay(payer, { amount: 10_001 });

    expect(response.status).toBe(201);
    expect(response.body).toMatchObject({ status: 'failed', failure: { code: 'insufficient_funds' } });
    expect(stepsOf(await settled(payer, response.body))).toEqual(['validate:failed', 'notify:completed']);
    expect(await actors.balanceOf(payer.token, payer.wallet.id)).toBe(10_000);
    expect(await journalsOf(response.body.id)).toEqual([]);
    expect(await notificationTypes(payer.user.id, response.body.id)).toEqual(['payment_failed']);
    expect(await notificationTypes(merchant.user.id, response.body.id)).toEqual([]);
  });

  it('when the payer wallet is frozen, then the payment fails wallet_frozen', async () => {
    const payer = await actors.signUp();
    await actors.call('POST', `/v1/admin/wallets/${payer.wallet.id}/freeze`, { token: adminToken });

    const response = await pay(payer, { amount: 500 });

    expect(response.body).toMatchObject({ status: 'failed', failure: { code: 'wallet_frozen' } });
    expect(stepsOf(await settled(payer, response.body))).toEqual(['validate:failed', 'notify:completed']);
    expect(await actors.balanceOf(payer.token, payer.wallet.id)).toBe(10_000);
    expect(await journalsOf(response.body.id)).toEqual([]);
  });

  it('when the payment would pass the 24-hour limit, then it fails limit_exceeded', async () => {
    const payer = await actors.signUp();
    await actors.call('POST', `/v1/wallets/${payer.wallet.id}/topups`, { token: payer.token, body: { amount: DAILY_LIMIT, currency: 'USD' } });

    const first = await pay(payer, { amount: DAILY_LIMIT - 100 });
    const second = await pay(payer, { amount: 101 });
    const third = await pay(payer, { amount: 100 });

    expect(first.body.status).toBe('succeeded');
    expect(second.body).toMatchObject({ status: 'failed', failure: { code: 'limit_exceeded' } });
    expect(third.body.status).toBe('succeeded');
    expect(await actors.balanceOf(payer.token, payer.wallet.id)).toBe(10_000 + DAILY_LIMIT - DAILY_LIMIT);
  });
});

describe('a step that fails for good is compensated in reverse', () => {
  it('when credit_merchant fails, then the payer is refunded and the payment fails', async () => {
    const payer = await actors.signUp();
    const merchantBefore = await actors.balanceOf(merchant.token, merchant.wallet.id);

    const response = await pay(payer, { amount: 700 }, { 'X-Saga-Fault': 'credit_merchant' });

    expect(response.body).toMatchObject({ status: 'failed', failure: { code: 'injected_fault' } });
    expect(stepsOf(await settled(payer, response.body))).toEqual(['validate:completed', 'risk_check:completed', 'debit_payer:compensated', 'credit_merchant:failed', 'notify:completed']);
    expect(await actors.balanceOf(payer.token, payer.wallet.id)).toBe(10_000);
    expect(await actors.balanceOf(merchant.token, merchant.wallet.id)).toBe(merchantBefore);
    const clearing = clearingOf(response.body.id);
    expect(await journalsOf(response.body.id)).toEqual([
      ['debit_payer', payer.wallet.id, -700, 'payment_debit'],
      ['debit_payer', clearing, 700, 'payment_debit'],
      ['refund_payer', clearing, -700, 'payment_refund'],
      ['refund_payer', payer.wallet.id, 700, 'payment_refund'],
    ]);
    const outcome: unknown = await stack.temporal.workflow.getHandle<typeof paymentWorkflow>(response.body.workflowId).result();
    expect(outcome).toMatchObject({ status: 'failed', compensated: ['refund_payer'] });
    expect(await activityNamesOf(stack.temporal, response.body.workflowId)).toEqual([
      'validatePayment',
      'checkPaymentRisk',
      'debitPayer',
      'creditMerchant',
      'beginPaymentCompensation',
      'reverseMerchantCredit',
      'refundPayer',
      'failPayment',
      'notifyPayment',
    ]);
  });

  it('when write_ledger fails, then the merchant credit is reversed before the payer is refunded', async () => {
    const payer = await actors.signUp();
    const merchantBefore = await actors.balanceOf(merchant.token, merchant.wallet.id);

    const response = await pay(payer, { amount: 1_000 }, { 'X-Saga-Fault': 'write_ledger' });

    expect(response.body).toMatchObject({ status: 'failed', failure: { code: 'injected_fault' } });
    expect(stepsOf(await settled(payer, response.body))).toEqual([
      'validate:completed',
      'risk_check:completed',
      'debit_payer:compensated',
      'credit_merchant:compensated',
      'write_ledger:failed',
      'notify:completed',
    ]);
    expect(await actors.balanceOf(payer.token, payer.wallet.id)).toBe(10_000);
    expect(await actors.balanceOf(merchant.token, merchant.wallet.id)).toBe(merchantBefore);
    expect(await movedOnAccountBy(response.body.id, feesOf(response.body.id))).toBe(0);
    const journals = await journalsOf(response.body.id);
    expect([...new Set(journals.map(([key]) => key))]).toEqual(['debit_payer', 'credit_merchant', 'reverse_merchant_credit', 'refund_payer']);
    expect(journals.filter(([key]) => key === 'reverse_merchant_credit')).toEqual([
      ['reverse_merchant_credit', merchant.wallet.id, -980, 'reversal'],
      ['reverse_merchant_credit', clearingOf(response.body.id), 1_000, 'reversal'],
      ['reverse_merchant_credit', feesOf(response.body.id), -20, 'reversal'],
    ]);
    expect(await activityNamesOf(stack.temporal, response.body.workflowId)).toEqual([
      'validatePayment',
      'checkPaymentRisk',
      'debitPayer',
      'creditMerchant',
      'writeLedger',
      'beginPaymentCompensation',
      'reverseMerchantCredit',
      'refundPayer',
      'failPayment',
      'notifyPayment',
    ]);
    expect(await notificationTypes(payer.user.id, response.body.id)).toEqual(['payment_failed']);
  });

  it('when notify fails, then the money stays moved and only the notify step is failed', async () => {
    const payer = await actors.signUp();
    const merchantBefore = await actors.balanceOf(merchant.token, merchant.wallet.id);

    const response = await pay(payer, { amount: 300 }, { 'X-Saga-Fault': 'notify' });
    expect(response.body.status).toBe('succeeded');
    const outcome: unknown = await stack.temporal.workflow.getHandle<typeof paymentWorkflow>(response.body.workflowId).result();
    expect(outcome).toEqual({ status: 'succeeded', failure: null, compensated: [], notified: false });

    const final = (await actors.call<PaymentBody>('GET', `/v1/payments/${response.body.id}`, { token: payer.token })).body;
    expect(final.status).toBe('succeeded');
    expect(stepsOf(final)).toEqual(['validate:completed', 'risk_check:completed', 'debit_payer:completed', 'credit_merchant:completed', 'write_ledger:completed', 'notify:failed']);
    expect(await actors.balanceOf(payer.token, payer.wallet.id)).toBe(9_700);
    expect(await actors.balanceOf(merchant.token, merchant.wallet.id)).toBe(merchantBefore + 294);
    expect(await notificationTypes(payer.user.id, response.body.id)).toEqual([]);
  });
});

describe('pre-checks refuse before anything is created', () => {
  it('when the merchant, currency or payer is wrong, then the contract codes come back and no payment exists', async () => {
    const payer = await actors.signUp();
    const otherCustomer = await actors.signUp();
    const euroMerchant = await actors.signUp({ role: 'merchant', currency: 'EUR' });
    const count = async () => Number((await stack.db('payments').where({ payer_id: payer.user.id }).count({ n: '*' }))[0]?.n);

    expectError(await pay(payer, { amount: 100, merchantId: 'usr_nope' }), 404, 'merchant_not_found');
    expectError(await pay(payer, { amount: 100, merchantId: otherCustomer.user.id }), 404, 'merchant_not_found');
    expectError(await pay(payer, { amount: 100, currency: 'EUR' }), 422, 'currency_mismatch');
    expectError(await pay(payer, { amount: 100, merchantId: euroMerchant.user.id, currency: 'USD' }), 422, 'currency_mismatch');
    expectError(await pay(payer, { amount: 100, sourceWalletId: otherCustomer.wallet.id }), 404, 'wallet_not_found');
    expectError(await pay(merchant, { amount: 100 }), 422, 'self_payment');
    for (const body of [{ amount: 0 }, { amount: 1.5 }, { amount: '100' }, { amount: 100, description: 'x'.repeat(201) }, { amount: 100, currency: 'XYZ' }]) {
      expectError(await pay(payer, body), 400, 'validation_error');
    }
    expectError(await pay(payer, { amount: 100 }, { 'X-Saga-Fault': 'teleport' }), 400, 'validation_error');
    expect(await count()).toBe(0);
    expect(await actors.balanceOf(payer.token, payer.wallet.id)).toBe(10_000);
  });
});

describe('idempotency', () => {
  it('when 20 identical requests race with one key, then there is one payment and one debit', async () => {
    const payer = await actors.signUp();
    const headers = { 'Idempotency-Key': `order-${payer.user.id}` };

    const responses = await Promise.all(Array.from({ length: 20 }, () => pay(payer, { amount: 400 }, headers)));

    expect(new Set(responses.map((response) => response.body.id)).size).toBe(1);
    expect(responses.filter((response) => response.headers.get('idempotent-replayed') === 'true')).toHaveLength(19);
    expect(responses.every((response) => response.status === 201 && response.body.status === 'succeeded')).toBe(true);
    expect(await stack.db('payments').where({ payer_id: payer.user.id }).count({ n: '*' })).toEqual([{ n: 1 }]);
    expect(await actors.balanceOf(payer.token, payer.wallet.id)).toBe(9_600);

    const reused = await pay(payer, { amount: 401 }, headers);
    expectError(reused, 422, 'idempotency_key_reused');
  });

  it('when the client asks to respond async, then it gets 202 with Location, and the payment completes', async () => {
    const payer = await actors.signUp();
    const response = await pay(payer, { amount: 250 }, { Prefer: 'respond-async' });

    expect(response.status).toBe(202);
    expect(response.headers.get('location')).toBe(`/v1/payments/${response.body.id}`);
    expect(['pending', 'processing']).toContain(response.body.status);
    const final = await waitFor(async () => {
      const current = await actors.call<PaymentBody>('GET', `/v1/payments/${response.body.id}`, { token: payer.token });
      // Any final status ends the wait: a failure shows as itself, not as a timeout.
      return current.body.status === 'succeeded' || current.body.status === 'failed' ? current.body : undefined;
    });
    expect({ status: final.status, failure: final.failure }).toEqual({ status: 'succeeded', failure: null });
    expect(final.netAmount).toBe(245);
  });
});

describe('the synchronous answer', () => {
  it('when a payment is POSTed, then its 201 comes from the saga itself: the awaitFinal update, accepted and answered succeeded', async () => {
    const payer = await actors.signUp();

    const response = await pay(payer, { amount: 300 });

    expect(response.status).toBe(201);
    expect(response.body.status).toBe('succeeded');
    const events = (await stack.temporal.workflow.getHandle(response.body.workflowId).fetchHistory()).events ?? [];
    const accepted = events.flatMap((event) => event.workflowExecutionUpdateAcceptedEventAttributes?.acceptedRequest?.input?.name ?? []);
    expect(accepted).toEqual(['awaitFinal']);
    const answer = events.find((event) => event.workflowExecutionUpdateCompletedEventAttributes)?.workflowExecutionUpdateCompletedEventAttributes?.outcome?.success?.payloads?.[0]?.data;
    expect(JSON.parse(Buffer.from(answer ?? new Uint8Array()).toString('utf8'))).toEqual({ status: 'succeeded' });
  });

  it('when the saga is not final within PAYMENT_SYNC_WAIT_MS, then the answer is 202 with Location, and the saga goes on to succeed', async () => {
    const payer = await actors.signUp();
    const slowMerchant = await actors.signUp({ role: 'merchant', name: 'Slow Shop' });
    // An API whose synchronous wait is short; the same database, Temporal and workers.
    const api = await serveOnEphemeralPort(createApp({ db: stack.db, temporal: stack.temporal, config: { ...stack.config, paymentSyncWaitMs: 300 }, report: () => undefined }), stack.config);
    // credit_merchant waits for this shared lock on the merchant's wallet (well within its lock-wait limit).
    const blocker = await stack.db.transaction();
    let response: TestResponse<PaymentBody>;
    try {
      await blocker('accounts').where({ id: slowMerchant.wallet.id }).forShare();
      response = await request<PaymentBody>(api.baseUrl, 'POST', '/v1/payments', {
        token: payer.token,
        body: { merchantId: slowMerchant.user.id, amount: 350, currency: 'USD' },
      });
    } finally {
      await blocker.rollback();
      await api.close();
    }

    expect(response.status).toBe(202);
    expect(response.headers.get('location')).toBe(`/v1/payments/${response.body.id}`);
    expect(['pending', 'processing']).toContain(response.body.status);
    const final = await settled(payer, response.body);
    expect({ status: final.status, failure: final.failure }).toEqual({ status: 'succeeded', failure: null });
  });
});

describe('reading payments', () => {
  it('when the payer, the merchant, an admin or a stranger reads a payment, then only the stranger gets 404', async () => {
    const payer = await actors.signUp();
    const stranger = await actors.signUp();
    const payment = await settled(payer, (await pay(payer, { amount: 100 })).body);

    for (const token of [payer.token, merchant.token, adminToken]) {
      const read = await actors.call<PaymentBody>('GET', `/v1/payments/${payment.id}`, { token });
      expect({ status: read.status, body: read.body }).toEqual({ status: 200, body: payment });
    }
    expectError(await actors.call('GET', `/v1/payments/${payment.id}`, { token: stranger.token }), 404, 'not_found');
  });

  it('when payments are listed with role and status, then only the matching ones come back, newest first', async () => {
    const payer = await actors.signUp();
    const ok = await pay(payer, { amount: 100 });
    const failed = await pay(payer, { amount: 50_000 });
    const list = (query: string, token = payer.token) =>
      actors.call<{ data: PaymentBody[]; hasMore: boolean }>('GET', `/v1/payments${query}`, { token }).then((response) => response.body);

    expect((await list('?role=payer')).data.map((payment) => payment.id)).toEqual([failed.body.id, ok.body.id]);
    expect((await list('?role=payer&status=failed')).data.map((payment) => payment.id)).toEqual([failed.body.id]);
    expect((await list('?role=merchant')).data).toEqual([]);
    expect((await list('?limit=1')).hasMore).toBe(true);
    const merchantView = await list('?role=merchant&status=succeeded&limit=100', merchant.token);
    expect(merchantView.data.map((payment) => payment.id)).toContain(ok.body.id);
    expect(merchantView.data.map((payment) => payment.id)).not.toContain(failed.body.id);
    expectError(await actors.call('GET', '/v1/payments?role=boss', { token: payer.token }), 400, 'validation_error');
  });
});

describe('races on one wallet', () => {
  /** The wallets' balances, read from the database (afterEach checks that no wallet anywhere is negative). */
  async function balancesOf(...walletIds: string[]): Promise<number[]> {
    const rows = (await stack.db('accounts').select('id', 'balance').whereIn('id', walletIds)) as Array<{ id: string; balance: string | number }>;
    return walletIds.map((id) => Number(rows.find((row) => row.id === id)?.balance));
  }

  it('when 10 payments of 2 000 with different keys race from a 10 000 wallet, then exactly 5 succeed and every balance is exact', async () => {
    const payer = await actors.signUp();
    const merchantBefore = await actors.balanceOf(merchant.token, merchant.wallet.id);

    const answers = await Promise.all(Array.from({ length: 10 }, (_, index) => pay(payer, { amount: 2_000 }, { 'Idempotency-Key': `race-${index}` })));
    const payments = await Promise.all(answers.map((answer) => settled(payer, answer.body)));

    expect(new Set(payments.map((payment) => payment.id)).size).toBe(10);
    const outcomes = payments.map((payment) => `${payment.status}:${payment.failure?.code ?? ''}`).sort();
    expect(outcomes).toEqual([...Array<string>(5).fill('failed:insufficient_funds'), ...Array<string>(5).fill('succeeded:')]);
    expect(await balancesOf(payer.wallet.id, merchant.wallet.id)).toEqual([0, merchantBefore + 5 * 1_960]);
    for (const payment of payments.filter((candidate) => candidate.status === 'failed')) expect(await journalsOf(payment.id)).toEqual([]);
  });

  it('when 8 payments race against the 24-hour limit, then exactly as many succeed as the limit allows', async () => {
    const payer = await actors.signUp();
    const topUp = await actors.call('POST', `/v1/wallets/${payer.wallet.id}/topups`, { token: payer.token, body: { amount: 100_000, currency: 'USD' } });
    expect(topUp.status).toBe(201);

    const answers = await Promise.all(Array.from({ length: 8 }, () => pay(payer, { amount: 10_000 })));
    const payments = await Promise.all(answers.map((answer) => settled(payer, answer.body)));

    const outcomes = payments.map((payment) => `${payment.status}:${payment.failure?.code ?? ''}`).sort();
    expect(outcomes).toEqual([...Array<string>(2).fill('failed:limit_exceeded'), ...Array<string>(6).fill('succeeded:')]);
    expect(DAILY_LIMIT / 10_000).toBe(6);
    expect(await balancesOf(payer.wallet.id)).toEqual([110_000 - DAILY_LIMIT]);
  });

  it('when payments and transfers race against the 24-hour limit, then they share it: together they move exactly the limit', async () => {
    const [payer, friend] = await Promise.all([actors.signUp(), actors.signUp()]);
    const topUp = await actors.call('POST', `/v1/wallets/${payer.wallet.id}/topups`, { token: payer.token, body: { amount: 100_000, currency: 'USD' } });
    expect(topUp.status).toBe(201);
    const [friendBefore = 0, merchantBefore = 0] = await balancesOf(friend.wallet.id, merchant.wallet.id);
    const send = () =>
      actors.call<Payment>('POST', '/v1/transfers', { token: payer.token, body: { toUserId: friend.user.id, amount: 20_000, currency: 'USD' }, headers: { prefer: 'respond-async' } });

    // Four of each kind at 20 000 against one limit of 60 000: per-kind limits would let six through.
    const answers = await Promise.all(Array.from({ length: 8 }, (_, index) => (index % 2 === 0 ? pay(payer, { amount: 20_000 }, { prefer: 'respond-async' }) : send())));
    const finals = await Promise.all(
      answers.map(async (answer, index) => {
        await stack.temporal.workflow.getHandle(answer.body.workflowId).result();
        const path = index % 2 === 0 ? `/v1/payments/${answer.body.id}` : `/v1/transfers/${answer.body.id}`;
        return (await actors.call<Payment>('GET', path, { token: payer.token })).body;
      }),
    );

    const outcomes = finals.map((saga) => `${saga.status}:${saga.failure?.code ?? ''}`).sort();
    expect(outcomes).toEqual([...Array<string>(5).fill('failed:limit_exceeded'), ...Array<string>(3).fill('succeeded:')]);
    const [payerAfter, friendAfter = 0, merchantAfter = 0] = await balancesOf(payer.wallet.id, friend.wallet.id, merchant.wallet.id);
    expect(payerAfter).toBe(110_000 - DAILY_LIMIT);
    // What left the payer arrived: transfers in full, payments less their fee (2 % of 20 000).
    const paid = finals.filter((saga, index) => index % 2 === 0 && saga.status === 'succeeded').length;
    expect([friendAfter - friendBefore, merchantAfter - merchantBefore]).toEqual([(3 - paid) * 20_000, paid * 19_600]);
  });

  it('when a payment and a transfer race for one wallet that can fund only one, then exactly one succeeds and the wallet never goes negative', async () => {
    const [payer, friend] = await Promise.all([actors.signUp(), actors.signUp()]);
    const merchantBefore = await actors.balanceOf(merchant.token, merchant.wallet.id);

    const [paymentAnswer, transferAnswer] = await Promise.all([
      pay(payer, { amount: 6_000 }),
      actors.call<{ id: string; status: string; workflowId: string; failure: { code: string } | null }>('POST', '/v1/transfers', {
        token: payer.token,
        body: { toUserId: friend.user.id, amount: 6_000, currency: 'USD' },
      }),
    ]);
    const payment = await settled(payer, paymentAnswer.body);
    await stack.temporal.workflow.getHandle(transferAnswer.body.workflowId).result();
    const transfer = (await actors.call<{ status: string; failure: { code: string } | null }>('GET', `/v1/transfers/${transferAnswer.body.id}`, { token: payer.token })).body;

    const outcomes = [`${payment.status}:${payment.failure?.code ?? ''}`, `${transfer.status}:${transfer.failure?.code ?? ''}`].sort();
    expect(outcomes).toEqual(['failed:insufficient_funds', 'succeeded:']);
    const [payerBalance, friendBalance, merchantBalance] = await balancesOf(payer.wallet.id, friend.wallet.id, merchant.wallet.id);
    expect(payerBalance).toBe(4_000);
    // Whichever won, its money arrived once and the loser's never left.
    expect([friendBalance, merchantBalance]).toEqual(payment.status === 'succeeded' ? [10_000, merchantBefore + 5_880] : [16_000, merchantBefore]);
  });
});
