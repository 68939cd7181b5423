import { paymentFailureOf } from './payments';

/** The forward steps of the transfer saga, in order. */
export const TRANSFER_STEPS = ['validate', 'debit_sender', 'credit_recipient', 'write_ledger', 'notify'] as const;

/** One forward step of the transfer saga. */
export type TransferStep = (typeof TRANSFER_STEPS)[number];

/** The workflow id of a transfer's saga. */
export function transferWorkflowId(transferId: string): string {
  return `transfer-${transferId}`;
}

/** Statuses of a transfer; the last two are final (see `isFinalStatus`). */
export type TransferStatus = 'pending' | 'processing' | 'succeeded' | 'failed';

/** Most characters a transfer's note may have. */
export const MAX_NOTE_LENGTH = 200;

/** What a sender reads when a step failed for a technical reason: never the internal error's text. */
export const TRANSFER_PROCESSING_ERROR_MESSAGE = 'the transfer could not be processed';

/**
 * The transfer's `failure` for an activity failure's type and message: the same
 * codes as a payment's (business refusals and the fault drill keep their message),
 * and a transfer's own fixed text for a processing error.
 */
export function transferFailureOf(errorType: string | undefined, message: string): { code: string; message: string } {
  const failure = paymentFailureOf(errorType, message);
  return failure.code === 'processing_error' ? { code: failure.code, message: TRANSFER_PROCESSING_ERROR_MESSAGE } : failure;
}

/** Input of the transfer saga `transfer-<transferId>`: readable in the Web UI, no secrets, no e-mail addresses. */
export interface TransferInput {
  transferId: string;
  senderId: string;
  recipientId: string;
  recipientName: string;
  amount: number;
  currency: string;
  /** The task queue of the notifications worker. */
  notificationsTaskQueue: string;
}

/** What the transfer saga ends with. */
export interface TransferOutcome {
  status: 'succeeded' | 'failed';
  failure: { code: string; message: string } | null;
  compensated: string[];
  notified: boolean;
}
