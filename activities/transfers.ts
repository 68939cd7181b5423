import { log } from '@temporalio/activity';
import type { Knex } from 'knex';
import { DomainError, ErrorType } from '../domain/errors';
import { newId } from '../domain/ids';
import { toSafeInteger } from '../domain/money';
import type { StepStatus } from '../domain/payments';
import { systemAccountId } from '../domain/types';
import { withDomainFailures } from './failures';
import { inTransaction, releaseHold, type PostingLine } from '../store/ledger';
import { recordStep } from '../store/payment-records';
import { loadTransferRecord, type TransferRecord } from '../store/transfer-records';
import { recordSagaFinished } from './saga-metrics';
import { assertLive, beginCompensation, compensateSagaStep, failMoneySaga, lockSaga, postSagaStep, type SagaStepOptions } from '../store/saga-steps';

/** What the transfer saga's activities need. */
export interface TransferActivityDependencies {
  db: Knex;
  /** Most a sender may transfer in one currency over 24 hours, in minor units. */
  transferDailyLimit: number;
}

const DAY_MS = 86_400_000;

/** Fails the step on purpose when the fault drill named it for this transfer. */
function injectFault(transfer: TransferRecord, step: string): void {
  if (transfer.faultStep === step) {
    throw new DomainError(ErrorType.InjectedFault, `fault drill: step ${step} of ${transfer.id} failed on purpose`);
  }
}

/**
 * The transfer saga's money activities. Every one is idempotent: journals are
 * keyed `<transferId>:<step>`, and a step's timeline entry is written in the
 * same transaction as the money it moves.
 */
