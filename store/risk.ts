import type { Knex } from 'knex';
import { newId } from '../domain/ids';
import { toSafeInteger } from '../domain/money';
import { MONEY_SAGAS } from '../domain/money-sagas';
import {
  evaluateRisk,
  type BlocklistKind,
  type ReviewResolution,
  type RiskCheckedKind,
  type RiskFacts,
  type RiskOutcome,
  type RiskRules,
  type RiskVerdict,
} from '../domain/risk';
import type { RiskBlocklistRow as BlocklistRow, RiskCheckRow } from '../infra/tables';
import { isDuplicateKey } from './ledger';
import { inTransaction } from './transactions';
import { assertLive, lockSaga } from './saga-steps';
import { recordStep } from './saga-timeline';
import { recordAudit } from './audit-log';

/** The timeline entry and `risk_checks` key of the risk check. */
export const RISK_CHECK_STEP = 'risk_check';

/** A saga's recorded risk verdict. */
export interface RecordedRiskCheck {
  outcome: RiskOutcome;
  rule: string | null;
  /** For a review: when it is declined unless an admin decided first. */
  reviewExpiresAt: Date | null;
  /** For a review: how it ended, or null while it waits. */
  decision: ReviewResolution | null;
}

/** Who pays whom in a saga, as the rules read it. */
interface SagaParties {
  payerId: string;
  /** The merchant (payment) or the recipient (transfer). */
  recipientId: string;
  amount: number;
  currency: string;
  createdAt: Date;
}

async function partiesOf(trx: Knex.Transaction, kind: RiskCheckedKind, sagaId: string): Promise<SagaParties> {
  const [payerColumn, recipientColumn] = kind === 'payment' ? ['payer_id', 'merchant_id'] : ['sender_id', 'recipient_id'];
  const row = (await trx(MONEY_SAGAS[kind].table)
    .select({ payerId: payerColumn, recipientId: recipientColumn }, 'amount', 'currency', 'created_at')
    .where({ id: sagaId })
    .first()) as { payerId: string; recipientId: string; amount: unknown; currency: string; created_at: Date } | undefined;
  if (!row) throw new Error(`${kind} ${sagaId} does not exist`);
  return { payerId: row.payerId, recipientId: row.recipientId, amount: toSafeInteger(row.amount, 'amount'), currency: row.currency, createdAt: row.created_at };
}

/**
 * The payer's other payments and transfers in the window before this saga (failed ones not
 * counted): how many, and their sum in its currency. A locking read: a saga created earlier whose
 * row is not committed yet (its POST still in its transaction) is waited for and counted, where a
 * plain read would skip it, and two sagas racing would each pass the velocity rules unseen by the other.
 */
async function recentSagas(trx: Knex.Transaction, sagaId: string, parties: SagaParties, windowMs: number): Promise<{ count: number; amount: number }> {
  const since = new Date(parties.createdAt.getTime() - windowMs);
  let count = 0;
  let amount = 0;
  for (const [table, payerColumn] of [
    ['payments', 'payer_id'],
    ['transfers', 'sender_id'],
  ] as const) {
    const rows = (await trx(table)
      .select('currency')
      .count({ count: '*' })
      .sum({ total: 'amount' })
      .where(payerColumn, parties.payerId)
      .andWhere('created_at', '>', since)
      .andWhere('created_at', '<=', parties.createdAt)
      .andWhereNot({ id: sagaId })
      .andWhereNot({ status: 'failed' })
      .groupBy('currency')
      .forShare()) as Array<{ currency: string; count: unknown; total: unknown }>;
    for (const row of rows) {
      count += toSafeInteger(row.count, 'recent count');
      if (row.currency === parties.currency) amount += toSafeInteger(row.total, 'recent amount');
    }
  }
  return { count, amount };
}

/** The statuses of a saga that counts in the daily limit: accepted by validate, and not failed. */
const DAILY_LIMIT_STATUSES = ['processing', 'in_review', 'succeeded'];

