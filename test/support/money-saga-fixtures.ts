import type { Knex } from 'knex';
import { createNotificationActivities } from '../../activities/notify';
import { createPaymentSagaActivities } from '../../activities/payments';
import { createRefundSagaActivities } from '../../activities/refunds';
import { createTransferSagaActivities } from '../../activities/transfers';
import { newId } from '../../domain/ids';
import { MONEY_SAGAS, type CompensationBegun, type MoneySagaKind, type MoneySagaStatus, type StepFailure, type StepStatus } from '../../domain/money-sagas';
import { insertPendingPayment } from '../../store/payment-records';
import { insertPendingRefund } from '../../store/refund-records';
import { insertPendingTransfer } from '../../store/transfer-records';
import { userWithWallet } from './fixtures';
import { endLeftoverSagas } from './leftovers';
import { LEDGER_SHARDS, type SagaActivityHarness } from './saga-activities';

/** A user and their wallet. */
export type Party = Awaited<ReturnType<typeof userWithWallet>>;

/** A daily limit no test reaches unless it means to. */
export const GENEROUS_DAILY_LIMIT = 100_000_000;

/** A saga's activities under one vocabulary: each takes the saga's id. */
export interface SagaActivities {
  validate(sagaId: string): Promise<unknown>;
  debit(sagaId: string): Promise<unknown>;
  credit(sagaId: string): Promise<unknown>;
  writeLedger(sagaId: string): Promise<unknown>;
  notify(sagaId: string): Promise<unknown>;
  reverseCredit(sagaId: string): Promise<unknown>;
  returnDebit(sagaId: string): Promise<unknown>;
  /** Marks the saga compensating (the fence) with `failure` as its first failure; `succeeded: true` when it had already succeeded. */
  beginCompensation(sagaId: string, failure?: StepFailure): Promise<CompensationBegun>;
  fail(sagaId: string, failure: { step: string; code: string; message: string }): Promise<unknown>;
  recordStep(sagaId: string, step: string, status: StepStatus): Promise<unknown>;
}

/** A pending saga: `debited` pays into clearing, `credited` is paid out of it. */
export interface CreatedSaga {
  sagaId: string;
  debited: Party;
  credited: Party;
  debitedBalance: number;
}

/** The audit record a succeeded saga leaves. */
export interface ExpectedAudit {
  action: string;
  actor_id: string;
  data: Record<string, unknown>;
}

/** One money saga kind as its activity tests see it; amounts are those of a saga made with the defaults. */
export interface MoneySagaFixture {
  kind: MoneySagaKind;
  amount: number;
  /** What leaves the debited wallet. */
  debitedAmount: number;
  /** What the credited wallet receives. */
  creditedAmount: number;
  /** What the saga's entries moved on the fees account after debit and after credit. */
  feesMoved: { afterDebit: number; afterCredit: number };
  /** Whether the credit step refuses a frozen credited wallet (a refund reaches a frozen payer). */
  creditRefusesFrozenWallet: boolean;
  /** A pending saga; with `debitedBalance` the debited wallet holds that much. */
  newSaga(options?: { debitedBalance?: number; faultStep?: string }): Promise<CreatedSaga>;
  activities(dailyLimit?: number): SagaActivities;
  audit(saga: CreatedSaga): ExpectedAudit;
  /** Ends the sagas the file left in flight, as their workflow would. */
  endLeftovers(): Promise<void>;
}

/** Ends the sagas a file left in flight as their workflow would: the declared compensations of committed steps, newest first, then fail. */
function endLeftovers(harness: SagaActivityHarness, kind: MoneySagaKind, written: readonly string[], saga: SagaActivities): Promise<void> {
  const { table, moneySteps } = MONEY_SAGAS[kind];
  const [debit, credit] = moneySteps;
  return endLeftoverSagas(
    harness.db(),
    table,
    written,
    [
      { step: credit.step, compensation: credit.compensation.step, run: saga.reverseCredit },
      { step: debit.step, compensation: debit.compensation.step, run: saga.returnDebit },
    ],
    (id) => saga.fail(id, { step: 'test_cleanup', code: 'abandoned', message: 'left in flight by an activity test' }),
  );
}

