import type { WorkflowHandle } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { Worker } from '@temporalio/worker';
import { useTemporal } from '../test/support/temporal';
import type { NotificationActivities, PaymentActivities } from '../activities';
import { ErrorType, type ErrorTypeName } from '../domain/errors';
import { newId } from '../domain/ids';
import type { MoneySagaOutcome } from '../domain/money-sagas';
import type { TransferInput } from '../domain/transfers';
import { currentStepQuery } from './queries';
import { SagaStatusKey } from '../domain/search-attributes';
import { transferWorkflow } from './transfer';

/**
 * The transfer saga on the real dev server with stub activities: the order of
 * the steps, which compensations run (in reverse) for a failure at each step,
 * retries of transient faults, and what an operator sees (query, SagaStatus).
 */
type TransferSagaActivities = Pick<
  PaymentActivities,
  | 'validateTransfer'
  | 'debitSender'
  | 'creditRecipient'
  | 'writeTransferLedger'
  | 'reverseRecipientCredit'
  | 'refundSender'
  | 'failTransfer'
  | 'recordTransferStep'
  | 'beginTransferCompensation'
> &
  Pick<NotificationActivities, 'notifyTransfer'>;

type FailTransferInput = Parameters<TransferSagaActivities['failTransfer']>[0];

/** What the stubs saw: every attempt in order, the transfer ids they were given, and failTransfer's inputs. */
interface Recorder {
  calls: string[];
  transferIds: Set<string>;
  failTransfers: FailTransferInput[];
}

const temporal = useTemporal();

function newRecorder(): Recorder {
  return { calls: [], transferIds: new Set(), failTransfers: [] };
}

