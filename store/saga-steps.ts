import type { Knex } from 'knex';
import { DomainError, ErrorType } from '../domain/errors';
import { shardOfSaga } from '../domain/ledger-shards';
import { MONEY_SAGAS, type CompensationBegun, type MoneySagaKind, type SagaFailure, type StepFailure, type StepStatus } from '../domain/money-sagas';
import { systemAccountId } from '../domain/types';
import { findJournal, postJournal, type JournalRequest, type PostedJournal, type PostingLine } from './ledger';
import { inTransaction } from './transactions';
import { recordStep } from './saga-timeline';

/** The saga row as the fence reads it, under its lock. */
interface LockedSaga {
  status: string;
  compensating: boolean;
  createdAt: Date;
  /** The failure recorded with the compensating mark, if any. */
  firstFailure: StepFailure | null;
}

/** The row's columns of the first failure. */
interface FirstFailureColumns {
  first_failure_step: string | null;
  first_failure_code: string | null;
  first_failure_message: string | null;
  first_failure_rule: string | null;
}

/**
 * Locks a money saga's row (`SELECT … FOR UPDATE`). Every money step takes this lock first and
 * the account locks after it, so one lock order holds everywhere: saga row, then accounts by id.
 */
export async function lockSaga(trx: Knex.Transaction, kind: MoneySagaKind, sagaId: string): Promise<LockedSaga> {
  const row = (await trx(MONEY_SAGAS[kind].table)
    .select('status', 'compensation_started_at', 'created_at', 'first_failure_step', 'first_failure_code', 'first_failure_message', 'first_failure_rule')
    .where({ id: sagaId })
    .forUpdate()
    .first()) as ({ status: string; compensation_started_at: Date | null; created_at: Date } & FirstFailureColumns) | undefined;
  if (!row) throw new Error(`${kind} ${sagaId} does not exist`);
  return { status: row.status, compensating: row.compensation_started_at !== null, createdAt: row.created_at, firstFailure: firstFailureOf(row) };
}

function firstFailureOf(row: FirstFailureColumns): StepFailure | null {
  if (row.first_failure_step === null || row.first_failure_code === null) return null;
  const failure = { step: row.first_failure_step, code: row.first_failure_code, message: row.first_failure_message ?? '' };
  return row.first_failure_rule ? { ...failure, rule: row.first_failure_rule } : failure;
}

/** A first failure as the row keeps it, cut to its columns' lengths. */
function firstFailureColumns(failure: StepFailure): FirstFailureColumns {
  return {
    first_failure_step: failure.step.slice(0, 32),
    first_failure_code: failure.code.slice(0, 32),
    first_failure_message: failure.message.slice(0, 255),
    first_failure_rule: failure.rule ? failure.rule.slice(0, 40) : null,
  };
}

/** Whether a forward step may still change the saga: in `expected` status and not compensating. */
function isLive(saga: LockedSaga, expected: readonly string[] = ['processing']): boolean {
  return !saga.compensating && expected.includes(saga.status);
}

/**
 * The fence: throws a non-retryable SagaNotLive unless the saga is in `expected` status and has
 * not begun compensating. An attempt that Temporal gave up on finds the mark and moves nothing.
 */
export function assertLive(kind: MoneySagaKind, sagaId: string, saga: LockedSaga, expected: readonly string[] = ['processing']): void {
  if (!isLive(saga, expected)) {
    throw new DomainError(ErrorType.SagaNotLive, `${kind} ${sagaId} is ${saga.compensating ? 'compensating' : saga.status}; this step moves nothing`);
  }
}

/** What posting one step needs besides its lines. */
export type SagaStepOptions = Pick<JournalRequest, 'requireActive' | 'holds'> & { timeline: [string, StepStatus] };

/** The saga a money step belongs to, and among how many shards its system accounts are chosen. */
export interface SagaRef {
  kind: MoneySagaKind;
  id: string;
  currency: string;
  /** LEDGER_SYSTEM_SHARDS of the process running the step. */
  shards: number;
}

/** The clearing and fee accounts one saga moves its money through: those of its shard. */
export interface SagaSystemAccounts {
  shard: number;
  clearing: string;
  fees: string;
}

/** A step's journal lines, written against the saga's system accounts (known once its row is locked). */
export type SagaStepLines = (accounts: SagaSystemAccounts) => PostingLine[];

/**
 * The system accounts of a saga, read under its row's lock. Once the saga's first money step has
 * posted, the clearing account that step used (so every later step and every compensation moves
 * money through the same one, even when the number of shards changed meanwhile); before it, the
 * accounts of the shard the saga's id hashes to. Every money step of a saga locks its row first,
 * so the first step's journal cannot appear between this read and the posting.
 */
export async function sagaSystemAccounts(trx: Knex.Transaction, saga: SagaRef): Promise<SagaSystemAccounts> {
  const firstStep = MONEY_SAGAS[saga.kind].moneySteps[0].step;
  const recorded = (await trx('journals as j')
    .join('entries as e', 'e.journal_id', 'j.id')
    .join('accounts as a', 'a.id', 'e.account_id')
    .select('a.id', 'a.shard')
    .where({ 'j.journal_key': `${saga.id}:${firstStep}`, 'a.kind': 'clearing' })
    .first()) as { id: string; shard: number | null } | undefined;
  if (recorded) {
    const shard = recorded.shard ?? 0;
    return { shard, clearing: recorded.id, fees: systemAccountId('fees', saga.currency, shard) };
  }
  const shard = shardOfSaga(saga.id, saga.shards);
  return { shard, clearing: systemAccountId('clearing', saga.currency, shard), fees: systemAccountId('fees', saga.currency, shard) };
}