/** Marks a pending saga validated (status processing, no timeline entry): what the money steps expect. */
export async function validated(db: Knex, fixture: MoneySagaFixture, options: Parameters<MoneySagaFixture['newSaga']>[0] = {}): Promise<CreatedSaga> {
  const saga = await fixture.newSaga(options);
  await db(MONEY_SAGAS[fixture.kind].table).where({ id: saga.sagaId }).update({ status: 'processing' });
  return saga;
}

/** The payment fixture: a payer paying 100.00 USD (fee 3.00) to a merchant. */
export function paymentFixture(harness: SagaActivityHarness) {
  const written: string[] = [];
  const PAYMENT = { amount: 10_000, fee: 300 };
  const insert = async (input: { payer: Party; merchant: Party; amount: number; fee: number; faultStep?: string; status?: MoneySagaStatus }) => {
    const id = newId('pay');
    written.push(id);
    const { payer, merchant, amount, fee } = input;
    await insertPendingPayment(harness.db(), {
      ...{ id, amount, fee, netAmount: amount - fee, currency: 'USD', description: null, faultStep: input.faultStep ?? null },
      ...{ payerId: payer.user.id, sourceWalletId: payer.wallet.id, merchantId: merchant.user.id, merchantWalletId: merchant.wallet.id },
    });
    if (input.status && input.status !== 'pending') await harness.db()('payments').where({ id }).update({ status: input.status });
    return id;
  };
  const raw = (dailyLimit = GENEROUS_DAILY_LIMIT) => ({ ...createPaymentSagaActivities({ db: harness.db(), paymentDailyLimit: dailyLimit, ledgerSystemShards: LEDGER_SHARDS }), ...createNotificationActivities({ db: harness.db() }) });
  const activities = (dailyLimit?: number): SagaActivities => {
    const saga = raw(dailyLimit);
    const run = <R>(activity: (input: { paymentId: string }) => Promise<R>) => (paymentId: string) => harness.run(activity, { paymentId });
    return {
      ...{ validate: run(saga.validatePayment), debit: run(saga.debitPayer), credit: run(saga.creditMerchant), writeLedger: run(saga.writeLedger) },
      ...{ notify: run(saga.notifyPayment), reverseCredit: run(saga.reverseMerchantCredit), returnDebit: run(saga.refundPayer) },
      beginCompensation: (paymentId, failure) => harness.run(saga.beginPaymentCompensation, { paymentId, failure }),
      fail: (paymentId, failure) => harness.run(saga.failPayment, { paymentId, ...failure }),
      recordStep: (paymentId, step, status) => harness.run(saga.recordPaymentStep, { paymentId, step, status }),
    };
  };
  const fixture: MoneySagaFixture = {
    kind: 'payment',
    amount: PAYMENT.amount,
    debitedAmount: PAYMENT.amount,
    creditedAmount: PAYMENT.amount - PAYMENT.fee,
    feesMoved: { afterDebit: 0, afterCredit: PAYMENT.fee },
    creditRefusesFrozenWallet: true,
    async newSaga(options = {}) {
      const debitedBalance = options.debitedBalance ?? 50_000;
      const payer = await userWithWallet(harness.db(), { balance: debitedBalance });
      const merchant = await userWithWallet(harness.db(), { role: 'merchant' });
      const sagaId = await insert({ payer, merchant, ...PAYMENT, faultStep: options.faultStep });
      return { sagaId, debited: payer, credited: merchant, debitedBalance };
    },
    activities,
    audit: ({ debited }) => ({
      action: 'payment.succeeded',
      actor_id: debited.user.id,
      data: { amount: PAYMENT.amount, fee: PAYMENT.fee, netAmount: PAYMENT.amount - PAYMENT.fee, currency: 'USD' },
    }),
    endLeftovers: () => endLeftovers(harness, 'payment', written, activities()),
  };
  return { ...fixture, insert, raw };
}

