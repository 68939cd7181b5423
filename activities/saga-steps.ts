import type { Knex } from 'knex';
import type { StepStatus } from '../domain/payments';
import { inTransaction, postJournal, type JournalRequest, type PostedJournal, type PostingLine } from './ledger';
import { recordStep } from './payment-records';
import { recordSagaFinished } from './saga-metrics';

/** The tables whose rows are money sagas, by the saga kind the metrics name. */
const SAGA_TABLES = { payment: 'payments', transfer: 'transfers' } as const;

/** A kind of money saga. */
export type MoneySagaKind = keyof typeof SAGA_TABLES;

/**
 * Posts one saga step's journal, keyed `<sagaId>:<step>` so a retry moves money once,
 * and records the step's timeline entry in the same transaction as the money.
 */
export function postSagaStep(
  db: Knex,
  sagaId: string,
  step: string,
  lines: PostingLine[],
  options: Pick<JournalRequest, 'requireActive' | 'holds'> & { timeline: [string, StepStatus] },
): Promise<PostedJournal> {
  return inTransaction(db, async (trx) => {
    const posted = await postJournal(
      db,
      { key: `${sagaId}:${step}`, type: step, referenceId: sagaId, lines, requireActive: options.requireActive ?? [], holds: options.holds ?? [] },
      trx,
    );
    await recordStep(trx, sagaId, ...options.timeline);
    return posted;
  });
}

/**
 * Ends a money saga `failed` with its failure code and marks the step that failed.
 * A saga that already succeeded never turns failed; ending it failed twice is harmless
 * (the duration metric counts it once).
 */
export async function failMoneySaga(
  db: Knex,
  kind: MoneySagaKind,
  input: { sagaId: string; step: string; code: string; message: string },
): Promise<void> {
  const table = SAGA_TABLES[kind];
  const finishedCreatedAt = await inTransaction(db, async (trx) => {
    const current = (await trx(table).select('status', 'created_at').where({ id: input.sagaId }).forUpdate().first()) as
      | { status: string; created_at: Date }
      | undefined;
    if (!current) throw new Error(`${kind} ${input.sagaId} does not exist`);
    if (current.status === 'succeeded') throw new Error(`${kind} ${input.sagaId} already succeeded; it cannot fail`);
    await trx(table)
      .where({ id: input.sagaId })
      .update({ status: 'failed', failure_code: input.code, failure_message: input.message.slice(0, 255), updated_at: new Date() });
    await recordStep(trx, input.sagaId, input.step, 'failed');
    return current.status === 'failed' ? null : current.created_at;
  });
  if (finishedCreatedAt) recordSagaFinished(kind, 'failed', finishedCreatedAt);
}
