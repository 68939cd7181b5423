import type { WorkflowHandle } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { Worker } from '@temporalio/worker';
import { useTemporal } from '../test/support/temporal';
import type { NotificationActivities, PaymentActivities } from '../activities';
import { ErrorType, type ErrorTypeName } from '../domain/errors';
import { newId } from '../domain/ids';
import type { MoneySagaOutcome } from '../domain/money-sagas';
import type { PaymentInput } from '../domain/payments';
import { paymentWorkflow } from './payment';
import { currentStepQuery } from './queries';
import { SagaStatusKey } from '../domain/search-attributes';

/**
 * The payment saga on the real dev server with stub activities: the order of
 * the steps, which compensations run (in reverse) for a failure at each step,
 * retries of transient faults, and what an operator sees (query, SagaStatus).
 */
type PaymentSagaActivities = Pick<
  PaymentActivities,
  'validatePayment' | 'debitPayer' | 'creditMerchant' | 'writeLedger' | 'reverseMerchantCredit' | 'refundPayer' | 'failPayment' | 'recordPaymentStep' | 'beginPaymentCompensation'
> &
  Pick<NotificationActivities, 'notifyPayment'>;

type FailPaymentInput = Parameters<PaymentSagaActivities['failPayment']>[0];

/** What the stubs saw: every attempt in order, the payment ids they were given, and failPayment's inputs. */
interface Recorder {
  calls: string[];
  paymentIds: Set<string>;
  failPayments: FailPaymentInput[];
}

const temporal = useTemporal();

function newRecorder(): Recorder {
  return { calls: [], paymentIds: new Set(), failPayments: [] };
}

/** Stub activities that record each attempt, then do what `overrides` says (or succeed). */
function stubActivities(recorder: Recorder, overrides: Partial<PaymentSagaActivities> = {}): PaymentSagaActivities {
  const seen = (call: string, paymentId: string) => {
    recorder.calls.push(call);
    recorder.paymentIds.add(paymentId);
  };
  // Like the real compensations, a stub compensation moves nothing (journalId null) when its step never committed.
  const forwardCommitted = new Set<string>();
  const committed = <T,>(step: string, result: Promise<T>): Promise<T> => result.then((value) => (forwardCommitted.add(step), value));
  return {
    beginPaymentCompensation: (input) => {
      seen('beginPaymentCompensation', input.paymentId);
      return overrides.beginPaymentCompensation?.(input) ?? Promise.resolve({ succeeded: false });
    },
    validatePayment: (input) => {
      seen('validatePayment', input.paymentId);
      return overrides.validatePayment?.(input) ?? Promise.resolve();
    },
    debitPayer: (input) => {
      seen('debitPayer', input.paymentId);
      return committed('debitPayer', overrides.debitPayer?.(input) ?? Promise.resolve({ journalId: 'jnl_debit' }));
    },
    creditMerchant: (input) => {
      seen('creditMerchant', input.paymentId);
      return committed('creditMerchant', overrides.creditMerchant?.(input) ?? Promise.resolve({ journalId: 'jnl_credit' }));
    },
    writeLedger: (input) => {
      seen('writeLedger', input.paymentId);
      return overrides.writeLedger?.(input) ?? Promise.resolve();
    },
    reverseMerchantCredit: (input) => {
      seen('reverseMerchantCredit', input.paymentId);
      return overrides.reverseMerchantCredit?.(input) ?? Promise.resolve({ journalId: forwardCommitted.has('creditMerchant') ? 'jnl_reverse' : null });
    },
    refundPayer: (input) => {
      seen('refundPayer', input.paymentId);
      return overrides.refundPayer?.(input) ?? Promise.resolve({ journalId: forwardCommitted.has('debitPayer') ? 'jnl_refund' : null });
    },
    failPayment: (input) => {
      seen('failPayment', input.paymentId);
      recorder.failPayments.push(input);
      return overrides.failPayment?.(input) ?? Promise.resolve();
    },
    recordPaymentStep: (input) => {
      seen(`recordPaymentStep ${input.step} ${input.status}`, input.paymentId);
      return overrides.recordPaymentStep?.(input) ?? Promise.resolve();
    },
    notifyPayment: (input) => {
      seen('notifyPayment', input.paymentId);
      return overrides.notifyPayment?.(input) ?? Promise.resolve({ notificationIds: ['ntf_stub'] });
    },
  };
}

