import type { MoneySagaOutcome } from '../domain/money-sagas';
import type { RefundInput } from '../domain/refunds';
import { moneyStepActivities, notificationsOn, runMoneySaga } from './money-saga';

/**
 * Refund saga `refund-<refundId>`: validate → debit_merchant → credit_payer →
 * write_ledger → notify. When a step fails for good, the compensations of the
 * steps that committed run in reverse (reverse_payer_credit, then return_merchant_debit)
 * and the refund ends `failed`. A failing notify never moves money back.
 */
export function refundWorkflow(input: RefundInput): Promise<MoneySagaOutcome> {
  const { refundId } = input;
  const { forward, compensation } = moneyStepActivities();
  const notifications = notificationsOn(input.notificationsTaskQueue);
  return runMoneySaga({
    kind: 'refund',
    id: refundId,
    steps: [
      { name: 'validate', run: () => forward.validateRefund({ refundId }) },
      {
        name: 'debit_merchant',
        run: () => forward.debitMerchant({ refundId }),
        compensation: { name: 'return_merchant_debit', run: () => compensation.returnMerchantDebit({ refundId }) },
      },
      {
        name: 'credit_payer',
        run: () => forward.creditPayer({ refundId }),
        compensation: { name: 'reverse_payer_credit', run: () => compensation.reversePayerCredit({ refundId }) },
      },
      { name: 'write_ledger', run: () => forward.writeRefundLedger({ refundId }) },
    ],
    beginCompensation: (failure) => compensation.beginRefundCompensation({ refundId, failure }),
    fail: (step, failure) => compensation.failRefund({ refundId, step, ...failure }),
    notify: () => notifications.notifyRefund({ refundId }),
    notifyFailed: () => compensation.recordRefundStep({ refundId, step: 'notify', status: 'failed' }),
  });
}
