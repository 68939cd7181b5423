import type { MoneySagaStatus } from './money-sagas';

/** Statuses of a payment: a money saga's, plus `in_review` while an admin's decision is awaited (not final). */
export type PaymentStatus = MoneySagaStatus | 'in_review';

/** Every payment status, as list filters accept them. */
export const PAYMENT_STATUSES = ['pending', 'processing', 'in_review', 'succeeded', 'failed'] as const;

/** True while a payment waits for an admin's review: not final, yet nothing happens until a decision or the timeout. */
export function isAwaitingReview(status: string): boolean {
  return status === 'in_review';
}

/** True for a status no saga step will change again. */
export function isFinalStatus(status: string): status is 'succeeded' | 'failed' {
  return status === 'succeeded' || status === 'failed';
}

/** Input of the payment saga `payment-<paymentId>`: readable in the Web UI, no secrets. */
export interface PaymentInput {
  paymentId: string;
  payerId: string;
  merchantId: string;
  merchantName: string;
  amount: number;
  fee: number;
  netAmount: number;
  currency: string;
  /** The task queue of the notifications worker. */
  notificationsTaskQueue: string;
}
