import type { Knex } from 'knex';
import { inTransaction } from './transactions';

/**
 * The delivery queue: e-mail notifications (`notifications` rows of channel `email`) and
 * webhook events (`webhook_events`) that carry a `delivery_queue`. A dispatcher claims due rows
 * of its queue in one short transaction (`SELECT … FOR UPDATE SKIP LOCKED`, so dispatchers never
 * wait for each other nor claim the same row), leasing each one: `next_attempt_at` moves to the
 * end of the lease and `attempts` counts the claim. It sends outside any transaction, then records
 * the outcome, but only while the claim is still its own (`attempts` unchanged): a dispatcher
 * that died mid-send leaves its rows to be claimed again when their lease ends (at-least-once).
 */
export type DeliveryKind = 'email' | 'webhook';

/** The rows of each kind, and the status a row has once delivered. */
const KINDS = {
  email: { table: 'notifications', delivered: 'sent' },
  webhook: { table: 'webhook_events', delivered: 'delivered' },
} as const satisfies Record<DeliveryKind, { table: string; delivered: string }>;

/** Every delivery kind, in the order a dispatcher claims them. */
export const DELIVERY_KINDS: readonly DeliveryKind[] = ['email', 'webhook'];

/** A row a dispatcher holds: its identity, the claim's number, and when it was recorded (its give-up window starts there). */
export interface ClaimedDelivery {
  kind: DeliveryKind;
  id: string;
  /** The claim's number: 1 on the first attempt. Recording the outcome needs it unchanged. */
  attempts: number;
  recordedAt: Date;
  leasedUntil: Date;
}

/** Longest error text kept on a row. */
const ERROR_LENGTH = 255;

/**
 * Claims up to `limit` due rows of one kind on `queue` for `leaseMs`, oldest due first. One short
 * transaction; locked rows (another dispatcher's claim in progress) are skipped, never waited for.
 */
export async function claimDueDeliveries(
  db: Knex,
  claim: { kind: DeliveryKind; queue: string; limit: number; leaseMs: number; now: Date },
): Promise<ClaimedDelivery[]> {
  if (!Number.isSafeInteger(claim.limit) || claim.limit < 1 || claim.limit > 1_000) throw new RangeError('a claim takes 1 to 1000 rows');
  if (!Number.isSafeInteger(claim.leaseMs) || claim.leaseMs < 1) throw new RangeError('a lease lasts at least 1 ms');
  const { table } = KINDS[claim.kind];
  const leasedUntil = new Date(claim.now.getTime() + claim.leaseMs);
  return db.transaction(async (trx) => {
    const rows = (await trx(table)
      .select('id', 'attempts', 'created_at')
      .where({ delivery_queue: claim.queue, status: 'pending' })
      .andWhere('next_attempt_at', '<=', claim.now)
      .orderBy('next_attempt_at')
      .limit(claim.limit)
      .forUpdate()
      .skipLocked()) as Array<{ id: string; attempts: number; created_at: Date }>;
    if (rows.length === 0) return [];
    await trx(table)
      .whereIn(
        'id',
        rows.map((row) => row.id),
      )
      .update({ next_attempt_at: leasedUntil, locked_until: leasedUntil, updated_at: claim.now })
      .increment('attempts', 1);
    return rows.map((row) => ({ kind: claim.kind, id: row.id, attempts: Number(row.attempts) + 1, recordedAt: row.created_at, leasedUntil }));
  });
}

/**
 * Updates the claimed row, only while the claim is still the one this dispatcher made; answers
 * whether it did. Retried on a deadlock or a lock wait timeout, as every ledger transaction is:
 * under load the notify steps' inserts and this update meet on the queue's index, and an outcome
 * left unrecorded would wait for its lease to end and be sent a second time.
 */
async function updateOwnRow(db: Knex, claimed: ClaimedDelivery, changes: Record<string, unknown>): Promise<boolean> {
  const updated = await inTransaction(db, (trx) => trx(KINDS[claimed.kind].table).where({ id: claimed.id, status: 'pending', attempts: claimed.attempts }).update(changes));
  return updated === 1;
}

/** Marks a claimed row delivered; false when the claim was lost meanwhile (its lease ended and another dispatcher claimed it). */
export async function recordDelivered(db: Knex, claimed: ClaimedDelivery, now: Date): Promise<boolean> {
  return updateOwnRow(db, claimed, { status: KINDS[claimed.kind].delivered, next_attempt_at: null, locked_until: null, last_error: null, updated_at: now });
}

/** Puts a claimed row back for another attempt at `nextAttemptAt`; false when the claim was lost meanwhile. */
export async function recordRetry(db: Knex, claimed: ClaimedDelivery, outcome: { nextAttemptAt: Date; error: string; now: Date }): Promise<boolean> {
  return updateOwnRow(db, claimed, { next_attempt_at: outcome.nextAttemptAt, locked_until: null, last_error: outcome.error.slice(0, ERROR_LENGTH), updated_at: outcome.now });
}

/** Marks a claimed row failed for good (refused, or out of retry time); false when the claim was lost meanwhile. */
export async function recordGivenUp(db: Knex, claimed: ClaimedDelivery, outcome: { error: string; now: Date }): Promise<boolean> {
  return updateOwnRow(db, claimed, { status: 'failed', next_attempt_at: null, locked_until: null, last_error: outcome.error.slice(0, ERROR_LENGTH), updated_at: outcome.now });
}

/**
 * Stamps pending rows recorded before this queue existed (no `delivery_queue`) onto `queue`, due
 * now: a notify step retried after an upgrade finds its rows already recorded, and no delivery
 * workflow will ever be started for them. Returns how many it took over.
 */
export async function adoptUnqueued(db: Knex, kind: DeliveryKind, where: { dedupeKeys: string[] }, queue: string, now: Date): Promise<number> {
  if (where.dedupeKeys.length === 0) return 0;
  return db(KINDS[kind].table)
    .whereIn('dedupe_key', where.dedupeKeys)
    .whereNull('delivery_queue')
    .andWhere({ status: 'pending' })
    .update({ delivery_queue: queue, next_attempt_at: now, updated_at: now });
}

/** How much of one kind waits on a queue: rows pending, those due now (not leased), and the age of the longest-due one. */
export interface DeliveryBacklog {
  kind: DeliveryKind;
  pending: number;
  due: number;
  oldestDueAgeMs: number;
}

/** The backlog of each kind on `queue` (a range of the `(delivery_queue, status, next_attempt_at)` index). */
export async function deliveryBacklog(db: Knex, queue: string, now: Date): Promise<DeliveryBacklog[]> {
  return Promise.all(
    DELIVERY_KINDS.map(async (kind) => {
      const row = (await db(KINDS[kind].table)
        .where({ delivery_queue: queue, status: 'pending' })
        .select(db.raw('count(*) as pending'), db.raw('sum(next_attempt_at <= ?) as due', [now]), db.raw('min(next_attempt_at) as oldest'))
        .first()) as { pending: number | string; due: number | string | null; oldest: Date | null } | undefined;
      const oldest = row?.oldest ?? null;
      const oldestDueAgeMs = oldest && oldest.getTime() <= now.getTime() ? now.getTime() - oldest.getTime() : 0;
      return { kind, pending: Number(row?.pending ?? 0), due: Number(row?.due ?? 0), oldestDueAgeMs };
    }),
  );
}
