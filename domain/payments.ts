import type { MoneySagaStatus } from './money-sagas';

/** Statuses of a payment; the last two are final. */
export type PaymentStatus = MoneySagaStatus;

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
