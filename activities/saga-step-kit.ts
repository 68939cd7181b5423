import type { Knex } from 'knex';
import { DomainError, ErrorType } from '../domain/errors';
import { MONEY_SAGAS, type MoneySagaKind, type SagaFailure, type StepStatus } from '../domain/money-sagas';
import { recordAudit } from '../store/audit-log';
import { inTransaction, type PostingLine } from '../store/ledger';
import { assertLive, beginCompensation, compensateSagaStep, failMoneySaga, lockSaga, postSagaStep, type SagaStepOptions } from '../store/saga-steps';
import { recordStep } from '../store/saga-timeline';
import { recordSagaFinished } from './saga-metrics';

/** What every money saga's row gives its steps. */
export interface SagaRecord {
  id: string;
  faultStep: string | null;
  createdAt: Date;
}

/** The audit record a saga's final step writes. */
export interface SagaAudit {
  actorId: string;
  data: Record<string, unknown>;
}

/**
 * The common part of a money saga's step activities, for one kind: loading the row with the
 * fault drill, the fenced forward and compensating postings, validate's and write_ledger's
 * frame (lock, fence, status, timeline, metric), beginning compensation and failing. Each
 * kind's activities add only what is their own: which lines move, and what validate checks.
 */
export function sagaStepKit<Record extends SagaRecord>(db: Knex, kind: MoneySagaKind, load: (db: Knex, sagaId: string) => Promise<Record>) {
  const { table } = MONEY_SAGAS[kind];
  return {
    /** Loads the saga's row; fails the step on purpose when the fault drill named it. */
    async load(sagaId: string, step: string): Promise<Record> {
      const record = await load(db, sagaId);
      if (record.faultStep === step) throw new DomainError(ErrorType.InjectedFault, `fault drill: step ${step} of ${sagaId} failed on purpose`);
      return record;
    },

    /** Loads the saga's row for a compensation (no fault drill: compensations always run). */
    loadForCompensation: (sagaId: string): Promise<Record> => load(db, sagaId),

    /** Posts one forward step's journal and records the step, atomically, while the saga is live. */
    moveMoney: (record: Record, step: string, lines: PostingLine[], options: SagaStepOptions) => postSagaStep(db, kind, record.id, step, lines, options),

    /** Posts a compensation's journal when the step it undoes committed; null when there is nothing to undo. */
    undoStep: (record: Record, step: string, undoes: string, lines: PostingLine[], options: SagaStepOptions) =>
      compensateSagaStep(db, kind, record.id, { step, undoes }, lines, options),

    /**
     * Step validate's frame: under the saga row's lock, a saga already `processing` was validated
     * by an earlier attempt and is not judged again; otherwise `judge` checks (and may lock) what
     * it needs, then the saga turns `processing` with its timeline entry.
     */
    async validate(record: Record, judge: (trx: Knex.Transaction) => Promise<void>): Promise<void> {
      await inTransaction(db, async (trx) => {
        const saga = await lockSaga(trx, kind, record.id);
        assertLive(kind, record.id, saga, ['pending', 'processing']);
        if (saga.status === 'processing') return;
        await judge(trx);
        await trx(table).where({ id: record.id, status: 'pending' }).update({ status: 'processing', updated_at: new Date() });
        await recordStep(trx, record.id, 'validate', 'completed');
      });
    },

    /**
     * Step write_ledger's frame: while the saga is live, `finalize` does the kind's own part (a
     * released hold), then the saga turns `succeeded` with its audit record and timeline entry.
     * A retry after it committed does nothing; the duration metric counts the saga once.
     */
    async finish(record: Record, audit: SagaAudit, finalize: (trx: Knex.Transaction) => Promise<void>): Promise<void> {
      const finished = await inTransaction(db, async (trx) => {
        const saga = await lockSaga(trx, kind, record.id);
        if (saga.status === 'succeeded') return false;
        assertLive(kind, record.id, saga);
        const now = new Date();
        await finalize(trx);
        await trx(table).where({ id: record.id }).update({ status: 'succeeded', updated_at: now });
        await recordAudit(trx, { actorId: audit.actorId, action: `${kind}.succeeded`, resourceType: kind, resourceId: record.id, data: audit.data }, now);
        await recordStep(trx, record.id, 'write_ledger', 'completed');
        return true;
      });
      if (finished) recordSagaFinished(kind, 'succeeded', record.createdAt);
    },

    /** The first act of compensating: marks the saga; `succeeded: true` when a late write_ledger already finished it. */
    beginCompensation: (sagaId: string): Promise<{ succeeded: boolean }> => beginCompensation(db, kind, sagaId),

    /** Ends the saga `failed` with its failure code and marks the step that failed. */
    async fail(sagaId: string, step: string, failure: SagaFailure): Promise<void> {
      const endedCreatedAt = await failMoneySaga(db, kind, { sagaId, step, ...failure });
      if (endedCreatedAt) recordSagaFinished(kind, 'failed', endedCreatedAt);
    },

    /** Records a step's status on its own (the notify step's failure). */
    recordStep: (sagaId: string, step: string, status: StepStatus): Promise<void> => recordStep(db, sagaId, step, status),
  };
}
