import { patched, proxyActivities, proxyLocalActivities, setHandler, upsertSearchAttributes } from '@temporalio/workflow';
import type { MoneySagaOutcome } from '../../domain/money-sagas';
import type { PaymentInput } from '../../domain/payments';
import { SagaStatusKey } from '../../domain/search-attributes';
import { currentStepQuery } from '../../workflows/queries';
import { PAYMENT_SAGA_SHAPE } from './shape';

/** A no-op step: takes what a payment step takes, answers what it answers, touches nothing. */
type NoopStep = (input: { paymentId: string }) => Promise<unknown>;

/**
 * The engine's ceiling: the payment saga's shape (same activities, options, task queues,
 * payload sizes, query handler, patch marker and search-attribute upsert) with activities
 * that do nothing. It only ever runs on the benchmark's own task queues, never in workflows/.
 */
export async function noopPaymentWorkflow(input: PaymentInput): Promise<MoneySagaOutcome> {
  const shape = PAYMENT_SAGA_SHAPE;
  const { paymentId } = input;
  let step = shape.local[0] ?? shape.remote[0] ?? 'notify';
  setHandler(currentStepQuery, () => step);
  for (const patch of shape.patches) patched(patch);
  const local = proxyLocalActivities<Record<string, NoopStep>>(shape.localOptions);
  const remote = proxyActivities<Record<string, NoopStep>>(shape.remoteOptions);
  const notifications = proxyActivities<Record<string, NoopStep>>(shape.notifyOptions(input.notificationsTaskQueue));
  for (const name of shape.local) {
    step = name;
    await (local[name] as NoopStep)({ paymentId });
  }
  for (const name of shape.remote) {
    step = name;
    await (remote[name] as NoopStep)({ paymentId });
  }
  upsertSearchAttributes([{ key: SagaStatusKey, value: 'succeeded' }]);
  step = 'notify';
  await (notifications[shape.notify] as NoopStep)({ paymentId });
  step = 'completed';
  return { status: 'succeeded', failure: null, compensated: [], notified: true };
}
