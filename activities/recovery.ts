import { log } from '@temporalio/activity';
import { type Client, WorkflowNotFoundError } from '@temporalio/client';
import type { Knex } from 'knex';
import { toSafeInteger } from '../domain/money';
import { MONEY_SAGA_KINDS, MONEY_SAGAS, type MoneySagaKind } from '../domain/money-sagas';
import { moneySagaWorkflowId, onboardingWorkflowId } from '../domain/workflow-ids';
import { startOnboarding, startPayment, startRefund, startTransfer, type SagaSettings } from '../infra/sagas';
import { inTransaction } from '../store/transactions';
import { recordStep } from '../store/saga-timeline';
import { lockSaga } from '../store/saga-steps';

/** What the recovery needs: the database, a Temporal client to look up and start sagas, and its limits. */
export interface RecoveryDependencies {
  db: Knex;
  temporal: Client;
  sagas: SagaSettings;
  /** Rows younger than this are the API's to start; recovery leaves them alone. */
  minAgeMs: number;
  /** Rows older than this whose saga never started end `failed` with code `expired` instead. */
  expireAfterMs: number;
  /** The promotional credit a recovered customer onboarding grants. */
  promoCredit: number;
}

/** What one recovery pass did. */
export interface RecoveryReport {
  started: string[];
  expired: string[];
  onboardingsStarted: string[];
}

/** A pending payment or transfer row with its counterparty's name. */
type PendingRow = Record<string, unknown> & { id: string; created_at: Date };

/** At most this many rows of each kind per pass; the next pass takes the rest. */
const BATCH_SIZE = 100;

/**
 * The recovery of sagas whose row was committed but whose workflow never started (the API died
 * between its commit and the start, or Temporal was down). Run by the `saga-recovery` schedule.
 */
