import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { bundleWorkflowCode } from '@temporalio/worker';
import { newId } from '../../domain/ids';
import type { PaymentInput } from '../../domain/payments';
import { CustomerIdKey, MerchantIdKey, PaymentIdKey, SagaStatusKey } from '../../domain/search-attributes';
import { freePort, type ManagedProcess } from '../../scripts/lib/processes';
import { PAYMENT_AMOUNT } from './load';
import type { BenchPopulation, BenchUser } from './seed';
import { quietBundlerLogger, waitForLogLine, type BenchStack } from './stack';
import { countInto, percentilesOf, perSecond, type Percentiles } from './stats';

/** Task queues of the no-op saga: its own, so the real workers never take its tasks. */
const PAYMENTS_QUEUE = 'bench-ceiling-payments';
const NOTIFICATIONS_QUEUE = 'bench-ceiling-notifications';

/** What one concurrency level of the no-op saga did. */
export interface CeilingLevel {
  concurrency: number;
  completed: number;
  workflowsPerSecond: number;
  /** From `workflow.execute` called to its result. */
  latencyMs: Percentiles;
  errors: Record<string, number>;
}

/** The no-op workers, and how to run a level against them. */
export interface Ceiling {
  runLevel(concurrency: number, durationS: number, say: (line: string) => void): Promise<CeilingLevel>;
  stop(): Promise<void>;
}

/** Bundles the no-op saga, starts its payments and notifications worker processes, connects a client. */
export async function startCeiling(stack: BenchStack, population: BenchPopulation): Promise<Ceiling> {
  const bundlePath = join(stack.root, 'ceiling-bundle.js');
  const { code } = await bundleWorkflowCode({ workflowsPath: require.resolve('../ceiling/workflows'), logger: quietBundlerLogger });
  writeFileSync(bundlePath, code);
  const workers: ManagedProcess[] = [];
  const connection = await Connection.connect({ address: stack.config.temporal.address });
  try {
    for (const role of ['notifications', 'payments'] as const) {
      const child = stack.spawnChild(`ceiling-${role}-worker`, 'bench/ceiling/worker.ts', {
        BENCH_CEILING_ROLE: role,
        BENCH_CEILING_BUNDLE: bundlePath,
        BENCH_CEILING_PAYMENTS_QUEUE: PAYMENTS_QUEUE,
        BENCH_CEILING_NOTIFICATIONS_QUEUE: NOTIFICATIONS_QUEUE,
        WORKER_METRICS_PORT: String(await freePort()),
      });
      workers.push(child.process);
      await waitForLogLine(child, `ceiling ${role} worker polling`, `the no-op ${role} worker to poll`);
    }
  } catch (error) {
    await Promise.all(workers.map((worker) => worker.stop()));
    await connection.close();
    throw error;
  }
  const client = new Client({ connection, namespace: stack.config.temporal.namespace });
  return {
    runLevel: (concurrency, durationS, say) => runLevel(client, population, concurrency, durationS, say),
    stop: async () => {
      await Promise.all(workers.map((worker) => worker.stop()));
      await connection.close();
    },
  };
}

/** Starts one no-op saga the way infra/sagas.ts starts a payment (same options, summary and search attributes) and waits for its result. */
async function executeOne(client: Client, payer: BenchUser, merchant: BenchUser, currency: string): Promise<void> {
  const paymentId = newId('pay');
  const input: PaymentInput = {
    paymentId,
    payerId: payer.id,
    merchantId: merchant.id,
    merchantName: 'Bench merchant 0',
    amount: PAYMENT_AMOUNT,
    fee: 2,
    netAmount: PAYMENT_AMOUNT - 2,
    currency,
    notificationsTaskQueue: NOTIFICATIONS_QUEUE,
  };
  await client.workflow.execute('noopPaymentWorkflow', {
    taskQueue: PAYMENTS_QUEUE,
    workflowId: `payment-${paymentId}`,
    args: [input],
    workflowIdConflictPolicy: 'USE_EXISTING',
    workflowIdReusePolicy: 'REJECT_DUPLICATE',
    staticSummary: `pay 1.00 ${currency} to Bench merchant 0`,
    staticDetails: `payment ${paymentId}: payer ${payer.id} → merchant ${merchant.id}; fee 0.02, net 0.98 ${currency}`,
    typedSearchAttributes: [
      { key: PaymentIdKey, value: paymentId },
      { key: CustomerIdKey, value: payer.id },
      { key: MerchantIdKey, value: merchant.id },
      { key: SagaStatusKey, value: 'running' },
    ],
  });
}

/** `concurrency` loops, each starting the next no-op saga once its previous one ended, for `durationS` seconds. */
async function runLevel(client: Client, population: BenchPopulation, concurrency: number, durationS: number, say: (line: string) => void): Promise<CeilingLevel> {
  const latenciesMs: number[] = [];
  const errors: Record<string, number> = {};
  const startedAt = Date.now();
  const endsAt = startedAt + durationS * 1_000;
  let next = 0;
  let lastCompleted = 0;
  let second = 0;
  const progress = setInterval(() => {
    second += 1;
    say(`  [ceiling c=${concurrency}] ${second}s  completed ${latenciesMs.length} (+${latenciesMs.length - lastCompleted}/s)  errors ${Object.values(errors).reduce((sum, count) => sum + count, 0)}`);
    lastCompleted = latenciesMs.length;
  }, 1_000);
  const loop = async () => {
    while (Date.now() < endsAt) {
      const index = next;
      next += 1;
      const payer = population.customers[index % population.customers.length] as BenchUser;
      const merchant = population.merchants[index % population.merchants.length] as BenchUser;
      const began = performance.now();
      try {
        await executeOne(client, payer, merchant, population.currency);
        latenciesMs.push(performance.now() - began);
      } catch (error) {
        countInto(errors, error instanceof Error ? error.name : 'unknown');
      }
    }
  };
  try {
    await Promise.all(Array.from({ length: concurrency }, loop));
  } finally {
    clearInterval(progress);
  }
  return {
    concurrency,
    completed: latenciesMs.length,
    workflowsPerSecond: perSecond(latenciesMs.length, durationS * 1_000),
    latencyMs: percentilesOf(latenciesMs),
    errors,
  };
}
