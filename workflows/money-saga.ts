import {
  ActivityFailure,
  ApplicationFailure,
  CancellationScope,
  log,
  proxyActivities,
  setHandler,
  upsertSearchAttributes,
} from '@temporalio/workflow';
import type { NotificationActivities, PaymentActivities } from '../activities';
import { NON_RETRYABLE_ERROR_TYPES } from '../domain/errors';
import { currentStepQuery } from './queries';
import { SagaStatusKey } from './search-attributes';

/** Forward steps: a bounded retry for transient faults; business refusals are never retried. */
export const forward = proxyActivities<PaymentActivities>({
  startToCloseTimeout: '10 seconds',
  retry: {
    initialInterval: '500 milliseconds',
    backoffCoefficient: 2,
    maximumInterval: '10 seconds',
    maximumAttempts: 5,
    nonRetryableErrorTypes: [...NON_RETRYABLE_ERROR_TYPES],
  },
});

/** Compensations and the final bookkeeping: retried until they succeed (they are idempotent and always possible). */
export const compensation = proxyActivities<PaymentActivities>({
  startToCloseTimeout: '10 seconds',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '1 minute' },
});

/** The notify step's activities, on the notifications worker's task queue. */
export function notificationsOn(taskQueue: string) {
  return proxyActivities<NotificationActivities>({
    taskQueue,
    startToCloseTimeout: '30 seconds',
    retry: {
      initialInterval: '1 second',
      backoffCoefficient: 2,
      maximumInterval: '30 seconds',
      maximumAttempts: 5,
      nonRetryableErrorTypes: [...NON_RETRYABLE_ERROR_TYPES],
    },
  });
}

/** One forward money step, and the compensation that undoes it once it has completed. */
export interface MoneyStep {
  name: string;
  run: () => Promise<unknown>;
  compensation?: { name: string; run: () => Promise<unknown> };
}

/** A money saga as data: the workflow says what its steps are, `runMoneySaga` says how a saga runs. */
export interface MoneySagaPlan {
  /** `payment` or `transfer`, for the log lines. */
  kind: string;
  /** The payment or transfer id, for the log lines. */
  id: string;
  /** Forward steps in order; the last one makes the saga final and succeeded. */
  steps: MoneyStep[];
  /** The name of the step that ends a failed saga in the timeline (after the compensations). */
  failStepName: string;
  /** Ends the saga failed, naming the step that failed and why. */
  fail: (step: string, failure: { code: string; message: string }) => Promise<unknown>;
  /** Tells the people involved; its failure never moves money back. */
  notify: () => Promise<unknown>;
  /** Records that the notify step failed for good. */
  notifyFailed: () => Promise<unknown>;
  /** Maps an activity failure's type and message to the saga's `failure`. */
  failureOf: (errorType: string | undefined, message: string) => { code: string; message: string };
}

/** What a money saga ends with. */
export interface MoneySagaOutcome {
  status: 'succeeded' | 'failed';
  failure: { code: string; message: string } | null;
  compensated: string[];
  notified: boolean;
}

/**
 * Runs a money saga: the forward steps in order; when one fails for good, the
 * compensations of the completed steps in reverse (never cancelled, retried until
 * they succeed), then `fail`; then notify either way. Answers the `currentStep`
 * query and keeps the `SagaStatus` search attribute current.
 */
export async function runMoneySaga(plan: MoneySagaPlan): Promise<MoneySagaOutcome> {
  let step = plan.steps[0]?.name ?? 'completed';
  setHandler(currentStepQuery, () => step);
  const describe = (error: unknown) => {
    const cause = error instanceof ActivityFailure ? error.cause : error;
    return cause instanceof ApplicationFailure ? plan.failureOf(cause.type ?? undefined, cause.message) : plan.failureOf(undefined, '');
  };

  const compensations: Array<{ name: string; run: () => Promise<unknown> }> = [];
  let failure: MoneySagaOutcome['failure'] = null;
  try {
    for (const forwardStep of plan.steps) {
      step = forwardStep.name;
      await forwardStep.run();
      if (forwardStep.compensation) compensations.unshift(forwardStep.compensation);
    }
  } catch (error) {
    const failed = describe(error);
    failure = failed;
    const failedStep = step;
    log.warn(`${plan.kind} step failed; compensating`, { id: plan.id, step: failedStep, code: failed.code, compensations: compensations.map((c) => c.name) });
    await CancellationScope.nonCancellable(async () => {
      upsertSearchAttributes([{ key: SagaStatusKey, value: 'compensating' }]);
      for (const { name, run } of compensations) {
        step = name;
        await run();
      }
      step = plan.failStepName;
      await plan.fail(failedStep, failed);
    });
  }
  const status = failure ? 'failed' : 'succeeded';
  upsertSearchAttributes([{ key: SagaStatusKey, value: status }]);

  step = 'notify';
  let notified = true;
  try {
    await plan.notify();
  } catch (error) {
    notified = false;
    log.warn(`${plan.kind} notifications failed; the money stays where it is`, { id: plan.id, error: describe(error).message });
    await plan.notifyFailed();
  }
  step = 'completed';
  return { status, failure, compensated: failure ? compensations.map((c) => c.name) : [], notified };
}
