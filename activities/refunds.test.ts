import { ApplicationFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { DefaultLogger } from '@temporalio/worker';
import type { Knex } from 'knex';
import { ErrorType, type ErrorTypeName } from '../domain/errors';
import { newId } from '../domain/ids';
import { systemAccountId } from '../domain/types';
import { createDatabase } from '../infra/database';
import { insertPendingPayment } from '../store/payment-records';
import { insertPendingRefund } from '../store/refund-records';
import { listSteps } from '../store/saga-timeline';
import { balanceOf, sumOfEntries, userWithWallet } from '../test/support/fixtures';
import { endLeftoverSagas } from '../test/support/leftovers';
import { testConfig } from '../test/support/stack';
import { createNotificationActivities } from './notify';
import { createRefundSagaActivities } from './refunds';

/**
 * The refund saga's activities against the real database: each step run twice moves money
 * once, refusals are typed and non-retryable, the money goes back to a frozen payer wallet
 * too, compensations undo exactly what committed, and the fee comes back from the fees account.
 */
let db: Knex;
let environment: MockActivityEnvironment;

const FEES = systemAccountId('fees', 'USD');
const CLEARING = systemAccountId('clearing', 'USD');
const PAYMENT = { amount: 10_000, fee: 300 };

/** Every refund this file wrote: afterAll ends those a test left in flight. */
const written: string[] = [];

beforeAll(() => {
  db = createDatabase(testConfig().databaseUrl, 5);
  environment = new MockActivityEnvironment(undefined, { logger: new DefaultLogger('ERROR') });
});

afterAll(async () => {
  const saga = activities();
  await endLeftoverSagas(
    db,
    'refunds',
    written,
    [
      { step: 'credit_payer', compensation: 'reverse_payer_credit', run: (refundId) => run(saga.reversePayerCredit, { refundId }) },
      { step: 'debit_merchant', compensation: 'return_merchant_debit', run: (refundId) => run(saga.returnMerchantDebit, { refundId }) },
    ],
    (refundId) => run(saga.failRefund, { refundId, step: 'test_cleanup', code: 'abandoned', message: 'left in flight by an activity test' }),
  );
  await db.destroy();
});

function activities() {
  return { ...createRefundSagaActivities({ db }), ...createNotificationActivities({ db }) };
}

function run<A extends unknown[], R>(activity: (...args: A) => Promise<R>, ...args: A): Promise<R> {
  return environment.run<A, R, typeof activity>(activity, ...args);
}

/**
 * A succeeded payment of 100.00 USD (fee 3.00) whose merchant holds `merchantBalance`, and a
 * pending refund of `amount` of it (all that is left when undefined).
 */
async function newRefund(options: { amount?: number; merchantBalance?: number; faultStep?: string; paymentStatus?: 'succeeded' | 'failed' } = {}) {
  const payer = await userWithWallet(db);
  const merchant = await userWithWallet(db, { role: 'merchant', balance: options.merchantBalance ?? 20_000 });
  const paymentId = newId('pay');
  await insertPendingPayment(db, {
    id: paymentId,
    payerId: payer.user.id,
    sourceWalletId: payer.wallet.id,
    merchantId: merchant.user.id,
    merchantWalletId: merchant.wallet.id,
    amount: PAYMENT.amount,
    fee: PAYMENT.fee,
    netAmount: PAYMENT.amount - PAYMENT.fee,
    currency: 'USD',
    description: null,
    faultStep: null,
  });
  await db('payments').where({ id: paymentId }).update({ status: 'succeeded' });
  const refundId = await refundOf(paymentId, options.amount, options.faultStep);
  if (options.paymentStatus) await db('payments').where({ id: paymentId }).update({ status: options.paymentStatus });
  return { refundId, paymentId, payer, merchant };
}

/** Writes a pending refund of a payment, as the API does; throws on a refusal. */
async function refundOf(paymentId: string, amount: number | undefined, faultStep?: string): Promise<string> {
  const id = newId('ref');
  const refusal = await db.transaction((trx) => insertPendingRefund(trx, { id, paymentId, amount, reason: 'damaged', faultStep: faultStep ?? null }));
  if (refusal) throw new Error(refusal);
  written.push(id);
  return id;
}

async function expectRefusal(outcome: Promise<unknown>, type: ErrorTypeName): Promise<void> {
  const error = await outcome.then(
    () => null,
    (reason: unknown) => reason,
  );
  expect(error).toBeInstanceOf(ApplicationFailure);
  expect(error).toMatchObject({ type, nonRetryable: true });
}

async function refundRow(refundId: string) {
  const row = await db('refunds').where({ id: refundId }).first();
  if (!row) throw new Error(`no refund ${refundId}`);
  return row;
}

/** A row without its generated `seq`, to write a copy. */
function omitSeq<Row extends { seq: unknown }>(row: Row): Omit<Row, 'seq'> {
  const copy: Partial<Row> = { ...row };
  delete copy.seq;
  return copy as Omit<Row, 'seq'>;
}

async function stepsOf(refundId: string): Promise<string[]> {
  return (await listSteps(db, refundId)).map((step) => `${step.name}:${step.status}`);
}

/** What this refund's entries moved on one account. */
async function movedBy(refundId: string, accountId: string): Promise<number> {
  const row = (await db('entries').sum({ total: 'amount' }).where({ account_id: accountId, reference_id: refundId }).first()) as { total: unknown } | undefined;
  return Number(row?.total ?? 0);
}

/** Runs the forward money steps in order, each `attempts` times (a retry after the step committed). */
async function runForward(refundId: string, attempts = 1): Promise<void> {
  const saga = activities();
  const steps: Array<(input: { refundId: string }) => Promise<unknown>> = [saga.validateRefund, saga.debitMerchant, saga.creditPayer, saga.writeRefundLedger];
  for (const step of steps) {
    for (let attempt = 0; attempt < attempts; attempt += 1) await run(step, { refundId });
  }
}

describe('refund saga activities', () => {
  it('when every step runs twice, then the money moves once: merchant and fees back to the payer, nothing held', async () => {
    const { refundId, payer, merchant } = await newRefund({ amount: 5_000 });

    await runForward(refundId, 2);

    const row = await refundRow(refundId);
    expect(row).toMatchObject({ status: 'succeeded', amount: 5_000, fee_refunded: 150, net_amount: 4_850 });
    expect(await balanceOf(db, payer.wallet.id)).toBe(5_000);
    expect(await balanceOf(db, merchant.wallet.id)).toBe(20_000 - 4_850);
    expect(await movedBy(refundId, FEES)).toBe(-150);
    expect(await movedBy(refundId, CLEARING)).toBe(0);
    expect(await db('accounts').select('held').where({ id: payer.wallet.id }).first()).toMatchObject({ held: 0 });
    expect(await sumOfEntries(db, payer.wallet.id)).toBe(5_000);
    expect(await stepsOf(refundId)).toEqual(['validate:completed', 'debit_merchant:completed', 'credit_payer:completed', 'write_ledger:completed']);
  });

  it('when the payer’s wallet is frozen, then the refund still reaches it', async () => {
    const { refundId, payer } = await newRefund();
    await db('accounts').where({ id: payer.wallet.id }).update({ status: 'frozen' });

    await runForward(refundId);

    expect((await refundRow(refundId)).status).toBe('succeeded');
    expect(await balanceOf(db, payer.wallet.id)).toBe(PAYMENT.amount);
  });

  it('when the merchant lacks the funds for its share, then validate refuses with InsufficientFunds', async () => {
    const { refundId } = await newRefund({ merchantBalance: 9_699 });

    await expectRefusal(run(activities().validateRefund, { refundId }), ErrorType.InsufficientFunds);

    expect((await refundRow(refundId)).status).toBe('pending');
  });

  it('when the payment is no longer succeeded, then validate refuses with PaymentNotRefundable', async () => {
    const { refundId } = await newRefund({ paymentStatus: 'failed' });

    await expectRefusal(run(activities().validateRefund, { refundId }), ErrorType.PaymentNotRefundable);
  });

  it('when other refunds in flight already took the payment, then validate refuses with RefundExceedsPayment', async () => {
    const { refundId, paymentId } = await newRefund({ amount: 6_000 });
    // A row written around the API's lock (it never is): the validate step is the last guard.
    const other = newId('ref');
    const row = await refundRow(refundId);
    await db('refunds').insert({ ...omitSeq(row), id: other, amount: 6_000, fee_refunded: 0, net_amount: 6_000, status: 'processing', workflow_id: `refund-${other}` });
    written.push(other);

    await expectRefusal(run(activities().validateRefund, { refundId }), ErrorType.RefundExceedsPayment);
    expect((await db('refunds').count({ n: '*' }).where({ payment_id: paymentId }).first())?.n).toBe(2);
  });

  it('when credit_payer committed and the saga compensates, then both steps are undone and the merchant is whole', async () => {
    const { refundId, payer, merchant } = await newRefund();
    const saga = activities();
    await run(saga.validateRefund, { refundId });
    await run(saga.debitMerchant, { refundId });
    await run(saga.creditPayer, { refundId });

    expect(await run(saga.beginRefundCompensation, { refundId })).toEqual({ succeeded: false });
    expect((await run(saga.reversePayerCredit, { refundId })).journalId).toEqual(expect.any(String));
    expect((await run(saga.returnMerchantDebit, { refundId })).journalId).toEqual(expect.any(String));
    expect((await run(saga.returnMerchantDebit, { refundId })).journalId).toEqual(expect.any(String));
    await run(saga.failRefund, { refundId, step: 'write_ledger', code: 'processing_error', message: 'gave up' });

    expect(await balanceOf(db, payer.wallet.id)).toBe(0);
    expect(await balanceOf(db, merchant.wallet.id)).toBe(20_000);
    expect(await movedBy(refundId, FEES)).toBe(0);
    expect(await movedBy(refundId, CLEARING)).toBe(0);
    expect(await refundRow(refundId)).toMatchObject({ status: 'failed', failure_code: 'processing_error' });
    expect(await stepsOf(refundId)).toEqual(['validate:completed', 'debit_merchant:compensated', 'credit_payer:compensated', 'write_ledger:failed']);
  });

  it('when the fault drill names a step, then that step fails with InjectedFault', async () => {
    const { refundId } = await newRefund({ faultStep: 'debit_merchant' });
    await run(activities().validateRefund, { refundId });

    await expectRefusal(run(activities().debitMerchant, { refundId }), ErrorType.InjectedFault);
  });

  it('when the refund succeeded, then notify tells the payer once, in-app and by e-mail', async () => {
    const { refundId, payer } = await newRefund({ amount: 1_000 });
    await runForward(refundId);

    await run(activities().notifyRefund, { refundId });
    await run(activities().notifyRefund, { refundId });

    const notifications = await db('notifications').select('type', 'channel').where({ user_id: payer.user.id });
    expect(notifications.map((row) => `${row.type}:${row.channel}`).sort()).toEqual(['refund_succeeded:email', 'refund_succeeded:in_app']);
    expect(await stepsOf(refundId)).toContain('notify:completed');
  });

  it('when the payment is refunded in two halves, then the fee shares sum to the payment’s fee', async () => {
    const { refundId, paymentId } = await newRefund({ amount: 5_000 });
    const second = await refundOf(paymentId, undefined);

    await runForward(refundId);
    await runForward(second);

    const shares = await db('refunds').select('amount', 'fee_refunded').whereIn('id', [refundId, second]).orderBy('seq');
    expect(shares).toEqual([
      { amount: 5_000, fee_refunded: 150 },
      { amount: 5_000, fee_refunded: 150 },
    ]);
    await expect(refundOf(paymentId, 1)).rejects.toThrow('refund_exceeds_payment');
  });
});