/** The transfer fixture: a sender sending 100.00 USD to another customer. */
export function transferFixture(harness: SagaActivityHarness) {
  const written: string[] = [];
  const AMOUNT = 10_000;
  const insert = async (input: { sender: Party; recipient: Party; amount: number; note?: string; faultStep?: string; status?: MoneySagaStatus }) => {
    const id = newId('trf');
    written.push(id);
    const { sender, recipient, amount } = input;
    await insertPendingTransfer(harness.db(), {
      ...{ id, amount, currency: 'USD', note: input.note ?? null, faultStep: input.faultStep ?? null },
      ...{ senderId: sender.user.id, fromWalletId: sender.wallet.id, recipientId: recipient.user.id, toWalletId: recipient.wallet.id },
    });
    if (input.status && input.status !== 'pending') await harness.db()('transfers').where({ id }).update({ status: input.status });
    return id;
  };
  const raw = (dailyLimit = GENEROUS_DAILY_LIMIT) => ({ ...createTransferSagaActivities({ db: harness.db(), transferDailyLimit: dailyLimit, ledgerSystemShards: LEDGER_SHARDS }), ...createNotificationActivities({ db: harness.db() }) });
  const activities = (dailyLimit?: number): SagaActivities => {
    const saga = raw(dailyLimit);
    const run = <R>(activity: (input: { transferId: string }) => Promise<R>) => (transferId: string) => harness.run(activity, { transferId });
    return {
      ...{ validate: run(saga.validateTransfer), debit: run(saga.debitSender), credit: run(saga.creditRecipient), writeLedger: run(saga.writeTransferLedger) },
      ...{ notify: run(saga.notifyTransfer), reverseCredit: run(saga.reverseRecipientCredit), returnDebit: run(saga.refundSender) },
      beginCompensation: (transferId, failure) => harness.run(saga.beginTransferCompensation, { transferId, failure }),
      fail: (transferId, failure) => harness.run(saga.failTransfer, { transferId, ...failure }),
      recordStep: (transferId, step, status) => harness.run(saga.recordTransferStep, { transferId, step, status }),
    };
  };
  const fixture: MoneySagaFixture = {
    kind: 'transfer',
    amount: AMOUNT,
    debitedAmount: AMOUNT,
    creditedAmount: AMOUNT,
    feesMoved: { afterDebit: 0, afterCredit: 0 },
    creditRefusesFrozenWallet: true,
    async newSaga(options = {}) {
      const debitedBalance = options.debitedBalance ?? 50_000;
      const sender = await userWithWallet(harness.db(), { balance: debitedBalance });
      const recipient = await userWithWallet(harness.db());
      const sagaId = await insert({ sender, recipient, amount: AMOUNT, faultStep: options.faultStep });
      return { sagaId, debited: sender, credited: recipient, debitedBalance };
    },
    activities,
    audit: ({ debited, credited }) => ({ action: 'transfer.succeeded', actor_id: debited.user.id, data: { amount: AMOUNT, currency: 'USD', recipientId: credited.user.id } }),
    endLeftovers: () => endLeftovers(harness, 'transfer', written, activities()),
  };
  return { ...fixture, insert, raw };
}