/**
 * A person's outflow in one currency since `since`: their payments and transfers that validate
 * accepted, `excludeId` left out (see `withinDailyLimit`). The caller holds the person's wallet in
 * that currency locked (`FOR UPDATE`), which the validate step of every payment and transfer from
 * it takes first; so no two validates of one person sum at once, and each sees the other's status.
 */
export async function dailyOutflow(trx: Knex.Transaction, input: { personId: string; currency: string; since: Date; excludeId: string }): Promise<number> {
  let total = 0;
  for (const [table, personColumn] of [
    ['payments', 'payer_id'],
    ['transfers', 'sender_id'],
  ] as const) {
    const row = (await trx(table)
      .sum({ total: 'amount' })
      .where({ [personColumn]: input.personId, currency: input.currency })
      .whereIn('status', DAILY_LIMIT_STATUSES)
      .andWhere('created_at', '>', input.since)
      .andWhereNot({ id: input.excludeId })
      .first()) as { total: unknown } | undefined;
    total += toSafeInteger(row?.total ?? 0, 'daily outflow');
  }
  return total;
}

/** True when a user id, e-mail address or merchant of this saga is on the blocklist. */
async function isBlocklisted(trx: Knex.Transaction, kind: RiskCheckedKind, parties: SagaParties): Promise<boolean> {
  const users = (await trx('users').select('id', 'email').whereIn('id', [parties.payerId, parties.recipientId])) as Array<{ id: string; email: string }>;
  const userIds = kind === 'payment' ? [parties.payerId] : [parties.payerId, parties.recipientId];
  const emails = users.filter((user) => userIds.includes(user.id)).map((user) => user.email.toLowerCase());
  const hit = await trx('risk_blocklist')
    .select('id')
    .where((builder) => {
      void builder.where({ kind: 'user' }).whereIn('value', userIds);
      if (emails.length > 0) void builder.orWhere((inner) => void inner.where({ kind: 'email' }).whereIn('value', emails));
      if (kind === 'payment') void builder.orWhere({ kind: 'merchant', value: parties.recipientId });
    })
    .first();
  return hit !== undefined;
}

/** True when the payer already paid this recipient in a succeeded saga of this kind. */
async function knowsRecipient(trx: Knex.Transaction, kind: RiskCheckedKind, sagaId: string, parties: SagaParties): Promise<boolean> {
  const found: unknown =
    kind === 'payment'
      ? await trx('payments').select('id').where({ payer_id: parties.payerId, merchant_id: parties.recipientId, status: 'succeeded' }).andWhereNot({ id: sagaId }).first()
      : await trx('transfers').select('id').where({ sender_id: parties.payerId, recipient_id: parties.recipientId, status: 'succeeded' }).andWhereNot({ id: sagaId }).first();
  return found !== undefined;
}

/** Everything the rules look at, read inside the check's transaction. */
export async function gatherRiskFacts(trx: Knex.Transaction, kind: RiskCheckedKind, sagaId: string, rules: RiskRules, now: Date): Promise<RiskFacts> {
  const parties = await partiesOf(trx, kind, sagaId);
  const payer: { created_at: Date } | undefined = await trx('users').select('created_at').where({ id: parties.payerId }).first();
  if (!payer) throw new Error(`the payer of ${kind} ${sagaId} does not exist`);
  const recent = await recentSagas(trx, sagaId, parties, rules.velocityWindowMs);
  return {
    kind,
    amount: parties.amount,
    blocklisted: await isBlocklisted(trx, kind, parties),
    recentCount: recent.count,
    recentAmount: recent.amount,
    accountAgeMs: Math.max(0, now.getTime() - payer.created_at.getTime()),
    knownRecipient: await knowsRecipient(trx, kind, sagaId, parties),
  };
}

function toRecorded(row: Pick<RiskCheckRow, 'outcome' | 'rule' | 'review_expires_at' | 'decision'>): RecordedRiskCheck {
  return { outcome: row.outcome, rule: row.rule, reviewExpiresAt: row.review_expires_at, decision: row.decision };
}

