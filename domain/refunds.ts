import { assertSafeInteger } from './money';
import type { MoneySagaStatus } from './money-sagas';

/** Statuses of a refund; the last two are final. */
export type RefundStatus = MoneySagaStatus;

/** Most characters a refund's reason may have. */
export const MAX_REFUND_REASON_LENGTH = 200;

/** What a payment has left to refund: its amounts and what refunds in flight or succeeded already took. */
export interface RefundablePayment {
  amount: number;
  fee: number;
  /** Sum of the amounts of its refunds that are in flight or succeeded. */
  reservedAmount: number;
  /** Sum of the fee shares of those refunds. */
  reservedFee: number;
}

/** A refund's split: `amount` back to the payer, `feeRefunded` of it from the platform's fees, `netAmount` from the merchant. */
export interface RefundShare {
  amount: number;
  feeRefunded: number;
  netAmount: number;
}

/**
 * The fee a refund returns: in proportion, `round half up (amount × fee / paymentAmount)`,
 * capped by what is left of the fee; the refund that completes the payment takes the
 * remainder, so a payment's refunds return exactly its fee. It never leaves more fee than
 * amount to refund (many small refunds rounding down would), so the remainder always fits.
 * Null when `amount` is not in 1 … what is left (the caller answers `refund_exceeds_payment`).
 */
export function refundShareRoundHalfUp(payment: RefundablePayment, amount: number): RefundShare | null {
  for (const [what, value] of Object.entries({ ...payment, amount })) assertSafeInteger(value, what);
  if (payment.fee < 0 || payment.fee > payment.amount || payment.reservedFee > payment.fee || payment.reservedAmount > payment.amount) {
    throw new RangeError('the payment’s amounts are inconsistent');
  }
  const leftAmount = payment.amount - payment.reservedAmount;
  const leftFee = payment.fee - payment.reservedFee;
  if (amount <= 0 || amount > leftAmount) return null;
  const proportional = Number((2n * BigInt(amount) * BigInt(payment.fee) + BigInt(payment.amount)) / (2n * BigInt(payment.amount)));
  const atLeast = Math.max(0, leftFee - (leftAmount - amount));
  const feeRefunded = Math.max(atLeast, Math.min(proportional, leftFee, amount));
  const netAmount = amount - feeRefunded;
  if (feeRefunded < 0 || feeRefunded > amount || netAmount + feeRefunded !== amount) throw new Error('refund arithmetic broke its invariant');
  return { amount, feeRefunded, netAmount };
}

/** Input of the refund saga `refund-<refundId>`: readable in the Web UI, no secrets. */
export interface RefundInput {
  refundId: string;
  paymentId: string;
  payerId: string;
  merchantId: string;
  amount: number;
  feeRefunded: number;
  currency: string;
  /** The task queue of the notifications worker. */
  notificationsTaskQueue: string;
}
