import { createPaymentSagaActivities } from './payments';
import { shardOfSaga } from '../domain/ledger-shards';
import { systemAccountId } from '../domain/types';
import { reconcile } from '../store/reconciliation';
import { paymentFixture, validated, type CreatedSaga } from '../test/support/money-saga-fixtures';
import { allShardsOf, clearingOf, feesOf, LEDGER_SHARDS, useSagaActivityHarness } from '../test/support/saga-activities';

/**
 * Sharded clearing and fee accounts on the real database (issue 11): each payment moves its money
 * through the accounts of its own shard, a compensation goes back through the account its step
 * used even when the number of shards changed in between, and many payments in parallel leave
 * every shard's balance-after chain exact and the ledger summing to zero.
 */
const harness = useSagaActivityHarness(() => payments.endLeftovers());
const { movedBy } = harness;
const db = () => harness.db();
const payments = paymentFixture(harness);
const AMOUNT = 10_000;
const FEE = 300;
/** Long enough that no saga of the shared database counts as stuck: these tests look at money only. */
const STUCK_AFTER_MS = 7 * 86_400_000;

/** The clearing and fee accounts a saga's entries touched. */
async function systemAccountsTouchedBy(sagaId: string): Promise<string[]> {
  const rows = (await db()('entries as e')
    .join('accounts as a', 'a.id', 'e.account_id')
    .distinct('a.id')
    .where({ 'e.reference_id': sagaId })
    .whereIn('a.kind', ['clearing', 'fees'])
    .orderBy('a.id')) as Array<{ id: string }>;
  return rows.map((row) => row.id);
}

/** Validated payments until one satisfies `wanted` (a shard condition on its id); the others are ended by the harness. */
async function paymentWhere(wanted: (sagaId: string) => boolean): Promise<CreatedSaga> {
  for (let tries = 0; tries < 200; tries += 1) {
    const saga = await validated(db(), payments);
    if (wanted(saga.sagaId)) return saga;
  }
  throw new Error('no payment id met the shard condition in 200 tries');
}

describe('sharded clearing and fee accounts', () => {
  it('when two payments hash to different shards, then each moves its money and fee through its own shard’s accounts only', async () => {
    expect(LEDGER_SHARDS).toBeGreaterThan(1);
    const first = await validated(db(), payments);
    const second = await paymentWhere((id) => shardOfSaga(id, LEDGER_SHARDS) !== shardOfSaga(first.sagaId, LEDGER_SHARDS));
    const saga = payments.activities();

    for (const { sagaId } of [first, second]) {
      await saga.debit(sagaId);
      expect(await movedBy(sagaId, clearingOf(sagaId))).toBe(AMOUNT);
      await saga.credit(sagaId);
      await saga.writeLedger(sagaId);
    }

    expect(clearingOf(first.sagaId)).not.toBe(clearingOf(second.sagaId));
    for (const { sagaId } of [first, second]) {
      expect(await systemAccountsTouchedBy(sagaId)).toEqual([clearingOf(sagaId), feesOf(sagaId)].sort());
      expect(await movedBy(sagaId, clearingOf(sagaId))).toBe(0);
      expect(await movedBy(sagaId, feesOf(sagaId))).toBe(FEE);
    }
  });

  it('when the number of shards changes after debit_payer, then the credit and both compensations use the debit’s clearing account, and a new payment the new count', async () => {
    // A payment whose shard among LEDGER_SHARDS is not 0, the only shard of a one-shard ledger.
    const { sagaId } = await paymentWhere((id) => shardOfSaga(id, LEDGER_SHARDS) !== 0);
    await payments.activities().debit(sagaId);
    const oneShard = createPaymentSagaActivities({ db: db(), paymentDailyLimit: Number.MAX_SAFE_INTEGER, ledgerSystemShards: 1 });

    await harness.run(oneShard.creditMerchant, { paymentId: sagaId });
    expect(await movedBy(sagaId, clearingOf(sagaId))).toBe(0);
    expect(await movedBy(sagaId, feesOf(sagaId))).toBe(FEE);
    await harness.run(oneShard.beginPaymentCompensation, { paymentId: sagaId });
    await harness.run(oneShard.reverseMerchantCredit, { paymentId: sagaId });
    expect(await movedBy(sagaId, clearingOf(sagaId))).toBe(AMOUNT);
    await harness.run(oneShard.refundPayer, { paymentId: sagaId });

    expect(await systemAccountsTouchedBy(sagaId)).toEqual([clearingOf(sagaId), feesOf(sagaId)].sort());
    expect(await movedBy(sagaId, clearingOf(sagaId))).toBe(0);
    expect(await movedBy(sagaId, feesOf(sagaId))).toBe(0);
    await harness.run(oneShard.failPayment, { paymentId: sagaId, step: 'credit_merchant', code: 'processing_error', message: 'drill' });

    // The one-shard activities do pick shard 0 for a payment that has not moved money yet.
    const fresh = await paymentWhere((id) => shardOfSaga(id, LEDGER_SHARDS) !== 0);
    await harness.run(oneShard.debitPayer, { paymentId: fresh.sagaId });
    expect(await systemAccountsTouchedBy(fresh.sagaId)).toEqual([systemAccountId('clearing', 'USD', 0)]);
  });

  it('when 24 payments run their steps in parallel, then they spread over the shards, every shard’s balance-after chain is exact and the ledger sums to zero', async () => {
    const sagas = await Promise.all(Array.from({ length: 24 }, () => validated(db(), payments)));
    const saga = payments.activities();

    await Promise.all(
      sagas.map(async ({ sagaId }) => {
        await saga.debit(sagaId);
        await saga.credit(sagaId);
        await saga.writeLedger(sagaId);
      }),
    );

    const shards = new Set(sagas.map(({ sagaId }) => shardOfSaga(sagaId, LEDGER_SHARDS)));
    expect(shards.size).toBeGreaterThan(1);
    for (const { sagaId } of sagas) {
      expect(await movedBy(sagaId, clearingOf(sagaId))).toBe(0);
      expect(await movedBy(sagaId, feesOf(sagaId))).toBe(FEE);
    }
    // One snapshot: each account's entries, in the order they were posted, add up to each balance-after and to the balance.
    const chains = await db().transaction(
      async (trx) => {
        const broken: string[] = [];
        for (const accountId of [...allShardsOf('clearing'), ...allShardsOf('fees')]) {
          const entries = (await trx('entries').select('amount', 'balance_after').where({ account_id: accountId }).orderBy('seq')) as Array<{
            amount: number | string;
            balance_after: number | string;
          }>;
          let running = 0;
          for (const entry of entries) {
            running += Number(entry.amount);
            if (running !== Number(entry.balance_after)) broken.push(accountId);
          }
          const account = await trx('accounts').select('balance').where({ id: accountId }).first();
          if (Number(account?.balance) !== running) broken.push(`${accountId} balance`);
        }
        return broken;
      },
      { isolationLevel: 'repeatable read' },
    );
    expect(chains).toEqual([]);
    const report = await reconcile(db(), { stuckAfterMs: STUCK_AFTER_MS });
    expect(report.sumOfAllAccounts).toBe(0);
    expect(report.clearingShardMismatch.filter((mismatch) => mismatch.currency === 'USD')).toEqual([]);
    expect(report.offendingSagas.filter((id) => sagas.some(({ sagaId }) => sagaId === id))).toEqual([]);
  });
});
