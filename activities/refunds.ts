import { log } from '@temporalio/activity';
import type { Knex } from 'knex';
import { DomainError, ErrorType } from '../domain/errors';
import { toSafeInteger } from '../domain/money';
import type { CompensationBegun, StepFailure, StepStatus } from '../domain/money-sagas';
import { releaseHold } from '../store/ledger';
import { loadRefundRecord, type RefundRecord } from '../store/refund-records';
import type { SagaStepLines } from '../store/saga-steps';
import { withDomainFailures } from './failures';
import { sagaStepKit } from './saga-step-kit';

/** The lines of debit_merchant: merchant → clearing (net) and fees → clearing (the fee share); `sign` −1 reverses them. */
function merchantDebitLines(refund: RefundRecord, sign: 1 | -1, type: 'payment_refund' | 'reversal'): SagaStepLines {
  return ({ clearing, fees }) => [
    { accountId: refund.merchantWalletId, amount: -sign * refund.netAmount, type },
    { accountId: clearing, amount: sign * refund.amount, type },
    ...(refund.feeRefunded > 0 ? [{ accountId: fees, amount: -sign * refund.feeRefunded, type }] : []),
  ];
}

/**
 * The refund saga's money activities. Every one is idempotent: journals are keyed
 * `<refundId>:<step>`, and a step's timeline entry is written in the same transaction
 * as the money it moves. The money goes back to the payment's source wallet, frozen or not.
 */
