import { describeError } from '../infra/logger';
import { ensureSystemAccounts } from '../store/ledger';
import { Client } from '@temporalio/client';
import { buildPaymentsWorker, ensureRecoverySchedule } from './build';
import { runWorkerProcess } from './main';

/** Composition root of the payments worker process. */
runWorkerProcess(
  'payments',
  (config) => config.temporal.paymentsTaskQueue,
  buildPaymentsWorker,
  async (dependencies, config) => {
    // This worker is what moves money through clearing and fees: every shard it may pick exists before it polls.
    await ensureSystemAccounts(dependencies.db, config.money.currencies, config.ledgerSystemShards);
    if (!config.sagaRecovery.enabled) return;
    const client = new Client({ connection: dependencies.connection, namespace: dependencies.namespace });
    await ensureRecoverySchedule(client, dependencies.taskQueue, config.sagaRecovery.intervalMs);
  },
).catch((error: unknown) => {
  console.error('payments worker failed:', describeError(error));
  process.exit(1);
});
