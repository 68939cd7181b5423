import type { WorkflowHandle } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { Worker } from '@temporalio/worker';
import type { NotificationActivities, PaymentActivities } from '../activities';
import { ErrorType, type ErrorTypeName } from '../domain/errors';
import { newId } from '../domain/ids';
import { MONEY_SAGAS, type MoneySagaKind, type MoneySagaOutcome } from '../domain/money-sagas';
import { SagaStatusKey } from '../domain/search-attributes';
import { moneySagaWorkflowId } from '../domain/workflow-ids';
import { useTemporal } from '../test/support/temporal';
import { stepActivitiesIn, type StepActivity } from '../test/support/step-activities';
import { currentStepQuery } from './queries';

/**
 * Every money saga kind on the real dev server with stub activities, from one table: the order
 * of the steps, which compensations run (in reverse) for a failure at each step, retries of
 * transient faults, the failure vocabulary, and what an operator sees (query, SagaStatus).
 */
type Activities = PaymentActivities & NotificationActivities;
type ActivityName = keyof Activities;

/** The risk check's activities, stubbed to allow every saga here. */
const RISK_CHECK_ACTIVITIES = ['checkPaymentRisk', 'checkTransferRisk'];

/** The roles of a money saga's activities; each kind names its own. */
type Role = 'validate' | 'debit' | 'credit' | 'finish' | 'undoCredit' | 'undoDebit' | 'begin' | 'fail' | 'recordStep' | 'notify';

/** One saga kind as these tests drive it. */
interface KindUnderTest {
  kind: MoneySagaKind;
  /** The field that carries the saga's id in every activity input. */
  idField: 'paymentId' | 'transferId' | 'refundId';
  activities: Record<Role, ActivityName>;
  /** The workflow's input, besides the id and the notifications task queue. */
  input: Record<string, unknown>;
}

const KINDS: KindUnderTest[] = [
  {
    kind: 'payment',
    idField: 'paymentId',
    activities: {
      validate: 'validatePayment',
      debit: 'debitPayer',
      credit: 'creditMerchant',
      finish: 'writeLedger',
      undoCredit: 'reverseMerchantCredit',
      undoDebit: 'refundPayer',
      begin: 'beginPaymentCompensation',
      fail: 'failPayment',
      recordStep: 'recordPaymentStep',
      notify: 'notifyPayment',
    },
    input: { payerId: newId('usr'), merchantId: newId('usr'), merchantName: 'Acme', amount: 12_345, fee: 370, netAmount: 11_975, currency: 'USD' },
  },
  {
    kind: 'transfer',
    idField: 'transferId',
    activities: {
      validate: 'validateTransfer',
      debit: 'debitSender',
      credit: 'creditRecipient',
      finish: 'writeTransferLedger',
      undoCredit: 'reverseRecipientCredit',
      undoDebit: 'refundSender',
      begin: 'beginTransferCompensation',
      fail: 'failTransfer',
      recordStep: 'recordTransferStep',
      notify: 'notifyTransfer',
    },
    input: { senderId: newId('usr'), recipientId: newId('usr'), recipientName: 'Bea', amount: 12_345, currency: 'USD' },
  },
  {
    kind: 'refund',
    idField: 'refundId',
    activities: {
      validate: 'validateRefund',
      debit: 'debitMerchant',
      credit: 'creditPayer',
      finish: 'writeRefundLedger',
      undoCredit: 'reversePayerCredit',
      undoDebit: 'returnMerchantDebit',
      begin: 'beginRefundCompensation',
      fail: 'failRefund',
      recordStep: 'recordRefundStep',
      notify: 'notifyRefund',
    },
    input: { paymentId: newId('pay'), payerId: newId('usr'), merchantId: newId('usr'), amount: 5_000, feeRefunded: 150, currency: 'USD' },
  },
];

type Stub = (input: Record<string, unknown>) => Promise<unknown>;

/** What the stubs saw: every attempt in order, the saga ids they were given, and the fail activity's inputs. */
interface Recorder {
  calls: string[];
  sagaIds: Set<string>;
  fails: Array<Record<string, unknown>>;
}

