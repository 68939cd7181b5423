import {
  type Client,
  isGrpcDeadlineError,
  isGrpcServiceError,
  WithStartWorkflowOperation,
  WorkflowExecutionAlreadyStartedError,
  type WorkflowStartOptions,
  WorkflowUpdateFailedError,
  WorkflowUpdateRPCTimeoutOrCancelledError,
} from '@temporalio/client';
import type { SearchAttributePair, Workflow } from '@temporalio/common';
import { formatAmount } from '../domain/money';
import type { PaymentInput } from '../domain/payments';
import type { RefundInput } from '../domain/refunds';
import type { TransferInput } from '../domain/transfers';
import { AWAIT_FINAL_UPDATE, MONEY_SAGAS, type MoneySagaKind, type SagaFinal } from '../domain/money-sagas';
import { moneySagaWorkflowId, onboardingWorkflowId } from '../domain/workflow-ids';
import type { OnboardingInput, OnboardingResult } from '../domain/types';
import { CustomerIdKey, MerchantIdKey, PaymentIdKey, SagaStatusKey } from '../domain/search-attributes';

/**
 * The longest one start of a saga waits for Temporal. The client retries an unreachable server
 * for half a minute on its own; a request must not hang that long, and the start is safe to
 * leave undone: the row is committed, the recovery starts what never started.
 */
export const SAGA_START_TIMEOUT_MS = 2_000;

/** gRPC's UNAVAILABLE: the server cannot be reached (refused, reset, restarting). */
const GRPC_UNAVAILABLE = 14;

/**
 * How long past its deadline a Temporal call may run before it is abandoned: the client's retries
 * sleep between attempts without looking at the deadline, up to 5 s, so the deadline alone can
 * be overshot by that much while the server is out of reach.
 */
const DEADLINE_SLACK_MS = 250;

/** A Temporal call abandoned at its bound: the server did not answer in time. */
export class TemporalTimeoutError extends Error {
  constructor(timeoutMs: number) {
    super(`Temporal did not answer within ${timeoutMs} ms`);
    this.name = 'TemporalTimeoutError';
  }
}

/**
 * True when a Temporal call failed because the server is out of reach or did not answer in time
 * (gRPC UNAVAILABLE or DEADLINE_EXCEEDED, on the error or its cause), not because of the call.
 */
export function isTemporalUnavailable(error: unknown): boolean {
  if (error instanceof TemporalTimeoutError || isGrpcDeadlineError(error)) return true;
  for (let current: unknown = error; typeof current === 'object' && current !== null; current = (current as { cause?: unknown }).cause) {
    if (isGrpcServiceError(current) && Number(current.code) === GRPC_UNAVAILABLE) return true;
  }
  return false;
}

/** Bounded calls that have not ended yet, abandoned ones included. */
const callsInFlight = new Set<Promise<void>>();

/**
 * Resolves once every bounded call has ended, which an abandoned one does within its client's
 * longest retry pause. Await it before closing the connection: a retry that wakes up after the
 * close throws where nothing can catch it.
 */
export async function untilTemporalCallsEnd(): Promise<void> {
  await Promise.all([...callsInFlight]);
}

/**
 * Runs one call of `client` with a deadline `timeoutMs` away, and answers TemporalTimeoutError if
 * it has not ended shortly after it. An abandoned call ends on its own; its outcome is dropped.
 */
async function bounded<T>(client: Client, timeoutMs: number, call: () => Promise<T>): Promise<T> {
  const running = client.withDeadline(Date.now() + timeoutMs, call);
  const ended = running.then(
    () => undefined,
    () => undefined,
  );
  callsInFlight.add(ended);
  void ended.then(() => callsInFlight.delete(ended));
  let timer: NodeJS.Timeout | undefined;
  const abandoned = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new TemporalTimeoutError(timeoutMs)), timeoutMs + DEADLINE_SLACK_MS);
  });
  try {
    return await Promise.race([running, abandoned]);
  } finally {
    clearTimeout(timer);
  }
}

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
    await bounded(client, SAGA_START_TIMEOUT_MS, () => client.workflow.start<(input: OnboardingInput) => Promise<OnboardingResult>>('onboardingWorkflow', {
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
    }));
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

/** A money saga ready to start: its workflow type and start options (id, queue, summary, search attributes). */
export interface MoneySagaLaunch {
  workflowType: string;
  options: WorkflowStartOptions & { workflowIdConflictPolicy: 'USE_EXISTING' };
}

/**
 * How to start a money saga `<kind>-<id>` of its declared workflow type: USE_EXISTING answers a
 * duplicate start with the running saga, REJECT_DUPLICATE never runs a closed one again. Its
 * SagaStatus search attribute starts `running`.
 */
