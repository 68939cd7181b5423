import type { Knex } from 'knex';
import { setTimeout as sleep } from 'node:timers/promises';
import { countInto, percentilesOf, perSecond, type Percentiles } from './stats';

/** How the payments created during one level ended, read from the database. */
export interface SagaOutcomes {
  created: number;
  succeeded: number;
  /** Failed payments by `failure_code`. */
  failed: Record<string, number>;
  /** Still pending or processing when the drain gave up. */
  unfinished: number;
  /** Succeeded payments per second of the level's window: the throughput. */
  paymentsPerSecond: number;
  /** From the payment row's creation to the last step of its timeline (notify included), for final payments. */
  sagaLatencyMs: Percentiles;
}

const DRAIN_POLL_MS = 250;

/** Payments created in [from, to): the rows a level made. */
function inWindow(db: Knex, from: Date, to: Date): Knex.QueryBuilder {
  return db('payments').where('created_at', '>=', from).andWhere('created_at', '<', to);
}

/**
 * Waits until every payment created since `from` is final and its notify step is in its
 * timeline, or `timeoutMs` has passed; answers how many were still unfinished.
 */
export async function drain(db: Knex, from: Date, timeoutMs: number): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const row = await db('payments as p')
      .leftJoin('saga_steps as s', function joinNotify() {
        this.on('s.saga_id', '=', 'p.id').andOnVal('s.name', '=', 'notify');
      })
      .where('p.created_at', '>=', from)
      .andWhere((builder) => {
        void builder.whereIn('p.status', ['pending', 'processing']).orWhereNull('s.saga_id');
      })
      .count({ unfinished: '*' })
      .first();
    const unfinished = Number(row?.unfinished ?? 0);
    if (unfinished === 0 || Date.now() >= deadline) return unfinished;
    await sleep(DRAIN_POLL_MS);
  }
}

/** Reads the outcome of the payments of one level's window. */
export async function sagaOutcomes(db: Knex, from: Date, to: Date): Promise<SagaOutcomes> {
  const rows: Array<{ status: string; failure_code: string | null; created_at: Date; finished_at: Date | null }> = await inWindow(db, from, to)
    .leftJoin('saga_steps as s', 's.saga_id', 'payments.id')
    .groupBy('payments.id', 'payments.status', 'payments.failure_code', 'payments.created_at')
    .select('payments.status', 'payments.failure_code', 'payments.created_at')
    .max({ finished_at: 's.at' });
  const failed: Record<string, number> = {};
  const latenciesMs: number[] = [];
  let succeeded = 0;
  let unfinished = 0;
  for (const row of rows) {
    if (row.status === 'succeeded') succeeded += 1;
    else if (row.status === 'failed') countInto(failed, row.failure_code ?? 'unknown');
    else unfinished += 1;
    if ((row.status === 'succeeded' || row.status === 'failed') && row.finished_at) {
      latenciesMs.push(Math.max(0, new Date(row.finished_at).getTime() - new Date(row.created_at).getTime()));
    }
  }
  return {
    created: rows.length,
    succeeded,
    failed,
    unfinished,
    paymentsPerSecond: perSecond(succeeded, to.getTime() - from.getTime()),
    sagaLatencyMs: percentilesOf(latenciesMs),
  };
}

/** InnoDB's own counters of deadlocks and lock waits that timed out, since the server started. */
export interface LockCounters {
  deadlocks: number;
  lockWaitTimeouts: number;
}

/** Reads the counters (needs the PROCESS privilege); null when the server does not expose them. */
export async function lockCounters(db: Knex): Promise<LockCounters | null> {
  try {
    const rows = (await db('information_schema.INNODB_METRICS')
      .select({ name: 'NAME', count: 'COUNT' })
      .whereIn('NAME', ['lock_deadlocks', 'lock_timeouts'])) as Array<{ name: string; count: number | string }>;
    const byName = new Map(rows.map((row) => [row.name, Number(row.count)]));
    const deadlocks = byName.get('lock_deadlocks');
    const lockWaitTimeouts = byName.get('lock_timeouts');
    return deadlocks === undefined || lockWaitTimeouts === undefined ? null : { deadlocks, lockWaitTimeouts };
  } catch {
    return null;
  }
}

/** What the counters grew by between two readings. */
export function lockCountersDelta(before: LockCounters | null, after: LockCounters | null): LockCounters | null {
  if (!before || !after) return null;
  return { deadlocks: after.deadlocks - before.deadlocks, lockWaitTimeouts: after.lockWaitTimeouts - before.lockWaitTimeouts };
}
