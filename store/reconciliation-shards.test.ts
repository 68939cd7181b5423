import type { Knex } from 'knex';
import { insertUser } from '../api/users';
import { newId } from '../domain/ids';
import { systemAccountId, type Role } from '../domain/types';
import { createDatabase } from '../infra/database';
import { uniqueEmail } from '../test/support/fixtures';
import { testConfig } from '../test/support/stack';
import { ensureSystemAccounts, postJournal } from './ledger';
import { insertPendingPayment } from './payment-records';
import { reconcileIn, type ReconciliationReport } from './reconciliation';
import { createWallet } from './wallets';

/**
 * Reconciliation of a sharded clearing (issue 11): each clearing shard must hold exactly the money
 * of the sagas in flight on it, the currency's shards together the money of all its sagas in
 * flight, and a saga keeps its money on one shard. Each test writes in a transaction that is
 * always rolled back, in XTS (ISO 4217's code for testing) with four shards of its own, so the
 * other test files, which reconcile the shared database, never see it.
 */
const CURRENCY = 'XTS';
const SHARDS = 4;
const EXTERNAL = systemAccountId('external', CURRENCY);
const clearing = (shard: number) => systemAccountId('clearing', CURRENCY, shard);
const fees = (shard: number) => systemAccountId('fees', CURRENCY, shard);
const AMOUNT = 1_234;
const FEE = 25;
const OPTIONS = { stuckAfterMs: 7 * 86_400_000 };

let db: Knex;

beforeAll(() => {
  db = createDatabase(testConfig().databaseUrl, 2);
});

afterAll(async () => {
  await db.destroy();
});

async function inRolledBackTransaction(work: (trx: Knex.Transaction) => Promise<void>): Promise<void> {
  const trx = await db.transaction();
  try {
    await ensureSystemAccounts(trx, [CURRENCY], SHARDS);
    await work(trx);
  } finally {
    await trx.rollback();
  }
}

async function post(trx: Knex.Transaction, key: string, referenceId: string, lines: Array<[accountId: string, amount: number]>, holds: Array<{ accountId: string; amount: number }> = []) {
  await postJournal(trx, { key, type: key.slice(key.lastIndexOf(':') + 1), referenceId, lines: lines.map(([accountId, amount]) => ({ accountId, amount, type: 'reversal' })), holds }, trx);
}

async function walletOf(trx: Knex.Transaction, role: Role, balance = 0): Promise<{ userId: string; walletId: string }> {
  const user = await insertUser(trx, { email: uniqueEmail(role), passwordHash: 'not-a-real-hash', name: 'Fixture', phone: null, role, currency: CURRENCY });
  const wallet = await createWallet(trx, user.id, CURRENCY);
  if (balance > 0) await post(trx, `fixture:${wallet.id}`, wallet.id, [[EXTERNAL, -balance], [wallet.id, balance]]);
  return { userId: user.id, walletId: wallet.id };
}

/** A processing payment of AMOUNT (fee FEE) between two fresh XTS wallets. */
async function processingPayment(trx: Knex.Transaction) {
  const payer = await walletOf(trx, 'customer', 10_000);
  const merchant = await walletOf(trx, 'merchant');
  const id = newId('pay');
  await insertPendingPayment(trx, {
    ...{ id, amount: AMOUNT, fee: FEE, netAmount: AMOUNT - FEE, currency: CURRENCY, description: null, faultStep: null },
    ...{ payerId: payer.userId, sourceWalletId: payer.walletId, merchantId: merchant.userId, merchantWalletId: merchant.walletId },
  });
  await trx('payments').where({ id }).update({ status: 'processing' });
  return { id, payerWalletId: payer.walletId, merchantWalletId: merchant.walletId };
}

/** What the report says about XTS and these sagas only: the shared database holds others'. */
function findingsOf(report: ReconciliationReport, sagaIds: string[]) {
  return {
    clearingMismatch: report.clearingMismatch.filter((mismatch) => mismatch.currency === CURRENCY),
    clearingShardMismatch: report.clearingShardMismatch.filter((mismatch) => mismatch.currency === CURRENCY),
    offendingSagas: report.offendingSagas.filter((id) => sagaIds.includes(id)),
  };
}

const CLEAN = { clearingMismatch: [], clearingShardMismatch: [], offendingSagas: [] };