/** Stub activities that record each attempt, then do what `overrides` says (or succeed). */
function stubActivities(recorder: Recorder, overrides: Partial<TransferSagaActivities> = {}): TransferSagaActivities {
  const seen = (call: string, transferId: string) => {
    recorder.calls.push(call);
    recorder.transferIds.add(transferId);
  };
  // Like the real compensations, a stub compensation moves nothing (journalId null) when its step never committed.
  const forwardCommitted = new Set<string>();
  const committed = <T,>(step: string, result: Promise<T>): Promise<T> => result.then((value) => (forwardCommitted.add(step), value));
  return {
    beginTransferCompensation: (input) => {
      seen('beginTransferCompensation', input.transferId);
      return overrides.beginTransferCompensation?.(input) ?? Promise.resolve({ succeeded: false });
    },
    validateTransfer: (input) => {
      seen('validateTransfer', input.transferId);
      return overrides.validateTransfer?.(input) ?? Promise.resolve();
    },
    debitSender: (input) => {
      seen('debitSender', input.transferId);
      return committed('debitSender', overrides.debitSender?.(input) ?? Promise.resolve({ journalId: 'jnl_debit' }));
    },
    creditRecipient: (input) => {
      seen('creditRecipient', input.transferId);
      return committed('creditRecipient', overrides.creditRecipient?.(input) ?? Promise.resolve({ journalId: 'jnl_credit' }));
    },
    writeTransferLedger: (input) => {
      seen('writeTransferLedger', input.transferId);
      return overrides.writeTransferLedger?.(input) ?? Promise.resolve();
    },
    reverseRecipientCredit: (input) => {
      seen('reverseRecipientCredit', input.transferId);
      return overrides.reverseRecipientCredit?.(input) ?? Promise.resolve({ journalId: forwardCommitted.has('creditRecipient') ? 'jnl_reverse' : null });
    },
    refundSender: (input) => {
      seen('refundSender', input.transferId);
      return overrides.refundSender?.(input) ?? Promise.resolve({ journalId: forwardCommitted.has('debitSender') ? 'jnl_refund' : null });
    },
    failTransfer: (input) => {
      seen('failTransfer', input.transferId);
      recorder.failTransfers.push(input);
      return overrides.failTransfer?.(input) ?? Promise.resolve();
    },
    recordTransferStep: (input) => {
      seen(`recordTransferStep ${input.step} ${input.status}`, input.transferId);
      return overrides.recordTransferStep?.(input) ?? Promise.resolve();
    },
    notifyTransfer: (input) => {
      seen('notifyTransfer', input.transferId);
      return overrides.notifyTransfer?.(input) ?? Promise.resolve({ notificationIds: ['ntf_stub'] });
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

/** Runs one transfer saga on a fresh task queue; `during` runs while the saga is open. */
async function runTransfer(
  transferId: string,
  activities: TransferSagaActivities,
  during?: (handle: WorkflowHandle<typeof transferWorkflow>) => Promise<void>,
): Promise<SagaRun> {
  const taskQueue = `transfer-test-${newId('req')}`;
  const worker = await Worker.create({
    connection: temporal.workerConnection,
    taskQueue,
    workflowBundle: { codePath: String(process.env.WORKFLOW_BUNDLE_PATH) },
    activities,
  });
  const input: TransferInput = {
    transferId,
    senderId: newId('usr'),
    recipientId: newId('usr'),
    recipientName: 'Bea',
    amount: 12_345,
    currency: 'USD',
    notificationsTaskQueue: taskQueue,
  };
  return worker.runUntil(async () => {
    const handle = await temporal.client.workflow.start(transferWorkflow, {
      taskQueue,
      workflowId: `transfer-${transferId}`,
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

describe('transfer workflow', () => {
  it('when every step succeeds, then validate → debit → credit → ledger → notify run once, in that order', async () => {
    const recorder = newRecorder();
    const transferId = newId('trf');

    const run = await runTransfer(transferId, stubActivities(recorder));

    expect(recorder.calls).toEqual(['validateTransfer', 'debitSender', 'creditRecipient', 'writeTransferLedger', 'notifyTransfer']);
    expect([...recorder.transferIds]).toEqual([transferId]);
    expect(run.outcome).toEqual({ status: 'succeeded', failure: null, compensated: [], notified: true });
    expect(run.currentStep).toBe('completed');
    expect(run.sagaStatus).toBe('succeeded');
  });

  const refusals: Array<{ type: ErrorTypeName; code: string }> = [
    { type: ErrorType.InsufficientFunds, code: 'insufficient_funds' },
    { type: ErrorType.WalletFrozen, code: 'wallet_frozen' },
    { type: ErrorType.LimitExceeded, code: 'limit_exceeded' },
    { type: ErrorType.RecipientIsMerchant, code: 'recipient_is_merchant' },
  ];

  it.each(refusals)('when validate refuses the transfer ($type), then nothing is compensated, it fails $code and the sender is notified', async ({ type, code }) => {
    const recorder = newRecorder();
    const transferId = newId('trf');
    const message = `refused: ${code}`;

    const run = await runTransfer(transferId, stubActivities(recorder, { validateTransfer: () => refusal(type, message) }));

    expect(recorder.calls).toEqual(['validateTransfer', 'beginTransferCompensation', 'failTransfer', 'notifyTransfer']);
    expect(recorder.failTransfers).toEqual([{ transferId, step: 'validate', code, message }]);
    expect(run.outcome).toEqual({ status: 'failed', failure: { code, message }, compensated: [], notified: true });
    expect(run.currentStep).toBe('completed');
    expect(run.sagaStatus).toBe('failed');
  });

  const failuresForGood: Array<{
    step: string;
    activity: 'debitSender' | 'creditRecipient' | 'writeTransferLedger';
    type: ErrorTypeName;
    code: string;
    calls: string[];
    compensated: string[];
  }> = [
    {
      step: 'debit_sender',
      activity: 'debitSender',
      type: ErrorType.WalletFrozen,
      code: 'wallet_frozen',
      calls: ['validateTransfer', 'debitSender', 'beginTransferCompensation', 'refundSender', 'failTransfer', 'notifyTransfer'],
      compensated: [],
    },
    {
      step: 'credit_recipient',
      activity: 'creditRecipient',
      type: ErrorType.WalletFrozen,
      code: 'wallet_frozen',
      calls: [
        'validateTransfer',
        'debitSender',
        'creditRecipient',
        'beginTransferCompensation',
        'reverseRecipientCredit',
        'refundSender',
        'failTransfer',
        'notifyTransfer',
      ],
      compensated: ['refund_sender'],
    },
    {
      step: 'write_ledger',
      activity: 'writeTransferLedger',
      type: ErrorType.InjectedFault,
      code: 'injected_fault',
      calls: [
        'validateTransfer',
        'debitSender',
        'creditRecipient',
        'writeTransferLedger',
        'beginTransferCompensation',
        'reverseRecipientCredit',
        'refundSender',
        'failTransfer',
        'notifyTransfer',
      ],
      compensated: ['reverse_recipient_credit', 'refund_sender'],
    },
  ];

  it.each(failuresForGood)(
    'when $step fails for good ($type), then the saga is marked and the committed steps are compensated in reverse: $compensated',
    async ({ step, activity, type, code, calls, compensated }) => {
      const recorder = newRecorder();
      const transferId = newId('trf');
      const message = `${step} refused`;
      const activities = stubActivities(recorder, { [activity]: () => refusal(type, message) });

      const run = await runTransfer(transferId, activities);

      expect(recorder.calls).toEqual(calls);
      expect(recorder.failTransfers).toEqual([{ transferId, step, code, message }]);
      expect(run.outcome).toEqual({ status: 'failed', failure: { code, message }, compensated, notified: true });
      expect(run.currentStep).toBe('completed');
      expect(run.sagaStatus).toBe('failed');
    },
  );

  it.each([
    { compensation: 'reverseRecipientCredit' as const, retried: 'reverseRecipientCredit', next: 'refundSender' },
    { compensation: 'refundSender' as const, retried: 'refundSender', next: 'failTransfer' },
  ])('when $compensation fails twice with a transient error, then it is retried (with no attempt limit) until it succeeds and the next step waits for it', async ({ compensation, retried, next }) => {
    const recorder = newRecorder();
    const transferId = newId('trf');
    const activities = stubActivities(recorder, {
      writeTransferLedger: () => refusal(ErrorType.InjectedFault, 'fault drill'),
      [compensation]: flaky(2, { journalId: 'jnl_third_try' }),
    });

    const run = await runTransfer(transferId, activities);

    const firstAttempt = recorder.calls.indexOf(retried);
    expect(recorder.calls.slice(firstAttempt, firstAttempt + 4)).toEqual([retried, retried, retried, next]);
    expect(recorder.calls.filter((call) => call === retried)).toHaveLength(3);
    expect(run.outcome).toEqual({
      status: 'failed',
      failure: { code: 'injected_fault', message: 'fault drill' },
      compensated: ['reverse_recipient_credit', 'refund_sender'],
      notified: true,
    });
    expect(run.sagaStatus).toBe('failed');
    // Until it succeeds: the compensation was scheduled with no limit on attempts (0), unlike a forward step's 5.
    expect(run.retryPolicies.get(retried)).toEqual({ maximumAttempts: 0, nonRetryableErrorTypes: [] });
  });

  it('when a forward step fails twice with a transient error, then it is retried and the transfer succeeds', async () => {
    const recorder = newRecorder();
    const transferId = newId('trf');
    const activities = stubActivities(recorder, { creditRecipient: flaky(2, { journalId: 'jnl_credit_third_try' }) });

    const run = await runTransfer(transferId, activities);

    expect(recorder.calls).toEqual(['validateTransfer', 'debitSender', 'creditRecipient', 'creditRecipient', 'creditRecipient', 'writeTransferLedger', 'notifyTransfer']);
    expect(run.outcome).toEqual({ status: 'succeeded', failure: null, compensated: [], notified: true });
    expect(run.sagaStatus).toBe('succeeded');
  });

  it('when a forward step keeps failing with a transient error, then it is tried 5 times and the saga compensates with processing_error', async () => {
    const recorder = newRecorder();
    const transferId = newId('trf');
    const activities = stubActivities(recorder, { creditRecipient: flaky(Number.POSITIVE_INFINITY, { journalId: 'jnl_never' }) });

    const run = await runTransfer(transferId, activities);

    expect(recorder.calls).toEqual([
      'validateTransfer',
      'debitSender',
      ...Array<string>(5).fill('creditRecipient'),
      'beginTransferCompensation',
      'reverseRecipientCredit',
      'refundSender',
      'failTransfer',
      'notifyTransfer',
    ]);
    expect(recorder.failTransfers).toEqual([
      { transferId, step: 'credit_recipient', code: 'processing_error', message: 'the transfer could not be processed' },
    ]);
    expect(run.outcome).toMatchObject({ status: 'failed', failure: { code: 'processing_error' }, compensated: ['refund_sender'], notified: true });
    expect(run.currentStep).toBe('completed');
    expect(run.sagaStatus).toBe('failed');
  });

  it('when notify fails for good, then the step is recorded failed, no money moves back and the transfer stays succeeded', async () => {
    const recorder = newRecorder();
    const transferId = newId('trf');
    const activities = stubActivities(recorder, {
      notifyTransfer: () => refusal(ErrorType.InjectedFault, 'fault drill: notify'),
    });

    const run = await runTransfer(transferId, activities);

    expect(recorder.calls).toEqual(['validateTransfer', 'debitSender', 'creditRecipient', 'writeTransferLedger', 'notifyTransfer', 'recordTransferStep notify failed']);
    expect(recorder.failTransfers).toEqual([]);
    expect(run.outcome).toEqual({ status: 'succeeded', failure: null, compensated: [], notified: false });
    expect(run.currentStep).toBe('completed');
    expect(run.sagaStatus).toBe('succeeded');
  });

  it('when notify fails after a compensated transfer, then the transfer stays failed and nothing is compensated twice', async () => {
    const recorder = newRecorder();
    const transferId = newId('trf');
    const activities = stubActivities(recorder, {
      creditRecipient: () => refusal(ErrorType.WalletFrozen, 'the recipient wallet is frozen'),
      notifyTransfer: () => refusal(ErrorType.InjectedFault, 'fault drill: notify'),
    });

    const run = await runTransfer(transferId, activities);

    expect(recorder.calls).toEqual([
      'validateTransfer',
      'debitSender',
      'creditRecipient',
      'beginTransferCompensation',
      'reverseRecipientCredit',
      'refundSender',
      'failTransfer',
      'notifyTransfer',
      'recordTransferStep notify failed',
    ]);
    expect(run.outcome).toEqual({
      status: 'failed',
      failure: { code: 'wallet_frozen', message: 'the recipient wallet is frozen' },
      compensated: ['refund_sender'],
      notified: false,
    });
    expect(run.sagaStatus).toBe('failed');
  });

  it('when a compensation is in progress, then the query names it and SagaStatus reads compensating', async () => {
    const recorder = newRecorder();
    const transferId = newId('trf');
    let releaseReversal: () => void = () => undefined;
    const reversalReleased = new Promise<void>((resolve) => {
      releaseReversal = resolve;
    });
    const activities = stubActivities(recorder, {
      writeTransferLedger: () => refusal(ErrorType.InjectedFault, 'fault drill'),
      reverseRecipientCredit: async () => {
        await reversalReleased;
        return { journalId: 'jnl_reverse' };
      },
    });

    let duringCompensation: { step: string; sagaStatus: string | undefined } | undefined;
    const run = await runTransfer(transferId, activities, async (handle) => {
      await eventually(() => recorder.calls.includes('reverseRecipientCredit'));
      const description = await handle.describe();
      duringCompensation = { step: await handle.query(currentStepQuery), sagaStatus: description.typedSearchAttributes.get(SagaStatusKey) };
      releaseReversal();
    });

    expect(duringCompensation).toEqual({ step: 'reverse_recipient_credit', sagaStatus: 'compensating' });
    expect(run.outcome.compensated).toEqual(['reverse_recipient_credit', 'refund_sender']);
    expect(run.currentStep).toBe('completed');
    expect(run.sagaStatus).toBe('failed');
  });
  it('when the mark finds the transfer already succeeded (a late write_ledger won), then it ends succeeded and nothing is compensated', async () => {
    const recorder = newRecorder();
    const transferId = newId('trf');
    const activities = stubActivities(recorder, {
      writeTransferLedger: () => Promise.reject(ApplicationFailure.create({ type: 'Timeout', message: 'gave up waiting', nonRetryable: true })),
      beginTransferCompensation: () => Promise.resolve({ succeeded: true }),
    });

    const run = await runTransfer(transferId, activities);

    expect(recorder.calls.slice(-3)).toEqual(['writeTransferLedger', 'beginTransferCompensation', 'notifyTransfer']);
    expect(recorder.calls).not.toContain('failTransfer');
    expect(run.outcome).toEqual({ status: 'succeeded', failure: null, compensated: [], notified: true });
    expect(run.sagaStatus).toBe('succeeded');
  });
});
