import { ErrorType, type ErrorTypeName } from './errors';

/** The forward steps of the payment saga, in order. */
export const PAYMENT_STEPS = ['validate', 'debit_payer', 'credit_merchant', 'write_ledger', 'notify'] as const;

/** One forward step of the payment saga. */
export type PaymentStep = (typeof PAYMENT_STEPS)[number];

/** The workflow id of a payment's saga. */
export function paymentWorkflowId(paymentId: string): string {
  return `payment-${paymentId}`;
}

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
  [ErrorType.RecipientIsMerchant]: 'recipient_is_merchant',
};

/** What a payer reads when a step failed for a technical reason: never the internal error's text. */
export const PROCESSING_ERROR_MESSAGE = 'the payment could not be processed';

/**
 * The payment's `failure` for an activity failure's type and message. Only
 * business refusals (and the fault drill) keep their message; anything else
 * becomes `processing_error` with a fixed text, so no internal detail reaches a client.
 */
export function paymentFailureOf(errorType: string | undefined, message: string): { code: string; message: string } {
  const code = errorType ? FAILURE_CODES[errorType as ErrorTypeName] : undefined;
  return code ? { code, message } : { code: 'processing_error', message: PROCESSING_ERROR_MESSAGE };
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
