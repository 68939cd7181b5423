import type { Knex } from 'knex';
import { DomainError, ErrorType } from '../domain/errors';
import { MONEY_SAGAS, type CompensationBegun, type MoneySagaKind, type SagaFailure, type StepFailure, type StepStatus } from '../domain/money-sagas';
import { DEFAULT_LEDGER_SYSTEM_SHARDS } from '../domain/ledger-shards';
import { recordAudit } from '../store/audit-log';
import { inTransaction } from '../store/transactions';
import {
  assertLive,
  beginCompensation,
  compensateSagaStep,
  failMoneySaga,
  lockSaga,
  postSagaStep,
  type SagaStepLines,
  type SagaStepOptions,
} from '../store/saga-steps';
import { recordStep } from '../store/saga-timeline';
import { recordSagaFinished } from './saga-metrics';

/** What every money saga's row gives its steps. */
export interface SagaRecord {
  id: string;
  currency: string;
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
 * `shards` is LEDGER_SYSTEM_SHARDS: a saga's clearing and fee accounts are those of its shard.
 */
/** The statuses of a saga whose validate step has committed and that has not ended. */
const VALIDATED_STATUSES: readonly string[] = ['processing', 'in_review'];

export function sagaStepKit<Record extends SagaRecord>(
  db: Knex,
  kind: MoneySagaKind,
  load: (db: Knex, sagaId: string) => Promise<Record>,
  shards: number = DEFAULT_LEDGER_SYSTEM_SHARDS,
) {
  const { table } = MONEY_SAGAS[kind];
  const ref = (record: Record) => ({ kind, id: record.id, currency: record.currency, shards });
  return {
    /** Loads the saga's row; fails the step on purpose when the fault drill named it. */
    async load(sagaId: string, step: string): Promise<Record> {
      const record = await load(db, sagaId);
      if (record.faultStep === step) throw new DomainError(ErrorType.InjectedFault, `fault drill: step ${step} of ${sagaId} failed on purpose`);
      return record;
    },

    /** Loads the saga's row for a compensation (no fault drill: compensations always run). */
    loadForCompensation: (sagaId: string): Promise<Record> => load(db, sagaId),

    /**
     * Posts one forward step's journal and records the step, atomically, while the saga is live;
     * `lines` get the saga's clearing and fee accounts.
     */
    moveMoney: (record: Record, step: string, lines: SagaStepLines, options: SagaStepOptions) => postSagaStep(db, ref(record), step, lines, options),

    /**
     * Posts a compensation's journal when the step it undoes committed, through that step's
     * clearing account; null when there is nothing to undo.
     */
    undoStep: (record: Record, step: string, undoes: string, lines: SagaStepLines, options: SagaStepOptions) =>
      compensateSagaStep(db, ref(record), { step, undoes }, lines, options),

    /**
     * Step validate's frame: under the saga row's lock, a saga already past `pending` was
     * validated by an earlier attempt and is not judged again, even once compensating (a worker
     * that died before its workflow task completed left the next one to run the task's steps
     * again); otherwise `judge` checks (and may lock) what it needs, then the saga turns
     * `processing` with its timeline entry.
     */
    async validate(record: Record, judge: (trx: Knex.Transaction) => Promise<void>): Promise<void> {
      await inTransaction(db, async (trx) => {
        const saga = await lockSaga(trx, kind, record.id);
        if (VALIDATED_STATUSES.includes(saga.status)) return;
        assertLive(kind, record.id, saga, ['pending']);
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

    /**
     * The first act of compensating: marks the saga and records `failure` as its first failure
     * (unless one is recorded), answering the recorded one; `succeeded: true` when a late
     * write_ledger already finished it.
     */
    beginCompensation: (sagaId: string, failure?: StepFailure): Promise<CompensationBegun> => beginCompensation(db, kind, sagaId, failure),

    /** Ends the saga `failed` with its first failure (recorded with the mark, else the one given) and marks the step that failed. */
    async fail(sagaId: string, step: string, failure: SagaFailure): Promise<void> {
      const endedCreatedAt = await failMoneySaga(db, kind, { sagaId, step, ...failure });
      if (endedCreatedAt) recordSagaFinished(kind, 'failed', endedCreatedAt);
    },

    /** Records a step's status on its own (the notify step's failure). */
    recordStep: (sagaId: string, step: string, status: StepStatus): Promise<void> => recordStep(db, sagaId, step, status),
  };
}