export function createTransferSagaActivities({ db, transferDailyLimit }: TransferActivityDependencies) {
  /** Posts one forward step's journal and records the step, atomically, while the transfer is live. */
  function moveMoney(transfer: TransferRecord, step: string, lines: PostingLine[], options: SagaStepOptions) {
    return postSagaStep(db, 'transfer', transfer.id, step, lines, options);
  }

  /** Posts a compensation's journal when the step it undoes committed; null when there is nothing to undo. */
  function undoStep(transfer: TransferRecord, step: string, undoes: string, lines: PostingLine[], options: SagaStepOptions) {
    return compensateSagaStep(db, 'transfer', transfer.id, { step, undoes }, lines, options);
  }

  /** The sender's transfers in the transfer's currency over the 24 hours before it, this one excluded. */
  async function sentInLastDay(trx: Knex.Transaction, transfer: TransferRecord): Promise<number> {
    const spent = await trx('transfers')
      .sum({ total: 'amount' })
      .where({ sender_id: transfer.senderId, currency: transfer.currency })
      .whereIn('status', ['processing', 'succeeded'])
      .andWhere('created_at', '>', new Date(transfer.createdAt.getTime() - DAY_MS))
      .andWhereNot({ id: transfer.id })
      .first();
    return toSafeInteger(spent?.total ?? 0, 'daily total');
  }

  return {
    /**
     * Step validate: both wallets active, the sender's spendable funds, and the sender's
     * 24-hour limit. The sender's wallet row is locked while the limit is summed and the
     * transfer turns `processing`, so two transfers of one sender cannot both slip under it.
     * A transfer already `processing` was validated by an earlier attempt: it is not judged again.
     */
    validateTransfer: withDomainFailures(async ({ transferId }: { transferId: string }): Promise<void> => {
      const transfer = await loadTransferRecord(db, transferId);
      injectFault(transfer, 'validate');
      await inTransaction(db, async (trx) => {
        const saga = await lockSaga(trx, 'transfer', transferId);
        assertLive('transfer', transferId, saga, ['pending', 'processing']);
        if (saga.status === 'processing') return;
        const source = await trx('accounts').select('status', 'balance', 'held').where({ id: transfer.fromWalletId }).forUpdate().first();
        const target = await trx('accounts').select('status').where({ id: transfer.toWalletId }).first();
        if (!source || !target) throw new DomainError(ErrorType.AccountNotFound, `a wallet of transfer ${transferId} is missing`);
        // The API refuses these up front; a row written before it did, or by anything else, stops here before money moves.
        const recipient = await trx('users').select('role').where({ id: transfer.recipientId }).first();
        if (recipient?.role === 'merchant') throw new DomainError(ErrorType.RecipientIsMerchant, 'a merchant is paid with a payment, not a transfer');
        if (source.status === 'frozen' || target.status === 'frozen') throw new DomainError(ErrorType.WalletFrozen, 'a wallet of this transfer is frozen');
        if (toSafeInteger(source.balance, 'balance') - toSafeInteger(source.held, 'held') < transfer.amount) {
          throw new DomainError(ErrorType.InsufficientFunds, 'the sender has insufficient funds');
        }
        if ((await sentInLastDay(trx, transfer)) + transfer.amount > transferDailyLimit) {
          throw new DomainError(ErrorType.LimitExceeded, 'the transfer exceeds the sender’s 24-hour limit');
        }
        await trx('transfers').where({ id: transferId, status: 'pending' }).update({ status: 'processing', updated_at: new Date() });
        await recordStep(trx, transferId, 'validate', 'completed');
      });
    }),

    /** Step debit_sender: sender → clearing. */
    debitSender: withDomainFailures(async ({ transferId }: { transferId: string }): Promise<{ journalId: string }> => {
      const transfer = await loadTransferRecord(db, transferId);
      injectFault(transfer, 'debit_sender');
      const posted = await moveMoney(
        transfer,
        'debit_sender',
        [
          { accountId: transfer.fromWalletId, amount: -transfer.amount, type: 'transfer_out' },
          { accountId: systemAccountId('clearing', transfer.currency), amount: transfer.amount, type: 'transfer_out' },
        ],
        { requireActive: [transfer.fromWalletId], timeline: ['debit_sender', 'completed'] },
      );
      log.info('sender debited', { transferId, journalId: posted.journalId, replayed: posted.replayed });
      return { journalId: posted.journalId };
    }),

    /**
     * Step credit_recipient: clearing → recipient. The credit stays held until
     * write_ledger, so reverse_recipient_credit can always take it back.
     */
    creditRecipient: withDomainFailures(async ({ transferId }: { transferId: string }): Promise<{ journalId: string }> => {
      const transfer = await loadTransferRecord(db, transferId);
      injectFault(transfer, 'credit_recipient');
      const debited = await db('journals').select('id').where({ journal_key: `${transferId}:debit_sender` }).first();
      if (!debited) throw new Error(`transfer ${transferId}: credit_recipient before debit_sender`);
      const posted = await moveMoney(
        transfer,
        'credit_recipient',
        [
          { accountId: systemAccountId('clearing', transfer.currency), amount: -transfer.amount, type: 'transfer_in' },
          { accountId: transfer.toWalletId, amount: transfer.amount, type: 'transfer_in' },
        ],
        {
          requireActive: [transfer.toWalletId],
          holds: [{ accountId: transfer.toWalletId, amount: transfer.amount }],
          timeline: ['credit_recipient', 'completed'],
        },
      );
      log.info('recipient credited', { transferId, journalId: posted.journalId, replayed: posted.replayed });
      return { journalId: posted.journalId };
    }),

    /** Step write_ledger: the transfer is final and succeeded, with its audit record; the recipient's credit is released. */
    writeTransferLedger: withDomainFailures(async ({ transferId }: { transferId: string }): Promise<void> => {
      const transfer = await loadTransferRecord(db, transferId);
      injectFault(transfer, 'write_ledger');
      const finished = await inTransaction(db, async (trx) => {
        const saga = await lockSaga(trx, 'transfer', transferId);
        if (saga.status === 'succeeded') return false;
        assertLive('transfer', transferId, saga);
        const now = new Date();
        await releaseHold(trx, transfer.toWalletId, transfer.amount);
        await trx('transfers').where({ id: transferId }).update({ status: 'succeeded', updated_at: now });
        await trx('audit_log').insert({
          id: newId('aud'),
          actor_id: transfer.senderId,
          action: 'transfer.succeeded',
          resource_type: 'transfer',
          resource_id: transferId,
          data: JSON.stringify({ amount: transfer.amount, currency: transfer.currency, recipientId: transfer.recipientId }),
          created_at: now,
        });
        await recordStep(trx, transferId, 'write_ledger', 'completed');
        return true;
      });
      if (finished) recordSagaFinished('transfer', 'succeeded', transfer.createdAt);
    }),

    /** Compensation of credit_recipient: recipient → clearing, with its hold. Retried until it succeeds; works on a frozen wallet too. */
    reverseRecipientCredit: async ({ transferId }: { transferId: string }): Promise<{ journalId: string | null }> => {
      const transfer = await loadTransferRecord(db, transferId);
      const posted = await undoStep(
        transfer,
        'reverse_recipient_credit',
        'credit_recipient',
        [
          { accountId: transfer.toWalletId, amount: -transfer.amount, type: 'reversal' },
          { accountId: systemAccountId('clearing', transfer.currency), amount: transfer.amount, type: 'reversal' },
        ],
        { holds: [{ accountId: transfer.toWalletId, amount: -transfer.amount }], timeline: ['credit_recipient', 'compensated'] },
      );
      log.info('recipient credit reversed', { transferId, journalId: posted?.journalId ?? null, replayed: posted?.replayed ?? false });
      return { journalId: posted?.journalId ?? null };
    },

    /** Compensation of debit_sender: clearing → sender. Retried until it succeeds; a frozen wallet still gets its money back. */
    refundSender: async ({ transferId }: { transferId: string }): Promise<{ journalId: string | null }> => {
      const transfer = await loadTransferRecord(db, transferId);
      const posted = await undoStep(
        transfer,
        'refund_sender',
        'debit_sender',
        [
          { accountId: systemAccountId('clearing', transfer.currency), amount: -transfer.amount, type: 'reversal' },
          { accountId: transfer.fromWalletId, amount: transfer.amount, type: 'reversal' },
        ],
        { timeline: ['debit_sender', 'compensated'] },
      );
      log.info('sender refunded', { transferId, journalId: posted?.journalId ?? null, replayed: posted?.replayed ?? false });
      return { journalId: posted?.journalId ?? null };
    },

    /**
     * The first act of compensating: marks the transfer so no forward step moves money after it.
     * `succeeded: true` when a late write_ledger already finished it: then nothing is compensated.
     */
    beginTransferCompensation: ({ transferId }: { transferId: string }): Promise<{ succeeded: boolean }> => beginCompensation(db, 'transfer', transferId),

    /** Ends a transfer `failed` with its failure code, and marks the step that failed. */
    failTransfer: async ({ transferId, ...failure }: { transferId: string; step: string; code: string; message: string }): Promise<void> => {
      const endedCreatedAt = await failMoneySaga(db, 'transfer', { sagaId: transferId, ...failure });
      if (endedCreatedAt) recordSagaFinished('transfer', 'failed', endedCreatedAt);
    },

    /** Records a step's status on its own (the notify step's failure). */
    recordTransferStep: async (input: { transferId: string; step: string; status: StepStatus }): Promise<void> => {
      await recordStep(db, input.transferId, input.step, input.status);
    },
  };
}
