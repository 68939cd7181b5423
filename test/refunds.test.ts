import type { Payment } from '../store/payment-records';
import type { Refund } from '../store/refund-records';
import { MerchantIdKey, PaymentIdKey, SagaStatusKey } from '../domain/search-attributes';
import { actorsOf, expectError, type Actor } from './support/actors';
import { allShardsOf } from './support/saga-activities';
import { holdRowLock, lockWaitsBlockedBy } from './support/row-lock';
import { startStack, waitFor, type TestStack } from './support/stack';

/**
 * Refunds on the real stack: API → Temporal → workers → MariaDB. Each test ends with the
 * reconciliation check (afterEach): this file's sagas all final, the ledger's invariants held.
 */
/** The API's lock waits last this long here (the most it allows): the race test's gate must close within it. */
const GATE_TIMEOUT_S = 5;

let stack: TestStack;
let actors: ReturnType<typeof actorsOf>;
let adminToken: string;
let merchant: Actor;

beforeAll(async () => {
  stack = await startStack({ SAGA_FAULTS: 'enabled', FEE_BPS: '200', DATABASE_LOCK_WAIT_TIMEOUT_S: String(GATE_TIMEOUT_S) });
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

/** A customer who paid the merchant `amount` (fee 2 %), succeeded. */
async function paidPayment(amount: number): Promise<{ payer: Actor; payment: Payment }> {
  const payer = await actors.signUp();
  const response = await actors.call<Payment>('POST', '/v1/payments', { token: payer.token, body: { merchantId: merchant.user.id, currency: 'USD', amount } });
  expect(response.body.status).toBe('succeeded');
  return { payer, payment: response.body };
}

function refund(token: string, paymentId: string, body: Record<string, unknown> = {}, headers: Record<string, string> = {}) {
  return actors.call<Refund>('POST', `/v1/payments/${paymentId}/refunds`, { token, body, headers });
}

async function movedOnAccountBy(referenceIds: string[], accountIds: string | string[]): Promise<number> {
  const accounts = typeof accountIds === 'string' ? [accountIds] : accountIds;
  const row = (await stack.db('entries').sum({ total: 'amount' }).whereIn('account_id', accounts).whereIn('reference_id', referenceIds).first()) as
    | { total: unknown }
    | undefined;
  return Number(row?.total ?? 0);
}

describe('refunds', () => {
  it('when the merchant refunds part of a payment, then the payer gets it back with a proportional fee share and the payment shows it', async () => {
    const { payer, payment } = await paidPayment(5_000);
    const payerBefore = await actors.balanceOf(payer.token, payer.wallet.id);

    const response = await refund(merchant.token, payment.id, { amount: 2_500, reason: 'one item returned' });

    expect(response.status).toBe(201);
    expect(response.body).toMatchObject({
      paymentId: payment.id,
      status: 'succeeded',
      amount: 2_500,
      feeRefunded: 50,
      netAmount: 2_450,
      currency: 'USD',
      reason: 'one item returned',
      failure: null,
      workflowId: `refund-${response.body.id}`,
    });
    expect(response.body.id).toMatch(/^ref_/);
    expect(response.body.steps.map((step) => step.name)).toEqual(['validate', 'debit_merchant', 'credit_payer', 'write_ledger']);
    expect(await actors.balanceOf(payer.token, payer.wallet.id)).toBe(payerBefore + 2_500);
    const shown = await actors.call<Payment>('GET', `/v1/payments/${payment.id}`, { token: payer.token });
    expect(shown.body.refundedAmount).toBe(2_500);
    // The POST answers once write_ledger made the refund final; the workflow sets SagaStatus right after.
    const handle = stack.temporal.workflow.getHandle(response.body.workflowId);
    await handle.result();
    const description = await handle.describe();
    expect(description.typedSearchAttributes.get(PaymentIdKey)).toBe(payment.id);
    expect(description.typedSearchAttributes.get(MerchantIdKey)).toBe(merchant.user.id);
    expect(description.typedSearchAttributes.get(SagaStatusKey)).toBe('succeeded');
  });

  it('when a payment of 50 with fee 1 is refunded in two halves, then the fee comes back once: 1 + 0, and nothing more can be refunded', async () => {
    const { payer, payment } = await paidPayment(50);
    expect(payment.fee).toBe(1);

    const first = await refund(merchant.token, payment.id, { amount: 25 });
    const second = await refund(adminToken, payment.id, {});

    expect([first.body.feeRefunded, second.body.feeRefunded]).toEqual([1, 0]);
    expect(second.body).toMatchObject({ status: 'succeeded', amount: 25 });
    const ids = [payment.id, first.body.id, second.body.id];
    // A refund's fee share leaves the fee account of the refund's shard, which may not be the payment's: together they net 0.
    expect(await movedOnAccountBy(ids, allShardsOf('fees'))).toBe(0);
    expect(await movedOnAccountBy(ids, merchant.wallet.id)).toBe(0);
    expect(await movedOnAccountBy(ids, payer.wallet.id)).toBe(0);
    expectError(await refund(merchant.token, payment.id, { amount: 1 }), 422, 'refund_exceeds_payment');
    const list = await actors.call<{ data: Refund[]; hasMore: boolean }>('GET', `/v1/payments/${payment.id}/refunds`, { token: payer.token });
    expect(list.body.data.map((item) => item.id)).toEqual([second.body.id, first.body.id]);
    expect((await actors.call<Payment>('GET', `/v1/payments/${payment.id}`, { token: merchant.token })).body.refundedAmount).toBe(50);
  });

  it('when a payment of 25 with fee 1 is refunded 1 cent 24 times, then the last refund, all fee, succeeds (and undoes cleanly in the fault drill)', async () => {
    const { payer, payment } = await paidPayment(25);
    expect(payment).toMatchObject({ fee: 1, netAmount: 24 });
    const ids = [payment.id];
    for (let cent = 0; cent < 24; cent += 1) {
      const part = await refund(merchant.token, payment.id, { amount: 1 });
      expect(part.body).toMatchObject({ status: 'succeeded', amount: 1, feeRefunded: 0, netAmount: 1 });
      ids.push(part.body.id);
    }

    // The merchant's line of 0 is left out of debit_merchant's journal and of its compensation.
    const drilled = await refund(merchant.token, payment.id, {}, { 'X-Saga-Fault': 'write_ledger' });
    expect(drilled.body).toMatchObject({ status: 'failed', amount: 1, feeRefunded: 1, netAmount: 0, failure: { code: 'injected_fault' } });
    expect(drilled.body.steps.map((step) => `${step.name}:${step.status}`)).toEqual(expect.arrayContaining(['debit_merchant:compensated', 'credit_payer:compensated']));
    const last = await refund(merchant.token, payment.id, {});

    expect(last.body).toMatchObject({ status: 'succeeded', amount: 1, feeRefunded: 1, netAmount: 0, failure: null });
    ids.push(drilled.body.id, last.body.id);
    expect((await actors.call<Payment>('GET', `/v1/payments/${payment.id}`, { token: payer.token })).body.refundedAmount).toBe(25);
    expect(await movedOnAccountBy(ids, allShardsOf('fees'))).toBe(0);
    expect(await movedOnAccountBy(ids, merchant.wallet.id)).toBe(0);
    expect(await movedOnAccountBy(ids, payer.wallet.id)).toBe(0);
    const merchantEntries = await stack.db('entries').where({ reference_id: last.body.id, account_id: merchant.wallet.id });
    expect(merchantEntries).toEqual([]);
    expect(await stack.db('journals').where({ journal_key: `${last.body.id}:debit_merchant` })).toHaveLength(1);
  });

  it('when a refund asks for more than the payment, then it is refused with refund_exceeds_payment and nothing moves', async () => {
    const { payment } = await paidPayment(1_000);

    expectError(await refund(merchant.token, payment.id, { amount: 1_001 }), 422, 'refund_exceeds_payment');

    expect(await stack.db('refunds').where({ payment_id: payment.id })).toEqual([]);
  });

  it('when ten refunds of one payment wait together on its row and then race, then together they never exceed it', async () => {
    const { payment } = await paidPayment(1_000);
    // The gate: the test's own session holds the payment row until all ten requests wait on it, so
    // every refund is judged after the others were sent. Without insertPendingRefund's lock each
    // would read nothing reserved first (then wait at its insert's foreign key check) and all ten pass.
    const gate = await holdRowLock(stack.config.databaseUrl, 'payments', [payment.id]);
    const sent = Promise.all(Array.from({ length: 10 }, () => refund(merchant.token, payment.id, { amount: 300 }, { Prefer: 'respond-async' })));
    try {
      await waitFor(async () => (await lockWaitsBlockedBy(stack.db, gate.threadId)).length === 10, { timeoutMs: GATE_TIMEOUT_S * 1_000 - 1_000, intervalMs: 250, what: 'ten refunds to wait on the payment row' });
    } finally {
      await gate.release();
    }
    const responses = await sent;

    const accepted = responses.filter((response) => response.status === 202 || response.status === 201);
    expect(accepted).toHaveLength(3);
    for (const response of responses.filter((candidate) => !accepted.includes(candidate))) expectError(response, 422, 'refund_exceeds_payment');
    await stack.own.settle(stack.db);
    const shown = await actors.call<Payment>('GET', `/v1/payments/${payment.id}`, { token: merchant.token });
    expect(shown.body.refundedAmount).toBe(900);
  });

  it('when the same Idempotency-Key is sent twice, then one refund is made and the second answer replays it', async () => {
    const { payment } = await paidPayment(1_000);

    const first = await refund(merchant.token, payment.id, { amount: 100 }, { 'Idempotency-Key': `refund-${payment.id}` });
    const again = await refund(merchant.token, payment.id, { amount: 100 }, { 'Idempotency-Key': `refund-${payment.id}` });

    expect(again.body.id).toBe(first.body.id);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(await stack.db('refunds').where({ payment_id: payment.id })).toHaveLength(1);
  });

  it('when the payer or a stranger asks for a refund, then the payer is refused 403 and the stranger sees no payment (404)', async () => {
    const { payer, payment } = await paidPayment(1_000);
    const stranger = await actors.signUp({ role: 'merchant', name: 'Other shop' });

    expectError(await refund(payer.token, payment.id, { amount: 100 }), 403, 'forbidden');
    expectError(await refund(stranger.token, payment.id, { amount: 100 }), 404, 'not_found');
    expectError(await actors.call('GET', `/v1/payments/${payment.id}/refunds`, { token: stranger.token }), 404, 'not_found');

    expect(await stack.db('refunds').where({ payment_id: payment.id })).toEqual([]);
  });

  it('when a step fails in the fault drill, then the refund ends failed, compensated, and the payer and merchant are as before', async () => {
    const { payer, payment } = await paidPayment(1_000);
    const payerBefore = await actors.balanceOf(payer.token, payer.wallet.id);
    const merchantBefore = await actors.balanceOf(merchant.token, merchant.wallet.id);

    const response = await refund(merchant.token, payment.id, {}, { 'X-Saga-Fault': 'write_ledger' });

    expect(response.status).toBe(201);
    expect(response.body).toMatchObject({ status: 'failed', failure: { code: 'injected_fault' } });
    expect(response.body.steps.map((step) => `${step.name}:${step.status}`)).toEqual(
      expect.arrayContaining(['debit_merchant:compensated', 'credit_payer:compensated', 'write_ledger:failed']),
    );
    expect(await actors.balanceOf(payer.token, payer.wallet.id)).toBe(payerBefore);
    expect(await actors.balanceOf(merchant.token, merchant.wallet.id)).toBe(merchantBefore);
    const readable = await actors.call<Refund>('GET', `/v1/refunds/${response.body.id}`, { token: payer.token });
    expect(readable.body.status).toBe('failed');
    await stack.temporal.workflow.getHandle(response.body.workflowId).result();
    const notified = await stack.db('notifications').select('type').where({ user_id: payer.user.id, channel: 'in_app', type: 'refund_failed' });
    expect(notified).toHaveLength(1);
    expect((await actors.call<Payment>('GET', `/v1/payments/${payment.id}`, { token: payer.token })).body.refundedAmount).toBe(0);
  });

  it('when a payment has not succeeded, then a refund is refused with payment_not_refundable', async () => {
    const payer = await actors.signUp();
    const failed = await actors.call<Payment>('POST', '/v1/payments', {
      token: payer.token,
      headers: { 'X-Saga-Fault': 'debit_payer' },
      body: { merchantId: merchant.user.id, currency: 'USD', amount: 500 },
    });
    expect(failed.body.status).toBe('failed');

    expectError(await refund(merchant.token, failed.body.id, {}), 422, 'payment_not_refundable');
  });
});
