import { ErrorType, type ErrorTypeName } from './errors';

/** The forward steps of the payment saga, in order. */
export const PAYMENT_STEPS = ['validate', 'debit_payer', 'credit_merchant', 'write_ledger', 'notify'] as const;

/** One forward step of the payment saga. */
export type PaymentStep = (typeof PAYMENT_STEPS)[number];

/** Statuses of a payment; the last two are final. */
export type PaymentStatus = 'pending' | 'processing' | 'succeeded' | 'failed';

/** Statuses of one step in a saga's timeline. */
export type StepStatus = 'completed' | 'failed' | 'compensated';

/** True for a status no saga step will change again. */
export function isFinalStatus(status: string): status is 'succeeded' | 'failed' {
  return status === 'succeeded' || status === 'failed';
}

/** The `failure.code` a payment ends with, per error type; anything else is a processing error. */
const FAILURE_CODES: Partial<Record<ErrorTypeName, string>> = {
  [ErrorType.InsufficientFunds]: 'insufficient_funds',
  [ErrorType.WalletFrozen]: 'wallet_frozen',
  [ErrorType.LimitExceeded]: 'limit_exceeded',
  [ErrorType.InjectedFault]: 'injected_fault',
  [ErrorType.CurrencyMismatch]: 'currency_mismatch',
};

/** Maps an activity failure's type to the payment's `failure.code`. */
export function failureCodeOf(errorType: string | undefined): string {
  return (errorType && FAILURE_CODES[errorType as ErrorTypeName]) || 'processing_error';
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

/** What the payment saga ends with. */
export interface PaymentOutcome {
  status: 'succeeded' | 'failed';
  failure: { code: string; message: string } | null;
  compensated: string[];
  notified: boolean;
}
