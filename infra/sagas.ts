import { type Client, WorkflowExecutionAlreadyStartedError } from '@temporalio/client';
import type { SearchAttributePair } from '@temporalio/common';
import { formatAmount } from '../domain/money';
import type { PaymentInput } from '../domain/payments';
import type { RefundInput } from '../domain/refunds';
import type { TransferInput } from '../domain/transfers';
import { MONEY_SAGAS, type MoneySagaKind } from '../domain/money-sagas';
import { moneySagaWorkflowId, onboardingWorkflowId } from '../domain/workflow-ids';
import type { OnboardingInput, OnboardingResult } from '../domain/types';
import { CustomerIdKey, MerchantIdKey, PaymentIdKey, SagaStatusKey } from '../domain/search-attributes';

/** Where sagas run: the task queues of this deployment. */
export interface SagaSettings {
  paymentsTaskQueue: string;
  notificationsTaskQueue: string;
}

/**
 * Starts `onboarding-<userId>`. A duplicate start while it runs returns the running
 * saga (USE_EXISTING). Once it has closed, ALLOW_DUPLICATE_FAILED_ONLY starts it again
 * only after a failed, terminated or timed-out run, so a user never stays without a
 * wallet; after a completed run the refusal counts as success.
 */
export async function startOnboarding(
  client: Client,
  settings: SagaSettings,
  input: Omit<OnboardingInput, 'notificationsTaskQueue'>,
): Promise<void> {
  try {
    await client.workflow.start<(input: OnboardingInput) => Promise<OnboardingResult>>('onboardingWorkflow', {
      taskQueue: settings.paymentsTaskQueue,
      workflowId: onboardingWorkflowId(input.userId),
      args: [{ ...input, notificationsTaskQueue: settings.notificationsTaskQueue }],
      workflowIdConflictPolicy: 'USE_EXISTING',
      workflowIdReusePolicy: 'ALLOW_DUPLICATE_FAILED_ONLY',
      staticSummary: `onboard ${input.role} ${input.userId}: ${input.currency} wallet${input.role === 'customer' && input.promoCredit > 0 ? ' + promo credit' : ''}`,
      typedSearchAttributes: [
        { key: CustomerIdKey, value: input.userId },
        { key: SagaStatusKey, value: 'running' },
      ],
    });
  } catch (error) {
    if (!(error instanceof WorkflowExecutionAlreadyStartedError)) throw error;
  }
}

/** What starting one money saga takes besides its kind and input. */
interface MoneySagaStart {
  sagaId: string;
  staticSummary: string;
  staticDetails: string;
  searchAttributes: SearchAttributePair[];
}

/**
 * Starts a money saga `<kind>-<id>` of its declared workflow type (or finds it running):
 * USE_EXISTING answers a duplicate start with the running saga, REJECT_DUPLICATE never runs a
 * closed one again. Its SagaStatus search attribute starts `running`.
 */
async function startMoneySaga<Input>(client: Client, settings: SagaSettings, kind: MoneySagaKind, input: Input, start: MoneySagaStart): Promise<void> {
  try {
    await client.workflow.start(MONEY_SAGAS[kind].workflowType, {
      taskQueue: settings.paymentsTaskQueue,
      workflowId: moneySagaWorkflowId(kind, start.sagaId),
      args: [{ ...input, notificationsTaskQueue: settings.notificationsTaskQueue }],
      workflowIdConflictPolicy: 'USE_EXISTING',
      workflowIdReusePolicy: 'REJECT_DUPLICATE',
      staticSummary: start.staticSummary,
      staticDetails: start.staticDetails,
      typedSearchAttributes: [...start.searchAttributes, { key: SagaStatusKey, value: 'running' }],
    });
  } catch (error) {
    if (!(error instanceof WorkflowExecutionAlreadyStartedError)) throw error;
  }
}

/**
 * Starts `payment-<paymentId>` (or finds it running). Operators find it in the
 * Web UI by its summary ("pay 12.34 USD to Acme") or by the PaymentId,
 * CustomerId, MerchantId and SagaStatus search attributes.
 */
export function startPayment(client: Client, settings: SagaSettings, input: Omit<PaymentInput, 'notificationsTaskQueue'>): Promise<void> {
  return startMoneySaga(client, settings, 'payment', input, {
    sagaId: input.paymentId,
    staticSummary: `pay ${formatAmount(input.amount, input.currency)} ${input.currency} to ${input.merchantName}`,
    staticDetails: `payment ${input.paymentId}: payer ${input.payerId} → merchant ${input.merchantId}; fee ${formatAmount(input.fee, input.currency)}, net ${formatAmount(input.netAmount, input.currency)} ${input.currency}`,
    searchAttributes: [
      { key: PaymentIdKey, value: input.paymentId },
      { key: CustomerIdKey, value: input.payerId },
      { key: MerchantIdKey, value: input.merchantId },
    ],
  });
}

/**
 * Starts `transfer-<transferId>` (or finds it running). Operators find it in the
 * Web UI by its summary ("send 12.34 USD to Bea"), its workflow id, or the
 * CustomerId (the sender) and SagaStatus search attributes.
 */
export function startTransfer(client: Client, settings: SagaSettings, input: Omit<TransferInput, 'notificationsTaskQueue'>): Promise<void> {
  return startMoneySaga(client, settings, 'transfer', input, {
    sagaId: input.transferId,
    staticSummary: `send ${formatAmount(input.amount, input.currency)} ${input.currency} to ${input.recipientName}`,
    staticDetails: `transfer ${input.transferId}: sender ${input.senderId} → recipient ${input.recipientId}; no fee`,
    searchAttributes: [{ key: CustomerIdKey, value: input.senderId }],
  });
}

/**
 * Starts `refund-<refundId>` (or finds it running). Operators find it in the Web UI by its
 * summary ("refund 12.34 USD of pay_…") or by the PaymentId (the refunded payment),
 * CustomerId (the payer), MerchantId and SagaStatus search attributes.
 */
export function startRefund(client: Client, settings: SagaSettings, input: Omit<RefundInput, 'notificationsTaskQueue'>): Promise<void> {
  return startMoneySaga(client, settings, 'refund', input, {
    sagaId: input.refundId,
    staticSummary: `refund ${formatAmount(input.amount, input.currency)} ${input.currency} of ${input.paymentId}`,
    staticDetails: `refund ${input.refundId} of payment ${input.paymentId}: merchant ${input.merchantId} → payer ${input.payerId}; fee returned ${formatAmount(input.feeRefunded, input.currency)} ${input.currency}`,
    searchAttributes: [
      { key: PaymentIdKey, value: input.paymentId },
      { key: CustomerIdKey, value: input.payerId },
      { key: MerchantIdKey, value: input.merchantId },
    ],
  });
}
