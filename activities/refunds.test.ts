import { ErrorType } from '../domain/errors';
import { newId } from '../domain/ids';
import { balanceOf, sumOfEntries } from '../test/support/fixtures';
import { refundFixture } from '../test/support/money-saga-fixtures';
import { clearingOf, feesOf, useSagaActivityHarness } from '../test/support/saga-activities';

/**
 * What only the refund saga's activities do, against the real database: partial refunds and
 * their fee shares, the money goes back to a frozen payer wallet too, refusals of a payment that
 * cannot be refunded, and who is told. The cases every money saga shares are in `money-sagas.test.ts`.
 */
const harness = useSagaActivityHarness(() => refunds.endLeftovers());
const refunds = refundFixture(harness);
const { PAYMENT, newRefund, refundOf } = refunds;
const { run, expectRefusal, movedBy, stepsOf } = harness;
const db = () => harness.db();

async function refundRow(refundId: string) {
  const row = await db()('refunds').where({ id: refundId }).first();
  if (!row) throw new Error(`no refund ${refundId}`);
  return row;
}

/** A row without its generated `seq`, to write a copy. */
function omitSeq<Row extends { seq: unknown }>(row: Row): Omit<Row, 'seq'> {
  const copy: Partial<Row> = { ...row };
  delete copy.seq;
  return copy as Omit<Row, 'seq'>;
}

/** Runs the forward money steps in order, each `attempts` times (a retry after the step committed). */
async function runForward(refundId: string, attempts = 1): Promise<void> {
  const saga = refunds.activities();
  for (const step of ['validate', 'debit', 'credit', 'writeLedger'] as const) {
    for (let attempt = 0; attempt < attempts; attempt += 1) await saga[step](refundId);
  }
}

describe('refund saga activities', () => {
  it('when every step of a partial refund runs twice, then the money moves once: merchant and fees back to the payer, nothing held', async () => {
    const { refundId, payer, merchant } = await newRefund({ amount: 5_000 });

    await runForward(refundId, 2);

    const row = await refundRow(refundId);
    expect(row).toMatchObject({ status: 'succeeded', amount: 5_000, fee_refunded: 150, net_amount: 4_850 });
    expect(await balanceOf(db(), payer.wallet.id)).toBe(5_000);
    expect(await balanceOf(db(), merchant.wallet.id)).toBe(20_000 - 4_850);
    expect(await movedBy(refundId, feesOf(refundId))).toBe(-150);
    expect(await movedBy(refundId, clearingOf(refundId))).toBe(0);
    expect(await db()('accounts').select('held').where({ id: payer.wallet.id }).first()).toMatchObject({ held: 0 });
    expect(await sumOfEntries(db(), payer.wallet.id)).toBe(5_000);
    expect(await stepsOf(refundId)).toEqual(['validate:completed', 'debit_merchant:completed', 'credit_payer:completed', 'write_ledger:completed']);
  });

  it('when the payer’s wallet is frozen, then the refund still reaches it', async () => {
    const { refundId, payer } = await newRefund();
    await harness.freeze(payer.wallet.id);

    await runForward(refundId);

    expect((await refundRow(refundId)).status).toBe('succeeded');
    expect(await balanceOf(db(), payer.wallet.id)).toBe(PAYMENT.amount);
  });

  it('when the payment is no longer succeeded, then validate refuses with PaymentNotRefundable', async () => {
    const { refundId } = await newRefund({ paymentStatus: 'failed' });

    await expectRefusal(refunds.activities().validate(refundId), ErrorType.PaymentNotRefundable);
  });

  it('when other refunds in flight already took the payment, then validate refuses with RefundExceedsPayment', async () => {
    const { refundId, paymentId } = await newRefund({ amount: 6_000 });
    // A row written around the API's lock (it never is): the validate step is the last guard.
    const other = newId('ref');
    const row = await refundRow(refundId);
    await db()('refunds').insert({ ...omitSeq(row), id: other, amount: 6_000, fee_refunded: 0, net_amount: 6_000, status: 'processing', workflow_id: `refund-${other}` });
    refunds.written.push(other);

    await expectRefusal(refunds.activities().validate(refundId), ErrorType.RefundExceedsPayment);
    expect((await db()('refunds').count({ n: '*' }).where({ payment_id: paymentId }).first())?.n).toBe(2);
  });

  it('when credit_payer committed and the saga compensates, then both steps are undone and the merchant is whole', async () => {
    const { refundId, payer, merchant } = await newRefund();
    const saga = refunds.raw();
    await run(saga.validateRefund, { refundId });
    await run(saga.debitMerchant, { refundId });
    await run(saga.creditPayer, { refundId });

    expect(await run(saga.beginRefundCompensation, { refundId })).toEqual({ succeeded: false });
    expect((await run(saga.reversePayerCredit, { refundId })).journalId).toEqual(expect.any(String));
    expect((await run(saga.returnMerchantDebit, { refundId })).journalId).toEqual(expect.any(String));
    expect((await run(saga.returnMerchantDebit, { refundId })).journalId).toEqual(expect.any(String));
    await run(saga.failRefund, { refundId, step: 'write_ledger', code: 'processing_error', message: 'gave up' });

    expect(await balanceOf(db(), payer.wallet.id)).toBe(0);
    expect(await balanceOf(db(), merchant.wallet.id)).toBe(20_000);
    expect(await movedBy(refundId, feesOf(refundId))).toBe(0);
    expect(await movedBy(refundId, clearingOf(refundId))).toBe(0);
    expect(await refundRow(refundId)).toMatchObject({ status: 'failed', failure_code: 'processing_error' });
    expect(await stepsOf(refundId)).toEqual(['validate:completed', 'debit_merchant:compensated', 'credit_payer:compensated', 'write_ledger:failed']);
  });

  it('when the refund succeeded, then notify tells the payer once, in-app and by e-mail', async () => {
    const { refundId, payer } = await newRefund({ amount: 1_000 });
    await runForward(refundId);

    await refunds.activities().notify(refundId);
    await refunds.activities().notify(refundId);

    const notifications = await db()('notifications').select('type', 'channel').where({ user_id: payer.user.id });
    expect(notifications.map((row) => `${row.type}:${row.channel}`).sort()).toEqual(['refund_succeeded:email', 'refund_succeeded:in_app']);
    expect(await stepsOf(refundId)).toContain('notify:completed');
  });

  it('when the payment is refunded in two halves, then the fee shares sum to the payment’s fee', async () => {
    const { refundId, paymentId } = await newRefund({ amount: 5_000 });
    const second = await refundOf(paymentId, undefined);

    await runForward(refundId);
    await runForward(second);

    const shares = await db()('refunds').select('amount', 'fee_refunded').whereIn('id', [refundId, second]).orderBy('seq');
    expect(shares).toEqual([
      { amount: 5_000, fee_refunded: 150 },
      { amount: 5_000, fee_refunded: 150 },
    ]);
    await expect(refundOf(paymentId, 1)).rejects.toThrow('refund_exceeds_payment');
  });
});
