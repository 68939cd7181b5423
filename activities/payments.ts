import { log } from '@temporalio/activity';
import type { Knex } from 'knex';
import { DomainError, ErrorType } from '../domain/errors';
import { newId } from '../domain/ids';
import { toSafeInteger } from '../domain/money';
import type { StepStatus } from '../domain/payments';
import { systemAccountId } from '../domain/types';
import { withDomainFailures } from './failures';
import { inTransaction, releaseHold, type PostingLine } from '../store/ledger';
import { loadPaymentRecord, recordStep, type PaymentRecord } from '../store/payment-records';
import { recordSagaFinished } from './saga-metrics';
import { assertLive, beginCompensation, compensateSagaStep, failMoneySaga, lockSaga, postSagaStep, type SagaStepOptions } from '../store/saga-steps';

/** What the payment saga's activities need. */
export interface PaymentActivityDependencies {
  db: Knex;
  /** Most a payer may pay in one currency over 24 hours, in minor units. */
  paymentDailyLimit: number;
}

const DAY_MS = 86_400_000;

/** Fails the step on purpose when the fault drill named it for this payment. */
function injectFault(payment: PaymentRecord, step: string): void {
  if (payment.faultStep === step) {
    throw new DomainError(ErrorType.InjectedFault, `fault drill: step ${step} of ${payment.id} failed on purpose`);
  }
}

/**
 * The payment saga's money activities. Every one is idempotent: journals are
 * keyed `<paymentId>:<step>`, and a step's timeline entry is written in the
 * same transaction as the money it moves.
 */
