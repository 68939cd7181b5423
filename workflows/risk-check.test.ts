import { WorkflowUpdateFailedError, type WorkflowHandle } from '@temporalio/client';
import { Worker } from '@temporalio/worker';
import { newId } from '../domain/ids';
import type { MoneySagaOutcome } from '../domain/money-sagas';
import { REVIEW_PAYMENT_UPDATE, type ReviewPaymentInput, type RiskCheckResult } from '../domain/risk';
import { SagaStatusKey } from '../domain/search-attributes';
import { moneySagaWorkflowId } from '../domain/workflow-ids';
import { useTemporal } from '../test/support/temporal';

/**
 * The risk_check step on the real dev server with stub activities: allow, decline, and a
 * payment's review approved, declined, timed out, and decided twice at once.
 */
const temporal = useTemporal();

type Stub = (input: Record<string, unknown>) => Promise<unknown>;

interface Recorder {
  calls: string[];
  fails: Array<Record<string, unknown>>;
  resolutions: Array<Record<string, unknown>>;
}

const ALLOW: RiskCheckResult = { outcome: 'allow', rule: null, reviewTimeoutMs: 0 };

/** Stub activities of both kinds: every money step succeeds; the risk check answers `verdict`. */
function stubs(recorder: Recorder, verdict: RiskCheckResult): Record<string, Stub> {
  const record =
    (name: string, value: unknown = undefined): Stub =>
    (input) => {
      recorder.calls.push(name);
      if (name === 'failPayment' || name === 'failTransfer') recorder.fails.push(input);
      if (name === 'resolvePaymentReview') recorder.resolutions.push(input);
      return Promise.resolve(typeof value === 'function' ? (value as (input: Record<string, unknown>) => unknown)(input) : value);
    };
  const money = { journalId: 'jnl_stub' };
  return {
    validatePayment: record('validatePayment'),
    checkPaymentRisk: record('checkPaymentRisk', verdict),
    resolvePaymentReview: record('resolvePaymentReview', (input: Record<string, unknown>) => ({ resolution: input.resolution })),
    debitPayer: record('debitPayer', money),
    creditMerchant: record('creditMerchant', money),
    writeLedger: record('writeLedger'),
    refundPayer: record('refundPayer', { journalId: null }),
    reverseMerchantCredit: record('reverseMerchantCredit', { journalId: null }),
    beginPaymentCompensation: record('beginPaymentCompensation', { succeeded: false }),
    failPayment: record('failPayment'),
    recordPaymentStep: record('recordPaymentStep'),
    notifyPayment: record('notifyPayment', { notificationIds: [] }),
    validateTransfer: record('validateTransfer'),
    checkTransferRisk: record('checkTransferRisk', verdict),
    debitSender: record('debitSender', money),
    creditRecipient: record('creditRecipient', money),
    writeTransferLedger: record('writeTransferLedger'),
    refundSender: record('refundSender', { journalId: null }),
    reverseRecipientCredit: record('reverseRecipientCredit', { journalId: null }),
    beginTransferCompensation: record('beginTransferCompensation', { succeeded: false }),
    failTransfer: record('failTransfer'),
    recordTransferStep: record('recordTransferStep'),
    notifyTransfer: record('notifyTransfer', { notificationIds: [] }),
  };
}

const newRecorder = (): Recorder => ({ calls: [], fails: [], resolutions: [] });

/** Runs one saga of `kind` on a fresh task queue; `during` runs while it is open. */
async function runSaga(
  kind: 'payment' | 'transfer',
  activities: Record<string, Stub>,
  during?: (handle: WorkflowHandle) => Promise<void>,
): Promise<{ outcome: MoneySagaOutcome; sagaId: string }> {
  const taskQueue = `risk-test-${newId('req')}`;
  const sagaId = newId(kind === 'payment' ? 'pay' : 'trf');
  const worker = await Worker.create({ connection: temporal.workerConnection, taskQueue, workflowBundle: { codePath: String(process.env.WORKFLOW_BUNDLE_PATH) }, activities });
  const input =
    kind === 'payment'
      ? { paymentId: sagaId, payerId: newId('usr'), merchantId: newId('usr'), merchantName: 'Acme', amount: 5_000, fee: 100, netAmount: 4_900, currency: 'USD' }
      : { transferId: sagaId, senderId: newId('usr'), recipientId: newId('usr'), recipientName: 'Bea', amount: 5_000, currency: 'USD' };
  return worker.runUntil(async () => {
    const handle = await temporal.client.workflow.start<(sagaInput: unknown) => Promise<MoneySagaOutcome>>(kind === 'payment' ? 'paymentWorkflow' : 'transferWorkflow', {
      taskQueue,
      workflowId: moneySagaWorkflowId(kind, sagaId),
      args: [{ ...input, notificationsTaskQueue: taskQueue }],
      typedSearchAttributes: [{ key: SagaStatusKey, value: 'running' }],
    });
    if (during) await during(handle);
    return { outcome: await handle.result(), sagaId };
  });
}

