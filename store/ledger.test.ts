import type { Knex } from 'knex';
import { reconcile } from './reconciliation';
import { postJournal, type JournalRequest } from './ledger';
import { DomainError, ErrorType } from '../domain/errors';
import { newId } from '../domain/ids';
import { systemAccountId } from '../domain/types';
import { createDatabase } from '../infra/database';
import { balanceOf, sumOfEntries, userWithWallet } from '../test/support/fixtures';
import { testConfig } from '../test/support/stack';

let db: Knex;

beforeAll(() => {
  db = createDatabase(testConfig().databaseUrl, 60);
});

afterAll(async () => {
  await db.destroy();
});

function transfer(key: string, from: string, to: string, amount: number): JournalRequest {
  return {
    key,
    type: 'transfer',
    referenceId: key,
    lines: [
      { accountId: from, amount: -amount, type: 'transfer_out' },
      { accountId: to, amount, type: 'transfer_in' },
    ],
  };
}

describe('postJournal', () => {
  it('when the same key is posted again, then money moves once and the first record is returned', async () => {
    const alice = await userWithWallet(db, { balance: 1_000 });
    const bob = await userWithWallet(db);
    const key = `test:${newId('jnl')}`;

    const first = await postJournal(db, transfer(key, alice.wallet.id, bob.wallet.id, 300));
    const second = await postJournal(db, transfer(key, alice.wallet.id, bob.wallet.id, 300));

    expect(first.replayed).toBe(false);
    expect(second).toEqual({ ...first, replayed: true });
    expect(await balanceOf(db, alice.wallet.id)).toBe(700);
    expect(await balanceOf(db, bob.wallet.id)).toBe(300);
    expect(await db('journals').where({ journal_key: key }).count({ n: '*' })).toEqual([{ n: 1 }]);
    expect(first.entries.map((entry) => [entry.accountId, entry.amount, entry.balanceAfter])).toEqual([
      [alice.wallet.id, -300, 700],
      [bob.wallet.id, 300, 300],
    ]);
  });

  it('when the same key is posted concurrently, then exactly one journal is written', async () => {
    const alice = await userWithWallet(db, { balance: 1_000 });
    const bob = await userWithWallet(db);
    const key = `test:${newId('jnl')}`;

    const results = await Promise.all(Array.from({ length: 10 }, () => postJournal(db, transfer(key, alice.wallet.id, bob.wallet.id, 100))));

    expect(results.filter((result) => !result.replayed)).toHaveLength(1);
    expect(new Set(results.map((result) => result.journalId)).size).toBe(1);
    expect(await balanceOf(db, bob.wallet.id)).toBe(100);
  });

  it('when 50 postings run concurrently on the same two accounts, then balances equal the sum of their entries', async () => {
    const alice = await userWithWallet(db, { balance: 10_000 });
    const bob = await userWithWallet(db, { balance: 10_000 });

    await Promise.all(
      Array.from({ length: 50 }, (_, index) =>
        index % 2 === 0
          ? postJournal(db, transfer(`test:${newId('jnl')}`, alice.wallet.id, bob.wallet.id, 100 + index))
          : postJournal(db, transfer(`test:${newId('jnl')}`, bob.wallet.id, alice.wallet.id, 7)),
      ),
    );

    const movedToBob = Array.from({ length: 25 }, (_, index) => 100 + index * 2).reduce((a, b) => a + b, 0);
    const movedToAlice = 25 * 7;
    expect(await balanceOf(db, alice.wallet.id)).toBe(10_000 - movedToBob + movedToAlice);
    expect(await balanceOf(db, bob.wallet.id)).toBe(10_000 + movedToBob - movedToAlice);
    expect(await sumOfEntries(db, alice.wallet.id)).toBe(await balanceOf(db, alice.wallet.id));
    expect(await sumOfEntries(db, bob.wallet.id)).toBe(await balanceOf(db, bob.wallet.id));
    const entries = await db('entries').select('amount', 'balance_after').where({ account_id: bob.wallet.id }).orderBy('seq', 'asc');
    let running = 0;
    for (const entry of entries) {
      running += Number(entry.amount);
      expect(Number(entry.balance_after)).toBe(running);
    }
  });

  it('when a posting would make a user wallet negative, then it is refused and changes nothing', async () => {
    const alice = await userWithWallet(db, { balance: 500 });
    const bob = await userWithWallet(db);
    const key = `test:${newId('jnl')}`;

    await expect(postJournal(db, transfer(key, alice.wallet.id, bob.wallet.id, 501))).rejects.toMatchObject({
      type: ErrorType.InsufficientFunds,
    });

    expect(await balanceOf(db, alice.wallet.id)).toBe(500);
    expect(await balanceOf(db, bob.wallet.id)).toBe(0);
    expect(await db('journals').where({ journal_key: key }).first()).toBeUndefined();
    expect(await db('entries').whereIn('account_id', [alice.wallet.id, bob.wallet.id]).andWhere({ reference_id: key })).toEqual([]);
  });

  it('when a system account goes below zero, then that is allowed (it is the other side of user money)', async () => {
    const bob = await userWithWallet(db);
    const posted = await postJournal(db, transfer(`test:${newId('jnl')}`, systemAccountId('external', 'USD'), bob.wallet.id, 250));
    expect(posted.entries[1]?.balanceAfter).toBe(250);
  });

  it('when lines do not sum to zero, mix currencies, or name a missing account, then nothing is written', async () => {
    const alice = await userWithWallet(db, { balance: 500 });
    const euro = await userWithWallet(db, { currency: 'EUR', balance: 500 });
    const unbalanced = transfer(`test:${newId('jnl')}`, alice.wallet.id, euro.wallet.id, 1);
    unbalanced.lines[1] = { accountId: euro.wallet.id, amount: 2, type: 'transfer_in' };

    await expect(postJournal(db, unbalanced)).rejects.toMatchObject({ type: ErrorType.UnbalancedJournal });
    await expect(postJournal(db, transfer(`test:${newId('jnl')}`, alice.wallet.id, euro.wallet.id, 1))).rejects.toMatchObject({
      type: ErrorType.CurrencyMismatch,
    });
    await expect(postJournal(db, transfer(`test:${newId('jnl')}`, alice.wallet.id, 'wal_missing', 1))).rejects.toBeInstanceOf(DomainError);
    await expect(postJournal(db, transfer(`test:${newId('jnl')}`, alice.wallet.id, euro.wallet.id, 1.5))).rejects.toThrow(TypeError);
    expect(await balanceOf(db, alice.wallet.id)).toBe(500);
  });

  it('when a line is 0, then it gets no entry but its account is judged; when fewer than two lines move money, then nothing is written', async () => {
    const alice = await userWithWallet(db, { balance: 500 });
    const bob = await userWithWallet(db);
    const frozen = await userWithWallet(db);
    await db('accounts').where({ id: frozen.wallet.id }).update({ status: 'frozen' });
    const key = `test:${newId('jnl')}`;
    const withZero = transfer(key, alice.wallet.id, bob.wallet.id, 100);
    withZero.lines.push({ accountId: frozen.wallet.id, amount: -0, type: 'transfer_out' });

    await expect(postJournal(db, { ...withZero, requireActive: [frozen.wallet.id] })).rejects.toMatchObject({ type: ErrorType.WalletFrozen });
    const posted = await postJournal(db, withZero);
    const again = await postJournal(db, withZero);

    expect(posted.entries.map((entry) => entry.accountId)).toEqual([alice.wallet.id, bob.wallet.id]);
    expect(again).toEqual({ ...posted, replayed: true });
    expect(await db('entries').where({ account_id: frozen.wallet.id })).toEqual([]);
    const nothing = transfer(`test:${newId('jnl')}`, alice.wallet.id, bob.wallet.id, 0);
    await expect(postJournal(db, nothing)).rejects.toThrow(RangeError);
    expect(await db('journals').where({ journal_key: nothing.key })).toEqual([]);
  });

  it('when a wallet that must be active is frozen, then the posting is refused', async () => {
    const alice = await userWithWallet(db, { balance: 500 });
    const bob = await userWithWallet(db);
    await db('accounts').where({ id: alice.wallet.id }).update({ status: 'frozen' });
    const request = { ...transfer(`test:${newId('jnl')}`, alice.wallet.id, bob.wallet.id, 100), requireActive: [alice.wallet.id] };

    await expect(postJournal(db, request)).rejects.toMatchObject({ type: ErrorType.WalletFrozen });
    expect(await balanceOf(db, alice.wallet.id)).toBe(500);
  });

  it('when everything above has run, then the ledger reconciles', async () => {
    const report = await reconcile(db, { stuckAfterMs: 3_600_000 });
    expect(report).toMatchObject({ sumOfAllAccounts: 0, unbalancedJournals: 0, walletsOutOfSync: 0, negativeUserWallets: 0 });
  });
});
