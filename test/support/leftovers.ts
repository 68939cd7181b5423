import type { Knex } from 'knex';

/** A money step and the compensation that undoes it, as the saga declares them. */
export interface CompensatedStep {
  step: string;
  compensation: string;
  run(sagaId: string): Promise<unknown>;
}

/**
 * Ends the sagas that activity tests drove by hand and left pending or processing, the way their
 * workflow would: the compensations of the committed money steps (in `compensations`' order,
 * newest step first), then `fail`. Without it each would stay in flight in the shared database,
 * stuck for every reconciliation after STUCK_AFTER_MS, and its money would sit in clearing.
 */
export async function endLeftoverSagas(
  db: Knex,
  table: 'payments' | 'transfers' | 'refunds',
  sagaIds: readonly string[],
  compensations: readonly CompensatedStep[],
  fail: (sagaId: string) => Promise<unknown>,
): Promise<void> {
  if (sagaIds.length === 0) return;
  const unfinished = (await db(table).select('id').whereIn('id', sagaIds).whereIn('status', ['pending', 'processing'])) as Array<{ id: string }>;
  for (const { id } of unfinished) {
    const rows = (await db('journals').select('journal_key').where('journal_key', 'like', `${id}:%`)) as Array<{ journal_key: string }>;
    const posted = new Set(rows.map((row) => row.journal_key.slice(id.length + 1)));
    for (const { step, compensation, run } of compensations) {
      if (posted.has(step) && !posted.has(compensation)) await run(id);
    }
    await fail(id);
  }
}