/** Waits until the saga says it is in review (its SagaStatus search attribute). */
async function inReview(handle: WorkflowHandle): Promise<void> {
  const deadline = Date.now() + 10_000;
  while ((await handle.describe()).typedSearchAttributes.get(SagaStatusKey) !== 'in_review') {
    if (Date.now() > deadline) throw new Error('the payment never went into review');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

function decide(handle: WorkflowHandle, decision: ReviewPaymentInput['decision'], adminId = newId('usr')) {
  return handle.executeUpdate<{ resolution: string }, [ReviewPaymentInput]>(REVIEW_PAYMENT_UPDATE, { args: [{ decision, adminId }] });
}

const REVIEW: RiskCheckResult = { outcome: 'review', rule: 'new_recipient', reviewTimeoutMs: 60_000 };
const MONEY_AND_END = ['debitPayer', 'creditMerchant', 'writeLedger', 'notifyPayment'];

describe('the risk_check step', () => {
  it.each(['payment', 'transfer'] as const)('when the %s is allowed, then the risk check runs between validate and the debit', async (kind) => {
    const recorder = newRecorder();

    const { outcome } = await runSaga(kind, stubs(recorder, ALLOW));

    const expected =
      kind === 'payment'
        ? ['validatePayment', 'checkPaymentRisk', ...MONEY_AND_END]
        : ['validateTransfer', 'checkTransferRisk', 'debitSender', 'creditRecipient', 'writeTransferLedger', 'notifyTransfer'];
    expect(recorder.calls).toEqual(expected);
    expect(outcome).toEqual({ status: 'succeeded', failure: null, compensated: [], notified: true });
  });

  it.each(['payment', 'transfer'] as const)('when the %s is declined by a rule, then no money moves and it fails risk_declined with the rule', async (kind) => {
    const recorder = newRecorder();

    const { outcome, sagaId } = await runSaga(kind, stubs(recorder, { outcome: 'decline', rule: 'velocity_count', reviewTimeoutMs: 0 }));

    const [validate, check, begin, fail, notify] =
      kind === 'payment'
        ? ['validatePayment', 'checkPaymentRisk', 'beginPaymentCompensation', 'failPayment', 'notifyPayment']
        : ['validateTransfer', 'checkTransferRisk', 'beginTransferCompensation', 'failTransfer', 'notifyTransfer'];
    expect(recorder.calls).toEqual([validate, check, begin, fail, notify]);
    const failure = { code: 'risk_declined', message: `the ${kind} was declined by the risk check (velocity_count)`, rule: 'velocity_count' };
    expect(recorder.fails).toEqual([{ [kind === 'payment' ? 'paymentId' : 'transferId']: sagaId, step: 'risk_check', ...failure }]);
    expect(outcome).toEqual({ status: 'failed', failure, compensated: [], notified: true });
  });

  it('when an admin approves a payment in review, then the update answers approve and the saga goes on to the debit', async () => {
    const recorder = newRecorder();
    const adminId = newId('usr');
    let answer: unknown;

    const { outcome, sagaId } = await runSaga('payment', stubs(recorder, REVIEW), async (handle) => {
      await inReview(handle);
      answer = await decide(handle, 'approve', adminId);
    });

    expect(answer).toEqual({ resolution: 'approve' });
    expect(recorder.resolutions).toEqual([{ paymentId: sagaId, resolution: 'approve', decidedBy: adminId }]);
    expect(recorder.calls).toEqual(['validatePayment', 'checkPaymentRisk', 'resolvePaymentReview', ...MONEY_AND_END]);
    expect(outcome).toEqual({ status: 'succeeded', failure: null, compensated: [], notified: true });
  });

  it('when an admin declines a payment in review, then it fails risk_declined (review_declined) and nothing is debited', async () => {
    const recorder = newRecorder();

    const { outcome } = await runSaga('payment', stubs(recorder, REVIEW), async (handle) => {
      await inReview(handle);
      await decide(handle, 'decline');
    });

    expect(recorder.calls).toEqual(['validatePayment', 'checkPaymentRisk', 'resolvePaymentReview', 'beginPaymentCompensation', 'failPayment', 'notifyPayment']);
    expect(outcome).toMatchObject({ status: 'failed', failure: { code: 'risk_declined', rule: 'review_declined' }, compensated: [] });
  });

  it('when nobody decides before the review times out, then it fails risk_declined (review_timeout) and a late decision is refused', async () => {
    const recorder = newRecorder();
    let late: unknown;

    const { outcome, sagaId } = await runSaga('payment', stubs(recorder, { ...REVIEW, reviewTimeoutMs: 1_000 }), async (handle) => {
      await handle.result();
      late = await decide(handle, 'approve').catch((error: unknown) => error);
    });

    expect(recorder.resolutions).toEqual([{ paymentId: sagaId, resolution: 'timeout', decidedBy: null }]);
    expect(recorder.calls).not.toContain('debitPayer');
    expect(outcome).toMatchObject({ status: 'failed', failure: { code: 'risk_declined', rule: 'review_timeout' } });
    expect(late).toBeInstanceOf(Error);
  });

  it('when two admins decide at once, then exactly one decision is accepted and the other is refused by the validator', async () => {
    const recorder = newRecorder();
    let settled: PromiseSettledResult<{ resolution: string }>[] = [];
    let third: unknown;

    const { outcome } = await runSaga('payment', stubs(recorder, REVIEW), async (handle) => {
      await inReview(handle);
      settled = await Promise.allSettled([decide(handle, 'approve'), decide(handle, 'decline')]);
      third = await decide(handle, 'approve').catch((error: unknown) => error);
    });

    const accepted = settled.filter((result) => result.status === 'fulfilled');
    const refused = settled.flatMap((result) => (result.status === 'rejected' ? [result.reason as unknown] : []));
    expect(accepted).toHaveLength(1);
    expect(refused).toHaveLength(1);
    expect(refused[0]).toBeInstanceOf(WorkflowUpdateFailedError);
    expect(third).toBeInstanceOf(WorkflowUpdateFailedError);
    expect(recorder.resolutions).toHaveLength(1);
    const won = (accepted[0] as PromiseFulfilledResult<{ resolution: string }>).value.resolution;
    expect(outcome.status).toBe(won === 'approve' ? 'succeeded' : 'failed');
  });

  it('when a decision arrives before the risk check answered allow, then it is held and then refused', async () => {
    const recorder = newRecorder();
    let release: () => void = () => undefined;
    const released = new Promise<void>((resolve) => {
      release = resolve;
    });
    const activities = { ...stubs(recorder, ALLOW), validatePayment: () => released };
    let refused: unknown;

    const { outcome } = await runSaga('payment', activities, async (handle) => {
      const pending = decide(handle, 'approve').catch((error: unknown) => error);
      setTimeout(release, 500);
      refused = await pending;
    });

    expect(refused).toBeInstanceOf(WorkflowUpdateFailedError);
    expect(String((refused as WorkflowUpdateFailedError).cause?.message)).toMatch(/not in review/);
    expect(outcome.status).toBe('succeeded');
  });

  it('when a decision arrives while the risk check is being answered (the database already says in_review), then it applies once the review opens', async () => {
    const recorder = newRecorder();
    let answer: (verdict: RiskCheckResult) => void = () => undefined;
    const answered = new Promise<RiskCheckResult>((resolve) => {
      answer = resolve;
    });
    const activities = { ...stubs(recorder, REVIEW), checkPaymentRisk: () => answered };
    let approved: unknown;

    const { outcome } = await runSaga('payment', activities, async (handle) => {
      const pending = decide(handle, 'approve');
      setTimeout(() => answer(REVIEW), 500);
      approved = await pending;
    });

    expect(approved).toEqual({ resolution: 'approve' });
    expect(recorder.calls).toEqual(['validatePayment', 'resolvePaymentReview', ...MONEY_AND_END]);
    expect(outcome.status).toBe('succeeded');
  });
});
