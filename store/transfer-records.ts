import type { Knex } from 'knex';
import type { SagaFailure } from '../domain/money-sagas';
import { toSafeInteger } from '../domain/money';
import type { TransferStatus } from '../domain/transfers';
import { transferWorkflowId } from '../domain/workflow-ids';
import type { TransferRow } from '../infra/tables';
import { failureOf } from './saga-steps';
import { listSteps, type SagaStep } from './saga-timeline';

/** A transfer as the API shows it. */
export interface Transfer {
  id: string;
  status: TransferStatus;
  amount: number;
  currency: string;
  fromWalletId: string;
  toWalletId: string;
  note: string | null;
  failure: SagaFailure | null;
  steps: SagaStep[];
  workflowId: string;
  createdAt: string;
  updatedAt: string;
}

/** A transfer row with its amount checked: what saga activities work from. */
export interface TransferRecord {
  id: string;
  senderId: string;
  recipientId: string;
  fromWalletId: string;
  toWalletId: string;
  amount: number;
  currency: string;
  note: string | null;
  status: TransferStatus;
  failureCode: string | null;
  faultStep: string | null;
  createdAt: Date;
}

/** What a new transfer row holds before its saga starts. */
export interface NewTransfer {
  id: string;
  senderId: string;
  fromWalletId: string;
  recipientId: string;
  toWalletId: string;
  amount: number;
  currency: string;
  note: string | null;
  /** The fault drill's step, or null. */
  faultStep: string | null;
}

/** Writes a transfer `pending`, as its saga expects to find it (inside the caller's transaction, if any). */
export async function insertPendingTransfer(db: Knex | Knex.Transaction, transfer: NewTransfer): Promise<void> {
  const now = new Date();
  await db('transfers').insert({
    id: transfer.id,
    sender_id: transfer.senderId,
    from_wallet_id: transfer.fromWalletId,
    recipient_id: transfer.recipientId,
    to_wallet_id: transfer.toWalletId,
    amount: transfer.amount,
    currency: transfer.currency,
    note: transfer.note,
    status: 'pending',
    failure_code: null,
    failure_message: null,
    fault_step: transfer.faultStep,
    workflow_id: transferWorkflowId(transfer.id),
    compensation_started_at: null,
    created_at: now,
    updated_at: now,
  });
}

/** Reads a transfer row and checks its money invariants; throws if it is missing. */
export async function loadTransferRecord(db: Knex | Knex.Transaction, transferId: string, options: { forUpdate?: boolean } = {}): Promise<TransferRecord> {
  const query = db('transfers').where({ id: transferId });
  const row = await (options.forUpdate ? query.forUpdate() : query).first();
  if (!row) throw new Error(`transfer ${transferId} does not exist`);
  const amount = toSafeInteger(row.amount, 'amount');
  if (amount <= 0) throw new Error(`transfer ${transferId} has a non-positive amount`);
  if (row.from_wallet_id === row.to_wallet_id) throw new Error(`transfer ${transferId} moves money from a wallet to itself`);
  return {
    id: row.id,
    senderId: row.sender_id,
    recipientId: row.recipient_id,
    fromWalletId: row.from_wallet_id,
    toWalletId: row.to_wallet_id,
    amount,
    currency: row.currency,
    note: row.note,
    status: row.status,
    failureCode: row.failure_code,
    faultStep: row.fault_step,
    createdAt: row.created_at,
  };
}

/** Maps a transfer row and its steps to the API's Transfer. */
export function toTransfer(row: TransferRow, steps: SagaStep[]): Transfer {
  return {
    id: row.id,
    status: row.status,
    amount: toSafeInteger(row.amount, 'amount'),
    currency: row.currency,
    fromWalletId: row.from_wallet_id,
    toWalletId: row.to_wallet_id,
    note: row.note,
    failure: failureOf(row),
    steps,
    workflowId: row.workflow_id,
    createdAt: row.created_at.toISOString(),
    updatedAt: row.updated_at.toISOString(),
  };
}

/** The transfer with its steps, or null. */
export async function findTransfer(db: Knex, transferId: string): Promise<Transfer | null> {
  const row = await db('transfers').where({ id: transferId }).first();
  return row ? toTransfer(row, await listSteps(db, transferId)) : null;
}

