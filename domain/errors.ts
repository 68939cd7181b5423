/**
 * Error types shared by activities, workflows and the API. Activities throw
 * non-retryable ApplicationFailures with these types; retry policies list the
 * same constants; the API maps them to the contract's codes.
 */
export const ErrorType = {
  InsufficientFunds: 'InsufficientFunds',
  WalletFrozen: 'WalletFrozen',
  LimitExceeded: 'LimitExceeded',
  AccountNotFound: 'AccountNotFound',
  CurrencyMismatch: 'CurrencyMismatch',
  UnbalancedJournal: 'UnbalancedJournal',
  InjectedFault: 'InjectedFault',
  /** A forward step found its saga final or compensating (the fence): it moved nothing, and retrying cannot change that. */
  SagaNotLive: 'SagaNotLive',
  /** The SMTP server refused the message or its recipient for good (a 5xx answer): retrying cannot help. */
  EmailRejected: 'EmailRejected',
  /** A webhook event whose merchant no longer has an endpoint: nothing to deliver to. */
  WebhookEndpointMissing: 'WebhookEndpointMissing',
  /** A transfer names a merchant: merchants are paid through a payment (fee, webhook), never a transfer. */
  RecipientIsMerchant: 'RecipientIsMerchant',
  /** A refund of a payment that has not succeeded. */
  PaymentNotRefundable: 'PaymentNotRefundable',
  /** Refunds of a payment would give back more than it paid. */
  RefundExceedsPayment: 'RefundExceedsPayment',
  /** The risk check (a rule, an admin's review decision, or the review's timeout) declined the saga. */
  RiskDeclined: 'RiskDeclined',
} as const;

/** One of the domain error types. */
export type ErrorTypeName = (typeof ErrorType)[keyof typeof ErrorType];

/** Business refusals: never retried, mapped to a payment's `failure.code`. */
export const NON_RETRYABLE_ERROR_TYPES: readonly ErrorTypeName[] = [
  ErrorType.InsufficientFunds,
  ErrorType.WalletFrozen,
  ErrorType.LimitExceeded,
  ErrorType.AccountNotFound,
  ErrorType.CurrencyMismatch,
  ErrorType.UnbalancedJournal,
  ErrorType.InjectedFault,
  ErrorType.SagaNotLive,
  ErrorType.RecipientIsMerchant,
  ErrorType.PaymentNotRefundable,
  ErrorType.RefundExceedsPayment,
  ErrorType.RiskDeclined,
];

/** A domain rule was broken; `type` is one of ErrorType. Thrown by the ledger outside Temporal too. */
export class DomainError extends Error {
  constructor(
    readonly type: ErrorTypeName,
    message: string,
  ) {
    super(message);
    this.name = type;
  }
}
