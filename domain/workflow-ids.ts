import type { MoneySagaKind } from './money-sagas';

/** The workflow id of a money saga: `<kind>-<id>`, e.g. `payment-pay_01J…`. */
export function moneySagaWorkflowId(kind: MoneySagaKind, sagaId: string): string {
  return `${kind}-${sagaId}`;
}

/** The workflow id of a payment's saga. */
export function paymentWorkflowId(paymentId: string): string {
  return moneySagaWorkflowId('payment', paymentId);
}

/** The workflow id of a transfer's saga. */
export function transferWorkflowId(transferId: string): string {
  return moneySagaWorkflowId('transfer', transferId);
}

/** The workflow id of a refund's saga. */
export function refundWorkflowId(refundId: string): string {
  return moneySagaWorkflowId('refund', refundId);
}

/** The workflow id of a user's onboarding saga. */
export function onboardingWorkflowId(userId: string): string {
  return `onboarding-${userId}`;
}

/** The workflow id of one e-mail's delivery. */
export function emailWorkflowId(notificationId: string): string {
  return `email-${notificationId}`;
}

/** The workflow id of one webhook event's delivery. */
export function webhookWorkflowId(eventId: string): string {
  return `webhook-${eventId}`;
}
