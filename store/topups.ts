import type { Knex } from 'knex';
import { toSafeInteger } from '../domain/money';
import { systemAccountId } from '../domain/types';
import type { TopupRow } from '../infra/tables';
import { postJournal } from './ledger';

/** A top-up from the simulated external funding source. */
export interface Topup {
  id: string;
  walletId: string;
  amount: number;
  currency: string;
  status: 'succeeded';
  createdAt: string;
}

function toTopup(row: Omit<TopupRow, 'seq'>): Topup {
  return {
    id: row.id,
    walletId: row.wallet_id,
    amount: toSafeInteger(row.amount, 'amount'),
    currency: row.currency,
    status: row.status,
    createdAt: row.created_at.toISOString(),
  };
}

/** Moves `amount` from the external account into the wallet and records the top-up, inside `trx`. */
export async function createTopup(
  db: Knex,
  trx: Knex.Transaction,
  input: { topupId: string; walletId: string; userId: string; amount: number; currency: string },
): Promise<Topup> {
  const posted = await postJournal(
    db,
    {
      key: `topup:${input.topupId}`,
      type: 'topup',
      referenceId: input.topupId,
      lines: [
        { accountId: systemAccountId('external', input.currency), amount: -input.amount, type: 'topup' },
        { accountId: input.walletId, amount: input.amount, type: 'topup' },
      ],
      requireActive: [input.walletId],
    },
    trx,
  );
  const row: Omit<TopupRow, 'seq'> = {
    id: input.topupId,
    wallet_id: input.walletId,
    user_id: input.userId,
    amount: input.amount,
    currency: input.currency,
    status: 'succeeded',
    journal_id: posted.journalId,
    created_at: new Date(),
  };
  await trx('topups').insert(row);
  return toTopup(row);
}

/** The top-up with this id, or null. */
export async function findTopup(db: Knex, topupId: string): Promise<Topup | null> {
  const row = await db('topups').where({ id: topupId }).first();
  return row ? toTopup(row) : null;
}