/** A business refusal as the activities raise it: non-retryable, typed. */
function refusal(type: ErrorTypeName, message: string): Promise<never> {
  return Promise.reject(ApplicationFailure.create({ type, message, nonRetryable: true }));
}

/** A step that fails with a transient (retryable) error `failures` times, then returns `value`. */
function flaky<T>(failures: number, value: T): () => Promise<T> {
  let attempts = 0;
  return () => {
    attempts += 1;
    return attempts <= failures ? Promise.reject(new Error(`database restarting (attempt ${attempts})`)) : Promise.resolve(value);
  };
}

interface SagaRun {
  outcome: MoneySagaOutcome;
  currentStep: string;
  sagaStatus: string | undefined;
  /** The retry policy each activity type was scheduled with, as the history records it. */
  retryPolicies: Map<string, { maximumAttempts: number; nonRetryableErrorTypes: string[] }>;
}

/** Runs one payment saga on a fresh task queue; `during` runs while the saga is open. */
async function runPayment(
  paymentId: string,
  activities: PaymentSagaActivities,
  during?: (handle: WorkflowHandle<typeof paymentWorkflow>) => Promise<void>,
): Promise<SagaRun> {
  const taskQueue = `payment-test-${newId('req')}`;
  const worker = await Worker.create({
    connection: temporal.workerConnection,
    taskQueue,
    workflowBundle: { codePath: String(process.env.WORKFLOW_BUNDLE_PATH) },
    activities,
  });
  const input: PaymentInput = {
    paymentId,
    payerId: newId('usr'),
    merchantId: newId('usr'),
    merchantName: 'Acme',
    amount: 12_345,
    fee: 370,
    netAmount: 11_975,
    currency: 'USD',
    notificationsTaskQueue: taskQueue,
  };
  return worker.runUntil(async () => {
    const handle = await temporal.client.workflow.start(paymentWorkflow, {
      taskQueue,
      workflowId: `payment-${paymentId}`,
      args: [input],
      typedSearchAttributes: [{ key: SagaStatusKey, value: 'running' }],
    });
    if (during) await during(handle);
    const outcome = await handle.result();
    const currentStep = await handle.query(currentStepQuery);
    const description = await handle.describe();
    return { outcome, currentStep, sagaStatus: description.typedSearchAttributes.get(SagaStatusKey), retryPolicies: await retryPoliciesOf(handle) };
  });
}

/** The retry policy of each activity type's scheduled events in a workflow's history. */
async function retryPoliciesOf(handle: WorkflowHandle): Promise<SagaRun['retryPolicies']> {
  const policies: SagaRun['retryPolicies'] = new Map();
  for (const event of (await handle.fetchHistory()).events ?? []) {
    const scheduled = event.activityTaskScheduledEventAttributes;
    if (!scheduled?.activityType?.name) continue;
    policies.set(scheduled.activityType.name, {
      maximumAttempts: scheduled.retryPolicy?.maximumAttempts ?? 0,
      nonRetryableErrorTypes: scheduled.retryPolicy?.nonRetryableErrorTypes ?? [],
    });
  }
  return policies;
}