/**
 * Forward money step: locks the saga row, checks that the saga is live, then posts the step's
 * journal, keyed `<sagaId>:<step>` so a retry moves money once, with its timeline entry, all in
 * one transaction. The lines move money through the saga's own clearing and fee accounts.
 *
 * A step that already committed answers its journal again even once the saga is compensating:
 * a worker that dies before its workflow task completes loses the task's local-step results, and
 * the next worker runs those steps again after the compensating mark. Refusing them would end the
 * saga at the wrong step and leave their compensations unregistered; answering them moves nothing.
 */
export function postSagaStep(db: Knex, saga: SagaRef, step: string, lines: SagaStepLines, options: SagaStepOptions): Promise<PostedJournal> {
  return inTransaction(db, async (trx) => {
    const locked = await lockSaga(trx, saga.kind, saga.id);
    if (!isLive(locked)) {
      const posted = await findJournal(trx, `${saga.id}:${step}`);
      if (posted) return posted;
    }
    assertLive(saga.kind, saga.id, locked);
    return postStep(db, trx, saga.id, step, lines(await sagaSystemAccounts(trx, saga)), options);
  });
}

/**
 * Compensating step: locks the saga row and marks it compensating (if nothing did yet), then
 * posts the reversing journal only when the forward step it undoes committed, through the same
 * clearing account as that step. A compensation registered for a step that never committed
 * moves nothing and records nothing (null). A saga that already succeeded is never compensated
 * (null as well).
 */
export function compensateSagaStep(
  db: Knex,
  saga: SagaRef,
  compensation: { step: string; undoes: string },
  lines: SagaStepLines,
  options: SagaStepOptions,
): Promise<PostedJournal | null> {
  return inTransaction(db, async (trx) => {
    if ((await markUnlessSucceeded(trx, saga.kind, saga.id)).succeeded) return null;
    const undone = await trx('journals').select('id').where({ journal_key: `${saga.id}:${compensation.undoes}` }).first();
    if (!undone) return null;
    return postStep(db, trx, saga.id, compensation.step, lines(await sagaSystemAccounts(trx, saga)), options);
  });
}

/**
 * The first act of the compensating path: marks the saga under its row lock, so no forward step
 * moves money after this commits, and records `failure` as the saga's first failure in the same
 * transaction unless one is recorded already. Answers the recorded first failure: a worker killed
 * before its workflow task completed leaves the next one to run that task's steps again after the
 * mark, and the step that fails then may fail differently (the fence refuses it); the saga keeps
 * the first. Answers `succeeded: true` (and marks nothing) when a late write_ledger already made
 * the saga final: then it ends succeeded with no compensation.
 */
export async function beginCompensation(db: Knex, kind: MoneySagaKind, sagaId: string, failure?: StepFailure): Promise<CompensationBegun> {
  return inTransaction(db, async (trx) => {
    const { succeeded, firstFailure } = await markUnlessSucceeded(trx, kind, sagaId, failure);
    return firstFailure ? { succeeded, firstFailure } : { succeeded };
  });
}

/**
 * Locks the saga row and sets the compensating mark if nothing did yet, with `failure` as the
 * first failure if none is recorded; answers `succeeded: true` (marking nothing) when the saga
 * already succeeded, which no compensation may touch, and otherwise the recorded first failure.
 */
async function markUnlessSucceeded(trx: Knex.Transaction, kind: MoneySagaKind, sagaId: string, failure?: StepFailure): Promise<{ succeeded: boolean; firstFailure: StepFailure | null }> {
  const saga = await lockSaga(trx, kind, sagaId);
  if (saga.status === 'succeeded') return { succeeded: true, firstFailure: null };
  // The first failure given is kept; a saga that already ended failed keeps the failure it ended with.
  const recording = saga.firstFailure === null && saga.status !== 'failed' ? failure : undefined;
  if (!saga.compensating || recording) {
    const now = new Date();
    const mark = saga.compensating ? {} : { compensation_started_at: now };
    await trx(MONEY_SAGAS[kind].table)
      .where({ id: sagaId })
      .update({ ...mark, ...(recording ? firstFailureColumns(recording) : {}), updated_at: now });
  }
  return { succeeded: false, firstFailure: saga.firstFailure ?? recording ?? null };
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
 * Ends a money saga `failed` with its failure code and marks the step that failed: the first
 * failure recorded with the compensating mark when there is one (a step run again after the mark
 * may have failed differently), else the one given. A saga that already succeeded never turns
 * failed; ending it failed twice changes nothing. Answers the saga's creation time when this call
 * ended it (so the caller's duration metric counts it once), null when it had already failed.
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
    if (current.status === 'failed') return null;
    const ending = current.firstFailure ?? input;
    const now = new Date();
    await trx(table)
      .where({ id: input.sagaId })
      .update({
        status: 'failed',
        failure_code: ending.code,
        failure_message: ending.message.slice(0, 255),
        // Only payments and transfers have a risk check, and the column.
        ...(ending.rule ? { failure_rule: ending.rule.slice(0, 40) } : {}),
        updated_at: now,
        ...(current.compensating ? {} : { compensation_started_at: now }),
      });
    await recordStep(trx, input.sagaId, ending.step, 'failed');
    return current.createdAt;
  });
}

/** A payment's or transfer's failure as clients read it, from its row; `rule` only for a risk decline. */
export function failureOf(row: { failure_code: string | null; failure_message: string | null; failure_rule?: string | null }): SagaFailure | null {
  if (!row.failure_code) return null;
  const failure = { code: row.failure_code, message: row.failure_message ?? '' };
  return row.failure_rule ? { ...failure, rule: row.failure_rule } : failure;
}
