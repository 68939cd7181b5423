import type { Payment } from '../store/payment-records';
import { actorsOf, expectError, type Actor } from './support/actors';
import { startStack, waitFor, type TestStack } from './support/stack';

/**
 * Risk checks on the real stack: a payment held in review until an admin decides (approve,
 * decline, two admins racing, the timeout), the blocklist endpoints, and the rules that decline
 * a transfer or a payer going too fast.
 */
let stack: TestStack;
let actors: ReturnType<typeof actorsOf>;
let adminToken: string;
let secondAdminToken: string;
let merchant: Actor;

const REVIEW_ABOVE = 3_000;
const REVIEW_TIMEOUT_MS = 20_000;

beforeAll(async () => {
  stack = await startStack({
    RISK_NEW_RECIPIENT_REVIEW_AMOUNT: String(REVIEW_ABOVE),
    RISK_REVIEW_TIMEOUT_MS: String(REVIEW_TIMEOUT_MS),
    RISK_VELOCITY_MAX_COUNT: '3',
  });
  actors = actorsOf(stack);
  [adminToken, secondAdminToken] = await Promise.all([actors.admin(), actors.admin()]);
  merchant = await actors.signUp({ role: 'merchant', name: 'Acme' });
});

afterEach(async () => {
  await actors.expectReconciled(adminToken);
});

afterAll(async () => {
  await stack.stop();
});

function pay(payer: Actor, amount: number) {
  return actors.call<Payment>('POST', '/v1/payments', { token: payer.token, body: { merchantId: merchant.user.id, amount, currency: 'USD' } });
}

function review(token: string, paymentId: string, decision: string) {
  return actors.call<Payment>('POST', `/v1/admin/payments/${paymentId}/review`, { token, body: { decision } });
}

/** The payment once its saga has finished, notify step included. */
async function settled(payer: Actor, paymentId: string): Promise<Payment> {
  await stack.temporal.workflow.getHandle(`payment-${paymentId}`).result();
  return (await actors.call<Payment>('GET', `/v1/payments/${paymentId}`, { token: payer.token })).body;
}

/** A new payer whose first payment to the merchant (above the review amount) waits in review. */
async function paymentInReview(): Promise<{ payer: Actor; payment: Payment }> {
  const payer = await actors.signUp();
  const response = await pay(payer, 5_000);
  expect(response.status).toBe(202);
  expect(response.body.status).toBe('in_review');
  expect(response.headers.get('location')).toBe(`/v1/payments/${response.body.id}`);
  return { payer, payment: response.body };
}

const stepsOf = (payment: Payment) => payment.steps.map((step) => `${step.name}:${step.status}`);

async function auditActionsOf(resourceId: string): Promise<string[]> {
  const rows: Array<{ action: string }> = await stack.db('audit_log').select('action').where({ resource_id: resourceId }).orderBy('seq', 'asc');
  return rows.map((row) => row.action);
}

describe('payments in review', () => {
  it('when a first payment to a merchant is above the review amount, then it answers 202 in_review, is listed so, and an approval lets it succeed', async () => {
    const { payer, payment } = await paymentInReview();
    const listed = await actors.call<{ data: Payment[] }>('GET', '/v1/payments?status=in_review', { token: payer.token });
    expect(listed.body.data.map((item) => item.id)).toEqual([payment.id]);
    // The admins' review queue: every payment in review, whoever paid; an admin's own role filter still means their own.
    const queue = await actors.call<{ data: Payment[] }>('GET', '/v1/payments?status=in_review&limit=100', { token: adminToken });
    expect(queue.body.data.map((item) => item.id)).toContain(payment.id);
    expect(queue.body.data.every((item) => item.status === 'in_review')).toBe(true);
    expect((await actors.call<{ data: Payment[] }>('GET', '/v1/payments?status=in_review&role=payer', { token: adminToken })).body.data).toEqual([]);

    const approved = await review(adminToken, payment.id, 'approve');

    expect(approved.status).toBe(200);
    expect(approved.body.id).toBe(payment.id);
    const final = await settled(payer, payment.id);
    expect(final).toMatchObject({ status: 'succeeded', failure: null });
    expect(stepsOf(final)).toEqual(['validate:completed', 'risk_check:completed', 'debit_payer:completed', 'credit_merchant:completed', 'write_ledger:completed', 'notify:completed']);
    expect(await actors.balanceOf(payer.token, payer.wallet.id)).toBe(payer.wallet.balance - 5_000);
    expect(await auditActionsOf(payment.id)).toEqual(['payment.risk_review_opened', 'payment.review_approved', 'payment.succeeded']);
  });

  it('when two admins decide at once, then exactly one wins and the other gets 409 review_closed', async () => {
    const { payer, payment } = await paymentInReview();

    const answers = await Promise.all([review(adminToken, payment.id, 'approve'), review(secondAdminToken, payment.id, 'decline')]);

    expect(answers.map((answer) => answer.status).sort()).toEqual([200, 409]);
    const loser = answers.find((answer) => answer.status === 409);
    if (loser) expectError(loser, 409, 'review_closed');
    const winner = answers.findIndex((answer) => answer.status === 200) === 0 ? 'approve' : 'decline';
    const final = await settled(payer, payment.id);
    expect(final.status).toBe(winner === 'approve' ? 'succeeded' : 'failed');
    expectError(await review(adminToken, payment.id, 'approve'), 409, 'review_closed');
    const decisions = await stack.db('audit_log').where({ resource_id: payment.id }).whereIn('action', ['payment.review_approved', 'payment.review_declined']);
    expect(decisions).toHaveLength(1);
  });

  it('when an admin declines it, then it fails risk_declined (review_declined) and the payer keeps the money', async () => {
    const { payer, payment } = await paymentInReview();

    expect((await review(adminToken, payment.id, 'decline')).status).toBe(200);

    const final = await settled(payer, payment.id);
    expect(final.failure).toEqual({ code: 'risk_declined', message: 'the payment was declined by the risk check (review_declined)', rule: 'review_declined' });
    expect(stepsOf(final)).toEqual(['validate:completed', 'risk_check:failed', 'notify:completed']);
    expect(await actors.balanceOf(payer.token, payer.wallet.id)).toBe(payer.wallet.balance);
  });

  it('when nobody decides in time, then it fails risk_declined (review_timeout) and a late decision gets 409', async () => {
    const { payer, payment } = await paymentInReview();

    const final = await waitFor(
      async () => {
        const read = await actors.call<Payment>('GET', `/v1/payments/${payment.id}`, { token: payer.token });
        return read.body.status === 'failed' ? read.body : undefined;
      },
      { timeoutMs: REVIEW_TIMEOUT_MS + 20_000, intervalMs: 250, what: 'the review to time out' },
    );

    expect(final.failure).toMatchObject({ code: 'risk_declined', rule: 'review_timeout' });
    expectError(await review(adminToken, payment.id, 'approve'), 409, 'review_closed');
    await settled(payer, payment.id);
  }, 60_000);

  it('when the review is asked of a payment not in review, of an unknown one, by a customer or with a bad decision, then 409, 404, 403 and 400', async () => {
    const payer = await actors.signUp();
    const allowed = await pay(payer, 1_000);
    expect(allowed.body.status).toBe('succeeded');

    expectError(await review(adminToken, allowed.body.id, 'approve'), 409, 'review_closed');
    expectError(await review(adminToken, 'pay_unknown', 'approve'), 404, 'not_found');
    expectError(await review(payer.token, allowed.body.id, 'approve'), 403, 'forbidden');
    expectError(await review(adminToken, allowed.body.id, 'maybe'), 400, 'validation_error');
  });
});

