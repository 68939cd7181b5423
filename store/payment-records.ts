import type { Knex } from 'knex';
import type { SagaFailure } from '../domain/money-sagas';
import { toSafeInteger } from '../domain/money';
import type { PaymentStatus } from '../domain/payments';
import { paymentWorkflowId } from '../domain/workflow-ids';
import type { PaymentRow } from '../infra/tables';
import { failureOf } from './saga-steps';
import { listSteps, type SagaStep } from './saga-timeline';

/** A payment as the API shows it. */
export interface Payment {
  id: string;
  status: PaymentStatus;
  amount: number;
  fee: number;
  netAmount: number;
  /** What succeeded refunds gave back of it. */
  refundedAmount: number;
  currency: string;
  sourceWalletId: string;
  merchantId: string;
  merchantWalletId: string;
  description: string | null;
  failure: SagaFailure | null;
  steps: SagaStep[];
  workflowId: string;
  createdAt: string;
  updatedAt: string;
}

/** A payment row with its amounts checked: what saga activities work from. */
export interface PaymentRecord {
  id: string;
  payerId: string;
  merchantId: string;
  sourceWalletId: string;
  merchantWalletId: string;
  amount: number;
  fee: number;
  netAmount: number;
  currency: string;
  status: PaymentStatus;
  faultStep: string | null;
  createdAt: Date;
}

/** What a new payment row holds before its saga starts. */
export interface NewPayment {
  id: string;
  payerId: string;
  sourceWalletId: string;
  merchantId: string;
  merchantWalletId: string;
  amount: number;
  fee: number;
  netAmount: number;
  currency: string;
  description: string | null;
  /** The fault drill's step, or null. */
  faultStep: string | null;
}

/** Writes a payment `pending`, as its saga expects to find it (inside the caller's transaction, if any). */
export async function insertPendingPayment(db: Knex | Knex.Transaction, payment: NewPayment): Promise<void> {
  if (payment.fee + payment.netAmount !== payment.amount) throw new Error(`payment ${payment.id}: fee + net must equal the amount`);
  const now = new Date();
  await db('payments').insert({
    id: payment.id,
    payer_id: payment.payerId,
    source_wallet_id: payment.sourceWalletId,
    merchant_id: payment.merchantId,
    merchant_wallet_id: payment.merchantWalletId,
    amount: payment.amount,
    fee: payment.fee,
    net_amount: payment.netAmount,
    currency: payment.currency,
    description: payment.description,
    status: 'pending',
    failure_code: null,
    failure_message: null,
    fault_step: payment.faultStep,
    workflow_id: paymentWorkflowId(payment.id),
    compensation_started_at: null,
    created_at: now,
    updated_at: now,
  });
}

/** Reads a payment row and checks its money invariants; throws if it is missing. */
export async function loadPaymentRecord(db: Knex | Knex.Transaction, paymentId: string, options: { forUpdate?: boolean } = {}): Promise<PaymentRecord> {
  const query = db('payments').where({ id: paymentId });
  const row = await (options.forUpdate ? query.forUpdate() : query).first();
  if (!row) throw new Error(`payment ${paymentId} does not exist`);
  const amount = toSafeInteger(row.amount, 'amount');
  const fee = toSafeInteger(row.fee, 'fee');
  const netAmount = toSafeInteger(row.net_amount, 'net_amount');
  if (fee + netAmount !== amount || fee < 0 || amount <= 0) throw new Error(`payment ${paymentId} has inconsistent amounts`);
  return {
    id: row.id,
    payerId: row.payer_id,
    merchantId: row.merchant_id,
    sourceWalletId: row.source_wallet_id,
    merchantWalletId: row.merchant_wallet_id,
    amount,
    fee,
    netAmount,
    currency: row.currency,
    status: row.status,
    faultStep: row.fault_step,
    createdAt: row.created_at,
  };
}

/** Maps a payment row, its steps and what its succeeded refunds gave back to the API's Payment. */
export function toPayment(row: PaymentRow, steps: SagaStep[], refundedAmount: number): Payment {
  return {
    id: row.id,
    status: row.status,
    amount: toSafeInteger(row.amount, 'amount'),
    fee: toSafeInteger(row.fee, 'fee'),
    netAmount: toSafeInteger(row.net_amount, 'net_amount'),
    refundedAmount,
    currency: row.currency,
    sourceWalletId: row.source_wallet_id,
    merchantId: row.merchant_id,
    merchantWalletId: row.merchant_wallet_id,
    description: row.description,
    failure: failureOf(row),
    steps,
    workflowId: row.workflow_id,
    createdAt: row.created_at.toISOString(),
    updatedAt: row.updated_at.toISOString(),
  };
}

/** The payment with its steps, or null. */
export async function findPayment(db: Knex, paymentId: string): Promise<Payment | null> {
  const row = await db('payments').where({ id: paymentId }).first();
  return row ? toPayment(row, await listSteps(db, paymentId), (await refundedAmounts(db, [paymentId])).get(paymentId) ?? 0) : null;
}

/** What succeeded refunds gave back of each payment, by payment id (0 when none). */
export async function refundedAmounts(db: Knex, paymentIds: string[]): Promise<Map<string, number>> {
  const refunded = new Map<string, number>();
  if (paymentIds.length === 0) return refunded;
  const rows: Array<{ payment_id: string; total: unknown }> = await db('refunds')
    .select('payment_id')
    .sum({ total: 'amount' })
    .whereIn('payment_id', paymentIds)
    .andWhere({ status: 'succeeded' })
    .groupBy('payment_id');
  for (const row of rows) refunded.set(row.payment_id, toSafeInteger(row.total, 'refunded amount'));
  return refunded;
}

