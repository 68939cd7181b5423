import type { Knex } from 'knex';
import type { StepStatus } from '../domain/money-sagas';

/** One entry of a saga's step timeline. */
export interface SagaStep {
  name: string;
  status: StepStatus;
  at: string;
}

/** Records a step's status; recording the same status again is harmless (activities retry). */
export async function recordStep(db: Knex | Knex.Transaction, sagaId: string, name: string, status: StepStatus): Promise<void> {
  await db('saga_steps')
    .insert({ saga_id: sagaId, name, status, at: new Date() })
    .onConflict(['saga_id', 'name'])
    .merge(['status', 'at']);
}

/** The step timeline of a saga, in the order the steps first happened. */
export async function listSteps(db: Knex, sagaId: string): Promise<SagaStep[]> {
  const rows = await db('saga_steps').where({ saga_id: sagaId }).orderBy('seq', 'asc');
  return rows.map((row) => ({ name: row.name, status: row.status, at: row.at.toISOString() }));
}

/** The step timelines of several sagas in one query, by saga id. */
export async function listStepsOf(db: Knex, sagaIds: string[]): Promise<Map<string, SagaStep[]>> {
  const timelines = new Map<string, SagaStep[]>();
  if (sagaIds.length === 0) return timelines;
  const rows = await db('saga_steps').whereIn('saga_id', sagaIds).orderBy('seq', 'asc');
  for (const row of rows) {
    const timeline = timelines.get(row.saga_id) ?? [];
    timeline.push({ name: row.name, status: row.status, at: row.at.toISOString() });
    timelines.set(row.saga_id, timeline);
  }
  return timelines;
}
