import { parseArgs } from 'node:util';
import type { Knex } from 'knex';
import { insertUser } from '../api/users';
import { feeRoundHalfUp } from '../domain/money';
import { newId } from '../domain/ids';
import { MAX_LEDGER_SYSTEM_SHARDS } from '../domain/ledger-shards';
import { systemAccountId } from '../domain/types';
import { postJournal } from '../store/ledger';
import { insertPendingPayment } from '../store/payment-records';
import { reconcile } from '../store/reconciliation';
import { postSagaStep, type SagaRef } from '../store/saga-steps';
import { createWallet } from '../store/wallets';
import { runBenchmark, withPrivateDatabase } from './lib/private-database';

/**
 * Throughput of concurrent money steps on the real database, by number of clearing shards: the
 * hot-row question of issue 11. Starts a throw-away MariaDB, then for each shard count and each
 * concurrency runs `concurrency` loops for `seconds`; each loop has a payer and a merchant of its
 * own and repeats one payment's debit_payer and credit_merchant, the fenced saga steps exactly as
 * the activities post them (saga row lock, then accounts by id). Different loops share only the
 * clearing and fee accounts, so the one-shard run measures the hot row and the others how much
 * spreading it helps. Prints pairs per second and the latency of a pair, and checks at the end of
 * each run that the ledger reconciles. Then, per concurrency, top-up journals (external → the
 * loop's own wallet): the one `external` row per currency is their only shared lock, so flat
 * numbers across concurrencies would say it is hot too.
 *
 *   npm run bench:ledger -- [--shards 1,8] [--concurrency 8,32] [--seconds 10]
 *
 * The server is tuned for speed over durability (no fsync per commit), so commits are cheap and
 * lock waits dominate; on a shared machine the numbers move by tens of percent between runs.
 */
const { values } = parseArgs({
  options: {
    shards: { type: 'string', default: '1,8' },
    concurrency: { type: 'string', default: '8,32' },
    seconds: { type: 'string', default: '10' },
  },
});
const listOf = (text: string, max: number) => text.split(',').map((part) => Math.min(Math.max(Math.trunc(Number(part)) || 1, 1), max));
const SHARD_COUNTS = listOf(values.shards, MAX_LEDGER_SYSTEM_SHARDS);
const CONCURRENCIES = listOf(values.concurrency, 64);
const DURATION_MS = Math.min(Math.max(Number(values.seconds) || 10, 1), 120) * 1_000;
const CURRENCY = 'USD';
const AMOUNT = 1_000;
const FEE_BPS = 200;
const STARTING_BALANCE = 1_000_000_000;

interface Loop {
  payer: { userId: string; walletId: string };
  merchant: { userId: string; walletId: string };
}

interface RunResult {
  shards: number;
  concurrency: number;
  pairs: number;
  failures: number;
  pairsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
}

/** A user with a USD wallet; customers are funded from the external account. */
async function party(db: Knex, role: 'customer' | 'merchant'): Promise<{ userId: string; walletId: string }> {
  const user = await insertUser(db, { email: `${newId('req').toLowerCase()}@bench.test`, passwordHash: 'not-a-real-hash', name: 'Bench', phone: null, role, currency: CURRENCY });
  const wallet = await createWallet(db, user.id, CURRENCY);
  if (role === 'customer') {
    await postJournal(db, {
      key: `bench:fund:${wallet.id}`,
      type: 'topup',
      referenceId: wallet.id,
      lines: [
        { accountId: systemAccountId('external', CURRENCY), amount: -STARTING_BALANCE, type: 'topup' },
        { accountId: wallet.id, amount: STARTING_BALANCE, type: 'topup' },
      ],
    });
  }
  return { userId: user.id, walletId: wallet.id };
}

/** One payment's debit_payer and credit_merchant, as the payment activities post them. */
async function debitAndCredit(db: Knex, loop: Loop, shards: number): Promise<void> {
  const { fee, netAmount } = feeRoundHalfUp(AMOUNT, FEE_BPS);
  const id = newId('pay');
  await insertPendingPayment(db, {
    ...{ id, amount: AMOUNT, fee, netAmount, currency: CURRENCY, description: null, faultStep: null },
    ...{ payerId: loop.payer.userId, sourceWalletId: loop.payer.walletId, merchantId: loop.merchant.userId, merchantWalletId: loop.merchant.walletId },
  });
  await db('payments').where({ id }).update({ status: 'processing' });
  const saga: SagaRef = { kind: 'payment', id, currency: CURRENCY, shards };
  await postSagaStep(
    db,
    saga,
    'debit_payer',
    ({ clearing }) => [
      { accountId: loop.payer.walletId, amount: -AMOUNT, type: 'payment_debit' },
      { accountId: clearing, amount: AMOUNT, type: 'payment_debit' },
    ],
    { requireActive: [loop.payer.walletId], timeline: ['debit_payer', 'completed'] },
  );
  await postSagaStep(
    db,
    saga,
    'credit_merchant',
    ({ clearing, fees }) => [
      { accountId: clearing, amount: -AMOUNT, type: 'payment_credit' },
      { accountId: loop.merchant.walletId, amount: netAmount, type: 'payment_credit' },
      { accountId: fees, amount: fee, type: 'fee' },
    ],
    { requireActive: [loop.merchant.walletId], holds: [{ accountId: loop.merchant.walletId, amount: netAmount }], timeline: ['credit_merchant', 'completed'] },
  );
}

