import { ApplicationFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { DefaultLogger } from '@temporalio/worker';
import type { Knex } from 'knex';
import { ErrorType } from '../domain/errors';
import { MONEY_SAGAS, type MoneySagaKind } from '../domain/money-sagas';
import { newId } from '../domain/ids';
import { createDatabase } from '../infra/database';
import { balanceOf, userWithWallet } from '../test/support/fixtures';
import { testConfig } from '../test/support/stack';
import { insertPendingPayment } from '../store/payment-records';
import { listSteps } from '../store/saga-timeline';
import { createPaymentSagaActivities } from './payments';
import { insertPendingRefund } from '../store/refund-records';
import { insertPendingTransfer } from '../store/transfer-records';
import { createRefundSagaActivities } from './refunds';
import { createTransferSagaActivities } from './transfers';

/**
 * The fence, for every money saga kind: once the compensating path has marked a saga, no forward
 * step moves money or finishes it; a compensation whose step never committed moves nothing and
 * records nothing; and a saga that already succeeded is never compensated.
 */
let db: Knex;
let environment: MockActivityEnvironment;

beforeAll(() => {
  db = createDatabase(testConfig().databaseUrl, 5);
  environment = new MockActivityEnvironment(undefined, { logger: new DefaultLogger('ERROR') });
});

afterAll(async () => {
  await db.destroy();
});

type Call = (input: { id: string }) => Promise<unknown>;

/** One saga kind as these tests drive it: how to create a validated row, and its activities by role. */
interface SagaKindUnderTest {
  kind: MoneySagaKind;
  table: 'payments' | 'transfers' | 'refunds';
  create: () => Promise<{ id: string; payerWalletId: string; payeeWalletId: string; payerBalance: number }>;
  debit: Call;
  credit: Call;
  finish: Call;
  begin: (input: { id: string }) => Promise<{ succeeded: boolean }>;
  undoCredit: (input: { id: string }) => Promise<{ journalId: string | null }>;
  undoDebit: (input: { id: string }) => Promise<{ journalId: string | null }>;
  fail: Call;
  steps: { debit: string; credit: string };
}

const DAILY_LIMIT = 100_000_000;
const AMOUNT = 4_000;
const BALANCE = 10_000;

function run<R>(activity: () => Promise<R>): Promise<R> {
  return environment.run(activity);
}

const kinds: SagaKindUnderTest[] = [
  {
    kind: 'payment',
    table: 'payments',
    create: async () => {
      const payer = await userWithWallet(db, { balance: BALANCE });
      const merchant = await userWithWallet(db, { role: 'merchant' });
      const id = newId('pay');
      await insertPendingPayment(db, {
        id,
        payerId: payer.user.id,
        sourceWalletId: payer.wallet.id,
        merchantId: merchant.user.id,
        merchantWalletId: merchant.wallet.id,
        amount: AMOUNT,
        fee: 80,
        netAmount: AMOUNT - 80,
        currency: 'USD',
        description: null,
        faultStep: null,
      });
      await db('payments').where({ id }).update({ status: 'processing' });
      return { id, payerWalletId: payer.wallet.id, payeeWalletId: merchant.wallet.id, payerBalance: BALANCE };
    },
    debit: ({ id }) => run(() => payments().debitPayer({ paymentId: id })),
    credit: ({ id }) => run(() => payments().creditMerchant({ paymentId: id })),
    finish: ({ id }) => run(() => payments().writeLedger({ paymentId: id })),
    begin: ({ id }) => run(() => payments().beginPaymentCompensation({ paymentId: id })),
    undoCredit: ({ id }) => run(() => payments().reverseMerchantCredit({ paymentId: id })),
    undoDebit: ({ id }) => run(() => payments().refundPayer({ paymentId: id })),
    fail: ({ id }) => run(() => payments().failPayment({ paymentId: id, step: 'credit_merchant', code: 'processing_error', message: 'gave up' })),
    steps: { debit: 'debit_payer', credit: 'credit_merchant' },
  },
  {
    kind: 'transfer',
    table: 'transfers',
    create: async () => {
      const sender = await userWithWallet(db, { balance: BALANCE });
      const recipient = await userWithWallet(db);
      const id = newId('trf');
      await insertPendingTransfer(db, {
        id,
        senderId: sender.user.id,
        fromWalletId: sender.wallet.id,
        recipientId: recipient.user.id,
        toWalletId: recipient.wallet.id,
        amount: AMOUNT,
        currency: 'USD',
        note: null,
        faultStep: null,
      });
      await db('transfers').where({ id }).update({ status: 'processing' });
      return { id, payerWalletId: sender.wallet.id, payeeWalletId: recipient.wallet.id, payerBalance: BALANCE };
    },
    debit: ({ id }) => run(() => transfers().debitSender({ transferId: id })),
    credit: ({ id }) => run(() => transfers().creditRecipient({ transferId: id })),
    finish: ({ id }) => run(() => transfers().writeTransferLedger({ transferId: id })),
    begin: ({ id }) => run(() => transfers().beginTransferCompensation({ transferId: id })),
    undoCredit: ({ id }) => run(() => transfers().reverseRecipientCredit({ transferId: id })),
    undoDebit: ({ id }) => run(() => transfers().refundSender({ transferId: id })),
    fail: ({ id }) => run(() => transfers().failTransfer({ transferId: id, step: 'credit_recipient', code: 'processing_error', message: 'gave up' })),
    steps: { debit: 'debit_sender', credit: 'credit_recipient' },
  },
  {
    kind: 'refund',
    table: 'refunds',
    create: async () => {
      const payer = await userWithWallet(db);
      const merchant = await userWithWallet(db, { role: 'merchant', balance: BALANCE });
      const paymentId = newId('pay');
      await insertPendingPayment(db, {
        id: paymentId,
        payerId: payer.user.id,
        sourceWalletId: payer.wallet.id,
        merchantId: merchant.user.id,
        merchantWalletId: merchant.wallet.id,
        amount: AMOUNT,
        fee: 80,
        netAmount: AMOUNT - 80,
        currency: 'USD',
        description: null,
        faultStep: null,
      });
      await db('payments').where({ id: paymentId }).update({ status: 'succeeded' });
      const id = newId('ref');
      const refusal = await db.transaction((trx) => insertPendingRefund(trx, { id, paymentId, amount: AMOUNT, reason: null, faultStep: null }));
      if (refusal) throw new Error(refusal);
      await db('refunds').where({ id }).update({ status: 'processing' });
      // The merchant's wallet is the one the refund debits.
      return { id, payerWalletId: merchant.wallet.id, payeeWalletId: payer.wallet.id, payerBalance: BALANCE };
    },
    debit: ({ id }) => run(() => refunds().debitMerchant({ refundId: id })),
    credit: ({ id }) => run(() => refunds().creditPayer({ refundId: id })),
    finish: ({ id }) => run(() => refunds().writeRefundLedger({ refundId: id })),
    begin: ({ id }) => run(() => refunds().beginRefundCompensation({ refundId: id })),
    undoCredit: ({ id }) => run(() => refunds().reversePayerCredit({ refundId: id })),
    undoDebit: ({ id }) => run(() => refunds().returnMerchantDebit({ refundId: id })),
    fail: ({ id }) => run(() => refunds().failRefund({ refundId: id, step: 'credit_payer', code: 'processing_error', message: 'gave up' })),
    steps: { debit: 'debit_merchant', credit: 'credit_payer' },
  },
];

function payments() {
  return createPaymentSagaActivities({ db, paymentDailyLimit: DAILY_LIMIT });
}

function refunds() {
  return createRefundSagaActivities({ db });
}

function transfers() {
  return createTransferSagaActivities({ db, transferDailyLimit: DAILY_LIMIT });
}

async function expectSagaNotLive(outcome: Promise<unknown>): Promise<void> {
  const error = await outcome.then(
    () => null,
    (reason: unknown) => reason,
  );
  expect(error).toBeInstanceOf(ApplicationFailure);
  expect(error).toMatchObject({ type: ErrorType.SagaNotLive, nonRetryable: true });
}

async function journalKeys(sagaId: string): Promise<string[]> {
  const rows = (await db('journals').select('journal_key').where({ reference_id: sagaId }).orderBy('seq')) as Array<{ journal_key: string }>;
  return rows.map((row) => row.journal_key.slice(sagaId.length + 1));
}

async function timeline(sagaId: string): Promise<string[]> {
  return (await listSteps(db, sagaId)).map((step) => `${step.name}:${step.status}`);
}

describe.each(kinds)('fencing of a $kind', (saga) => {
  it('when the saga is marked before its debit commits, then the late debit moves nothing and its compensation records nothing', async () => {
    const { id, payerWalletId, payerBalance } = await saga.create();

    expect(await saga.begin({ id })).toEqual({ succeeded: false });
    await expectSagaNotLive(saga.debit({ id }));
    expect(await saga.undoDebit({ id })).toEqual({ journalId: null });
    await saga.fail({ id });

    expect(await balanceOf(db, payerWalletId)).toBe(payerBalance);
    expect(await journalKeys(id)).toEqual([]);
    expect(await timeline(id)).toEqual([`${saga.steps.credit}:failed`]);
    const row = await db(saga.table).select('status', 'compensation_started_at').where({ id }).first();
    expect(row?.status).toBe('failed');
    expect(row?.compensation_started_at).toBeInstanceOf(Date);
  });

  it('when the saga is marked after its debit, then a late credit moves nothing and only the debit is refunded', async () => {
    const { id, payerWalletId, payeeWalletId, payerBalance } = await saga.create();
    await saga.debit({ id });

    await saga.begin({ id });
    await expectSagaNotLive(saga.credit({ id }));
    expect(await saga.undoCredit({ id })).toEqual({ journalId: null });
    expect((await saga.undoDebit({ id })).journalId).toEqual(expect.any(String));

    expect(await balanceOf(db, payerWalletId)).toBe(payerBalance);
    expect(await balanceOf(db, payeeWalletId)).toBe(0);
    expect(await journalKeys(id)).toEqual([saga.steps.debit, MONEY_SAGAS[saga.kind].moneySteps[0].compensation.step]);
    expect(await timeline(id)).toEqual([`${saga.steps.debit}:compensated`]);
  });

  it('when the saga is marked, then a late final step cannot make it succeed', async () => {
    const { id } = await saga.create();
    await saga.debit({ id });
    await saga.credit({ id });

    await saga.begin({ id });
    await expectSagaNotLive(saga.finish({ id }));

    expect((await db(saga.table).select('status').where({ id }).first())?.status).toBe('processing');
  });

  it('when a late final step already succeeded, then the mark answers succeeded and compensations move nothing', async () => {
    const { id, payeeWalletId } = await saga.create();
    await saga.debit({ id });
    await saga.credit({ id });
    await saga.finish({ id });
    const payeeBalance = await balanceOf(db, payeeWalletId);

    expect(await saga.begin({ id })).toEqual({ succeeded: true });
    expect(await saga.undoCredit({ id })).toEqual({ journalId: null });
    expect(await saga.undoDebit({ id })).toEqual({ journalId: null });

    expect(await balanceOf(db, payeeWalletId)).toBe(payeeBalance);
    const row = await db(saga.table).select('status', 'compensation_started_at').where({ id }).first();
    expect(row).toEqual({ status: 'succeeded', compensation_started_at: null });
  });

  it('when a compensation runs without the mark (a saga started before fencing), then it marks the saga itself', async () => {
    const { id } = await saga.create();
    await saga.debit({ id });

    await saga.undoDebit({ id });

    await expectSagaNotLive(saga.credit({ id }));
    expect((await db(saga.table).select('compensation_started_at').where({ id }).first())?.compensation_started_at).toBeInstanceOf(Date);
  });
});
