import { ErrorType } from '../domain/errors';
import { newId } from '../domain/ids';
import { insertPendingPayment } from '../store/payment-records';
import { DEFAULT_RISK_RULES, type RiskRules } from '../domain/risk';
import { userWithWallet } from '../test/support/fixtures';
import { paymentFixture, transferFixture, type Party } from '../test/support/money-saga-fixtures';
import { useSagaActivityHarness } from '../test/support/saga-activities';
import { addBlocklistEntry } from '../store/risk';
import { failMoneySaga } from '../store/saga-steps';
import { createRiskActivities } from './risk';

/**
 * The risk_check step and the end of a review against the real database: the rules read what
 * they should, the verdict is recorded once (a retry answers the same), a review turns the payment
 * in_review and its approval back to processing, and the debit after it checks the funds again.
 */
const inReview: string[] = [];
const harness = useSagaActivityHarness(async () => {
  // Reviews a test left open end the way their saga would: failed.
  for (const id of inReview) {
    const row = await harness.db()('payments').select('status').where({ id }).first();
    if (row?.status === 'in_review') await failMoneySaga(harness.db(), 'payment', { sagaId: id, step: 'risk_check', code: 'risk_declined', message: 'test cleanup', rule: 'review_timeout' });
  }
  await payments.endLeftovers();
  await transfers.endLeftovers();
});
const payments = paymentFixture(harness);
const transfers = transferFixture(harness);
const { db, stepsOf, expectRefusal } = harness;

const REVIEW_ABOVE_5000: RiskRules = { ...DEFAULT_RISK_RULES, newRecipientReviewAmount: 5_000, reviewTimeoutMs: 60_000 };

function risk(rules: RiskRules = DEFAULT_RISK_RULES) {
  const activities = createRiskActivities({ db: db(), risk: rules });
  return {
    checkPayment: (paymentId: string) => harness.run(activities.checkPaymentRisk, { paymentId }),
    checkTransfer: (transferId: string) => harness.run(activities.checkTransferRisk, { transferId }),
    resolve: (paymentId: string, resolution: 'approve' | 'decline' | 'timeout', decidedBy: string | null) =>
      harness.run(activities.resolvePaymentReview, { paymentId, resolution, decidedBy }),
  };
}

async function parties(balance = 50_000): Promise<{ payer: Party; merchant: Party }> {
  return { payer: await userWithWallet(db(), { balance }), merchant: await userWithWallet(db(), { role: 'merchant' }) };
}

async function statusOf(paymentId: string): Promise<unknown> {
  return (await db()('payments').select('status').where({ id: paymentId }).first())?.status;
}

async function auditActions(resourceId: string): Promise<Array<{ action: string; actor_id: string | null }>> {
  return db()('audit_log').select('action', 'actor_id').where({ resource_id: resourceId }).orderBy('seq', 'asc');
}

/** A validated payment put in review by a first payment to its merchant above 5 000. */
async function paymentInReview(balance = 50_000) {
  const { payer, merchant } = await parties(balance);
  const paymentId = await payments.insert({ payer, merchant, amount: 10_000, fee: 0, status: 'processing' });
  inReview.push(paymentId);
  const verdict = await risk(REVIEW_ABOVE_5000).checkPayment(paymentId);
  return { payer, merchant, paymentId, verdict };
}

