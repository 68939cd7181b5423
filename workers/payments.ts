import { describeError } from '../infra/logger';
import { ensureSystemAccounts } from '../activities/ledger';
import { buildPaymentsWorker } from './build';
import { runWorkerProcess } from './main';

/** Composition root of the payments worker process. */
runWorkerProcess(
  'payments',
  (config) => config.temporal.paymentsTaskQueue,
  buildPaymentsWorker,
  (dependencies, config) => ensureSystemAccounts(dependencies.db, config.money.currencies),
).catch((error: unknown) => {
  console.error('payments worker failed:', describeError(error));
  process.exit(1);
});
