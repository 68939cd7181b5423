import { ApplicationFailure } from '@temporalio/common';
import { Worker } from '@temporalio/worker';
import type { NotificationActivities, PaymentActivities } from '../activities';
import { ErrorType } from '../domain/errors';
import { newId } from '../domain/ids';
import type { MoneySagaOutcome } from '../domain/money-sagas';
import type { RefundInput } from '../domain/refunds';
import { SagaStatusKey } from '../domain/search-attributes';
import { useTemporal } from '../test/support/temporal';
import { currentStepQuery } from './queries';
import { refundWorkflow } from './refund';

/**
 * The refund saga on the real dev server with stub activities: the steps in order, the
 * compensations of the committed steps in reverse for a failure at each step, the failure
 * code the refund ends with, and a failing notify that moves no money back.
 */
type RefundSagaActivities = Pick<
  PaymentActivities,
  | 'validateRefund'
  | 'debitMerchant'
  | 'creditPayer'
  | 'writeRefundLedger'
  | 'returnMerchantDebit'
  | 'reversePayerCredit'
  | 'failRefund'
  | 'recordRefundStep'
  | 'beginRefundCompensation'
> &
  Pick<NotificationActivities, 'notifyRefund'>;

type ActivityName = keyof RefundSagaActivities;

const temporal = useTemporal();

/** A business refusal as the activities raise it: non-retryable, typed. */
function refusal(type: string, message: string): Promise<never> {
  return Promise.reject(ApplicationFailure.create({ type, message, nonRetryable: true }));
}

/** Stubs that record each call; a forward step named in `failing` refuses; compensations move money only for steps that committed. */
function stubActivities(calls: string[], failing: Partial<Record<ActivityName, () => Promise<never>>>): RefundSagaActivities {
  const committed = new Set<string>();
  const step =
    <Result>(name: ActivityName, result: () => Result) =>
    async (): Promise<Awaited<Result>> => {
      calls.push(name);
      const fail = failing[name];
      if (fail) await fail();
      committed.add(name);
      return await result();
    };
  const undo = (name: ActivityName, undoes: ActivityName) => () => {
    calls.push(name);
    return Promise.resolve({ journalId: committed.has(undoes) ? `jnl_${name}` : null });
  };
  return {
    validateRefund: step('validateRefund', () => undefined),
    debitMerchant: step('debitMerchant', () => ({ journalId: 'jnl_debit' })),
    creditPayer: step('creditPayer', () => ({ journalId: 'jnl_credit' })),
    writeRefundLedger: step('writeRefundLedger', () => undefined),
    notifyRefund: step('notifyRefund', () => ({ notificationIds: ['ntf_stub'] })),
    beginRefundCompensation: step('beginRefundCompensation', () => ({ succeeded: false })),
    reversePayerCredit: undo('reversePayerCredit', 'creditPayer'),
    returnMerchantDebit: undo('returnMerchantDebit', 'debitMerchant'),
    failRefund: (input) => {
      calls.push(`failRefund ${input.step} ${input.code}`);
      return Promise.resolve();
    },
    recordRefundStep: (input) => {
      calls.push(`recordRefundStep ${input.step} ${input.status}`);
      return Promise.resolve();
    },
  };
}

async function runRefund(activities: RefundSagaActivities): Promise<{ outcome: MoneySagaOutcome; currentStep: string; sagaStatus: string | undefined }> {
  const taskQueue = `refund-test-${newId('req')}`;
  const refundId = newId('ref');
  const worker = await Worker.create({
    connection: temporal.workerConnection,
    taskQueue,
    workflowBundle: { codePath: String(process.env.WORKFLOW_BUNDLE_PATH) },
    activities,
  });
  const input: RefundInput = {
    refundId,
    paymentId: newId('pay'),
    payerId: newId('usr'),
    merchantId: newId('usr'),
    amount: 5_000,
    feeRefunded: 150,
    currency: 'USD',
    notificationsTaskQueue: taskQueue,
  };
  return worker.runUntil(async () => {
    const handle = await temporal.client.workflow.start(refundWorkflow, {
      taskQueue,
      workflowId: `refund-${refundId}`,
      args: [input],
      typedSearchAttributes: [{ key: SagaStatusKey, value: 'running' }],
    });
    const outcome = await handle.result();
    const description = await handle.describe();
    return { outcome, currentStep: await handle.query(currentStepQuery), sagaStatus: description.typedSearchAttributes.get(SagaStatusKey) };
  });
}

describe('refund workflow', () => {
  it('when every step succeeds, then validate → debit merchant → credit payer → ledger → notify run once, in that order', async () => {
    const calls: string[] = [];

    const run = await runRefund(stubActivities(calls, {}));

    expect(calls).toEqual(['validateRefund', 'debitMerchant', 'creditPayer', 'writeRefundLedger', 'notifyRefund']);
    expect(run.outcome).toEqual({ status: 'succeeded', failure: null, compensated: [], notified: true });
    expect(run.currentStep).toBe('completed');
    expect(run.sagaStatus).toBe('succeeded');
  });

  it.each([
    {
      failing: 'validateRefund' as const,
      type: ErrorType.InsufficientFunds,
      code: 'insufficient_funds',
      after: ['beginRefundCompensation'],
      compensated: [],
    },
    {
      failing: 'debitMerchant' as const,
      type: ErrorType.WalletFrozen,
      code: 'wallet_frozen',
      after: ['beginRefundCompensation', 'returnMerchantDebit'],
      compensated: [],
    },
    {
      failing: 'creditPayer' as const,
      type: ErrorType.InjectedFault,
      code: 'injected_fault',
      after: ['beginRefundCompensation', 'reversePayerCredit', 'returnMerchantDebit'],
      compensated: ['return_merchant_debit'],
    },
    {
      failing: 'writeRefundLedger' as const,
      type: 'SomethingInternal',
      code: 'processing_error',
      after: ['beginRefundCompensation', 'reversePayerCredit', 'returnMerchantDebit'],
      compensated: ['reverse_payer_credit', 'return_merchant_debit'],
    },
  ])('when $failing fails for good, then the committed steps are compensated in reverse and the refund fails with $code', async (scenario) => {
    const calls: string[] = [];
    const steps: ActivityName[] = ['validateRefund', 'debitMerchant', 'creditPayer', 'writeRefundLedger'];
    const failedStep = { validateRefund: 'validate', debitMerchant: 'debit_merchant', creditPayer: 'credit_payer', writeRefundLedger: 'write_ledger' }[scenario.failing];

    const run = await runRefund(stubActivities(calls, { [scenario.failing]: () => refusal(scenario.type, 'refused') }));

    expect(calls).toEqual([
      ...steps.slice(0, steps.indexOf(scenario.failing) + 1),
      ...scenario.after,
      `failRefund ${failedStep} ${scenario.code}`,
      'notifyRefund',
    ]);
    expect(run.outcome.status).toBe('failed');
    expect(run.outcome.failure?.code).toBe(scenario.code);
    expect(run.outcome.compensated).toEqual(scenario.compensated);
    expect(run.sagaStatus).toBe('failed');
  });

  it('when notify fails for good, then the refund still succeeded and no money moves back', async () => {
    const calls: string[] = [];

    const run = await runRefund(stubActivities(calls, { notifyRefund: () => refusal(ErrorType.InjectedFault, 'fault drill') }));

    expect(calls).toEqual(['validateRefund', 'debitMerchant', 'creditPayer', 'writeRefundLedger', 'notifyRefund', 'recordRefundStep notify failed']);
    expect(run.outcome).toEqual({ status: 'succeeded', failure: null, compensated: [], notified: false });
  });
});
