import { log } from '@temporalio/activity';
import type { Knex } from 'knex';
import { DomainError, ErrorType } from '../domain/errors';
import { toSafeInteger } from '../domain/money';
import type { CompensationBegun, StepFailure, StepStatus } from '../domain/money-sagas';
import { releaseHold } from '../store/ledger';
import { DAILY_LIMIT_WINDOW_MS, withinDailyLimit } from '../domain/risk';
import { dailyOutflow } from '../store/risk';
import { loadTransferRecord, type TransferRecord } from '../store/transfer-records';
import { withDomainFailures } from './failures';
import { sagaStepKit } from './saga-step-kit';

/** What the transfer saga's activities need. */
export interface TransferActivityDependencies {
  db: Knex;
  /** Most a person may send and pay together in one currency over 24 hours, in minor units (see `withinDailyLimit`). */
  transferDailyLimit: number;
  /** LEDGER_SYSTEM_SHARDS: clearing accounts per currency (default 8). */
  ledgerSystemShards?: number;
}

/**
 * The transfer saga's money activities. Every one is idempotent: journals are
 * keyed `<transferId>:<step>`, and a step's timeline entry is written in the
 * same transaction as the money it moves.
 */
export function createTransferSagaActivities({ db, transferDailyLimit, ledgerSystemShards }: TransferActivityDependencies) {
  const saga = sagaStepKit(db, 'transfer', loadTransferRecord, ledgerSystemShards);

  /** The sender's transfers and payments in the transfer's currency over the 24 hours before it, this one excluded. */
  function sentInLastDay(trx: Knex.Transaction, transfer: TransferRecord): Promise<number> {
    const since = new Date(transfer.createdAt.getTime() - DAILY_LIMIT_WINDOW_MS);
    return dailyOutflow(trx, { personId: transfer.senderId, currency: transfer.currency, since, excludeId: transfer.id });
  }

  return {
    /**
     * Step validate: both wallets active, the sender's spendable funds, and the sender's
     * 24-hour limit, shared with their payments. The sender's wallet row is locked while the limit
     * is summed and the transfer turns `processing`, so two transfers or payments of one sender
     * cannot both slip under it.
     * A transfer already `processing` was validated by an earlier attempt: it is not judged again.
     */
    validateTransfer: withDomainFailures(async ({ transferId }: { transferId: string }): Promise<void> => {
      const transfer = await saga.load(transferId, 'validate');
      await saga.validate(transfer, async (trx) => {
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
        if (!withinDailyLimit(await sentInLastDay(trx, transfer), transfer.amount, transferDailyLimit)) {
          throw new DomainError(ErrorType.LimitExceeded, 'the transfer exceeds the sender’s 24-hour limit');
        }
      });
    }),

    /** Step debit_sender: sender → clearing. */
    debitSender: withDomainFailures(async ({ transferId }: { transferId: string }): Promise<{ journalId: string }> => {
      const transfer = await saga.load(transferId, 'debit_sender');
      const posted = await saga.moveMoney(
        transfer,
        'debit_sender',
        ({ clearing }) => [
          { accountId: transfer.fromWalletId, amount: -transfer.amount, type: 'transfer_out' },
          { accountId: clearing, amount: transfer.amount, type: 'transfer_out' },
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
      const transfer = await saga.load(transferId, 'credit_recipient');
      const debited = await db('journals').select('id').where({ journal_key: `${transferId}:debit_sender` }).first();
      if (!debited) throw new Error(`transfer ${transferId}: credit_recipient before debit_sender`);
      const posted = await saga.moveMoney(
        transfer,
        'credit_recipient',
        ({ clearing }) => [
          { accountId: clearing, amount: -transfer.amount, type: 'transfer_in' },
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
      const transfer = await saga.load(transferId, 'write_ledger');
      const audit = { actorId: transfer.senderId, data: { amount: transfer.amount, currency: transfer.currency, recipientId: transfer.recipientId } };
      await saga.finish(transfer, audit, (trx) => releaseHold(trx, transfer.toWalletId, transfer.amount));
    }),

    /** Compensation of credit_recipient: recipient → clearing, with its hold. Retried until it succeeds; works on a frozen wallet too. */
    reverseRecipientCredit: async ({ transferId }: { transferId: string }): Promise<{ journalId: string | null }> => {
      const transfer = await saga.loadForCompensation(transferId);
      const posted = await saga.undoStep(
        transfer,
        'reverse_recipient_credit',
        'credit_recipient',
        ({ clearing }) => [
          { accountId: transfer.toWalletId, amount: -transfer.amount, type: 'reversal' },
          { accountId: clearing, amount: transfer.amount, type: 'reversal' },
        ],
        { holds: [{ accountId: transfer.toWalletId, amount: -transfer.amount }], timeline: ['credit_recipient', 'compensated'] },
      );
      log.info('recipient credit reversed', { transferId, journalId: posted?.journalId ?? null, replayed: posted?.replayed ?? false });
      return { journalId: posted?.journalId ?? null };
    },

    /** Compensation of debit_sender: clearing → sender. Retried until it succeeds; a frozen wallet still gets its money back. */
    refundSender: async ({ transferId }: { transferId: string }): Promise<{ journalId: string | null }> => {
      const transfer = await saga.loadForCompensation(transferId);
      const posted = await saga.undoStep(
        transfer,
        'refund_sender',
        'debit_sender',
        ({ clearing }) => [
          { accountId: clearing, amount: -transfer.amount, type: 'reversal' },
          { accountId: transfer.fromWalletId, amount: transfer.amount, type: 'reversal' },
        ],
        { timeline: ['debit_sender', 'compensated'] },
      );
      log.info('sender refunded', { transferId, journalId: posted?.journalId ?? null, replayed: posted?.replayed ?? false });
      return { journalId: posted?.journalId ?? null };
    },

    /**
     * The first act of compensating: marks the transfer so no forward step moves money after it, and
     * records `failure` as its first failure unless one is; answers the recorded one.
     * `succeeded: true` when a late write_ledger already finished it: then nothing is compensated.
     */
    beginTransferCompensation: ({ transferId, failure }: { transferId: string; failure?: StepFailure }): Promise<CompensationBegun> =>
      saga.beginCompensation(transferId, failure),

    /** Ends a transfer `failed` with its failure code, and marks the step that failed. */
    failTransfer: ({ transferId, step, ...failure }: { transferId: string; step: string; code: string; message: string; rule?: string }): Promise<void> =>
      saga.fail(transferId, step, failure),

    /** Records a step's status on its own (the notify step's failure). */
    recordTransferStep: (input: { transferId: string; step: string; status: StepStatus }): Promise<void> => saga.recordStep(input.transferId, input.step, input.status),
  };
}
