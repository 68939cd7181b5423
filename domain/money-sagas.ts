import { ErrorType, type ErrorTypeName } from './errors';
import type { IdPrefix } from './ids';

/** A journal a saga step posts, and which way it moves the saga's amount through clearing. */
export interface SagaJournal {
  /** The step's name: its journal key is `<sagaId>:<step>`, its timeline entry bears it too. */
  step: string;
  /** +1 when the journal puts the saga's amount into clearing, −1 when it takes it out. */
  clearingSign: 1 | -1;
}

/** One money-moving forward step, with the compensation that undoes it when it committed. */
export interface MoneyStepDeclaration extends SagaJournal {
  compensation: SagaJournal;
}

/**
 * Everything about one kind of money saga that is not code: the runner, the fence, metrics,
 * reconciliation, recovery, the routes and the timeline all read this one declaration.
 */
export interface MoneySagaDeclaration {
  /** The table whose rows are these sagas. */
  table: string;
  /** The prefix of their ids. */
  idPrefix: IdPrefix;
  /** The workflow type that runs one (its function's name in `workflows/`). */
  workflowType: string;
  /** Forward steps in order, from validate to notify (the risk check aside: see `riskCheckStep`). */
  steps: readonly string[];
  /**
   * The risk check that runs right after validate, or null for a kind without one. Kept out of
   * `steps`: sagas started before it existed have no such step in their timeline.
   */
  riskCheckStep: 'risk_check' | null;
  /** The steps that move money through clearing, in order, with their compensations. */
  moneySteps: readonly MoneyStepDeclaration[];
  /** The step that credits a wallet and holds the credit until the saga is final. */
  heldCredit: { step: string; walletColumn: string; amountColumn: string };
  /** The timeline entry of a failed saga after its compensations. */
  failStep: string;
  /** What a client reads when a step failed for a technical reason: never an internal error's text. */
  processingErrorMessage: string;
  /** What a client reads when its saga never started in time. */
  expiredMessage: string;
}

/** Every money saga kind, declared once. */
export const MONEY_SAGAS = {
  payment: {
    table: 'payments',
    idPrefix: 'pay',
    workflowType: 'paymentWorkflow',
    steps: ['validate', 'debit_payer', 'credit_merchant', 'write_ledger', 'notify'],
    riskCheckStep: 'risk_check',
    moneySteps: [
      { step: 'debit_payer', clearingSign: 1, compensation: { step: 'refund_payer', clearingSign: -1 } },
      { step: 'credit_merchant', clearingSign: -1, compensation: { step: 'reverse_merchant_credit', clearingSign: 1 } },
    ],
    heldCredit: { step: 'credit_merchant', walletColumn: 'merchant_wallet_id', amountColumn: 'net_amount' },
    failStep: 'fail_payment',
    processingErrorMessage: 'the payment could not be processed',
    expiredMessage: 'the payment was not started in time',
  },
  transfer: {
    table: 'transfers',
    idPrefix: 'trf',
    workflowType: 'transferWorkflow',
    steps: ['validate', 'debit_sender', 'credit_recipient', 'write_ledger', 'notify'],
    riskCheckStep: 'risk_check',
    moneySteps: [
      { step: 'debit_sender', clearingSign: 1, compensation: { step: 'refund_sender', clearingSign: -1 } },
      { step: 'credit_recipient', clearingSign: -1, compensation: { step: 'reverse_recipient_credit', clearingSign: 1 } },
    ],
    heldCredit: { step: 'credit_recipient', walletColumn: 'to_wallet_id', amountColumn: 'amount' },
    failStep: 'fail_transfer',
    processingErrorMessage: 'the transfer could not be processed',
    expiredMessage: 'the transfer was not started in time',
  },
  refund: {
    table: 'refunds',
    idPrefix: 'ref',
    workflowType: 'refundWorkflow',
    steps: ['validate', 'debit_merchant', 'credit_payer', 'write_ledger', 'notify'],
    riskCheckStep: null,
    moneySteps: [
      { step: 'debit_merchant', clearingSign: 1, compensation: { step: 'return_merchant_debit', clearingSign: -1 } },
      { step: 'credit_payer', clearingSign: -1, compensation: { step: 'reverse_payer_credit', clearingSign: 1 } },
    ],
    heldCredit: { step: 'credit_payer', walletColumn: 'source_wallet_id', amountColumn: 'amount' },
    failStep: 'fail_refund',
    processingErrorMessage: 'the refund could not be processed',
    expiredMessage: 'the refund was not started in time',
  },
} as const satisfies Record<string, MoneySagaDeclaration>;

