import { proxyActivities } from '@temporalio/workflow';
import type { RecoveryActivities, RecoveryReport } from '../activities/recovery';

const recovery = proxyActivities<RecoveryActivities>({
  startToCloseTimeout: '1 minute',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '10 seconds', maximumAttempts: 3 },
});

/**
 * `saga-recovery-<task queue>`, started by a Temporal Schedule (overlap SKIP): one pass that
 * starts, or expires, the payments and transfers whose workflow never started, and restarts
 * onboardings that are gone. Its result in the Web UI says what it did.
 */
export function sagaRecoveryWorkflow(): Promise<RecoveryReport> {
  return recovery.recoverUnstartedSagas();
}