/** What `checkSagaRisk` answers: the recorded verdict, and the fresh evaluation when this call made it. */
export interface RiskCheckAnswer {
  recorded: RecordedRiskCheck;
  /** The evaluation this call made and recorded; null when an earlier attempt had (a retry). */
  evaluated: RiskVerdict | null;
}

/**
 * The risk check of a saga, once: under the saga row's lock, a verdict recorded by an earlier
 * attempt is answered again as it is. Otherwise, while the saga is live and validated, the rules
 * judge the facts and the verdict is recorded with what follows from it, atomically: allow
 * completes the `risk_check` step; review turns the payment `in_review` until `now + reviewTimeoutMs`;
 * decline and review are audited. Money never moves here.
 */
export function checkSagaRisk(db: Knex, kind: RiskCheckedKind, sagaId: string, rules: RiskRules, now: Date = new Date()): Promise<RiskCheckAnswer> {
  return inTransaction(db, async (trx) => {
    const saga = await lockSaga(trx, kind, sagaId);
    const existing = await trx('risk_checks').where({ saga_id: sagaId, step: RISK_CHECK_STEP }).first();
    if (existing) return { recorded: toRecorded(existing), evaluated: null };
    assertLive(kind, sagaId, saga);
    const facts = await gatherRiskFacts(trx, kind, sagaId, rules, now);
    const verdict = evaluateRisk(facts, rules);
    // A transfer has no review: its rules already answer decline where a payment's would review.
    if (verdict.outcome === 'review' && kind !== 'payment') throw new Error(`a ${kind} cannot go to review`);
    const reviewExpiresAt = verdict.outcome === 'review' ? new Date(now.getTime() + rules.reviewTimeoutMs) : null;
    await trx('risk_checks').insert({
      saga_id: sagaId,
      step: RISK_CHECK_STEP,
      saga_kind: kind,
      outcome: verdict.outcome,
      rule: verdict.rule,
      review_expires_at: reviewExpiresAt,
      decision: null,
      decided_by: null,
      decided_at: null,
      created_at: now,
    });
    if (verdict.outcome === 'allow') await recordStep(trx, sagaId, RISK_CHECK_STEP, 'completed');
    if (verdict.outcome === 'review') await trx('payments').where({ id: sagaId, status: 'processing' }).update({ status: 'in_review', updated_at: now });
    if (verdict.outcome !== 'allow') {
      const action = verdict.outcome === 'review' ? `${kind}.risk_review_opened` : `${kind}.risk_declined`;
      await recordAudit(trx, { actorId: null, action, resourceType: kind, resourceId: sagaId, data: { rule: verdict.rule, amount: facts.amount, reviewExpiresAt } });
    }
    return { recorded: { outcome: verdict.outcome, rule: verdict.rule, reviewExpiresAt, decision: null }, evaluated: verdict };
  });
}

/** What `resolvePaymentReview` answers: how the review ended, and whether this call ended it. */
export interface ReviewAnswer {
  resolution: ReviewResolution;
  /** False when the review had already ended (a retry, or a decision before): nothing changed. */
  fresh: boolean;
}

/**
 * Ends a payment's review once, under the payment row's lock: the first resolution is recorded
 * (with the admin, or null for the timeout) and audited; approve turns the payment back to
 * `processing` and completes its `risk_check` step, so the debit may run (it checks the funds
 * again). Decline and timeout leave the failing to the saga. A second call answers the first.
 */
export function resolvePaymentReview(db: Knex, paymentId: string, resolution: ReviewResolution, decidedBy: string | null, now: Date = new Date()): Promise<ReviewAnswer> {
  return inTransaction(db, async (trx) => {
    await lockSaga(trx, 'payment', paymentId);
    const check = await trx('risk_checks').where({ saga_id: paymentId, step: RISK_CHECK_STEP }).first();
    if (!check || check.outcome !== 'review') throw new Error(`payment ${paymentId} is not in review`);
    if (check.decision) return { resolution: check.decision, fresh: false };
    await trx('risk_checks').where({ saga_id: paymentId, step: RISK_CHECK_STEP }).update({ decision: resolution, decided_by: decidedBy, decided_at: now });
    if (resolution === 'approve') {
      await trx('payments').where({ id: paymentId, status: 'in_review' }).update({ status: 'processing', updated_at: now });
      await recordStep(trx, paymentId, RISK_CHECK_STEP, 'completed');
    }
    const action = { approve: 'payment.review_approved', decline: 'payment.review_declined', timeout: 'payment.review_timed_out' }[resolution];
    await recordAudit(trx, { actorId: decidedBy, action, resourceType: 'payment', resourceId: paymentId, data: { rule: check.rule } });
    return { resolution, fresh: true };
  });
}

