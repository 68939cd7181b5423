import { describeError } from '../infra/logger';
import { buildNotificationsWorker } from './build';
import { runWorkerProcess } from './main';

/** Composition root of the notifications worker process. */
runWorkerProcess('notifications', (config) => config.temporal.notificationsTaskQueue, buildNotificationsWorker).catch((error: unknown) => {
  console.error('notifications worker failed:', describeError(error));
  process.exit(1);
});
