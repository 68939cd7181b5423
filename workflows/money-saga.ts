import {
  type ActivityOptions,
  type LocalActivityOptions,
  ActivityFailure,
  ApplicationFailure,
  CancellationScope,
  allHandlersFinished,
  condition,
  log,
  patched,
  proxyActivities,
  proxyLocalActivities,
  setHandler,
  sleep,
  upsertSearchAttributes,
} from '@temporalio/workflow';
import type { Duration, RetryPolicy } from '@temporalio/common';
import type { NotificationActivities, PaymentActivities } from '../activities';
import { NON_RETRYABLE_ERROR_TYPES } from '../domain/errors';
import {
  MONEY_SAGAS,
  sagaFailureOf,
  type CompensationBegun,
  type MoneySagaKind,
  type MoneySagaOutcome,
  type SagaFinal,
  type StepFailure,
} from '../domain/money-sagas';
import { awaitFinalUpdate, currentStepQuery } from './queries';
import { SagaStatusKey } from '../domain/search-attributes';

/** How long one attempt of a money step may take: every database wait inside it is bounded well within this. */
const MONEY_STEP_ATTEMPT_TIMEOUT: Duration = '10 seconds';

/** Forward steps: a bounded retry for transient faults; business refusals are never retried. */
const FORWARD_RETRY: RetryPolicy = {
  initialInterval: '500 milliseconds',
  backoffCoefficient: 2,
  maximumInterval: '10 seconds',
  maximumAttempts: 5,
  nonRetryableErrorTypes: [...NON_RETRYABLE_ERROR_TYPES],
};

/** Compensations and the final bookkeeping: retried until they succeed (they are idempotent and always possible). */
const COMPENSATION_RETRY: RetryPolicy = { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '1 minute' };

/**
 * A local activity's retry that would wait longer than this waits on a workflow timer instead of
 * inside the workflow task, so a compensation retried for hours leaves a readable history.
 */
const LOCAL_RETRY_THRESHOLD: Duration = '10 seconds';

/** The timeout and retry of every forward step (also read by the benchmark's no-op saga, `bench/ceiling`). */
export const FORWARD_STEP_OPTIONS = { startToCloseTimeout: MONEY_STEP_ATTEMPT_TIMEOUT, retry: FORWARD_RETRY } satisfies ActivityOptions;

/** The same as local activity options: a long retry waits on a workflow timer (also read by `bench/ceiling`). */
export const LOCAL_FORWARD_STEP_OPTIONS = { ...FORWARD_STEP_OPTIONS, localRetryThreshold: LOCAL_RETRY_THRESHOLD } satisfies LocalActivityOptions;

/** Forward steps as regular activities: the command sequence of sagas started before local money steps. */
export const forward = proxyActivities<PaymentActivities>(FORWARD_STEP_OPTIONS);

/** Compensations and the final bookkeeping as regular activities (sagas started before local money steps). */
export const compensation = proxyActivities<PaymentActivities>({ startToCloseTimeout: MONEY_STEP_ATTEMPT_TIMEOUT, retry: COMPENSATION_RETRY });

/** Forward steps as local activities: same timeout and retry, run by the worker that runs the saga. */
export const localForward = proxyLocalActivities<PaymentActivities>(LOCAL_FORWARD_STEP_OPTIONS);

/** Compensations and the final bookkeeping as local activities, retried until they succeed. */
export const localCompensation = proxyLocalActivities<PaymentActivities>({
  startToCloseTimeout: MONEY_STEP_ATTEMPT_TIMEOUT,
  retry: COMPENSATION_RETRY,
  localRetryThreshold: LOCAL_RETRY_THRESHOLD,
});

/**
 * The patch that runs a money saga's database steps (validate, the money steps, write_ledger,
 * begin compensation, compensations, fail, record step) as local activities: each is one short
 * transaction, and a local activity saves the two round trips through the task queue that a
 * regular one costs. Their idempotency keys and the fence are unchanged; notify stays a regular
 * activity on the notifications task queue. Histories recorded before it replay the old path.
 */
export const LOCAL_MONEY_STEPS_PATCH = 'local-money-steps';

/** The activities of a money saga's database steps, forward and compensating. */
export interface MoneyStepActivities {
  forward: typeof forward;
  compensation: typeof compensation;
}

/**
 * The activities a money saga's database steps run as: local ones for a saga started with
 * LOCAL_MONEY_STEPS_PATCH, regular ones for a saga that began before it. Call it once, first
 * thing in the workflow, so the patch marker is the saga's first command.
 */