/** A kind of money saga. */
export type MoneySagaKind = keyof typeof MONEY_SAGAS;

/** The money saga kinds, in declaration order. */
export const MONEY_SAGA_KINDS = Object.keys(MONEY_SAGAS) as MoneySagaKind[];

/** Statuses of a money saga; the last two are final. */
export type MoneySagaStatus = 'pending' | 'processing' | 'succeeded' | 'failed';

/**
 * Every forward step of a kind in order, the risk check included (after validate): what the
 * fault drill may name.
 */
export function forwardStepsOf(kind: MoneySagaKind): readonly string[] {
  const { steps, riskCheckStep } = MONEY_SAGAS[kind] as MoneySagaDeclaration;
  return riskCheckStep ? [steps[0] ?? 'validate', riskCheckStep, ...steps.slice(1)] : steps;
}

/** Statuses in which a money saga is still in flight. */
export const IN_FLIGHT_STATUSES = ['pending', 'processing'] as const;

/** Statuses of one step in a saga's timeline. */
export type StepStatus = 'completed' | 'failed' | 'compensated';

/** A saga's `failure` as clients read it. */
export interface SagaFailure {
  code: string;
  message: string;
  /** For `risk_declined`: the rule that declined it. */
  rule?: string;
}

/** A saga's failure with the step it happened at: what the compensating mark records, once. */
export interface StepFailure extends SagaFailure {
  step: string;
}

/** What beginning a saga's compensation answers. */
export interface CompensationBegun {
  /** True when a late final step already made the saga succeed: nothing is marked or compensated. */
  succeeded: boolean;
  /**
   * The saga's first failure, recorded with the mark: the one it ends `failed` with, even when a step
   * run again afterwards failed differently. Absent when none was recorded (a saga marked before
   * first failures were kept).
   */
  firstFailure?: StepFailure;
}

/** The name of the update a money saga's POST sends with its start; its answer is a `SagaFinal`. */
export const AWAIT_FINAL_UPDATE = 'awaitFinal';

/** What `awaitFinal` answers: the saga's final status, or `in_review` while a payment waits for an admin. */
export interface SagaFinal {
  status: 'succeeded' | 'failed' | 'in_review';
}

/** What every money saga ends with. */
export interface MoneySagaOutcome {
  status: 'succeeded' | 'failed';
  failure: SagaFailure | null;
  compensated: string[];
  notified: boolean;
}

/** The `failure.code` a money saga ends with, per error type; anything else is a processing error. */
const FAILURE_CODES: Partial<Record<ErrorTypeName, string>> = {
  [ErrorType.InsufficientFunds]: 'insufficient_funds',
  [ErrorType.WalletFrozen]: 'wallet_frozen',
  [ErrorType.LimitExceeded]: 'limit_exceeded',
  [ErrorType.InjectedFault]: 'injected_fault',
  [ErrorType.CurrencyMismatch]: 'currency_mismatch',
  [ErrorType.RecipientIsMerchant]: 'recipient_is_merchant',
  [ErrorType.PaymentNotRefundable]: 'payment_not_refundable',
  [ErrorType.RefundExceedsPayment]: 'refund_exceeds_payment',
  [ErrorType.RiskDeclined]: 'risk_declined',
};

/**
 * A money saga's `failure` for an activity failure's type and message. Only business refusals
 * (and the fault drill) keep their message; anything else becomes `processing_error` with the
 * kind's fixed text, so no internal detail reaches a client.
 */
export function sagaFailureOf(kind: MoneySagaKind, errorType: string | undefined, message: string, rule?: string): SagaFailure {
  const code = errorType ? FAILURE_CODES[errorType as ErrorTypeName] : undefined;
  if (code === 'risk_declined' && rule) return { code, message, rule };
  return code ? { code, message } : { code: 'processing_error', message: MONEY_SAGAS[kind].processingErrorMessage };
}
