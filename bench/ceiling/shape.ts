import {
  FENCED_COMPENSATIONS_PATCH,
  FORWARD_STEP_OPTIONS,
  LOCAL_FORWARD_STEP_OPTIONS,
  LOCAL_MONEY_STEPS_PATCH,
  notifyStepOptions,
  RISK_CHECK_PATCH,
} from '../../workflows/money-saga';

/**
 * The shape of the payment saga that the no-op saga copies, declared in one place: which forward
 * steps run as local activities in the payments worker and which as regular activities on the
 * payments task queue, the notify step on the notifications task queue, their timeouts and
 * retries (imported from the workflow code), and the `patched()` markers of a run.
 *
 * Keep it in step with workflows/payment.ts and workflows/money-saga.ts: when a forward step
 * becomes a local activity, move its name from `remote` to `local` (and point `localOptions` at
 * the options the saga uses for it).
 */
export const PAYMENT_SAGA_SHAPE = {
  /** Forward steps run as local activities, in order (before `remote`). */
  local: ['validatePayment', 'checkPaymentRisk', 'debitPayer', 'creditMerchant', 'writeLedger'] as readonly string[],
  /** Forward steps run as regular activities on the payments task queue, in order. */
  remote: [] as readonly string[],
  /** The notify step, on the notifications task queue. */
  notify: 'notifyPayment',
  localOptions: LOCAL_FORWARD_STEP_OPTIONS,
  remoteOptions: FORWARD_STEP_OPTIONS,
  notifyOptions: notifyStepOptions,
  /** The `patched()` ids every new run records. */
  patches: [LOCAL_MONEY_STEPS_PATCH, FENCED_COMPENSATIONS_PATCH, RISK_CHECK_PATCH] as readonly string[],
} as const;

/** Every activity name of the shape, for the no-op workers. */
export function activityNamesOf(shape: typeof PAYMENT_SAGA_SHAPE): { payments: string[]; notifications: string[] } {
  return { payments: [...shape.local, ...shape.remote], notifications: [shape.notify] };
}