/** The refund fixture: a whole refund of a succeeded payment of 100.00 USD (fee 3.00), from its merchant back to its payer. */
export function refundFixture(harness: SagaActivityHarness) {
  const written: string[] = [];
  const paymentOf = new Map<string, string>();
  const PAYMENT = { amount: 10_000, fee: 300 };
  /** Writes a pending refund of a payment, as the API does; throws on a refusal. */
  const refundOf = async (paymentId: string, amount: number | undefined, faultStep?: string): Promise<string> => {
    const id = newId('ref');
    const refusal = await harness.db().transaction((trx) => insertPendingRefund(trx, { id, paymentId, amount, reason: 'damaged', faultStep: faultStep ?? null }));
    if (refusal) throw new Error(refusal);
    written.push(id);
    return id;
  };
  /** A succeeded payment whose merchant holds `merchantBalance`, and a pending refund of `amount` of it (all that is left when undefined). */
  const newRefund = async (options: { amount?: number; merchantBalance?: number; faultStep?: string; paymentStatus?: 'succeeded' | 'failed' } = {}) => {
    const db = harness.db();
    const payer = await userWithWallet(db);
    const merchant = await userWithWallet(db, { role: 'merchant', balance: options.merchantBalance ?? 20_000 });
    const paymentId = newId('pay');
    await insertPendingPayment(db, {
      ...{ id: paymentId, amount: PAYMENT.amount, fee: PAYMENT.fee, netAmount: PAYMENT.amount - PAYMENT.fee, currency: 'USD', description: null, faultStep: null },
      ...{ payerId: payer.user.id, sourceWalletId: payer.wallet.id, merchantId: merchant.user.id, merchantWalletId: merchant.wallet.id },
    });
    await db('payments').where({ id: paymentId }).update({ status: 'succeeded' });
    const refundId = await refundOf(paymentId, options.amount, options.faultStep);
    if (options.paymentStatus) await db('payments').where({ id: paymentId }).update({ status: options.paymentStatus });
    return { refundId, paymentId, payer, merchant };
  };
  const raw = () => ({ ...createRefundSagaActivities({ db: harness.db(), ledgerSystemShards: LEDGER_SHARDS }), ...createNotificationActivities({ db: harness.db() }) });
  const activities = (): SagaActivities => {
    const saga = raw();
    const run = <R>(activity: (input: { refundId: string }) => Promise<R>) => (refundId: string) => harness.run(activity, { refundId });
    return {
      ...{ validate: run(saga.validateRefund), debit: run(saga.debitMerchant), credit: run(saga.creditPayer), writeLedger: run(saga.writeRefundLedger) },
      ...{ notify: run(saga.notifyRefund), reverseCredit: run(saga.reversePayerCredit), returnDebit: run(saga.returnMerchantDebit) },
      beginCompensation: (refundId, failure) => harness.run(saga.beginRefundCompensation, { refundId, failure }),
      fail: (refundId, failure) => harness.run(saga.failRefund, { refundId, ...failure }),
      recordStep: (refundId, step, status) => harness.run(saga.recordRefundStep, { refundId, step, status }),
    };
  };
  const fixture: MoneySagaFixture = {
    kind: 'refund',
    amount: PAYMENT.amount,
    debitedAmount: PAYMENT.amount - PAYMENT.fee,
    creditedAmount: PAYMENT.amount,
    feesMoved: { afterDebit: -PAYMENT.fee, afterCredit: -PAYMENT.fee },
    creditRefusesFrozenWallet: false,
    async newSaga(options = {}) {
      const debitedBalance = options.debitedBalance ?? 20_000;
      const { refundId, paymentId, payer, merchant } = await newRefund({ merchantBalance: debitedBalance, faultStep: options.faultStep });
      paymentOf.set(refundId, paymentId);
      return { sagaId: refundId, debited: merchant, credited: payer, debitedBalance };
    },
    activities,
    audit: ({ sagaId, debited }) => ({
      action: 'refund.succeeded',
      actor_id: debited.user.id,
      data: { paymentId: paymentOf.get(sagaId), amount: PAYMENT.amount, feeRefunded: PAYMENT.fee, netAmount: PAYMENT.amount - PAYMENT.fee, currency: 'USD' },
    }),
    endLeftovers: () => endLeftovers(harness, 'refund', written, activities()),
  };
  return { ...fixture, PAYMENT, newRefund, refundOf, raw, written };
}
