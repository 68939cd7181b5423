import type { Knex } from 'knex';
import { createServer } from 'node:net';
import { postJournal } from '../../store/ledger';
import { createWallet, type Wallet } from '../../store/wallets';
import { newId } from '../../domain/ids';
import { systemAccountId, type Role } from '../../domain/types';
import { insertUser, type StoredUser } from '../../api/users';

/** A port on 127.0.0.1 that nothing listens on (the system handed it out, then it was let go). */
export function closedPort(): Promise<number> {
  return new Promise((resolve) => {
    const probe = createServer().listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolve(port));
    });
  });
}

/** A unique e-mail for one test. */
export function uniqueEmail(label = 'user'): string {
  return `${label}.${newId('req').slice(4).toLowerCase()}@example.test`;
}

/** A user with a wallet funded from the external account, written straight to the database. */
export async function userWithWallet(
  db: Knex,
  options: { role?: Role; currency?: string; balance?: number } = {},
): Promise<{ user: StoredUser; wallet: Wallet }> {
  const currency = options.currency ?? 'USD';
  const user = await insertUser(db, {
    email: uniqueEmail(options.role ?? 'customer'),
    passwordHash: 'not-a-real-hash',
    name: 'Fixture',
    phone: null,
    role: options.role ?? 'customer',
    currency,
  });
  await db('users').where({ id: user.id }).update({ onboarding_status: 'completed' });
  const wallet = await createWallet(db, user.id, currency);
  if (options.balance) {
    await postJournal(db, {
      key: `fixture:${wallet.id}`,
      type: 'topup',
      referenceId: wallet.id,
      lines: [
        { accountId: systemAccountId('external', currency), amount: -options.balance, type: 'topup' },
        { accountId: wallet.id, amount: options.balance, type: 'topup' },
      ],
    });
  }
  return { user, wallet: { ...wallet, balance: options.balance ?? 0 } };
}

/** The balance column of an account. */
export async function balanceOf(db: Knex, accountId: string): Promise<number> {
  const row = await db('accounts').select('balance').where({ id: accountId }).first();
  if (!row) throw new Error(`no account ${accountId}`);
  return Number(row.balance);
}

/** The sum of an account's entries. */
export async function sumOfEntries(db: Knex, accountId: string): Promise<number> {
  const row = (await db('entries').sum({ total: 'amount' }).where({ account_id: accountId }).first()) as { total: string | number | null } | undefined;
  return Number(row?.total ?? 0);
}