describe('the risk_check activity', () => {
  it('when no rule trips, then it allows, completes the risk_check step, and a retry answers the same', async () => {
    const { payer, merchant } = await parties();
    const paymentId = await payments.insert({ payer, merchant, amount: 10_000, fee: 300, status: 'processing' });

    const first = await risk().checkPayment(paymentId);
    const retried = await risk({ ...DEFAULT_RISK_RULES, velocityMaxCount: 1 }).checkPayment(paymentId);

    expect(first).toEqual({ outcome: 'allow', rule: null, reviewTimeoutMs: 0 });
    expect(retried).toEqual(first);
    expect(await stepsOf(paymentId)).toEqual(['risk_check:completed']);
    expect(await db()('risk_checks').where({ saga_id: paymentId })).toHaveLength(1);
  });

  it('when the payer’s e-mail is blocklisted, then it declines with the rule blocklist and audits it, and moves nothing', async () => {
    const { payer, merchant } = await parties();
    await addBlocklistEntry(db(), { kind: 'email', value: payer.user.email.toUpperCase(), reason: 'test', adminId: merchant.user.id });
    const paymentId = await payments.insert({ payer, merchant, amount: 10_000, fee: 300, status: 'processing' });

    const verdict = await risk().checkPayment(paymentId);

    expect(verdict).toEqual({ outcome: 'decline', rule: 'blocklist', reviewTimeoutMs: 0 });
    expect(await statusOf(paymentId)).toBe('processing');
    expect(await stepsOf(paymentId)).toEqual([]);
    expect(await auditActions(paymentId)).toEqual([{ action: 'payment.risk_declined', actor_id: null }]);
    expect(await db()('journals').where({ reference_id: paymentId })).toEqual([]);
  });

  it('when the merchant is blocklisted, then a payment to it is declined', async () => {
    const { payer, merchant } = await parties();
    await addBlocklistEntry(db(), { kind: 'merchant', value: merchant.user.id, reason: null, adminId: payer.user.id });
    const paymentId = await payments.insert({ payer, merchant, amount: 1_000, fee: 0, status: 'processing' });

    expect(await risk().checkPayment(paymentId)).toMatchObject({ outcome: 'decline', rule: 'blocklist' });
  });

  it('when the payer already made as many payments and transfers as the window allows, then the next is declined velocity_count (failed ones not counted)', async () => {
    const { payer, merchant } = await parties();
    const friend = await userWithWallet(db());
    await payments.insert({ payer, merchant, amount: 1_000, fee: 0, status: 'succeeded' });
    await transfers.insert({ sender: payer, recipient: friend, amount: 1_000, status: 'processing' });
    await payments.insert({ payer, merchant, amount: 1_000, fee: 0, status: 'failed' });
    const third = await payments.insert({ payer, merchant, amount: 1_000, fee: 0, status: 'processing' });
    const rules = { ...DEFAULT_RISK_RULES, velocityMaxCount: 2 };

    expect(await risk(rules).checkPayment(third)).toMatchObject({ outcome: 'decline', rule: 'velocity_count' });
  });

  it('when an earlier payment of the payer is not committed yet while a later one is checked, then the check waits for it and counts it (velocity_count)', async () => {
    const { payer, merchant } = await parties();
    // The earlier payment's API transaction: its row is written first, and commits only after the later one's check began.
    const earlierId = newId('pay');
    const open = await db().transaction();
    await insertPendingPayment(open, {
      ...{ id: earlierId, amount: 1_000, fee: 0, netAmount: 1_000, currency: 'USD', description: null, faultStep: null },
      ...{ payerId: payer.user.id, sourceWalletId: payer.wallet.id, merchantId: merchant.user.id, merchantWalletId: merchant.wallet.id },
    });
    const later = await payments.insert({ payer, merchant, amount: 1_000, fee: 0, status: 'processing' });
    try {
      const checking = risk({ ...DEFAULT_RISK_RULES, velocityMaxCount: 1 }).checkPayment(later);
      // Without waiting for the earlier row, the check answers within a few ms; with it, it is still waiting.
      const early = await Promise.race([checking.then(() => 'answered'), new Promise((resolve) => setTimeout(resolve, 500, 'waiting'))]);
      await open.commit();

      expect(early).toBe('waiting');
      expect(await checking).toMatchObject({ outcome: 'decline', rule: 'velocity_count' });
    } finally {
      if (!open.isCompleted()) await open.rollback();
      const row = await db()('payments').select('status').where({ id: earlierId }).first();
      if (row) await failMoneySaga(db(), 'payment', { sagaId: earlierId, step: 'validate', code: 'processing_error', message: 'test cleanup' });
    }
  });

  it('when a new account sends more than its limit, then it is declined new_account', async () => {
    const { payer, merchant } = await parties();
    const paymentId = await payments.insert({ payer, merchant, amount: 10_000, fee: 0, status: 'processing' });
    const rules = { ...DEFAULT_RISK_RULES, newAccountAgeMs: 86_400_000, newAccountMaxAmount: 9_999 };

    expect(await risk(rules).checkPayment(paymentId)).toMatchObject({ outcome: 'decline', rule: 'new_account' });
  });

  it('when a first transfer to someone is above the review amount, then it is declined new_recipient (transfers are never reviewed)', async () => {
    const sender = await userWithWallet(db(), { balance: 50_000 });
    const recipient = await userWithWallet(db());
    const transferId = await transfers.insert({ sender, recipient, amount: 10_000, status: 'processing' });

    expect(await risk(REVIEW_ABOVE_5000).checkTransfer(transferId)).toEqual({ outcome: 'decline', rule: 'new_recipient', reviewTimeoutMs: 0 });
  });

  it('when the payer paid this merchant before, then a payment above the review amount is allowed', async () => {
    const { payer, merchant } = await parties();
    await payments.insert({ payer, merchant, amount: 500, fee: 0, status: 'succeeded' });
    const paymentId = await payments.insert({ payer, merchant, amount: 10_000, fee: 0, status: 'processing' });

    expect(await risk(REVIEW_ABOVE_5000).checkPayment(paymentId)).toMatchObject({ outcome: 'allow' });
  });

  it('when the fault drill names risk_check, then the check fails InjectedFault and records nothing', async () => {
    const { payer, merchant } = await parties();
    const paymentId = await payments.insert({ payer, merchant, amount: 1_000, fee: 0, status: 'processing', faultStep: 'risk_check' });

    await expectRefusal(risk().checkPayment(paymentId), ErrorType.InjectedFault);

    expect(await db()('risk_checks').where({ saga_id: paymentId })).toEqual([]);
  });
});