export function moneyStepActivities(): MoneyStepActivities {
  return patched(LOCAL_MONEY_STEPS_PATCH) ? { forward: localForward, compensation: localCompensation } : { forward, compensation };
}

/** The timeout and retry of the notify step, on a notifications task queue (also read by `bench/ceiling`). */
export function notifyStepOptions(taskQueue: string) {
  return {
    taskQueue,
    startToCloseTimeout: '30 seconds',
    retry: {
      initialInterval: '1 second',
      backoffCoefficient: 2,
      maximumInterval: '30 seconds',
      maximumAttempts: 5,
      nonRetryableErrorTypes: [...NON_RETRYABLE_ERROR_TYPES],
    },
  } satisfies ActivityOptions;
}

/** The notify step's activities, on the notifications worker's task queue. */
export function notificationsOn(taskQueue: string) {
  return proxyActivities<NotificationActivities>(notifyStepOptions(taskQueue));
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
  riskCheck?: MoneyStep & { inReview?: () => boolean };
  /**
   * Marks the saga compensating under its row lock, so no forward step moves money after it, and
   * records `failure` as its first failure unless one is recorded; answers the recorded one.
   * `succeeded: true` when a late final step already made the saga succeed.
   */
  beginCompensation: (failure: StepFailure) => Promise<CompensationBegun>;
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
  let final: MoneySagaOutcome['status'] | null = null;
  setHandler(currentStepQuery, () => step);
  // The API's synchronous answer: returns as soon as the saga is final, before notify (no commands of its own),
  // or once it waits for an admin's review, which may take long.
  const inReview = () => plan.riskCheck?.inReview?.() ?? false;
  setHandler(awaitFinalUpdate, async (): Promise<SagaFinal> => {
    await condition(() => final !== null || inReview());
    return { status: final ?? 'in_review' };
  });
  const describe = (error: unknown) => {
    const cause = error instanceof ActivityFailure ? error.cause : error;
    if (!(cause instanceof ApplicationFailure)) return sagaFailureOf(plan.kind, undefined, '');
    const [rule] = cause.details ?? [];
    return sagaFailureOf(plan.kind, cause.type ?? undefined, cause.message, typeof rule === 'string' ? rule : undefined);
  };

  const fenced = patched(FENCED_COMPENSATIONS_PATCH);
  // The workflow asked already (moneyStepActivities), so this answers the same, adding no marker.
  const localSteps = patched(LOCAL_MONEY_STEPS_PATCH);
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
    const failed: StepFailure = { step, ...describe(error) };
    const failedStep = step;
    log.warn(`${plan.kind} step failed; compensating`, { id: plan.id, step: failedStep, code: failed.code, compensations: compensations.map((c) => c.name) });
    failure = await CancellationScope.nonCancellable(async () => {
      let first = failed;
      if (fenced) {
        step = 'begin_compensation';
        const begun = await plan.beginCompensation(failed);
        if (begun.succeeded) {
          log.warn(`${plan.kind} had already succeeded when compensation began; nothing to compensate`, { id: plan.id, step: failedStep });
          return null;
        }
        // A worker that died before its workflow task completed left this one to run the task's steps
        // again after the mark, and one may have failed differently: the saga keeps its first failure.
        // (Histories recorded before the mark kept it answer none.)
        first = begun.firstFailure ?? failed;
        if (first.step !== failed.step || first.code !== failed.code) {
          log.warn(`${plan.kind} keeps its first failure`, { id: plan.id, step: first.step, code: first.code, againStep: failed.step, againCode: failed.code });
        }
      }
      upsertSearchAttributes([{ key: SagaStatusKey, value: 'compensating' }]);
      // Local steps run inside one workflow task, whose commands reach the server only when it ends:
      // a 1 ms timer ends it here, so operators see `compensating` while the compensations run.
      if (localSteps) await sleep(1);
      for (const { name, run } of compensations) {
        step = name;
        const { journalId } = await run();
        if (!fenced || journalId !== null) compensated.push(name);
      }
      step = MONEY_SAGAS[plan.kind].failStep;
      const { step: firstStep, ...firstFailure } = first;
      await plan.fail(firstStep, firstFailure);
      return firstFailure;
    });
  }
  const status = failure ? 'failed' : 'succeeded';
  final = status;
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
  // A caller still waiting for the final status gets its answer before the workflow closes.
  await condition(allHandlersFinished);
  return { status, failure, compensated: failure ? compensated : [], notified };
}
