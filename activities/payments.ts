import { log } from '@temporalio/activity';
import type { Knex } from 'knex';
import { DomainError, ErrorType } from '../domain/errors';
import type { CompensationBegun, StepFailure, StepStatus } from '../domain/money-sagas';
import { toSafeInteger } from '../domain/money';
import { releaseHold, type PostingLine } from '../store/ledger';
import { DAILY_LIMIT_WINDOW_MS, withinDailyLimit } from '../domain/risk';
import { loadPaymentRecord, type PaymentRecord } from '../store/payment-records';
import { dailyOutflow } from '../store/risk';
import type { SagaSystemAccounts } from '../store/saga-steps';
import { withDomainFailures } from './failures';
import { sagaStepKit } from './saga-step-kit';

/** What the payment saga's activities need. */
export interface PaymentActivityDependencies {
  db: Knex;
  /** Most a person may pay and send together in one currency over 24 hours, in minor units (see `withinDailyLimit`). */
  paymentDailyLimit: number;
  /** LEDGER_SYSTEM_SHARDS: clearing and fee accounts per currency (default 8). */
  ledgerSystemShards?: number;
}

/**
 * The payment saga's money activities. Every one is idempotent: journals are
 * keyed `<paymentId>:<step>`, and a step's timeline entry is written in the
 * same transaction as the money it moves.
 */
