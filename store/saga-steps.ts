import type { Knex } from 'knex';
import { DomainError, ErrorType } from '../domain/errors';
import { MONEY_SAGAS, type MoneySagaKind, type SagaFailure, type StepStatus } from '../domain/money-sagas';
import { inTransaction, postJournal, type JournalRequest, type PostedJournal, type PostingLine } from './ledger';
import { recordStep } from './saga-timeline';

/** The saga row as the fence reads it, under its lock. */
interface LockedSaga {
  status: string;
  compensating: boolean;
  createdAt: Date;
}

/**
 * Locks a money saga's row (`SELECT … FOR UPDATE`). Every money step takes this lock first and
 * the account locks after it, so one lock order holds everywhere: saga row, then accounts by id.
 */
export async function lockSaga(trx: Knex.Transaction, kind: MoneySagaKind, sagaId: string): Promise<LockedSaga> {
  const row = (await trx(MONEY_SAGAS[kind].table).select('status', 'compensation_started_at', 'created_at').where({ id: sagaId }).forUpdate().first()) as
    | { status: string; compensation_started_at: Date | null; created_at: Date }
    | undefined;
  if (!row) throw new Error(`${kind} ${sagaId} does not exist`);
  return { status: row.status, compensating: row.compensation_started_at !== null, createdAt: row.created_at };
}

/**
 * The fence: throws a non-retryable SagaNotLive unless the saga is in `expected` status and has
 * not begun compensating. An attempt that Temporal gave up on finds the mark and moves nothing.
 */
export function assertLive(kind: MoneySagaKind, sagaId: string, saga: LockedSaga, expected: readonly string[] = ['processing']): void {
  if (saga.compensating || !expected.includes(saga.status)) {
    throw new DomainError(ErrorType.SagaNotLive, `${kind} ${sagaId} is ${saga.compensating ? 'compensating' : saga.status}; this step moves nothing`);
  }
}

/** What posting one step needs besides its lines. */
export type SagaStepOptions = Pick<JournalRequest, 'requireActive' | 'holds'> & { timeline: [string, StepStatus] };

/**
 * Forward money step: locks the saga row, checks that the saga is live, then posts the step's
 * journal, keyed `<sagaId>:<step>` so a retry moves money once, with its timeline entry, all in
 * one transaction.
 */
export function postSagaStep(
  db: Knex,
  kind: MoneySagaKind,
  sagaId: string,
  step: string,
  lines: PostingLine[],
  options: SagaStepOptions,
): Promise<PostedJournal> {
  return inTransaction(db, async (trx) => {
    assertLive(kind, sagaId, await lockSaga(trx, kind, sagaId));
    return postStep(db, trx, sagaId, step, lines, options);
  });
}

/**
 * Compensating step: locks the saga row and marks it compensating (if nothing did yet), then
 * posts the reversing journal only when the forward step it undoes committed. A compensation
 * registered for a step that never committed moves nothing and records nothing (null). A saga
 * that already succeeded is never compensated (null as well).
 */
export function compensateSagaStep(
  db: Knex,
  kind: MoneySagaKind,
  sagaId: string,
  compensation: { step: string; undoes: string },
  lines: PostingLine[],
  options: SagaStepOptions,
): Promise<PostedJournal | null> {
  return inTransaction(db, async (trx) => {
    if (await markUnlessSucceeded(trx, kind, sagaId)) return null;
    const undone = await trx('journals').select('id').where({ journal_key: `${sagaId}:${compensation.undoes}` }).first();
    if (!undone) return null;
    return postStep(db, trx, sagaId, compensation.step, lines, options);
  });
}

/**
 * The first act of the compensating path: marks the saga under its row lock, so no forward step
 * moves money after this commits. Answers `succeeded: true` (and marks nothing) when a late
 * write_ledger already made the saga final: then it ends succeeded with no compensation.
 */
export async function beginCompensation(db: Knex, kind: MoneySagaKind, sagaId: string): Promise<{ succeeded: boolean }> {
  return inTransaction(db, async (trx) => ({ succeeded: await markUnlessSucceeded(trx, kind, sagaId) }));
}

/**
 * Locks the saga row and sets the compensating mark if nothing did yet; answers true (marking
 * nothing) when the saga already succeeded, which no compensation may touch.
 */
async function markUnlessSucceeded(trx: Knex.Transaction, kind: MoneySagaKind, sagaId: string): Promise<boolean> {
  const saga = await lockSaga(trx, kind, sagaId);
  if (saga.status === 'succeeded') return true;
  if (!saga.compensating) {
    const now = new Date();
    await trx(MONEY_SAGAS[kind].table).where({ id: sagaId }).update({ compensation_started_at: now, updated_at: now });
  }
  return false;
}

async function postStep(db: Knex, trx: Knex.Transaction, sagaId: string, step: string, lines: PostingLine[], options: SagaStepOptions): Promise<PostedJournal> {
  const posted = await postJournal(
    db,
    { key: `${sagaId}:${step}`, type: step, referenceId: sagaId, lines, requireActive: options.requireActive ?? [], holds: options.holds ?? [] },
    trx,
  );
  await recordStep(trx, sagaId, ...options.timeline);
  return posted;
}

/**
 * Ends a money saga `failed` with its failure code and marks the step that failed.
 * A saga that already succeeded never turns failed; ending it failed twice is harmless.
 * Answers the saga's creation time when this call ended it (so the caller's duration metric
 * counts it once), null when it had already failed.
 */
export async function failMoneySaga(
  db: Knex,
  kind: MoneySagaKind,
  input: { sagaId: string; step: string; code: string; message: string; rule?: string },
): Promise<Date | null> {
  const table = MONEY_SAGAS[kind].table;
  return inTransaction(db, async (trx) => {
    const current = await lockSaga(trx, kind, input.sagaId);
    if (current.status === 'succeeded') throw new Error(`${kind} ${input.sagaId} already succeeded; it cannot fail`);
    const now = new Date();
    await trx(table)
      .where({ id: input.sagaId })
      .update({
        status: 'failed',
        failure_code: input.code,
        failure_message: input.message.slice(0, 255),
        // Only payments and transfers have a risk check, and the column.
        ...(input.rule ? { failure_rule: input.rule.slice(0, 40) } : {}),
        updated_at: now,
        ...(current.compensating ? {} : { compensation_started_at: now }),
      });
    await recordStep(trx, input.sagaId, input.step, 'failed');
    return current.status === 'failed' ? null : current.createdAt;
  });
}

/** A payment's or transfer's failure as clients read it, from its row; `rule` only for a risk decline. */
export function failureOf(row: { failure_code: string | null; failure_message: string | null; failure_rule?: string | null }): SagaFailure | null {
  if (!row.failure_code) return null;
  const failure = { code: row.failure_code, message: row.failure_message ?? '' };
  return row.failure_rule ? { ...failure, rule: row.failure_rule } : failure;
}
