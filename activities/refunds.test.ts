import fc from 'fast-check';
import { ErrorType } from '../domain/errors';
import { newId } from '../domain/ids';
import { insertPendingPayment } from '../store/payment-records';
import { balanceOf, sumOfEntries, userWithWallet } from '../test/support/fixtures';
import { refundFixture } from '../test/support/money-saga-fixtures';
import { allShardsOf, clearingOf, feesOf, useSagaActivityHarness } from '../test/support/saga-activities';

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

  it('when a payment of 25 with fee 1 is refunded 1 cent 24 times, then the last refund (all fee, net 0) succeeds, and undoes cleanly', async () => {
    const { paymentId, payer, merchant } = await succeededPayment(25, 1);
    for (let cent = 0; cent < 24; cent += 1) await runForward(await refundOf(paymentId, 1));
    const last = await refundOf(paymentId, undefined);
    expect(await refundRow(last)).toMatchObject({ amount: 1, fee_refunded: 1, net_amount: 0 });
    const saga = refunds.raw();
    await run(saga.validateRefund, { refundId: last });
    await run(saga.debitMerchant, { refundId: last });
    await run(saga.debitMerchant, { refundId: last });

    // The merchant's line of 0 has no entry; the journal is recorded once, so a retry moves nothing.
    expect(await movedBy(last, merchant.wallet.id)).toBe(0);
    expect(await movedBy(last, feesOf(last))).toBe(-1);
    expect(await harness.journalCount(last, 'debit_merchant')).toBe(1);
    await run(saga.creditPayer, { refundId: last });
    await run(saga.beginRefundCompensation, { refundId: last });
    await run(saga.reversePayerCredit, { refundId: last });
    await run(saga.returnMerchantDebit, { refundId: last });
    await run(saga.returnMerchantDebit, { refundId: last });
    await run(saga.failRefund, { refundId: last, step: 'write_ledger', code: 'processing_error', message: 'drill' });
    expect(await movedBy(last, feesOf(last))).toBe(0);
    expect(await harness.journalCount(last, 'return_merchant_debit')).toBe(1);
    const again = await refundOf(paymentId, undefined);
    await runForward(again);

    expect(await refundRow(again)).toMatchObject({ status: 'succeeded', fee_refunded: 1, net_amount: 0 });
    expect(await balanceOf(db(), payer.wallet.id)).toBe(25);
    expect(await balanceOf(db(), merchant.wallet.id)).toBe(20_000 - 24);
    await harness.expectLedgerInBalance([payer.wallet.id, merchant.wallet.id]);
  });

  it('when random payments are refunded in random parts, then the refunds return exactly the amount and all of the fee', async () => {
    const payments = fc
      .integer({ min: 1, max: 5_000 })
      .chain((amount) => fc.tuple(fc.constant(amount), fc.integer({ min: 0, max: amount }), fc.array(fc.integer({ min: 1, max: amount }), { maxLength: 6 })));
    await fc.assert(
      fc.asyncProperty(payments, async ([amount, fee, cuts]) => {
        const { paymentId, payer, merchant } = await succeededPayment(amount, fee);
        const refundIds: string[] = [];
        // Each cut refunds a part of what is left; the last refund takes the rest.
        for (const cut of cuts) {
          const left = amount - (await refundedSoFar(refundIds));
          if (left <= 1) break;
          refundIds.push(await refundOf(paymentId, 1 + (cut % (left - 1))));
          await runForward(refundIds[refundIds.length - 1] ?? '');
        }
        refundIds.push(await refundOf(paymentId, undefined));
        await runForward(refundIds[refundIds.length - 1] ?? '');

        const rows = await db()('refunds').select('status', 'amount', 'fee_refunded').whereIn('id', refundIds);
        expect(rows.every((row) => row.status === 'succeeded')).toBe(true);
        expect(await refundedSoFar(refundIds)).toBe(amount);
        expect(rows.reduce((sum, row) => sum + Number(row.fee_refunded), 0)).toBe(fee);
        expect(await balanceOf(db(), payer.wallet.id)).toBe(amount);
        expect(await balanceOf(db(), merchant.wallet.id)).toBe(20_000 - (amount - fee));
        expect(fee + (await movedByAll(refundIds, allShardsOf('fees')))).toBe(0);
        expect(await movedByAll(refundIds, allShardsOf('clearing'))).toBe(0);
      }),
      // The edges first: no fee, a one-cent payment, and a payment that is all fee.
      { numRuns: 15, examples: [[[1, 0, []]], [[1, 1, []]], [[25, 1, [24, 24, 24]]], [[3, 3, [1]]]] },
    );
  });
});

/** A succeeded payment of `amount` with `fee` from a new payer to a new merchant holding 20 000, as the payment saga leaves it. */
async function succeededPayment(amount: number, fee: number) {
  const payer = await userWithWallet(db());
  const merchant = await userWithWallet(db(), { role: 'merchant', balance: 20_000 });
  const paymentId = newId('pay');
  await insertPendingPayment(db(), {
    ...{ id: paymentId, amount, fee, netAmount: amount - fee, currency: 'USD', description: null, faultStep: null },
    ...{ payerId: payer.user.id, sourceWalletId: payer.wallet.id, merchantId: merchant.user.id, merchantWalletId: merchant.wallet.id },
  });
  await db()('payments').where({ id: paymentId }).update({ status: 'succeeded' });
  return { paymentId, payer, merchant };
}

async function refundedSoFar(refundIds: string[]): Promise<number> {
  if (refundIds.length === 0) return 0;
  const row = (await db()('refunds').sum({ total: 'amount' }).whereIn('id', refundIds).first()) as { total: unknown } | undefined;
  return Number(row?.total ?? 0);
}

async function movedByAll(referenceIds: string[], accountIds: string[]): Promise<number> {
  const row = (await db()('entries').sum({ total: 'amount' }).whereIn('account_id', accountIds).whereIn('reference_id', referenceIds).first()) as
    | { total: unknown }
    | undefined;
  return Number(row?.total ?? 0);
}