describe('the blocklist', () => {
  it('when an admin blocklists a payer’s e-mail, then their payments are declined (blocklist) until the entry is removed', async () => {
    const payer = await actors.signUp();

    const added = await actors.call<{ id: string; kind: string; value: string }>('POST', '/v1/admin/blocklist', {
      token: adminToken,
      body: { kind: 'email', value: payer.email.toUpperCase(), reason: 'chargebacks' },
    });
    const again = await actors.call<{ id: string }>('POST', '/v1/admin/blocklist', { token: adminToken, body: { kind: 'email', value: payer.email } });
    const listed = await actors.call<{ data: Array<{ id: string }> }>('GET', '/v1/admin/blocklist?limit=100', { token: adminToken });
    const declined = await pay(payer, 1_000);

    expect(added.status).toBe(201);
    expect(added.body).toMatchObject({ kind: 'email', value: payer.email.toLowerCase() });
    expect(again.status).toBe(200);
    expect(again.body.id).toBe(added.body.id);
    expect(listed.body.data.map((entry) => entry.id)).toContain(added.body.id);
    expect(declined.status).toBe(201);
    expect(declined.body).toMatchObject({ status: 'failed', failure: { code: 'risk_declined', rule: 'blocklist' } });

    expect((await actors.call('DELETE', `/v1/admin/blocklist/${added.body.id}`, { token: adminToken })).status).toBe(204);
    expectError(await actors.call('DELETE', `/v1/admin/blocklist/${added.body.id}`, { token: adminToken }), 404, 'not_found');
    expect((await pay(payer, 1_000)).body.status).toBe('succeeded');
    expect(await auditActionsOf(added.body.id)).toEqual(['risk.blocklist_added', 'risk.blocklist_removed']);
  });

  it('when a customer or a bad entry reaches the blocklist, then 403 and 400', async () => {
    const customer = await actors.signUp();

    expectError(await actors.call('GET', '/v1/admin/blocklist', { token: customer.token }), 403, 'forbidden');
    expectError(await actors.call('POST', '/v1/admin/blocklist', { token: adminToken, body: { kind: 'phone', value: '+15550100' } }), 400, 'validation_error');
    expectError(await actors.call('POST', '/v1/admin/blocklist', { token: adminToken, body: { kind: 'email', value: 'not-an-address' } }), 400, 'validation_error');
  });
});

describe('risk rules', () => {
  it('when a first transfer to someone is above the review amount, then it fails risk_declined (new_recipient) and no money moves', async () => {
    const [sender, recipient] = await Promise.all([actors.signUp(), actors.signUp()]);

    const response = await actors.call<{ status: string; failure: unknown; steps: Array<{ name: string; status: string }> }>('POST', '/v1/transfers', {
      token: sender.token,
      body: { toUserId: recipient.user.id, amount: 5_000, currency: 'USD' },
    });

    expect(response.status).toBe(201);
    expect(response.body).toMatchObject({ status: 'failed', failure: { code: 'risk_declined', rule: 'new_recipient' } });
    expect(await actors.balanceOf(sender.token, sender.wallet.id)).toBe(sender.wallet.balance);
  });

  it('when a payer makes more payments in the window than RISK_VELOCITY_MAX_COUNT, then the next one fails risk_declined (velocity_count)', async () => {
    const payer = await actors.signUp();
    for (let index = 0; index < 3; index += 1) expect((await pay(payer, 1_000)).body.status).toBe('succeeded');

    const fourth = await pay(payer, 1_000);

    expect(fourth.body).toMatchObject({ status: 'failed', failure: { code: 'risk_declined', rule: 'velocity_count' } });
  });
});
