import { type Client, WorkflowExecutionAlreadyStartedError } from '@temporalio/client';
import type { OnboardingInput } from '../domain/types';
import type { onboardingWorkflow } from '../workflows/onboarding';
import { CustomerIdKey, SagaStatusKey } from '../workflows/search-attributes';

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
 * saga (USE_EXISTING); once it has closed, REJECT_DUPLICATE refuses a second run,
 * which is what we want, so that refusal counts as success.
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
      workflowIdReusePolicy: 'REJECT_DUPLICATE',
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
