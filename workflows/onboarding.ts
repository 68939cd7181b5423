import { log, proxyActivities, setHandler, upsertSearchAttributes } from '@temporalio/workflow';
import type { NotificationActivities, PaymentActivities } from '../activities';
import { NON_RETRYABLE_ERROR_TYPES } from '../domain/errors';
import type { OnboardingInput, OnboardingResult } from '../domain/types';
import { currentStepQuery } from './queries';
import { SagaStatusKey } from '../domain/search-attributes';

const money = proxyActivities<PaymentActivities>({
  startToCloseTimeout: '30 seconds',
  retry: {
    initialInterval: '500 milliseconds',
    backoffCoefficient: 2,
    maximumInterval: '30 seconds',
    maximumAttempts: 20,
    nonRetryableErrorTypes: [...NON_RETRYABLE_ERROR_TYPES],
  },
});

/**
 * Onboarding saga `onboarding-<userId>`: create the wallet → credit the promotional
 * balance (customers only) → welcome notification → mark the user onboarded.
 * Every step is idempotent, so a retry or a replay never credits twice; no step
 * needs compensating because each one only adds what the user is owed.
 */
export async function onboardingWorkflow(input: OnboardingInput): Promise<OnboardingResult> {
  let step = 'create_wallet';
  setHandler(currentStepQuery, () => step);
  const notifications = proxyActivities<NotificationActivities>({
    taskQueue: input.notificationsTaskQueue,
    startToCloseTimeout: '30 seconds',
    retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '5 minutes' },
  });

  const { walletId } = await money.createWallet({ userId: input.userId, currency: input.currency });

  let promoJournalId: string | null = null;
  if (input.role === 'customer' && input.promoCredit > 0) {
    step = 'credit_promotion';
    ({ journalId: promoJournalId } = await money.creditPromotion({
      userId: input.userId,
      walletId,
      currency: input.currency,
      amount: input.promoCredit,
    }));
  }

  step = 'welcome';
  const { notificationId } = await notifications.sendWelcome({
    userId: input.userId,
    walletId,
    currency: input.currency,
    promoCredit: promoJournalId ? input.promoCredit : 0,
  });

  step = 'complete';
  await money.completeOnboarding({ userId: input.userId });
  upsertSearchAttributes([{ key: SagaStatusKey, value: 'completed' }]);
  step = 'completed';
  log.info('user onboarded', { userId: input.userId, walletId });
  return { walletId, promoJournalId, welcomeNotificationId: notificationId };
}
