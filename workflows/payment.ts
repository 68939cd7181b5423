import type { MoneySagaOutcome } from '../domain/money-sagas';
import type { PaymentInput } from '../domain/payments';
import { moneyStepActivities, notificationsOn, runMoneySaga } from './money-saga';
import { paymentRiskCheck } from './risk-check';

/**
 * Payment saga `payment-<paymentId>`: validate → risk_check → debit_payer → credit_merchant →
 * write_ledger → notify. The risk check may hold the payment `in_review` until an admin
 * decides (the `reviewPayment` Update) or the review times out. When a step fails for good, the compensations of the
 * completed steps run in reverse (reverse_merchant_credit, then refund_payer)
 * and the payment ends `failed`. A failing notify never moves money back.
 */
export function paymentWorkflow(input: PaymentInput): Promise<MoneySagaOutcome> {
  const { paymentId } = input;
  const { forward, compensation } = moneyStepActivities();
  const notifications = notificationsOn(input.notificationsTaskQueue);
  const riskCheck = paymentRiskCheck(paymentId, { forward, compensation });
  return runMoneySaga({
    kind: 'payment',
    id: paymentId,
    riskCheck,
    steps: [
      { name: 'validate', run: () => forward.validatePayment({ paymentId }) },
      {
        name: 'debit_payer',
        run: () => forward.debitPayer({ paymentId }),
        compensation: { name: 'refund_payer', run: () => compensation.refundPayer({ paymentId }) },
      },
      {
        name: 'credit_merchant',
        run: () => forward.creditMerchant({ paymentId }),
        compensation: { name: 'reverse_merchant_credit', run: () => compensation.reverseMerchantCredit({ paymentId }) },
      },
      { name: 'write_ledger', run: () => forward.writeLedger({ paymentId }) },
    ],
    beginCompensation: (failure) => compensation.beginPaymentCompensation({ paymentId, failure }),
    fail: (step, failure) => compensation.failPayment({ paymentId, step, ...failure }),
    notify: () => notifications.notifyPayment({ paymentId }),
    notifyFailed: () => compensation.recordPaymentStep({ paymentId, step: 'notify', status: 'failed' }),
  });
}
