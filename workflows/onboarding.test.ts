import { WorkflowFailedError } from '@temporalio/client';
import { Worker } from '@temporalio/worker';
import { useTemporal } from '../test/support/temporal';
import type { NotificationActivities, PaymentActivities } from '../activities';

type OnboardingActivities = Pick<PaymentActivities, 'createWallet' | 'creditPromotion' | 'completeOnboarding'> &
  Pick<NotificationActivities, 'sendWelcome'>;
import { newId } from '../domain/ids';
import type { OnboardingInput } from '../domain/types';
import { onboardingWorkflow } from './onboarding';
import { currentStepQuery } from './queries';
import { SagaStatusKey } from '../domain/search-attributes';

/**
 * The onboarding workflow on the real dev server with stub activities: the
 * order of steps, who gets promo credit, retries of a flaky step, and what an
 * operator sees (search attributes, query).
 */
const temporal = useTemporal();

type Calls = string[];

function stubActivities(calls: Calls, overrides: Partial<OnboardingActivities> = {}) {
  const activities: OnboardingActivities = {
    createWallet: (input) => {
      calls.push(`createWallet ${input.userId} ${input.currency}`);
      return Promise.resolve({ walletId: 'wal_stub' });
    },
    creditPromotion: (input) => {
      calls.push(`creditPromotion ${input.walletId} ${input.amount}`);
      return Promise.resolve({ journalId: 'jnl_stub' });
    },
    completeOnboarding: (input) => {
      calls.push(`completeOnboarding ${input.userId}`);
      return Promise.resolve();
    },
    sendWelcome: (input) => {
      calls.push(`sendWelcome ${input.walletId} ${input.promoCredit}`);
      return Promise.resolve({ notificationId: 'ntf_stub' });
    },
    ...overrides,
  };
  return activities;
}

async function runOnboarding(input: Omit<OnboardingInput, 'notificationsTaskQueue'>, activities: ReturnType<typeof stubActivities>) {
  const taskQueue = `onboarding-test-${newId('req')}`;
  const worker = await Worker.create({
    connection: temporal.workerConnection,
    taskQueue,
    workflowBundle: { codePath: String(process.env.WORKFLOW_BUNDLE_PATH) },
    activities,
  });
  const workflowId = `onboarding-${input.userId}`;
  return worker.runUntil(async () => {
    const handle = await temporal.client.workflow.start(onboardingWorkflow, {
      taskQueue,
      workflowId,
      args: [{ ...input, notificationsTaskQueue: taskQueue }],
      typedSearchAttributes: [{ key: SagaStatusKey, value: 'running' }],
    });
    const result = await handle.result();
    const step = await handle.query(currentStepQuery);
    const description = await handle.describe();
    return { result, step, description, handle };
  });
}

describe('onboarding workflow', () => {
  it('when a customer signs up, then wallet → promo credit → welcome → complete run in that order', async () => {
    const calls: Calls = [];
    const userId = newId('usr');
    const { result, step, description } = await runOnboarding(
      { userId, role: 'customer', currency: 'EUR', promoCredit: 10_000 },
      stubActivities(calls),
    );

    expect(calls).toEqual([`createWallet ${userId} EUR`, 'creditPromotion wal_stub 10000', 'sendWelcome wal_stub 10000', `completeOnboarding ${userId}`]);
    expect(result).toEqual({ walletId: 'wal_stub', promoJournalId: 'jnl_stub', welcomeNotificationId: 'ntf_stub' });
    expect(step).toBe('completed');
    expect(description.typedSearchAttributes.get(SagaStatusKey)).toBe('completed');
  });

  it('when a merchant signs up, then no promotional credit is posted', async () => {
    const calls: Calls = [];
    const userId = newId('usr');
    const { result } = await runOnboarding({ userId, role: 'merchant', currency: 'USD', promoCredit: 10_000 }, stubActivities(calls));

    expect(calls).toEqual([`createWallet ${userId} USD`, 'sendWelcome wal_stub 0', `completeOnboarding ${userId}`]);
    expect(result.promoJournalId).toBeNull();
  });

  it('when a step fails twice with a transient error, then it is retried and the saga completes', async () => {
    const calls: Calls = [];
    let attempts = 0;
    const activities = stubActivities(calls, {
      creditPromotion: () => {
        attempts += 1;
        if (attempts < 3) return Promise.reject(new Error('database restarting'));
        return Promise.resolve({ journalId: 'jnl_third_try' });
      },
    });
    const { result } = await runOnboarding({ userId: newId('usr'), role: 'customer', currency: 'USD', promoCredit: 500 }, activities);

    expect(attempts).toBe(3);
    expect(result.promoJournalId).toBe('jnl_third_try');
  });

  it('when a step is refused for good, then the workflow fails and later steps do not run', async () => {
    const calls: Calls = [];
    const { ApplicationFailure } = await import('@temporalio/common');
    const activities = stubActivities(calls, {
      createWallet: () => Promise.reject(ApplicationFailure.create({ type: 'CurrencyMismatch', message: 'no such currency', nonRetryable: true })),
    });

    await expect(runOnboarding({ userId: newId('usr'), role: 'customer', currency: 'USD', promoCredit: 500 }, activities)).rejects.toBeInstanceOf(
      WorkflowFailedError,
    );
    expect(calls).toEqual([]);
  });
});