/** A payment's open review, or null when it is not waiting for one (never reviewed, decided, timed out). */
export async function openReviewOf(db: Knex, paymentId: string, now: Date = new Date()): Promise<RecordedRiskCheck | null> {
  const row = (await db('payments as p')
    .join('risk_checks as r', function joinCheck() {
      this.on('r.saga_id', '=', 'p.id').andOnVal('r.step', '=', RISK_CHECK_STEP);
    })
    .select('r.outcome', 'r.rule', 'r.review_expires_at', 'r.decision')
    .where({ 'p.id': paymentId, 'p.status': 'in_review', 'r.outcome': 'review' })
    .whereNull('r.decision')
    .andWhere('r.review_expires_at', '>', now)
    .first()) as Pick<RiskCheckRow, 'outcome' | 'rule' | 'review_expires_at' | 'decision'> | undefined;
  return row ? toRecorded(row) : null;
}

/** An entry of the blocklist as admins see it. */
export interface BlocklistEntry {
  id: string;
  kind: BlocklistKind;
  value: string;
  reason: string | null;
  createdBy: string;
  createdAt: string;
}


/** Maps a blocklist row to what admins read. */
export function toBlocklistEntry(row: Omit<BlocklistRow, 'seq'>): BlocklistEntry {
  return { id: row.id, kind: row.kind, value: row.value, reason: row.reason, createdBy: row.created_by, createdAt: row.created_at.toISOString() };
}

/** The stored form of a blocklisted value: e-mail addresses in lower case, ids as given. */
export function blocklistValue(kind: BlocklistKind, value: string): string {
  return kind === 'email' ? value.trim().toLowerCase() : value.trim();
}

/**
 * Adds an entry, audited; an entry already there for the same kind and value is answered as it
 * is (`created: false`), so adding twice is harmless.
 */
export async function addBlocklistEntry(
  db: Knex,
  entry: { kind: BlocklistKind; value: string; reason: string | null; adminId: string },
): Promise<{ entry: BlocklistEntry; created: boolean }> {
  const value = blocklistValue(entry.kind, entry.value);
  try {
    return await inTransaction(db, async (trx) => {
      const row: Omit<BlocklistRow, 'seq'> = { id: newId('blk'), kind: entry.kind, value, reason: entry.reason, created_by: entry.adminId, created_at: new Date() };
      await trx('risk_blocklist').insert(row);
      await recordAudit(trx, { actorId: entry.adminId, action: 'risk.blocklist_added', resourceType: 'blocklist', resourceId: row.id, data: { kind: entry.kind, value, reason: entry.reason } });
      return { entry: toBlocklistEntry(row), created: true };
    });
  } catch (error) {
    if (!isDuplicateKey(error)) throw error;
    const existing = await db('risk_blocklist').where({ kind: entry.kind, value }).first();
    if (!existing) throw error;
    return { entry: toBlocklistEntry(existing), created: false };
  }
}

/** Removes an entry, audited; false when there is no such entry. */
export function removeBlocklistEntry(db: Knex, id: string, adminId: string): Promise<boolean> {
  return inTransaction(db, async (trx) => {
    const row = await trx('risk_blocklist').where({ id }).forUpdate().first();
    if (!row) return false;
    await trx('risk_blocklist').where({ id }).delete();
    await recordAudit(trx, { actorId: adminId, action: 'risk.blocklist_removed', resourceType: 'blocklist', resourceId: id, data: { kind: row.kind, value: row.value } });
    return true;
  });
}