export function createRefundSagaActivities({ db, ledgerSystemShards }: { db: Knex; ledgerSystemShards?: number }) {
  const saga = sagaStepKit(db, 'refund', loadRefundRecord, ledgerSystemShards);

  return {
    /**
     * Step validate: the payment succeeded, this refund with the others of the payment that
     * are in flight or succeeded stays within it, and the merchant's wallet is active with
     * the available funds for its share. The merchant's wallet row is locked while it is judged.
     */
    validateRefund: withDomainFailures(async ({ refundId }: { refundId: string }): Promise<void> => {
      const refund = await saga.load(refundId, 'validate');
      await saga.validate(refund, async (trx) => {
        const payment = await trx('payments').select('status', 'amount').where({ id: refund.paymentId }).forUpdate().first();
        if (payment?.status !== 'succeeded') throw new DomainError(ErrorType.PaymentNotRefundable, 'only a succeeded payment can be refunded');
        const others = await trx('refunds')
          .sum({ total: 'amount' })
          .where({ payment_id: refund.paymentId })
          .whereIn('status', ['processing', 'succeeded'])
          .andWhereNot({ id: refundId })
          .first();
        if (toSafeInteger(others?.total ?? 0, 'refunded amount') + refund.amount > toSafeInteger(payment.amount, 'amount')) {
          throw new DomainError(ErrorType.RefundExceedsPayment, 'the refunds would exceed the payment');
        }
        const merchant = await trx('accounts').select('status', 'balance', 'held').where({ id: refund.merchantWalletId }).forUpdate().first();
        if (!merchant) throw new DomainError(ErrorType.AccountNotFound, `the merchant's wallet of refund ${refundId} is missing`);
        if (merchant.status === 'frozen') throw new DomainError(ErrorType.WalletFrozen, 'the merchant’s wallet is frozen');
        if (toSafeInteger(merchant.balance, 'balance') - toSafeInteger(merchant.held, 'held') < refund.netAmount) {
          throw new DomainError(ErrorType.InsufficientFunds, 'the merchant has insufficient funds for this refund');
        }
      });
    }),

    /** Step debit_merchant: merchant → clearing (net) and platform fees → clearing (the fee share). */
    debitMerchant: withDomainFailures(async ({ refundId }: { refundId: string }): Promise<{ journalId: string }> => {
      const refund = await saga.load(refundId, 'debit_merchant');
      const posted = await saga.moveMoney(refund, 'debit_merchant', merchantDebitLines(refund, 1, 'payment_refund'), {
        requireActive: [refund.merchantWalletId],
        timeline: ['debit_merchant', 'completed'],
      });
      log.info('merchant debited for a refund', { refundId, journalId: posted.journalId, replayed: posted.replayed });
      return { journalId: posted.journalId };
    }),

    /**
     * Step credit_payer: clearing → the payment's source wallet, also when it is frozen. The credit
     * stays held until write_ledger, so reverse_payer_credit can always take it back.
     */
    creditPayer: withDomainFailures(async ({ refundId }: { refundId: string }): Promise<{ journalId: string }> => {
      const refund = await saga.load(refundId, 'credit_payer');
      const debited = await db('journals').select('id').where({ journal_key: `${refundId}:debit_merchant` }).first();
      if (!debited) throw new Error(`refund ${refundId}: credit_payer before debit_merchant`);
      const posted = await saga.moveMoney(
        refund,
        'credit_payer',
        ({ clearing }) => [
          { accountId: clearing, amount: -refund.amount, type: 'payment_refund' },
          { accountId: refund.sourceWalletId, amount: refund.amount, type: 'payment_refund' },
        ],
        { holds: [{ accountId: refund.sourceWalletId, amount: refund.amount }], timeline: ['credit_payer', 'completed'] },
      );
      log.info('payer credited for a refund', { refundId, journalId: posted.journalId, replayed: posted.replayed });
      return { journalId: posted.journalId };
    }),

    /** Step write_ledger: the refund is final and succeeded, with its audit record; the payer's credit is released. */
    writeRefundLedger: withDomainFailures(async ({ refundId }: { refundId: string }): Promise<void> => {
      const refund = await saga.load(refundId, 'write_ledger');
      const audit = {
        actorId: refund.merchantId,
        data: { paymentId: refund.paymentId, amount: refund.amount, feeRefunded: refund.feeRefunded, netAmount: refund.netAmount, currency: refund.currency },
      };
      await saga.finish(refund, audit, (trx) => releaseHold(trx, refund.sourceWalletId, refund.amount));
    }),

    /** Compensation of credit_payer: payer → clearing, with its hold. Retried until it succeeds; works on a frozen wallet too. */
    reversePayerCredit: async ({ refundId }: { refundId: string }): Promise<{ journalId: string | null }> => {
      const refund = await saga.loadForCompensation(refundId);
      const posted = await saga.undoStep(
        refund,
        'reverse_payer_credit',
        'credit_payer',
        ({ clearing }) => [
          { accountId: refund.sourceWalletId, amount: -refund.amount, type: 'reversal' },
          { accountId: clearing, amount: refund.amount, type: 'reversal' },
        ],
        { holds: [{ accountId: refund.sourceWalletId, amount: -refund.amount }], timeline: ['credit_payer', 'compensated'] },
      );
      log.info('payer credit of a refund reversed', { refundId, journalId: posted?.journalId ?? null, replayed: posted?.replayed ?? false });
      return { journalId: posted?.journalId ?? null };
    },

    /** Compensation of debit_merchant: clearing → merchant (net) and clearing → fees (the fee share). Retried until it succeeds. */
    returnMerchantDebit: async ({ refundId }: { refundId: string }): Promise<{ journalId: string | null }> => {
      const refund = await saga.loadForCompensation(refundId);
      const posted = await saga.undoStep(refund, 'return_merchant_debit', 'debit_merchant', merchantDebitLines(refund, -1, 'reversal'), {
        timeline: ['debit_merchant', 'compensated'],
      });
      log.info('merchant debit of a refund returned', { refundId, journalId: posted?.journalId ?? null, replayed: posted?.replayed ?? false });
      return { journalId: posted?.journalId ?? null };
    },

    /** The first act of compensating: marks the refund so no forward step moves money after it, recording its first failure. */
    beginRefundCompensation: ({ refundId, failure }: { refundId: string; failure?: StepFailure }): Promise<CompensationBegun> => saga.beginCompensation(refundId, failure),

    /** Ends a refund `failed` with its failure code, and marks the step that failed. */
    failRefund: ({ refundId, step, ...failure }: { refundId: string; step: string; code: string; message: string }): Promise<void> =>
      saga.fail(refundId, step, failure),

    /** Records a step's status on its own (the notify step's failure). */
    recordRefundStep: (input: { refundId: string; step: string; status: StepStatus }): Promise<void> => saga.recordStep(input.refundId, input.step, input.status),
  };
}