const temporal = useTemporal();

function refusal(type: string, message: string): Promise<never> {
  return Promise.reject(ApplicationFailure.create({ type, message, nonRetryable: true }));
}

/** A step that fails with a transient (retryable) error `failures` times, then returns `value`. */
function flaky(failures: number, value: unknown): Stub {
  let attempts = 0;
  return () => {
    attempts += 1;
    return attempts <= failures ? Promise.reject(new Error(`database restarting (attempt ${attempts})`)) : Promise.resolve(value);
  };
}

/** Resolves once `condition` holds, polling every 50 ms for at most `timeoutMs`. */
async function eventually(condition: () => boolean, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

interface SagaRun {
  outcome: MoneySagaOutcome;
  currentStep: string;
  sagaStatus: string | undefined;
  /** The activities its history records, regular or local. */
  steps: StepActivity[];
}

describe.each(KINDS)('the $kind workflow', ({ kind, idField, activities: names, input }) => {
  const saga = MONEY_SAGAS[kind];
  const [debitStep, creditStep] = saga.moneySteps;
  if (!debitStep || !creditStep) throw new Error(`${kind} declares no debit and credit steps`);

  /** Stub activities that record each attempt, then do what `overrides` says (or succeed like the real ones). */
  function stubActivities(recorder: Recorder, overrides: Partial<Record<Role, Stub>> = {}): Record<string, Stub> {
    const committed = new Set<Role>();
    const stub = (role: Role, otherwise: () => unknown): Stub => (stubInput) => {
      const sagaId = String(stubInput[idField]);
      recorder.calls.push(role === 'recordStep' ? `${names[role]} ${String(stubInput.step)} ${String(stubInput.status)}` : names[role]);
      recorder.sagaIds.add(sagaId);
      if (role === 'fail') recorder.fails.push(stubInput);
      const result = overrides[role]?.(stubInput) ?? Promise.resolve(otherwise());
      return result.then((value) => (committed.add(role), value));
    };
    // Like the real compensations, a stub compensation moves nothing (journalId null) when its step never committed.
    const undo = (undoes: Role) => () => ({ journalId: committed.has(undoes) ? `jnl_undo_${undoes}` : null });
    const stubs: Record<Role, Stub> = {
      validate: stub('validate', () => undefined),
      debit: stub('debit', () => ({ journalId: 'jnl_debit' })),
      credit: stub('credit', () => ({ journalId: 'jnl_credit' })),
      finish: stub('finish', () => undefined),
      undoCredit: stub('undoCredit', undo('credit')),
      undoDebit: stub('undoDebit', undo('debit')),
      begin: stub('begin', () => ({ succeeded: false })),
      fail: stub('fail', () => undefined),
      recordStep: stub('recordStep', () => undefined),
      notify: stub('notify', () => ({ notificationIds: ['ntf_stub'] })),
    };
    // The risk check (payments and transfers) allows every saga here; workflows/risk-check.test.ts covers it.
    const allow: Stub = () => Promise.resolve({ outcome: 'allow', rule: null, reviewTimeoutMs: 0 });
    return { ...Object.fromEntries((Object.keys(stubs) as Role[]).map((role) => [names[role], stubs[role]])), checkPaymentRisk: allow, checkTransferRisk: allow };
  }

  function newRecorder(): Recorder {
    return { calls: [], sagaIds: new Set(), fails: [] };
  }

  /** Runs one saga on a fresh task queue; `during` runs while the saga is open. */
  async function runSaga(sagaId: string, activities: Record<string, Stub>, during?: (handle: WorkflowHandle) => Promise<void>): Promise<SagaRun> {
    const taskQueue = `${kind}-test-${newId('req')}`;
    const worker = await Worker.create({
      connection: temporal.workerConnection,
      taskQueue,
      workflowBundle: { codePath: String(process.env.WORKFLOW_BUNDLE_PATH) },
      activities,
    });
    return worker.runUntil(async () => {
      const handle = await temporal.client.workflow.start<(sagaInput: unknown) => Promise<MoneySagaOutcome>>(saga.workflowType, {
        taskQueue,
        workflowId: moneySagaWorkflowId(kind, sagaId),
        args: [{ ...input, [idField]: sagaId, notificationsTaskQueue: taskQueue }],
        typedSearchAttributes: [{ key: SagaStatusKey, value: 'running' }],
      });
      if (during) await during(handle);
      const outcome = await handle.result();
      const currentStep = await handle.query(currentStepQuery);
      const description = await handle.describe();
      return { outcome, currentStep, sagaStatus: description.typedSearchAttributes.get(SagaStatusKey), steps: stepActivitiesIn((await handle.fetchHistory()).events ?? []) };
    });
  }

  const call = (...roles: Role[]) => roles.map((role) => names[role]);
  const newSagaId = () => newId(saga.idPrefix);

  it('when every step succeeds, then validate → debit → credit → ledger → notify run once, in that order', async () => {
    const recorder = newRecorder();
    const sagaId = newSagaId();

    const run = await runSaga(sagaId, stubActivities(recorder));

    expect(recorder.calls).toEqual(call('validate', 'debit', 'credit', 'finish', 'notify'));
    expect([...recorder.sagaIds]).toEqual([sagaId]);
    expect(run.outcome).toEqual({ status: 'succeeded', failure: null, compensated: [], notified: true });
    expect(run.currentStep).toBe('completed');
    expect(run.sagaStatus).toBe('succeeded');
    // The database steps run as local activities on the saga's worker; only notify goes through a task queue.
    // (The risk check between validate and debit is workflows/risk-check.test.ts's subject.)
    const moneySteps = run.steps.filter(({ activity }) => !RISK_CHECK_ACTIVITIES.includes(activity));
    expect(moneySteps.map(({ activity, local }) => [activity, local])).toEqual([
      ...call('validate', 'debit', 'credit', 'finish').map((activity) => [activity, true]),
      [names.notify, false],
    ]);
  });

  const refusals: Array<{ type: ErrorTypeName; code: string }> = [
    { type: ErrorType.InsufficientFunds, code: 'insufficient_funds' },
    { type: ErrorType.WalletFrozen, code: 'wallet_frozen' },
    { type: ErrorType.LimitExceeded, code: 'limit_exceeded' },
    { type: ErrorType.RecipientIsMerchant, code: 'recipient_is_merchant' },
    { type: ErrorType.RefundExceedsPayment, code: 'refund_exceeds_payment' },
  ];
  it.each(refusals)('when validate refuses it ($type), then nothing is compensated, it fails $code and notify runs', async ({ type, code }) => {
    const recorder = newRecorder();
    const sagaId = newSagaId();
    const message = `refused: ${code}`;

    const run = await runSaga(sagaId, stubActivities(recorder, { validate: () => refusal(type, message) }));

    expect(recorder.calls).toEqual(call('validate', 'begin', 'fail', 'notify'));
    expect(recorder.fails).toEqual([{ [idField]: sagaId, step: 'validate', code, message }]);
    expect(run.outcome).toEqual({ status: 'failed', failure: { code, message }, compensated: [], notified: true });
    expect(run.sagaStatus).toBe('failed');
  });

  it.each([
    { failing: 'debit' as const, calls: ['validate', 'debit', 'begin', 'undoDebit', 'fail', 'notify'] as Role[], compensated: [] as string[] },
    { failing: 'credit' as const, calls: ['validate', 'debit', 'credit', 'begin', 'undoCredit', 'undoDebit', 'fail', 'notify'] as Role[], compensated: ['debit'] },
    {
      failing: 'finish' as const,
      calls: ['validate', 'debit', 'credit', 'finish', 'begin', 'undoCredit', 'undoDebit', 'fail', 'notify'] as Role[],
      compensated: ['credit', 'debit'],
    },
  ])('when $failing fails for good, then the committed steps are compensated in reverse, then it fails', async ({ failing, calls, compensated }) => {
    const recorder = newRecorder();
    const sagaId = newSagaId();

    const run = await runSaga(sagaId, stubActivities(recorder, { [failing]: () => refusal(ErrorType.InjectedFault, 'fault drill') }));

    const failedStep = { debit: debitStep.step, credit: creditStep.step, finish: 'write_ledger' }[failing];
    const compensationOf = { debit: debitStep.compensation.step, credit: creditStep.compensation.step };
    expect(recorder.calls).toEqual(call(...calls));
    expect(recorder.fails).toEqual([{ [idField]: sagaId, step: failedStep, code: 'injected_fault', message: 'fault drill' }]);
    expect(run.outcome).toEqual({
      status: 'failed',
      failure: { code: 'injected_fault', message: 'fault drill' },
      compensated: compensated.map((step) => compensationOf[step as 'debit' | 'credit']),
      notified: true,
    });
    expect(run.currentStep).toBe('completed');
  });

  it.each([
    { compensation: 'undoCredit' as const, next: 'undoDebit' as const },
    { compensation: 'undoDebit' as const, next: 'fail' as const },
  ])('when $compensation fails twice with a transient error, then it is retried without an attempt limit and $next waits for it', async ({ compensation, next }) => {
    const recorder = newRecorder();
    const sagaId = newSagaId();
    const activities = stubActivities(recorder, {
      finish: () => refusal(ErrorType.InjectedFault, 'fault drill'),
      [compensation]: flaky(2, { journalId: 'jnl_third_try' }),
    });

    const run = await runSaga(sagaId, activities);

    const retried = names[compensation];
    const firstAttempt = recorder.calls.indexOf(retried);
    expect(recorder.calls.slice(firstAttempt, firstAttempt + 4)).toEqual([retried, retried, retried, names[next]]);
    expect(run.outcome).toMatchObject({ status: 'failed', compensated: [creditStep.compensation.step, debitStep.compensation.step] });
    expect(run.steps.filter(({ activity }) => activity === retried)).toEqual([expect.objectContaining({ attempt: 3, local: true })]);
  });

  it('when a forward step fails twice with a transient error, then it is retried and the saga succeeds', async () => {
    const recorder = newRecorder();

    const run = await runSaga(newSagaId(), stubActivities(recorder, { credit: flaky(2, { journalId: 'jnl_credit_third_try' }) }));

    expect(recorder.calls).toEqual(call('validate', 'debit', 'credit', 'credit', 'credit', 'finish', 'notify'));
    expect(run.outcome).toEqual({ status: 'succeeded', failure: null, compensated: [], notified: true });
  });

  it('when a forward step keeps failing with a transient error, then it is tried 5 times and the saga fails with its own processing_error text', async () => {
    const recorder = newRecorder();
    const sagaId = newSagaId();

    const run = await runSaga(sagaId, stubActivities(recorder, { credit: flaky(Number.POSITIVE_INFINITY, { journalId: 'jnl_never' }) }));

    expect(recorder.calls).toEqual([...call('validate', 'debit'), ...Array<string>(5).fill(names.credit), ...call('begin', 'undoCredit', 'undoDebit', 'fail', 'notify')]);
    expect(recorder.fails).toEqual([{ [idField]: sagaId, step: creditStep.step, code: 'processing_error', message: saga.processingErrorMessage }]);
    expect(run.outcome).toMatchObject({ status: 'failed', failure: { code: 'processing_error' }, compensated: [debitStep.compensation.step] });
    expect(run.sagaStatus).toBe('failed');
  });

  it('when notify fails for good, then the step is recorded failed, no money moves back and the saga stays succeeded', async () => {
    const recorder = newRecorder();

    const run = await runSaga(newSagaId(), stubActivities(recorder, { notify: () => refusal(ErrorType.InjectedFault, 'fault drill: notify') }));

    expect(recorder.calls).toEqual([...call('validate', 'debit', 'credit', 'finish', 'notify'), `${names.recordStep} notify failed`]);
    expect(recorder.fails).toEqual([]);
    expect(run.outcome).toEqual({ status: 'succeeded', failure: null, compensated: [], notified: false });
    expect(run.sagaStatus).toBe('succeeded');
  });

  it('when notify fails after a compensated saga, then it stays failed and nothing is compensated twice', async () => {
    const recorder = newRecorder();

    const run = await runSaga(
      newSagaId(),
      stubActivities(recorder, { credit: () => refusal(ErrorType.WalletFrozen, 'frozen'), notify: () => refusal(ErrorType.InjectedFault, 'fault drill: notify') }),
    );

    expect(recorder.calls).toEqual([...call('validate', 'debit', 'credit', 'begin', 'undoCredit', 'undoDebit', 'fail', 'notify'), `${names.recordStep} notify failed`]);
    expect(run.outcome).toEqual({ status: 'failed', failure: { code: 'wallet_frozen', message: 'frozen' }, compensated: [debitStep.compensation.step], notified: false });
  });

  it('when a compensation is in progress, then the query names it and SagaStatus reads compensating', async () => {
    const recorder = newRecorder();
    let release: () => void = () => undefined;
    const released = new Promise<void>((resolve) => {
      release = resolve;
    });
    const activities = stubActivities(recorder, {
      credit: () => refusal(ErrorType.WalletFrozen, 'frozen'),
      undoDebit: async () => {
        await released;
        return { journalId: 'jnl_undo_debit' };
      },
    });

    let duringCompensation: { step: string; sagaStatus: string | undefined } | undefined;
    const run = await runSaga(newSagaId(), activities, async (handle) => {
      await eventually(() => recorder.calls.includes(names.undoDebit));
      const description = await handle.describe();
      duringCompensation = { step: await handle.query(currentStepQuery), sagaStatus: description.typedSearchAttributes.get(SagaStatusKey) };
      release();
    });

    expect(duringCompensation).toEqual({ step: debitStep.compensation.step, sagaStatus: 'compensating' });
    expect(run.outcome.compensated).toEqual([debitStep.compensation.step]);
    expect(run.sagaStatus).toBe('failed');
  });

  // A worker killed before its workflow task completed: the mark recorded the first run's failure (a frozen
  // wallet refused the credit); this run's credit, run again after the mark, is refused by the fence instead.
  it('when the mark answers an earlier first failure, then the compensations run and the saga ends with the first failure, not the one seen again', async () => {
    const recorder = newRecorder();
    const sagaId = newSagaId();
    const begins: Array<Record<string, unknown>> = [];
    const first = { step: creditStep.step, code: 'wallet_frozen', message: 'a wallet is frozen' };
    const activities = stubActivities(recorder, {
      credit: () => refusal(ErrorType.SagaNotLive, 'compensating; this step moves nothing'),
      begin: (beginInput) => {
        begins.push(beginInput);
        return Promise.resolve({ succeeded: false, firstFailure: first });
      },
    });

    const run = await runSaga(sagaId, activities);

    expect(begins).toEqual([{ [idField]: sagaId, failure: { step: creditStep.step, code: 'processing_error', message: saga.processingErrorMessage } }]);
    expect(recorder.calls).toEqual(call('validate', 'debit', 'credit', 'begin', 'undoCredit', 'undoDebit', 'fail', 'notify'));
    expect(recorder.fails).toEqual([{ [idField]: sagaId, ...first }]);
    expect(run.outcome).toEqual({ status: 'failed', failure: { code: 'wallet_frozen', message: 'a wallet is frozen' }, compensated: [debitStep.compensation.step], notified: true });
    expect(run.sagaStatus).toBe('failed');
  });

  it('when the mark finds the saga already succeeded (a late write_ledger won), then it ends succeeded and nothing is compensated', async () => {
    const recorder = newRecorder();
    const activities = stubActivities(recorder, {
      finish: () => Promise.reject(ApplicationFailure.create({ type: 'Timeout', message: 'gave up waiting', nonRetryable: true })),
      begin: () => Promise.resolve({ succeeded: true }),
    });

    const run = await runSaga(newSagaId(), activities);

    expect(recorder.calls.slice(-3)).toEqual(call('finish', 'begin', 'notify'));
    expect(recorder.calls).not.toContain(names.fail);
    expect(run.outcome).toEqual({ status: 'succeeded', failure: null, compensated: [], notified: true });
    expect(run.sagaStatus).toBe('succeeded');
  });
});