export function createPaymentSagaActivities({ db, paymentDailyLimit }: PaymentActivityDependencies) {
  /** Posts one forward step's journal and records the step, atomically, while the payment is live. */
  function moveMoney(payment: PaymentRecord, step: string, lines: PostingLine[], options: SagaStepOptions) {
    return postSagaStep(db, 'payment', payment.id, step, lines, options);
  }

  /** Posts a compensation's journal when the step it undoes committed; null when there is nothing to undo. */
  function undoStep(payment: PaymentRecord, step: string, undoes: string, lines: PostingLine[], options: SagaStepOptions) {
    return compensateSagaStep(db, 'payment', payment.id, { step, undoes }, lines, options);
  }

  return {
    /**
     * Step validate: both wallets active, the payer's spendable funds, and the payer's
     * 24-hour limit. The payer's wallet row is locked while the limit is summed and the
     * payment turns `processing`, so two payments of one payer cannot both slip under it.
     */
    validatePayment: withDomainFailures(async ({ paymentId }: { paymentId: string }): Promise<void> => {
      const payment = await loadPaymentRecord(db, paymentId);
      injectFault(payment, 'validate');
      await inTransaction(db, async (trx) => {
        const saga = await lockSaga(trx, 'payment', paymentId);
        assertLive('payment', paymentId, saga, ['pending', 'processing']);
        // A retry after this step committed must not judge the payment again (a frozen wallet since then is debit_payer's business).
        if (saga.status === 'processing') return;
        const source = await trx('accounts').select('status', 'balance', 'held').where({ id: payment.sourceWalletId }).forUpdate().first();
        const target = await trx('accounts').select('status').where({ id: payment.merchantWalletId }).first();
        if (!source || !target) throw new DomainError(ErrorType.AccountNotFound, `a wallet of payment ${paymentId} is missing`);
        if (source.status === 'frozen' || target.status === 'frozen') throw new DomainError(ErrorType.WalletFrozen, 'a wallet of this payment is frozen');
        if (toSafeInteger(source.balance, 'balance') - toSafeInteger(source.held, 'held') < payment.amount) {
          throw new DomainError(ErrorType.InsufficientFunds, 'the payer has insufficient funds');
        }
        const spent = await trx('payments')
          .sum({ total: 'amount' })
          .where({ payer_id: payment.payerId, currency: payment.currency })
          .whereIn('status', ['processing', 'succeeded'])
          .andWhere('created_at', '>', new Date(payment.createdAt.getTime() - DAY_MS))
          .andWhereNot({ id: paymentId })
          .first();
        if (toSafeInteger(spent?.total ?? 0, 'daily total') + payment.amount > paymentDailyLimit) {
          throw new DomainError(ErrorType.LimitExceeded, 'the payment exceeds the payer’s 24-hour limit');
        }
        await trx('payments').where({ id: paymentId, status: 'pending' }).update({ status: 'processing', updated_at: new Date() });
        await recordStep(trx, paymentId, 'validate', 'completed');
      });
    }),

    /** Step debit_payer: payer → clearing. */
    debitPayer: withDomainFailures(async ({ paymentId }: { paymentId: string }): Promise<{ journalId: string }> => {
      const payment = await loadPaymentRecord(db, paymentId);
      injectFault(payment, 'debit_payer');
      const clearing = systemAccountId('clearing', payment.currency);
      const posted = await moveMoney(
        payment,
        'debit_payer',
        [
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
      const payment = await loadPaymentRecord(db, paymentId);
      injectFault(payment, 'credit_merchant');
      const debited = await db('journals').select('id').where({ journal_key: `${paymentId}:debit_payer` }).first();
      if (!debited) throw new Error(`payment ${paymentId}: credit_merchant before debit_payer`);
      const lines: PostingLine[] = [
        { accountId: systemAccountId('clearing', payment.currency), amount: -payment.amount, type: 'payment_credit' },
        { accountId: payment.merchantWalletId, amount: payment.netAmount, type: 'payment_credit' },
      ];
      if (payment.fee > 0) lines.push({ accountId: systemAccountId('fees', payment.currency), amount: payment.fee, type: 'fee' });
      const posted = await moveMoney(payment, 'credit_merchant', lines, {
        requireActive: [payment.merchantWalletId],
        holds: [{ accountId: payment.merchantWalletId, amount: payment.netAmount }],
        timeline: ['credit_merchant', 'completed'],
      });
      log.info('merchant credited', { paymentId, journalId: posted.journalId, replayed: posted.replayed });
      return { journalId: posted.journalId };
    }),

    /** Step write_ledger: the payment is final and succeeded, with its audit record; the merchant's share is released. */
    writeLedger: withDomainFailures(async ({ paymentId }: { paymentId: string }): Promise<void> => {
      const payment = await loadPaymentRecord(db, paymentId);
      injectFault(payment, 'write_ledger');
      const finished = await inTransaction(db, async (trx) => {
        const saga = await lockSaga(trx, 'payment', paymentId);
        if (saga.status === 'succeeded') return false;
        assertLive('payment', paymentId, saga);
        const now = new Date();
        await releaseHold(trx, payment.merchantWalletId, payment.netAmount);
        await trx('payments').where({ id: paymentId }).update({ status: 'succeeded', updated_at: now });
        await trx('audit_log').insert({
          id: newId('aud'),
          actor_id: payment.payerId,
          action: 'payment.succeeded',
          resource_type: 'payment',
          resource_id: paymentId,
          data: JSON.stringify({ amount: payment.amount, fee: payment.fee, netAmount: payment.netAmount, currency: payment.currency }),
          created_at: now,
        });
        await recordStep(trx, paymentId, 'write_ledger', 'completed');
        return true;
      });
      if (finished) recordSagaFinished('payment', 'succeeded', payment.createdAt);
    }),

    /** Compensation of credit_merchant: merchant → clearing (net) and fees → clearing (fee). Retried until it succeeds. */
    reverseMerchantCredit: async ({ paymentId }: { paymentId: string }): Promise<{ journalId: string | null }> => {
      const payment = await loadPaymentRecord(db, paymentId);
      const lines: PostingLine[] = [
        { accountId: payment.merchantWalletId, amount: -payment.netAmount, type: 'reversal' },
        { accountId: systemAccountId('clearing', payment.currency), amount: payment.amount, type: 'reversal' },
      ];
      if (payment.fee > 0) lines.push({ accountId: systemAccountId('fees', payment.currency), amount: -payment.fee, type: 'reversal' });
      const posted = await undoStep(payment, 'reverse_merchant_credit', 'credit_merchant', lines, {
        holds: [{ accountId: payment.merchantWalletId, amount: -payment.netAmount }],
        timeline: ['credit_merchant', 'compensated'],
      });
      log.info('merchant credit reversed', { paymentId, journalId: posted?.journalId ?? null, replayed: posted?.replayed ?? false });
      return { journalId: posted?.journalId ?? null };
    },

    /** Compensation of debit_payer: clearing → payer. Retried until it succeeds; a frozen wallet still gets its money back. */
    refundPayer: async ({ paymentId }: { paymentId: string }): Promise<{ journalId: string | null }> => {
      const payment = await loadPaymentRecord(db, paymentId);
      const posted = await undoStep(
        payment,
        'refund_payer',
        'debit_payer',
        [
          { accountId: systemAccountId('clearing', payment.currency), amount: -payment.amount, type: 'payment_refund' },
          { accountId: payment.sourceWalletId, amount: payment.amount, type: 'payment_refund' },
        ],
        { timeline: ['debit_payer', 'compensated'] },
      );
      log.info('payer refunded', { paymentId, journalId: posted?.journalId ?? null, replayed: posted?.replayed ?? false });
      return { journalId: posted?.journalId ?? null };
    },

    /**
     * The first act of compensating: marks the payment so no forward step moves money after it.
     * `succeeded: true` when a late write_ledger already finished it: then nothing is compensated.
     */
    beginPaymentCompensation: ({ paymentId }: { paymentId: string }): Promise<{ succeeded: boolean }> => beginCompensation(db, 'payment', paymentId),

    /** Ends a payment `failed` with its failure code, and marks the step that failed. */
    failPayment: async ({ paymentId, ...failure }: { paymentId: string; step: string; code: string; message: string }): Promise<void> => {
      const endedCreatedAt = await failMoneySaga(db, 'payment', { sagaId: paymentId, ...failure });
      if (endedCreatedAt) recordSagaFinished('payment', 'failed', endedCreatedAt);
    },

    /** Records a step's status on its own (the notify step's failure). */
    recordPaymentStep: async (input: { paymentId: string; step: string; status: StepStatus }): Promise<void> => {
      await recordStep(db, input.paymentId, input.step, input.status);
    },
  };
}
