import type { MoneySagaOutcome } from '../domain/money-sagas';
import type { TransferInput } from '../domain/transfers';
import { moneyStepActivities, notificationsOn, runMoneySaga } from './money-saga';
import { transferRiskCheck } from './risk-check';

/**
 * Transfer saga `transfer-<transferId>`: validate → risk_check → debit_sender → credit_recipient →
 * write_ledger → notify, through the clearing account, no fee. When a step fails for
 * good, the compensations of the completed steps run in reverse
 * (reverse_recipient_credit, then refund_sender) and the transfer ends `failed`.
 * A failing notify never moves money back.
 */
export function transferWorkflow(input: TransferInput): Promise<MoneySagaOutcome> {
  const { transferId } = input;
  const { forward, compensation } = moneyStepActivities();
  const notifications = notificationsOn(input.notificationsTaskQueue);
  return runMoneySaga({
    kind: 'transfer',
    id: transferId,
    riskCheck: transferRiskCheck(transferId, { forward, compensation }),
    steps: [
      { name: 'validate', run: () => forward.validateTransfer({ transferId }) },
      {
        name: 'debit_sender',
        run: () => forward.debitSender({ transferId }),
        compensation: { name: 'refund_sender', run: () => compensation.refundSender({ transferId }) },
      },
      {
        name: 'credit_recipient',
        run: () => forward.creditRecipient({ transferId }),
        compensation: { name: 'reverse_recipient_credit', run: () => compensation.reverseRecipientCredit({ transferId }) },
      },
      { name: 'write_ledger', run: () => forward.writeTransferLedger({ transferId }) },
    ],
    beginCompensation: (failure) => compensation.beginTransferCompensation({ transferId, failure }),
    fail: (step, failure) => compensation.failTransfer({ transferId, step, ...failure }),
    notify: () => notifications.notifyTransfer({ transferId }),
    notifyFailed: () => compensation.recordTransferStep({ transferId, step: 'notify', status: 'failed' }),
  });
}
