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
import { transferFailureOf, type TransferInput, type TransferOutcome } from '../domain/transfers';
import { currentStepQuery } from './queries';
import { SagaStatusKey } from './search-attributes';

/** Forward steps: a bounded retry for transient faults; business refusals are never retried. */
const forward = proxyActivities<PaymentActivities>({
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
const compensation = proxyActivities<PaymentActivities>({
  startToCloseTimeout: '10 seconds',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '1 minute' },
});

/** Why a step failed, as the transfer's `failure`. */
function failureOf(error: unknown): { code: string; message: string } {
  const cause = error instanceof ActivityFailure ? error.cause : error;
  return cause instanceof ApplicationFailure ? transferFailureOf(cause.type ?? undefined, cause.message) : transferFailureOf(undefined, '');
}

/**
 * Transfer saga `transfer-<transferId>`: validate → debit_sender → credit_recipient →
 * write_ledger → notify, through the clearing account, no fee. When a step fails for
 * good, the compensations of the completed steps run in reverse
 * (reverse_recipient_credit, then refund_sender) and the transfer ends `failed`.
 * A failing notify never moves money back.
 */
export async function transferWorkflow(input: TransferInput): Promise<TransferOutcome> {
  let step = 'validate';
  setHandler(currentStepQuery, () => step);
  const { transferId } = input;
  const notifications = proxyActivities<NotificationActivities>({
    taskQueue: input.notificationsTaskQueue,
    startToCloseTimeout: '30 seconds',
    retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '30 seconds', maximumAttempts: 5, nonRetryableErrorTypes: [...NON_RETRYABLE_ERROR_TYPES] },
  });

  const compensations: Array<{ name: string; run: () => Promise<unknown> }> = [];
  let failure: TransferOutcome['failure'] = null;
  try {
    await forward.validateTransfer({ transferId });
    step = 'debit_sender';
    await forward.debitSender({ transferId });
    compensations.unshift({ name: 'refund_sender', run: () => compensation.refundSender({ transferId }) });
    step = 'credit_recipient';
    await forward.creditRecipient({ transferId });
    compensations.unshift({ name: 'reverse_recipient_credit', run: () => compensation.reverseRecipientCredit({ transferId }) });
    step = 'write_ledger';
    await forward.writeTransferLedger({ transferId });
  } catch (error) {
    failure = failureOf(error);
    const failedStep = step;
    log.warn('transfer step failed; compensating', { transferId, step: failedStep, code: failure.code, compensations: compensations.map((c) => c.name) });
    await CancellationScope.nonCancellable(async () => {
      upsertSearchAttributes([{ key: SagaStatusKey, value: 'compensating' }]);
      for (const { name, run } of compensations) {
        step = name;
        await run();
      }
      step = 'fail_transfer';
      await compensation.failTransfer({ transferId, step: failedStep, code: failure?.code ?? 'processing_error', message: failure?.message ?? '' });
    });
  }
  const status = failure ? 'failed' : 'succeeded';
  upsertSearchAttributes([{ key: SagaStatusKey, value: status }]);

  step = 'notify';
  let notified = true;
  try {
    await notifications.notifyTransfer({ transferId });
  } catch (error) {
    notified = false;
    log.warn('transfer notifications failed; the money stays where it is', { transferId, error: failureOf(error).message });
    await compensation.recordTransferStep({ transferId, step: 'notify', status: 'failed' });
  }
  step = 'completed';
  return { status, failure, compensated: failure ? compensations.map((c) => c.name) : [], notified };
}