/** One top-up's journal: external → the loop's payer wallet, as store/topups.ts posts it. */
async function topUp(db: Knex, loop: Loop): Promise<void> {
  await postJournal(db, {
    key: `bench:topup:${newId('top')}`,
    type: 'topup',
    referenceId: loop.payer.walletId,
    lines: [
      { accountId: systemAccountId('external', CURRENCY), amount: -AMOUNT, type: 'topup' },
      { accountId: loop.payer.walletId, amount: AMOUNT, type: 'topup' },
    ],
  });
}

/** Runs `work` in every loop for the configured time; answers its count, failures and latencies. */
async function repeat(loops: Loop[], work: (loop: Loop) => Promise<void>): Promise<Omit<RunResult, 'shards'>> {
  const latenciesMs: number[] = [];
  let failures = 0;
  const deadline = performance.now() + DURATION_MS;
  const started = performance.now();
  await Promise.all(
    loops.map(async (loop) => {
      while (performance.now() < deadline) {
        const operationStarted = performance.now();
        try {
          await work(loop);
          latenciesMs.push(performance.now() - operationStarted);
        } catch (error) {
          failures += 1;
          if (failures <= 3) console.error('an operation failed:', error instanceof Error ? error.message : error);
        }
      }
    }),
  );
  const elapsedS = (performance.now() - started) / 1_000;
  const sorted = [...latenciesMs].sort((a, b) => a - b);
  const at = (quantile: number) => sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * quantile))] ?? Number.NaN;
  return { concurrency: loops.length, pairs: sorted.length, failures, pairsPerSecond: sorted.length / elapsedS, p50Ms: at(0.5), p99Ms: at(0.99) };
}

async function run(db: Knex, loops: Loop[], shards: number): Promise<RunResult> {
  return { shards, ...(await repeat(loops, (loop) => debitAndCredit(db, loop, shards))) };
}

async function main(): Promise<void> {
  const maxConcurrency = Math.max(...CONCURRENCIES);
  await withPrivateDatabase({ poolSize: maxConcurrency + 2, currencies: [CURRENCY], shards: Math.max(...SHARD_COUNTS) }, async (db) => {
    const loops: Loop[] = [];
    for (let index = 0; index < maxConcurrency; index += 1) loops.push({ payer: await party(db, 'customer'), merchant: await party(db, 'merchant') });
    console.log(`${DURATION_MS / 1_000} s per run; each pair = one payment's debit_payer + credit_merchant; loops have their own payer and merchant`);
    const results: RunResult[] = [];
    for (const concurrency of CONCURRENCIES) {
      for (const shards of SHARD_COUNTS) {
        const result = await run(db, loops.slice(0, concurrency), shards);
        results.push(result);
        const report = await reconcile(db, { stuckAfterMs: 86_400_000 });
        if (!report.ok) throw new Error(`the ledger does not reconcile after the run: ${JSON.stringify(report)}`);
        console.log(
          `shards ${String(shards).padStart(2)}  concurrency ${String(concurrency).padStart(2)}  ` +
            `${result.pairsPerSecond.toFixed(0).padStart(5)} pairs/s  p50 ${result.p50Ms.toFixed(1)} ms  p99 ${result.p99Ms.toFixed(1)} ms  ` +
            `(${result.pairs} pairs, ${result.failures} failed; reconciles)`,
        );
      }
    }
    for (const concurrency of CONCURRENCIES) {
      const result = await repeat(loops.slice(0, concurrency), (loop) => topUp(db, loop));
      results.push({ shards: 1, ...result });
      console.log(
        `top-ups (one external row)  concurrency ${String(concurrency).padStart(2)}  ${result.pairsPerSecond.toFixed(0).padStart(5)} journals/s  ` +
          `p50 ${result.p50Ms.toFixed(1)} ms  p99 ${result.p99Ms.toFixed(1)} ms  (${result.pairs} journals, ${result.failures} failed)`,
      );
    }
    if (results.some((result) => result.failures > 0)) process.exitCode = 1;
  });
}

runBenchmark(main);