/** Resolves once `condition` holds, polling every 50 ms for at most `timeoutMs`. */
async function eventually(condition: () => boolean, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe('payment workflow', () => {
  it('when every step succeeds, then validate → debit → credit → ledger → notify run once, in that order', async () => {
    const recorder = newRecorder();
    const paymentId = newId('pay');

    const run = await runPayment(paymentId, stubActivities(recorder));

    expect(recorder.calls).toEqual(['validatePayment', 'debitPayer', 'creditMerchant', 'writeLedger', 'notifyPayment']);
    expect([...recorder.paymentIds]).toEqual([paymentId]);
    expect(run.outcome).toEqual({ status: 'succeeded', failure: null, compensated: [], notified: true });
    expect(run.currentStep).toBe('completed');
    expect(run.sagaStatus).toBe('succeeded');
  });

  it('when validate refuses the payment (insufficient funds), then nothing is compensated, the payment fails and the payer is notified', async () => {
    const recorder = newRecorder();
    const paymentId = newId('pay');
    const activities = stubActivities(recorder, {
      validatePayment: () => refusal(ErrorType.InsufficientFunds, 'the payer has insufficient funds'),
    });

    const run = await runPayment(paymentId, activities);

    expect(recorder.calls).toEqual(['validatePayment', 'beginPaymentCompensation', 'failPayment', 'notifyPayment']);
    expect(recorder.failPayments).toEqual([{ paymentId, step: 'validate', code: 'insufficient_funds', message: 'the payer has insufficient funds' }]);
    expect(run.outcome).toEqual({
      status: 'failed',
      failure: { code: 'insufficient_funds', message: 'the payer has insufficient funds' },
      compensated: [],
      notified: true,
    });
    expect(run.currentStep).toBe('completed');
    expect(run.sagaStatus).toBe('failed');
  });

  const failuresForGood: Array<{
    step: string;
    activity: 'debitPayer' | 'creditMerchant' | 'writeLedger';
    type: ErrorTypeName;
    code: string;
    calls: string[];
    compensated: string[];
  }> = [
    {
      step: 'debit_payer',
      activity: 'debitPayer',
      type: ErrorType.WalletFrozen,
      code: 'wallet_frozen',
      calls: ['validatePayment', 'debitPayer', 'beginPaymentCompensation', 'refundPayer', 'failPayment', 'notifyPayment'],
      compensated: [],
    },
    {
      step: 'credit_merchant',
      activity: 'creditMerchant',
      type: ErrorType.WalletFrozen,
      code: 'wallet_frozen',
      calls: ['validatePayment', 'debitPayer', 'creditMerchant', 'beginPaymentCompensation', 'reverseMerchantCredit', 'refundPayer', 'failPayment', 'notifyPayment'],
      compensated: ['refund_payer'],
    },
    {
      step: 'write_ledger',
      activity: 'writeLedger',
      type: ErrorType.InjectedFault,
      code: 'injected_fault',
      calls: [
        'validatePayment',
        'debitPayer',
        'creditMerchant',
        'writeLedger',
        'beginPaymentCompensation',
        'reverseMerchantCredit',
        'refundPayer',
        'failPayment',
        'notifyPayment',
      ],
      compensated: ['reverse_merchant_credit', 'refund_payer'],
    },
  ];

  it.each(failuresForGood)(
    'when $step fails for good ($type), then the saga is marked and the committed steps are compensated in reverse: $compensated',
    async ({ step, activity, type, code, calls, compensated }) => {
      const recorder = newRecorder();
      const paymentId = newId('pay');
      const message = `${step} refused`;
      const activities = stubActivities(recorder, { [activity]: () => refusal(type, message) });

      const run = await runPayment(paymentId, activities);

      expect(recorder.calls).toEqual(calls);
      expect(recorder.failPayments).toEqual([{ paymentId, step, code, message }]);
      expect(run.outcome).toEqual({ status: 'failed', failure: { code, message }, compensated, notified: true });
      expect(run.currentStep).toBe('completed');
      expect(run.sagaStatus).toBe('failed');
    },
  );

  it('when a compensation fails twice with a transient error, then it is retried (with no attempt limit) until it succeeds and the next one waits for it', async () => {
    const recorder = newRecorder();
    const paymentId = newId('pay');
    const activities = stubActivities(recorder, {
      writeLedger: () => refusal(ErrorType.InjectedFault, 'fault drill'),
      reverseMerchantCredit: flaky(2, { journalId: 'jnl_reverse_third_try' }),
    });

    const run = await runPayment(paymentId, activities);

    expect(recorder.calls).toEqual([
      'validatePayment',
      'debitPayer',
      'creditMerchant',
      'writeLedger',
      'beginPaymentCompensation',
      'reverseMerchantCredit',
      'reverseMerchantCredit',
      'reverseMerchantCredit',
      'refundPayer',
      'failPayment',
      'notifyPayment',
    ]);
    expect(run.outcome.compensated).toEqual(['reverse_merchant_credit', 'refund_payer']);
    expect(run.outcome.failure).toEqual({ code: 'injected_fault', message: 'fault drill' });
    expect(run.sagaStatus).toBe('failed');
    // Until it succeeds: the compensation was scheduled with no limit on attempts (0), unlike a forward step's 5.
    expect(run.retryPolicies.get('reverseMerchantCredit')).toEqual({ maximumAttempts: 0, nonRetryableErrorTypes: [] });
  });

  it('when a forward step fails twice with a transient error, then it is retried and the payment succeeds', async () => {
    const recorder = newRecorder();
    const paymentId = newId('pay');
    const activities = stubActivities(recorder, { creditMerchant: flaky(2, { journalId: 'jnl_credit_third_try' }) });

    const run = await runPayment(paymentId, activities);

    expect(recorder.calls).toEqual(['validatePayment', 'debitPayer', 'creditMerchant', 'creditMerchant', 'creditMerchant', 'writeLedger', 'notifyPayment']);
    expect(run.outcome).toEqual({ status: 'succeeded', failure: null, compensated: [], notified: true });
    expect(run.sagaStatus).toBe('succeeded');
  });

  it('when a forward step keeps failing with a transient error, then it is tried 5 times and the saga compensates with processing_error', async () => {
    const recorder = newRecorder();
    const paymentId = newId('pay');
    const activities = stubActivities(recorder, { creditMerchant: flaky(Number.POSITIVE_INFINITY, { journalId: 'jnl_never' }) });

    const run = await runPayment(paymentId, activities);

    expect(recorder.calls).toEqual([
      'validatePayment',
      'debitPayer',
      ...Array<string>(5).fill('creditMerchant'),
      'beginPaymentCompensation',
      'reverseMerchantCredit',
      'refundPayer',
      'failPayment',
      'notifyPayment',
    ]);
    expect(recorder.failPayments).toEqual([{ paymentId, step: 'credit_merchant', code: 'processing_error', message: 'the payment could not be processed' }]);
    expect(run.outcome).toMatchObject({ status: 'failed', failure: { code: 'processing_error' }, compensated: ['refund_payer'], notified: true });
    expect(run.currentStep).toBe('completed');
    expect(run.sagaStatus).toBe('failed');
  });

  it('when notify fails for good, then the step is recorded failed, no money moves back and the payment stays succeeded', async () => {
    const recorder = newRecorder();
    const paymentId = newId('pay');
    const activities = stubActivities(recorder, {
      notifyPayment: () => refusal(ErrorType.InjectedFault, 'fault drill: notify'),
    });

    const run = await runPayment(paymentId, activities);

    expect(recorder.calls).toEqual(['validatePayment', 'debitPayer', 'creditMerchant', 'writeLedger', 'notifyPayment', 'recordPaymentStep notify failed']);
    expect(recorder.failPayments).toEqual([]);
    expect(run.outcome).toEqual({ status: 'succeeded', failure: null, compensated: [], notified: false });
    expect(run.currentStep).toBe('completed');
    expect(run.sagaStatus).toBe('succeeded');
  });

  it('when a compensation is in progress, then the query names it and SagaStatus reads compensating', async () => {
    const recorder = newRecorder();
    const paymentId = newId('pay');
    let releaseRefund: () => void = () => undefined;
    const refundReleased = new Promise<void>((resolve) => {
      releaseRefund = resolve;
    });
    const activities = stubActivities(recorder, {
      creditMerchant: () => refusal(ErrorType.WalletFrozen, 'the merchant wallet is frozen'),
      refundPayer: async () => {
        await refundReleased;
        return { journalId: 'jnl_refund' };
      },
    });

    let duringCompensation: { step: string; sagaStatus: string | undefined } | undefined;
    const run = await runPayment(paymentId, activities, async (handle) => {
      await eventually(() => recorder.calls.includes('refundPayer'));
      const description = await handle.describe();
      duringCompensation = { step: await handle.query(currentStepQuery), sagaStatus: description.typedSearchAttributes.get(SagaStatusKey) };
      releaseRefund();
    });

    expect(duringCompensation).toEqual({ step: 'refund_payer', sagaStatus: 'compensating' });
    expect(run.outcome.compensated).toEqual(['refund_payer']);
    expect(run.currentStep).toBe('completed');
    expect(run.sagaStatus).toBe('failed');
  });
  it('when the mark finds the payment already succeeded (a late write_ledger won), then it ends succeeded and nothing is compensated', async () => {
    const recorder = newRecorder();
    const paymentId = newId('pay');
    const activities = stubActivities(recorder, {
      writeLedger: () => Promise.reject(ApplicationFailure.create({ type: 'Timeout', message: 'gave up waiting', nonRetryable: true })),
      beginPaymentCompensation: () => Promise.resolve({ succeeded: true }),
    });

    const run = await runPayment(paymentId, activities);

    expect(recorder.calls.slice(-3)).toEqual(['writeLedger', 'beginPaymentCompensation', 'notifyPayment']);
    expect(recorder.calls).not.toContain('failPayment');
    expect(run.outcome).toEqual({ status: 'succeeded', failure: null, compensated: [], notified: true });
    expect(run.sagaStatus).toBe('succeeded');
  });
});