function moneySagaLaunch<Input>(settings: SagaSettings, kind: MoneySagaKind, input: Input, start: MoneySagaStart): MoneySagaLaunch {
  return {
    workflowType: MONEY_SAGAS[kind].workflowType,
    options: {
      taskQueue: settings.paymentsTaskQueue,
      workflowId: moneySagaWorkflowId(kind, start.sagaId),
      args: [{ ...input, notificationsTaskQueue: settings.notificationsTaskQueue }],
      workflowIdConflictPolicy: 'USE_EXISTING',
      workflowIdReusePolicy: 'REJECT_DUPLICATE',
      staticSummary: start.staticSummary,
      staticDetails: start.staticDetails,
      typedSearchAttributes: [...start.searchAttributes, { key: SagaStatusKey, value: 'running' }],
    },
  };
}

/** Starts a money saga (or finds it running), waiting at most SAGA_START_TIMEOUT_MS; a closed one is never run again. */
export async function startMoneySaga(client: Client, launch: MoneySagaLaunch): Promise<void> {
  try {
    await bounded(client, SAGA_START_TIMEOUT_MS, () => client.workflow.start(launch.workflowType, launch.options));
  } catch (error) {
    if (!(error instanceof WorkflowExecutionAlreadyStartedError)) throw error;
  }
}

/**
 * Starts a money saga (or attaches to the running one) and waits, at most `waitMs`, until it is
 * final: one Update-with-Start whose `awaitFinal` update returns when the saga has succeeded or
 * failed. Answers the final status, or null when the saga was not final in time or its workflow
 * has already closed (then the database has the answer). The saga is started either way: when
 * the wait ends before the server answered, a plain start (idempotent) makes sure of it.
 */
export async function startAndAwaitFinal(client: Client, launch: MoneySagaLaunch, waitMs: number): Promise<SagaFinal | null> {
  if (waitMs <= 0) {
    await startMoneySaga(client, launch);
    return null;
  }
  try {
    const startWorkflowOperation = new WithStartWorkflowOperation(launch.workflowType, launch.options);
    return await bounded(client, waitMs, () => client.workflow.executeUpdateWithStart<Workflow, SagaFinal, []>(AWAIT_FINAL_UPDATE, { startWorkflowOperation }));
  } catch (error) {
    // A closed workflow: REJECT_DUPLICATE refuses the start (and so the update); the database answers.
    if (error instanceof WorkflowExecutionAlreadyStartedError) return null;
    // A worker still on code without the awaitFinal handler (a rolling deploy) rejects the update; the saga started all the same.
    if (error instanceof WorkflowUpdateFailedError) return null;
    if (!(error instanceof WorkflowUpdateRPCTimeoutOrCancelledError)) throw error;
    await startMoneySaga(client, launch);
    return null;
  }
}

/**
 * How to start `payment-<paymentId>` (or find it running). Operators find it in the
 * Web UI by its summary ("pay 12.34 USD to Acme") or by the PaymentId,
 * CustomerId, MerchantId and SagaStatus search attributes.
 */
export function paymentLaunch(settings: SagaSettings, input: Omit<PaymentInput, 'notificationsTaskQueue'>): MoneySagaLaunch {
  return moneySagaLaunch(settings, 'payment', input, {
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
 * How to start `transfer-<transferId>` (or find it running). Operators find it in the
 * Web UI by its summary ("send 12.34 USD to Bea"), its workflow id, or the
 * CustomerId (the sender) and SagaStatus search attributes.
 */
export function transferLaunch(settings: SagaSettings, input: Omit<TransferInput, 'notificationsTaskQueue'>): MoneySagaLaunch {
  return moneySagaLaunch(settings, 'transfer', input, {
    sagaId: input.transferId,
    staticSummary: `send ${formatAmount(input.amount, input.currency)} ${input.currency} to ${input.recipientName}`,
    staticDetails: `transfer ${input.transferId}: sender ${input.senderId} → recipient ${input.recipientId}; no fee`,
    searchAttributes: [{ key: CustomerIdKey, value: input.senderId }],
  });
}

/**
 * How to start `refund-<refundId>` (or find it running). Operators find it in the Web UI by its
 * summary ("refund 12.34 USD of pay_…") or by the PaymentId (the refunded payment),
 * CustomerId (the payer), MerchantId and SagaStatus search attributes.
 */
export function refundLaunch(settings: SagaSettings, input: Omit<RefundInput, 'notificationsTaskQueue'>): MoneySagaLaunch {
  return moneySagaLaunch(settings, 'refund', input, {
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

/** Starts `payment-<id>` (or finds it running), as `paymentLaunch` describes it. */
export function startPayment(client: Client, settings: SagaSettings, input: Omit<PaymentInput, 'notificationsTaskQueue'>): Promise<void> {
  return startMoneySaga(client, paymentLaunch(settings, input));
}

/** Starts `transfer-<id>` (or finds it running), as `transferLaunch` describes it. */
export function startTransfer(client: Client, settings: SagaSettings, input: Omit<TransferInput, 'notificationsTaskQueue'>): Promise<void> {
  return startMoneySaga(client, transferLaunch(settings, input));
}

/** Starts `refund-<id>` (or finds it running), as `refundLaunch` describes it. */
export function startRefund(client: Client, settings: SagaSettings, input: Omit<RefundInput, 'notificationsTaskQueue'>): Promise<void> {
  return startMoneySaga(client, refundLaunch(settings, input));
}