export function createPaymentSagaActivities({ db, paymentDailyLimit, ledgerSystemShards }: PaymentActivityDependencies) {
  const saga = sagaStepKit(db, 'payment', loadPaymentRecord, ledgerSystemShards);

  /** The payer's payments and transfers in the payment's currency over the 24 hours before it, this one excluded. */
  function paidInLastDay(trx: Knex.Transaction, payment: PaymentRecord): Promise<number> {
    const since = new Date(payment.createdAt.getTime() - DAILY_LIMIT_WINDOW_MS);
    return dailyOutflow(trx, { personId: payment.payerId, currency: payment.currency, since, excludeId: payment.id });
  }

  return {
    /**
     * Step validate: both wallets active, the payer's spendable funds, and the payer's
     * 24-hour limit, shared with their transfers. The payer's wallet row is locked while the limit
     * is summed and the payment turns `processing`, so two payments or transfers of one payer
     * cannot both slip under it.
     * A retry after this step committed does not judge the payment again (a frozen wallet since then is debit_payer's business).
     */
    validatePayment: withDomainFailures(async ({ paymentId }: { paymentId: string }): Promise<void> => {
      const payment = await saga.load(paymentId, 'validate');
      await saga.validate(payment, async (trx) => {
        const source = await trx('accounts').select('status', 'balance', 'held').where({ id: payment.sourceWalletId }).forUpdate().first();
        const target = await trx('accounts').select('status').where({ id: payment.merchantWalletId }).first();
        if (!source || !target) throw new DomainError(ErrorType.AccountNotFound, `a wallet of payment ${paymentId} is missing`);
        if (source.status === 'frozen' || target.status === 'frozen') throw new DomainError(ErrorType.WalletFrozen, 'a wallet of this payment is frozen');
        if (toSafeInteger(source.balance, 'balance') - toSafeInteger(source.held, 'held') < payment.amount) {
          throw new DomainError(ErrorType.InsufficientFunds, 'the payer has insufficient funds');
        }
        if (!withinDailyLimit(await paidInLastDay(trx, payment), payment.amount, paymentDailyLimit)) {
          throw new DomainError(ErrorType.LimitExceeded, 'the payment exceeds the payer’s 24-hour limit');
        }
      });
    }),

    /** Step debit_payer: payer → clearing. */
    debitPayer: withDomainFailures(async ({ paymentId }: { paymentId: string }): Promise<{ journalId: string }> => {
      const payment = await saga.load(paymentId, 'debit_payer');
      const posted = await saga.moveMoney(
        payment,
        'debit_payer',
        ({ clearing }) => [
          { accountId: payment.sourceWalletId, amount: -payment.amount, type: 'payment_debit' },
          { accountId: clearing, amount: payment.amount, type: 'payment_debit' },
        ],
        { requireActive: [payment.sourceWalletId], timeline: ['debit_payer', 'completed'] },
      );
      log.info('payer debited', { paymentId, journalId: posted.journalId, replayed: posted.replayed });
      return { journalId: posted.journalId };
    }),

    /**
     * Step credit_merchant: clearing → merchant (amount − fee) and clearing → platform fees (fee).
     * The merchant's share stays held until write_ledger, so reverse_merchant_credit can always take it back.
     */
    creditMerchant: withDomainFailures(async ({ paymentId }: { paymentId: string }): Promise<{ journalId: string }> => {
      const payment = await saga.load(paymentId, 'credit_merchant');
      const debited = await db('journals').select('id').where({ journal_key: `${paymentId}:debit_payer` }).first();
      if (!debited) throw new Error(`payment ${paymentId}: credit_merchant before debit_payer`);
      const lines = ({ clearing, fees }: SagaSystemAccounts): PostingLine[] => [
        { accountId: clearing, amount: -payment.amount, type: 'payment_credit' },
        { accountId: payment.merchantWalletId, amount: payment.netAmount, type: 'payment_credit' },
        ...(payment.fee > 0 ? [{ accountId: fees, amount: payment.fee, type: 'fee' as const }] : []),
      ];
      const posted = await saga.moveMoney(payment, 'credit_merchant', lines, {
        requireActive: [payment.merchantWalletId],
        holds: [{ accountId: payment.merchantWalletId, amount: payment.netAmount }],
        timeline: ['credit_merchant', 'completed'],
      });
      log.info('merchant credited', { paymentId, journalId: posted.journalId, replayed: posted.replayed });
      return { journalId: posted.journalId };
    }),

    /** Step write_ledger: the payment is final and succeeded, with its audit record; the merchant's share is released. */
    writeLedger: withDomainFailures(async ({ paymentId }: { paymentId: string }): Promise<void> => {
      const payment = await saga.load(paymentId, 'write_ledger');
      const audit = { actorId: payment.payerId, data: { amount: payment.amount, fee: payment.fee, netAmount: payment.netAmount, currency: payment.currency } };
      await saga.finish(payment, audit, (trx) => releaseHold(trx, payment.merchantWalletId, payment.netAmount));
    }),

    /** Compensation of credit_merchant: merchant → clearing (net) and fees → clearing (fee). Retried until it succeeds. */
    reverseMerchantCredit: async ({ paymentId }: { paymentId: string }): Promise<{ journalId: string | null }> => {
      const payment = await saga.loadForCompensation(paymentId);
      const lines = ({ clearing, fees }: SagaSystemAccounts): PostingLine[] => [
        { accountId: payment.merchantWalletId, amount: -payment.netAmount, type: 'reversal' },
        { accountId: clearing, amount: payment.amount, type: 'reversal' },
        ...(payment.fee > 0 ? [{ accountId: fees, amount: -payment.fee, type: 'reversal' as const }] : []),
      ];
      const posted = await saga.undoStep(payment, 'reverse_merchant_credit', 'credit_merchant', lines, {
        holds: [{ accountId: payment.merchantWalletId, amount: -payment.netAmount }],
        timeline: ['credit_merchant', 'compensated'],
      });
      log.info('merchant credit reversed', { paymentId, journalId: posted?.journalId ?? null, replayed: posted?.replayed ?? false });
      return { journalId: posted?.journalId ?? null };
    },

    /** Compensation of debit_payer: clearing → payer. Retried until it succeeds; a frozen wallet still gets its money back. */
    refundPayer: async ({ paymentId }: { paymentId: string }): Promise<{ journalId: string | null }> => {
      const payment = await saga.loadForCompensation(paymentId);
      const posted = await saga.undoStep(
        payment,
        'refund_payer',
        'debit_payer',
        ({ clearing }) => [
          { accountId: clearing, amount: -payment.amount, type: 'payment_refund' },
          { accountId: payment.sourceWalletId, amount: payment.amount, type: 'payment_refund' },
        ],
        { timeline: ['debit_payer', 'compensated'] },
      );
      log.info('payer refunded', { paymentId, journalId: posted?.journalId ?? null, replayed: posted?.replayed ?? false });
      return { journalId: posted?.journalId ?? null };
    },

    /**
     * The first act of compensating: marks the payment so no forward step moves money after it, and
     * records `failure` as its first failure unless one is; answers the recorded one (absent for a
     * saga started before the workflow passed it). `succeeded: true` when a late write_ledger
     * already finished it: then nothing is compensated.
     */
    beginPaymentCompensation: ({ paymentId, failure }: { paymentId: string; failure?: StepFailure }): Promise<CompensationBegun> =>
      saga.beginCompensation(paymentId, failure),

    /** Ends a payment `failed` with its failure code, and marks the step that failed. */
    failPayment: ({ paymentId, step, ...failure }: { paymentId: string; step: string; code: string; message: string; rule?: string }): Promise<void> =>
      saga.fail(paymentId, step, failure),

    /** Records a step's status on its own (the notify step's failure). */
    recordPaymentStep: (input: { paymentId: string; step: string; status: StepStatus }): Promise<void> => saga.recordStep(input.paymentId, input.step, input.status),
  };
}
