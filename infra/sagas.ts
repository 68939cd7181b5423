import { type Client, WorkflowExecutionAlreadyStartedError } from '@temporalio/client';
import { formatAmount } from '../domain/money';
import { paymentWorkflowId, type PaymentInput } from '../domain/payments';
import { transferWorkflowId, type TransferInput } from '../domain/transfers';
import type { OnboardingInput } from '../domain/types';
import type { onboardingWorkflow } from '../workflows/onboarding';
import type { paymentWorkflow } from '../workflows/payment';
import type { transferWorkflow } from '../workflows/transfer';
import { CustomerIdKey, MerchantIdKey, PaymentIdKey, SagaStatusKey } from '../workflows/search-attributes';

/** Where sagas run: the task queues of this deployment. */
export interface SagaSettings {
  paymentsTaskQueue: string;
  notificationsTaskQueue: string;
}

/** The workflow id of a user's onboarding saga. */
export function onboardingWorkflowId(userId: string): string {
  return `onboarding-${userId}`;
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
    await client.workflow.start<typeof onboardingWorkflow>('onboardingWorkflow', {
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

/**
 * Starts `payment-<paymentId>` (or finds it running). Operators find it in the
 * Web UI by its summary ("pay 12.34 USD to Acme") or by the PaymentId,
 * CustomerId, MerchantId and SagaStatus search attributes.
 */
export async function startPayment(client: Client, settings: SagaSettings, input: Omit<PaymentInput, 'notificationsTaskQueue'>): Promise<void> {
  try {
    await client.workflow.start<typeof paymentWorkflow>('paymentWorkflow', {
      taskQueue: settings.paymentsTaskQueue,
      workflowId: paymentWorkflowId(input.paymentId),
      args: [{ ...input, notificationsTaskQueue: settings.notificationsTaskQueue }],
      workflowIdConflictPolicy: 'USE_EXISTING',
      workflowIdReusePolicy: 'REJECT_DUPLICATE',
      staticSummary: `pay ${formatAmount(input.amount, input.currency)} ${input.currency} to ${input.merchantName}`,
      staticDetails: `payment ${input.paymentId}: payer ${input.payerId} → merchant ${input.merchantId}; fee ${formatAmount(input.fee, input.currency)}, net ${formatAmount(input.netAmount, input.currency)} ${input.currency}`,
      typedSearchAttributes: [
        { key: PaymentIdKey, value: input.paymentId },
        { key: CustomerIdKey, value: input.payerId },
        { key: MerchantIdKey, value: input.merchantId },
        { key: SagaStatusKey, value: 'running' },
      ],
    });
  } catch (error) {
    if (!(error instanceof WorkflowExecutionAlreadyStartedError)) throw error;
  }
}

/**
 * Starts `transfer-<transferId>` (or finds it running). Operators find it in the
 * Web UI by its summary ("send 12.34 USD to Bea"), its workflow id, or the
 * CustomerId (the sender) and SagaStatus search attributes.
 */
export async function startTransfer(client: Client, settings: SagaSettings, input: Omit<TransferInput, 'notificationsTaskQueue'>): Promise<void> {
  try {
    await client.workflow.start<typeof transferWorkflow>('transferWorkflow', {
      taskQueue: settings.paymentsTaskQueue,
      workflowId: transferWorkflowId(input.transferId),
      args: [{ ...input, notificationsTaskQueue: settings.notificationsTaskQueue }],
      workflowIdConflictPolicy: 'USE_EXISTING',
      workflowIdReusePolicy: 'REJECT_DUPLICATE',
      staticSummary: `send ${formatAmount(input.amount, input.currency)} ${input.currency} to ${input.recipientName}`,
      staticDetails: `transfer ${input.transferId}: sender ${input.senderId} → recipient ${input.recipientId}; no fee`,
      typedSearchAttributes: [
        { key: CustomerIdKey, value: input.senderId },
        { key: SagaStatusKey, value: 'running' },
      ],
    });
  } catch (error) {
    if (!(error instanceof WorkflowExecutionAlreadyStartedError)) throw error;
  }
}
