import type { Knex } from 'knex';
import { toSafeInteger } from '../domain/money';
import { IN_FLIGHT_STATUSES } from '../domain/money-sagas';
import { refundShareRoundHalfUp, type RefundShare, type RefundStatus } from '../domain/refunds';
import { refundWorkflowId } from '../domain/workflow-ids';
import type { RefundRow } from '../infra/tables';
import { loadPaymentRecord } from './payment-records';
import { listSteps, type SagaStep } from './saga-timeline';

/** A refund as the API shows it. */
export interface Refund {
  id: string;
  paymentId: string;
  status: RefundStatus;
  amount: number;
  feeRefunded: number;
  netAmount: number;
  currency: string;
  reason: string | null;
  failure: { code: string; message: string } | null;
  steps: SagaStep[];
  workflowId: string;
  createdAt: string;
  updatedAt: string;
}

/** A refund row with its amounts checked: what saga activities work from. */
export interface RefundRecord extends RefundShare {
  id: string;
  paymentId: string;
  payerId: string;
  merchantId: string;
  sourceWalletId: string;
  merchantWalletId: string;
  currency: string;
  status: RefundStatus;
  failureCode: string | null;
  faultStep: string | null;
  createdAt: Date;
}

/** Why a refund cannot be created; the API maps each to its 422 code. */
export type RefundRefusal = 'payment_not_refundable' | 'refund_exceeds_payment';

/** What a new refund asks for. */
export interface NewRefund {
  id: string;
  paymentId: string;
  /** Minor units; undefined refunds all that is left. */
  amount: number | undefined;
  reason: string | null;
  /** The fault drill's step, or null. */
  faultStep: string | null;
}

/** Sums of a payment's refunds that are in flight or succeeded: what they took, or will, of its amount and fee. */
async function reservedBy(trx: Knex.Transaction, paymentId: string): Promise<{ amount: number; fee: number }> {
  const row = (await trx('refunds')
    .sum({ amount: 'amount', fee: 'fee_refunded' })
    .where({ payment_id: paymentId })
    .whereIn('status', [...IN_FLIGHT_STATUSES, 'succeeded'])
    .first()) as { amount: unknown; fee: unknown } | undefined;
  return { amount: toSafeInteger(row?.amount ?? 0, 'refunded amount'), fee: toSafeInteger(row?.fee ?? 0, 'refunded fee') };
}

/**
 * Whether the payment's payer closed their account: a refund would pay into a closed (frozen)
 * wallet. The payer's row is read with a shared lock, before the payment row is locked: closing
 * an account locks that row first and then looks for sagas in flight, so a refund is either seen
 * by the closing (which is then refused) or sees the account closed, never slips in between.
 */
async function payerIsClosed(trx: Knex.Transaction, paymentId: string): Promise<boolean> {
  const payment = await trx('payments').select('payer_id').where({ id: paymentId }).first();
  if (!payment) return false;
  const payer = await trx('users').select('status').where({ id: payment.payer_id }).forShare().first();
  return payer?.status === 'closed';
}

/**
 * Writes a refund `pending` inside the caller's transaction, under the payment row's lock, so
 * concurrent refunds of one payment are judged one after the other: each sees what the others
 * in flight reserved, and together they never exceed the payment. Its fee share is fixed here.
 */
export async function insertPendingRefund(trx: Knex.Transaction, refund: NewRefund): Promise<RefundRefusal | null> {
  if (await payerIsClosed(trx, refund.paymentId)) return 'payment_not_refundable';
  const payment = await loadPaymentRecord(trx, refund.paymentId, { forUpdate: true });
  if (payment.status !== 'succeeded') return 'payment_not_refundable';
  const reserved = await reservedBy(trx, payment.id);
  const amount = refund.amount ?? payment.amount - reserved.amount;
  const share = refundShareRoundHalfUp({ amount: payment.amount, fee: payment.fee, reservedAmount: reserved.amount, reservedFee: reserved.fee }, amount);
  if (!share) return 'refund_exceeds_payment';
  const now = new Date();
  await trx('refunds').insert({
    id: refund.id,
    payment_id: payment.id,
    payer_id: payment.payerId,
    source_wallet_id: payment.sourceWalletId,
    merchant_id: payment.merchantId,
    merchant_wallet_id: payment.merchantWalletId,
    amount: share.amount,
    fee_refunded: share.feeRefunded,
    net_amount: share.netAmount,
    currency: payment.currency,
    reason: refund.reason,
    status: 'pending',
    failure_code: null,
    failure_message: null,
    fault_step: refund.faultStep,
    workflow_id: refundWorkflowId(refund.id),
    compensation_started_at: null,
    created_at: now,
    updated_at: now,
  });
  return null;
}

/** Reads a refund row and checks its money invariants; throws if it is missing. */
export async function loadRefundRecord(db: Knex | Knex.Transaction, refundId: string): Promise<RefundRecord> {
  const row = await db('refunds').where({ id: refundId }).first();
  if (!row) throw new Error(`refund ${refundId} does not exist`);
  const amount = toSafeInteger(row.amount, 'amount');
  const feeRefunded = toSafeInteger(row.fee_refunded, 'fee_refunded');
  const netAmount = toSafeInteger(row.net_amount, 'net_amount');
  if (feeRefunded + netAmount !== amount || feeRefunded < 0 || amount <= 0) throw new Error(`refund ${refundId} has inconsistent amounts`);
  return {
    id: row.id,
    paymentId: row.payment_id,
    payerId: row.payer_id,
    merchantId: row.merchant_id,
    sourceWalletId: row.source_wallet_id,
    merchantWalletId: row.merchant_wallet_id,
    amount,
    feeRefunded,
    netAmount,
    currency: row.currency,
    status: row.status,
    failureCode: row.failure_code,
    faultStep: row.fault_step,
    createdAt: row.created_at,
  };
}

/** Maps a refund row and its steps to the API's Refund. */
export function toRefund(row: RefundRow, steps: SagaStep[]): Refund {
  return {
    id: row.id,
    paymentId: row.payment_id,
    status: row.status,
    amount: toSafeInteger(row.amount, 'amount'),
    feeRefunded: toSafeInteger(row.fee_refunded, 'fee_refunded'),
    netAmount: toSafeInteger(row.net_amount, 'net_amount'),
    currency: row.currency,
    reason: row.reason,
    failure: row.failure_code ? { code: row.failure_code, message: row.failure_message ?? '' } : null,
    steps,
    workflowId: row.workflow_id,
    createdAt: row.created_at.toISOString(),
    updatedAt: row.updated_at.toISOString(),
  };
}

/** The refund with its steps, or null. */
export async function findRefund(db: Knex, refundId: string): Promise<Refund | null> {
  const row = await db('refunds').where({ id: refundId }).first();
  return row ? toRefund(row, await listSteps(db, refundId)) : null;
}