export function createRecoveryActivities(dependencies: RecoveryDependencies) {
  const { db, temporal } = dependencies;

  /** The status of the workflow with this id (running, or closed within retention), or null when Temporal does not know it. */
  async function workflowStatus(workflowId: string): Promise<string | null> {
    try {
      return (await temporal.workflow.getHandle(workflowId).describe()).status.name;
    } catch (error) {
      if (error instanceof WorkflowNotFoundError) return null;
      throw error;
    }
  }

  /** Ends a never-started saga `failed` / `expired`, under its row lock, only while it is still pending. */
  async function expire(kind: MoneySagaKind, sagaId: string): Promise<boolean> {
    return inTransaction(db, async (trx) => {
      const saga = await lockSaga(trx, kind, sagaId);
      if (saga.status !== 'pending') return false;
      const now = new Date();
      await trx(MONEY_SAGAS[kind].table)
        .where({ id: sagaId })
        .update({ status: 'failed', failure_code: 'expired', failure_message: MONEY_SAGAS[kind].expiredMessage, compensation_started_at: now, updated_at: now });
      await recordStep(trx, sagaId, 'validate', 'failed');
      return true;
    });
  }

  /** Pending rows of a money saga table older than the minimum age, oldest first. */
  function pendingRows(kind: MoneySagaKind, now: Date): Knex.QueryBuilder {
    const { table } = MONEY_SAGAS[kind];
    return db(table)
      .where(`${table}.status`, 'pending')
      .andWhere(`${table}.created_at`, '<', new Date(now.getTime() - dependencies.minAgeMs))
      .orderBy(`${table}.created_at`, 'asc')
      .limit(BATCH_SIZE);
  }

  /**
   * One kind's never-started sagas: each pending row older than the minimum age whose workflow
   * Temporal does not know is started again, or failed `expired` past the expiry age.
   */
  async function recoverKind(kind: MoneySagaKind, now: Date, report: RecoveryReport, rows: PendingRow[], start: (row: PendingRow) => Promise<void>): Promise<void> {
    for (const row of rows) {
      if ((await workflowStatus(moneySagaWorkflowId(kind, row.id))) !== null) continue;
      if (row.created_at.getTime() < now.getTime() - dependencies.expireAfterMs) {
        if (await expire(kind, row.id)) report.expired.push(row.id);
        continue;
      }
      await start(row);
      report.started.push(row.id);
    }
  }

  /** How each money saga kind's pending rows are read and their sagas started. */
  const recoverers: { [Kind in MoneySagaKind]: (now: Date, report: RecoveryReport) => Promise<void> } = {
    payment: async (now, report) => {
      const rows: PendingRow[] = await pendingRows('payment', now)
        .join('users as merchant', 'merchant.id', 'payments.merchant_id')
        .select('payments.*', 'merchant.name as merchant_name');
      await recoverKind('payment', now, report, rows, (row) =>
        startPayment(temporal, dependencies.sagas, {
          paymentId: row.id,
          payerId: String(row.payer_id),
          merchantId: String(row.merchant_id),
          merchantName: String(row.merchant_name),
          amount: toSafeInteger(row.amount, 'amount'),
          fee: toSafeInteger(row.fee, 'fee'),
          netAmount: toSafeInteger(row.net_amount, 'net_amount'),
          currency: String(row.currency),
        }),
      );
    },
    transfer: async (now, report) => {
      const rows: PendingRow[] = await pendingRows('transfer', now)
        .join('users as recipient', 'recipient.id', 'transfers.recipient_id')
        .select('transfers.*', 'recipient.name as recipient_name');
      await recoverKind('transfer', now, report, rows, (row) =>
        startTransfer(temporal, dependencies.sagas, {
          transferId: row.id,
          senderId: String(row.sender_id),
          recipientId: String(row.recipient_id),
          recipientName: String(row.recipient_name),
          amount: toSafeInteger(row.amount, 'amount'),
          currency: String(row.currency),
        }),
      );
    },
    refund: async (now, report) => {
      const rows: PendingRow[] = await pendingRows('refund', now).select('refunds.*');
      await recoverKind('refund', now, report, rows, (row) =>
        startRefund(temporal, dependencies.sagas, {
          refundId: row.id,
          paymentId: String(row.payment_id),
          payerId: String(row.payer_id),
          merchantId: String(row.merchant_id),
          amount: toSafeInteger(row.amount, 'amount'),
          feeRefunded: toSafeInteger(row.fee_refunded, 'fee_refunded'),
          currency: String(row.currency),
        }),
      );
    },
  };

  /** Users still onboarding whose saga is gone (never started, failed or terminated): started again. */
  async function recoverOnboardings(now: Date, report: RecoveryReport): Promise<void> {
    const users = (await db('users')
      .select('id', 'role', 'currency')
      .where({ onboarding_status: 'pending' })
      .andWhere('created_at', '<', new Date(now.getTime() - dependencies.minAgeMs))
      .orderBy('created_at', 'asc')
      .limit(BATCH_SIZE)) as Array<{ id: string; role: 'customer' | 'merchant' | 'admin'; currency: string }>;
    for (const user of users) {
      if (user.role === 'admin') continue;
      const status = await workflowStatus(onboardingWorkflowId(user.id));
      if (status === 'RUNNING' || status === 'COMPLETED') continue;
      await startOnboarding(temporal, dependencies.sagas, {
        userId: user.id,
        role: user.role,
        currency: user.currency,
        promoCredit: user.role === 'customer' ? dependencies.promoCredit : 0,
      });
      report.onboardingsStarted.push(user.id);
    }
  }

  return {
    /**
     * One recovery pass: money sagas (payments, transfers, refunds) still `pending` after the minimum age with no
     * workflow are started, or failed `expired` past the expiry age (no money moved: nothing ran);
     * users still onboarding with no live saga get it started again.
     */
    recoverUnstartedSagas: async (): Promise<RecoveryReport> => {
      const now = new Date();
      const report: RecoveryReport = { started: [], expired: [], onboardingsStarted: [] };
      for (const kind of MONEY_SAGA_KINDS) await recoverers[kind](now, report);
      await recoverOnboardings(now, report);
      if (report.started.length + report.expired.length + report.onboardingsStarted.length > 0) log.warn('recovered unstarted sagas', { ...report });
      return report;
    },
  };
}

export type RecoveryActivities = ReturnType<typeof createRecoveryActivities>;
