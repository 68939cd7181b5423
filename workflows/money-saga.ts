import {
  ActivityFailure,
  ApplicationFailure,
  CancellationScope,
  log,
  patched,
  proxyActivities,
  setHandler,
  upsertSearchAttributes,
} from '@temporalio/workflow';
import type { NotificationActivities, PaymentActivities } from '../activities';
import { NON_RETRYABLE_ERROR_TYPES } from '../domain/errors';
import { MONEY_SAGAS, sagaFailureOf, type MoneySagaKind, type MoneySagaOutcome } from '../domain/money-sagas';
import { currentStepQuery } from './queries';
import { SagaStatusKey } from '../domain/search-attributes';

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

/**
 * The patch that fences money sagas: a compensation is registered before its step runs (it moves
 * nothing when the step never committed), and the compensating path begins by marking the saga
 * so a late forward attempt moves nothing. Histories recorded before it replay the old path.
 */
export const FENCED_COMPENSATIONS_PATCH = 'fenced-compensations';

/**
 * The patch that adds the `risk_check` step right after validate, before any money moves.
 * Histories recorded before it replay without the step.
 */
export const RISK_CHECK_PATCH = 'risk-check';

/** A compensation: answers the journal it posted, or null when the step it undoes never committed. */
export interface Compensation {
  name: string;
  run: () => Promise<{ journalId: string | null }>;
}

/** One forward money step, and the compensation that undoes it if it committed. */
export interface MoneyStep {
  name: string;
  run: () => Promise<unknown>;
  compensation?: Compensation;
}

/** A money saga as data: the workflow says what its steps are, `runMoneySaga` says how a saga runs. */
export interface MoneySagaPlan {
  /** The saga's kind: its declaration names the failed saga's timeline entry and failure vocabulary. */
  kind: MoneySagaKind;
  /** The saga's id, for the log lines. */
  id: string;
  /** Forward steps in order; the last one makes the saga final and succeeded. */
  steps: MoneyStep[];
  /** The risk check, run right after the first step (validate) behind RISK_CHECK_PATCH; it moves no money. */
  riskCheck?: MoneyStep;
  /**
   * Marks the saga compensating under its row lock, so no forward step moves money after it;
   * `succeeded: true` when a late final step already made the saga succeed.
   */
  beginCompensation: () => Promise<{ succeeded: boolean }>;
  /** Ends the saga failed, naming the step that failed and why. */
  fail: (step: string, failure: { code: string; message: string }) => Promise<unknown>;
  /** Tells the people involved; its failure never moves money back. */
  notify: () => Promise<unknown>;
  /** Records that the notify step failed for good. */
  notifyFailed: () => Promise<unknown>;
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
    if (!(cause instanceof ApplicationFailure)) return sagaFailureOf(plan.kind, undefined, '');
    const [rule] = cause.details ?? [];
    return sagaFailureOf(plan.kind, cause.type ?? undefined, cause.message, typeof rule === 'string' ? rule : undefined);
  };

  const fenced = patched(FENCED_COMPENSATIONS_PATCH);
  const compensations: Compensation[] = [];
  const compensated: string[] = [];
  let failure: MoneySagaOutcome['failure'] = null;
  try {
    for (const [index, forwardStep] of plan.steps.entries()) {
      step = forwardStep.name;
      // Fenced: registered first, because an attempt given up on may still commit until the saga is marked.
      if (fenced && forwardStep.compensation) compensations.unshift(forwardStep.compensation);
      await forwardStep.run();
      if (!fenced && forwardStep.compensation) compensations.unshift(forwardStep.compensation);
      if (index === 0 && plan.riskCheck && patched(RISK_CHECK_PATCH)) {
        step = plan.riskCheck.name;
        await plan.riskCheck.run();
      }
    }
  } catch (error) {
    const failed = describe(error);
    const failedStep = step;
    log.warn(`${plan.kind} step failed; compensating`, { id: plan.id, step: failedStep, code: failed.code, compensations: compensations.map((c) => c.name) });
    failure = await CancellationScope.nonCancellable(async () => {
      if (fenced) {
        step = 'begin_compensation';
        const { succeeded } = await plan.beginCompensation();
        if (succeeded) {
          log.warn(`${plan.kind} had already succeeded when compensation began; nothing to compensate`, { id: plan.id, step: failedStep });
          return null;
        }
      }
      upsertSearchAttributes([{ key: SagaStatusKey, value: 'compensating' }]);
      for (const { name, run } of compensations) {
        step = name;
        const { journalId } = await run();
        if (!fenced || journalId !== null) compensated.push(name);
      }
      step = MONEY_SAGAS[plan.kind].failStep;
      await plan.fail(failedStep, failed);
      return failed;
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
  return { status, failure, compensated: failure ? compensated : [], notified };
}
