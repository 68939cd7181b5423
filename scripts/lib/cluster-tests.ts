/**
 * The real-stack tests `npm run cluster:test` runs against the Temporal cluster, and what each
 * one stands for: together they cover every saga kind, the recovery schedule, risk reviews and
 * the web wallet. scripts/lib/cluster-tests.test.ts checks that every file exists.
 */

/** A part of the contract the cluster must keep, and the test file that proves it there. */
export interface ClusterTest {
  file: string;
  covers: string;
}

export const CLUSTER_TESTS: readonly ClusterTest[] = [
  { file: 'scripts/lib/launchers.test.ts', covers: 'the namespace and its four search attributes, with their types' },
  { file: 'test/api.test.ts', covers: 'sign-up and the onboarding saga, wallets, the contract of the main routes' },
  { file: 'test/payments.test.ts', covers: 'the payment saga: success, refusals, compensation, idempotency, Update-with-Start' },
  { file: 'test/transfers.test.ts', covers: 'the transfer saga' },
  { file: 'test/refunds.test.ts', covers: 'the refund saga' },
  { file: 'test/risk.test.ts', covers: 'risk reviews: sagas held for a review, approved or rejected' },
  { file: 'test/recovery.test.ts', covers: 'the recovery schedule: unstarted sagas started or expired, lost onboardings run again' },
  { file: 'test/web-wallet.test.ts', covers: 'the web wallet in a browser (headless Chromium) against the API and the sagas' },
];

/** The namespace the cluster tests run in: their own, so the cluster's own workers (namespace `default`) never take their tasks. */
export const CLUSTER_TEST_NAMESPACE = 'sagapay-test';