describe('a payment in review', () => {
  it('when a first payment to a merchant is above the review amount, then it goes in_review with the timeout, audited, and a retry answers the same', async () => {
    const { paymentId, verdict } = await paymentInReview();

    expect(verdict).toMatchObject({ outcome: 'review', rule: 'new_recipient' });
    expect(verdict.reviewTimeoutMs).toBeGreaterThan(50_000);
    expect(verdict.reviewTimeoutMs).toBeLessThanOrEqual(60_000);
    expect(await statusOf(paymentId)).toBe('in_review');
    expect(await risk().checkPayment(paymentId)).toMatchObject({ outcome: 'review', rule: 'new_recipient' });
    expect(await auditActions(paymentId)).toEqual([{ action: 'payment.risk_review_opened', actor_id: null }]);
  });

  it('when it is approved, then it is processing again with risk_check completed, and a later resolution answers the first', async () => {
    const { paymentId, merchant } = await paymentInReview();

    const approved = await risk().resolve(paymentId, 'approve', merchant.user.id);
    const again = await risk().resolve(paymentId, 'decline', null);

    expect(approved).toEqual({ resolution: 'approve' });
    expect(again).toEqual({ resolution: 'approve' });
    expect(await statusOf(paymentId)).toBe('processing');
    expect(await stepsOf(paymentId)).toEqual(['risk_check:completed']);
    expect((await auditActions(paymentId)).map((entry) => entry.action)).toEqual(['payment.risk_review_opened', 'payment.review_approved']);
  });

  it('when the funds were spent while it waited, then the debit after the approval refuses InsufficientFunds', async () => {
    const { paymentId, payer, merchant } = await paymentInReview(12_000);
    const spending = await payments.insert({ payer, merchant, amount: 5_000, fee: 0, status: 'processing' });
    await payments.activities().debit(spending);

    await risk().resolve(paymentId, 'approve', merchant.user.id);

    await expectRefusal(payments.activities().debit(paymentId), ErrorType.InsufficientFunds);
  });

  it('when it times out, then the resolution is recorded without an admin, the payment stays in_review for the saga to fail', async () => {
    const { paymentId } = await paymentInReview();

    expect(await risk().resolve(paymentId, 'timeout', null)).toEqual({ resolution: 'timeout' });

    expect(await statusOf(paymentId)).toBe('in_review');
    expect(await db()('risk_checks').select('decision', 'decided_by').where({ saga_id: paymentId }).first()).toEqual({ decision: 'timeout', decided_by: null });
    expect((await auditActions(paymentId)).at(-1)).toEqual({ action: 'payment.review_timed_out', actor_id: null });
  });

});
