import { DefaultLogger, Runtime } from '@temporalio/worker';

// Test workers log only errors: expected activity failures (retries, refusals) would drown the output.
try {
  Runtime.install({ logger: new DefaultLogger('ERROR') });
} catch {
  // Already installed by an earlier test file in this jest worker process.
}
