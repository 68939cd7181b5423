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
import { paymentFailureOf, type PaymentInput, type PaymentOutcome } from '../domain/payments';
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

/** Why a step failed, as the payment's `failure`. */
function failureOf(error: unknown): { code: string; message: string } {
  const cause = error instanceof ActivityFailure ? error.cause : error;
  return cause instanceof ApplicationFailure ? paymentFailureOf(cause.type ?? undefined, cause.message) : paymentFailureOf(undefined, '');
}

/**
 * Payment saga `payment-<paymentId>`: validate → debit_payer → credit_merchant →
 * write_ledger → notify. When a step fails for good, the compensations of the
 * completed steps run in reverse (reverse_merchant_credit, then refund_payer)
 * and the payment ends `failed`. A failing notify never moves money back.
 */
export async function paymentWorkflow(input: PaymentInput): Promise<PaymentOutcome> {
  let step = 'validate';
  setHandler(currentStepQuery, () => step);
  const { paymentId } = input;
  const notifications = proxyActivities<NotificationActivities>({
    taskQueue: input.notificationsTaskQueue,
    startToCloseTimeout: '30 seconds',
    retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '30 seconds', maximumAttempts: 5, nonRetryableErrorTypes: [...NON_RETRYABLE_ERROR_TYPES] },
  });

  const compensations: Array<{ name: string; run: () => Promise<unknown> }> = [];
  let failure: PaymentOutcome['failure'] = null;
  try {
    await forward.validatePayment({ paymentId });
    step = 'debit_payer';
    await forward.debitPayer({ paymentId });
    compensations.unshift({ name: 'refund_payer', run: () => compensation.refundPayer({ paymentId }) });
    step = 'credit_merchant';
    await forward.creditMerchant({ paymentId });
    compensations.unshift({ name: 'reverse_merchant_credit', run: () => compensation.reverseMerchantCredit({ paymentId }) });
    step = 'write_ledger';
    await forward.writeLedger({ paymentId });
  } catch (error) {
    failure = failureOf(error);
    const failedStep = step;
    log.warn('payment step failed; compensating', { paymentId, step: failedStep, code: failure.code, compensations: compensations.map((c) => c.name) });
    await CancellationScope.nonCancellable(async () => {
      upsertSearchAttributes([{ key: SagaStatusKey, value: 'compensating' }]);
      for (const { name, run } of compensations) {
        step = name;
        await run();
      }
      step = 'fail_payment';
      await compensation.failPayment({ paymentId, step: failedStep, code: failure?.code ?? 'processing_error', message: failure?.message ?? '' });
    });
  }
  const status = failure ? 'failed' : 'succeeded';
  upsertSearchAttributes([{ key: SagaStatusKey, value: status }]);

  step = 'notify';
  let notified = true;
  try {
    await notifications.notifyPayment({ paymentId });
  } catch (error) {
    notified = false;
    log.warn('payment notifications failed; the money stays where it is', { paymentId, error: failureOf(error).message });
    await compensation.recordPaymentStep({ paymentId, step: 'notify', status: 'failed' });
  }
  step = 'completed';
  return { status, failure, compensated: failure ? compensations.map((c) => c.name) : [], notified };
}
