import type { MoneySagaStatus } from './money-sagas';

/** Statuses of a transfer; the last two are final (see `isFinalStatus`). */
export type TransferStatus = MoneySagaStatus;

/** Most characters a transfer's note may have. */
export const MAX_NOTE_LENGTH = 200;

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