describe('reconciliation of sharded clearing accounts', () => {
  it('when the accounts are ensured twice with more shards the second time, then each kind has its shards once, external and promotions one', async () => {
    await inRolledBackTransaction(async (trx) => {
      await ensureSystemAccounts(trx, [CURRENCY], SHARDS + 2);
      const rows: Array<{ kind: string }> = await trx('accounts').select('kind').where({ currency: CURRENCY }).whereNot({ kind: 'wallet' });
      const counts: Record<string, number> = {};
      for (const { kind } of rows) counts[kind] = (counts[kind] ?? 0) + 1;
      expect(counts).toEqual({ external: 1, promotions: 1, fees: SHARDS + 2, clearing: SHARDS + 2 });
      const shards = (await trx('accounts').select('shard').where({ currency: CURRENCY, kind: 'clearing' }).orderBy('shard')) as Array<{ shard: number }>;
      expect(shards.map((row) => row.shard)).toEqual([0, 1, 2, 3, 4, 5]);
    });
  });

  it('when several workers start at once and ensure the accounts of a currency no one has used, then none fails and each account exists once', async () => {
    // Committed, in XXX (ISO 4217's "no currency"), which nothing else uses: empty accounts reconcile.
    const pool = createDatabase(testConfig().databaseUrl, 8);
    try {
      const starts = Array.from({ length: 8 }, () => ensureSystemAccounts(pool, ['XXX'], SHARDS));
      await expect(Promise.all(starts)).resolves.toHaveLength(8);
      const rows: Array<{ id: string }> = await pool('accounts').select('id').where({ currency: 'XXX' });
      expect(rows).toHaveLength(2 + 2 * SHARDS);
      expect(new Set(rows.map((row) => row.id)).size).toBe(rows.length);
    } finally {
      await pool.destroy();
    }
  });

  it('when payments in flight sit on different shards, then every shard and the currency reconcile', async () => {
    await inRolledBackTransaction(async (trx) => {
      const first = await processingPayment(trx);
      const second = await processingPayment(trx);
      await post(trx, `${first.id}:debit_payer`, first.id, [[first.payerWalletId, -AMOUNT], [clearing(1), AMOUNT]]);
      await post(trx, `${second.id}:debit_payer`, second.id, [[second.payerWalletId, -AMOUNT], [clearing(3), AMOUNT]]);
      await post(trx, `${second.id}:credit_merchant`, second.id, [[clearing(3), -AMOUNT], [second.merchantWalletId, AMOUNT - FEE], [fees(3), FEE]], [
        { accountId: second.merchantWalletId, amount: AMOUNT - FEE },
      ]);

      const report = await reconcileIn(trx, OPTIONS);

      expect(findingsOf(report, [first.id, second.id])).toEqual(CLEAN);
    });
  });

  it('when money enters one shard without a saga, then clearingShardMismatch names that shard and the currency mismatches too', async () => {
    await inRolledBackTransaction(async (trx) => {
      const payment = await processingPayment(trx);
      await post(trx, `${payment.id}:debit_payer`, payment.id, [[payment.payerWalletId, -AMOUNT], [clearing(1), AMOUNT]]);
      await post(trx, 'corruption:clearing', 'corruption', [[EXTERNAL, -500], [clearing(2), 500]]);

      const report = await reconcileIn(trx, OPTIONS);

      expect(findingsOf(report, [payment.id])).toEqual({
        clearingMismatch: [{ currency: CURRENCY, clearingBalance: AMOUNT + 500, sagasInFlight: AMOUNT }],
        clearingShardMismatch: [{ currency: CURRENCY, shard: 2, accountId: clearing(2), clearingBalance: 500, sagasInFlight: 0 }],
        offendingSagas: [],
      });
      expect(report.ok).toBe(false);
    });
  });

  it('when money moves between two shards and the currency total stays right, then both shards mismatch', async () => {
    await inRolledBackTransaction(async (trx) => {
      await post(trx, 'corruption:shuffle', 'corruption', [[clearing(0), -700], [clearing(3), 700]]);

      const findings = findingsOf(await reconcileIn(trx, OPTIONS), []);

      expect(findings.clearingMismatch).toEqual([]);
      expect(findings.clearingShardMismatch).toEqual([
        { currency: CURRENCY, shard: 0, accountId: clearing(0), clearingBalance: -700, sagasInFlight: 0 },
        { currency: CURRENCY, shard: 3, accountId: clearing(3), clearingBalance: 700, sagasInFlight: 0 },
      ]);
    });
  });

  it('when a payment in flight took its money out of another shard than it put it in, then it is offending and both shards mismatch', async () => {
    await inRolledBackTransaction(async (trx) => {
      const payment = await processingPayment(trx);
      await post(trx, `${payment.id}:debit_payer`, payment.id, [[payment.payerWalletId, -AMOUNT], [clearing(1), AMOUNT]]);
      await post(trx, `${payment.id}:credit_merchant`, payment.id, [[clearing(2), -AMOUNT], [payment.merchantWalletId, AMOUNT - FEE], [fees(2), FEE]], [
        { accountId: payment.merchantWalletId, amount: AMOUNT - FEE },
      ]);

      const findings = findingsOf(await reconcileIn(trx, OPTIONS), [payment.id]);

      expect(findings).toEqual({
        clearingMismatch: [],
        clearingShardMismatch: [
          { currency: CURRENCY, shard: 1, accountId: clearing(1), clearingBalance: AMOUNT, sagasInFlight: 0 },
          { currency: CURRENCY, shard: 2, accountId: clearing(2), clearingBalance: -AMOUNT, sagasInFlight: 0 },
        ],
        offendingSagas: [payment.id],
      });
    });
  });
});
