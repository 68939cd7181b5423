import { WorkflowFailedError } from '@temporalio/client';
import { ActivityFailure, ApplicationFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { DefaultLogger, Worker } from '@temporalio/worker';
import type { Knex } from 'knex';
import { createPaymentActivities } from '../activities';
import { insertPendingPayment } from '../store/payment-records';
import { reconcile, type ReconciliationReport } from '../store/reconciliation';
import { newId } from '../domain/ids';
import { createDatabase } from '../infra/database';
import { startPayment } from '../infra/sagas';
import { balanceOf, userWithWallet } from './support/fixtures';
import { endLeftoverSagas } from './support/leftovers';
import { testConfig } from './support/stack';
import { useTemporal } from './support/temporal';

/**
 * Sagas that end without finishing: a payment saga terminated by an operator after debit_payer,
 * and one whose compensation fails non-retryably. Both run the real activities on the real
 * database and dev server (only the failing compensation and a blocking step are stubbed), and
 * both leave a payment `processing` with its money in clearing, which the reconciliation must
 * report as stuck once older than STUCK_AFTER_MS, while clearing stays consistent with it.
 */
const temporal = useTemporal();
let db: Knex;
const environment = new MockActivityEnvironment(undefined, { logger: new DefaultLogger('ERROR') });
/** Every payment this file started: afterAll ends those a failed test left in flight. */
const written: string[] = [];

const AMOUNT = 1_000;
const STUCK_AFTER_MS = 300_000;
/** Stuck detection is judged at an injected `now`, with the saga dated back to this instant. */
const EPOCH_MS = Date.parse('2000-01-01T00:00:00.000Z');

beforeAll(() => {
  db = createDatabase(testConfig().databaseUrl, 5);
});

afterAll(async () => {
  const saga = createPaymentActivities({ db, paymentDailyLimit: Number.MAX_SAFE_INTEGER });
  const run = <I, O>(activity: (input: I) => Promise<O>, input: I) => environment.run(activity, input);
  await endLeftoverSagas(
    db,
    'payments',
    written,
    [
      { step: 'credit_merchant', compensation: 'reverse_merchant_credit', run: (paymentId) => run(saga.reverseMerchantCredit, { paymentId }) },
      { step: 'debit_payer', compensation: 'refund_payer', run: (paymentId) => run(saga.refundPayer, { paymentId }) },
    ],
    (paymentId) => run(saga.failPayment, { paymentId, step: 'test_cleanup', code: 'abandoned', message: 'ended by the operator after the saga was abandoned' }),
  );
  await db.destroy();
});

type PaymentActivities = ReturnType<typeof createPaymentActivities>;

/** A payer with 10 000, a merchant, and a pending payment of AMOUNT between them (`faultStep` as the fault drill sets it). */
async function pendingPayment(faultStep: string | null) {
  const payer = await userWithWallet(db, { balance: 10_000 });
  const merchant = await userWithWallet(db, { role: 'merchant' });
  const paymentId = newId('pay');
  await insertPendingPayment(db, {
    id: paymentId,
    payerId: payer.user.id,
    sourceWalletId: payer.wallet.id,
    merchantId: merchant.user.id,
    merchantWalletId: merchant.wallet.id,
    amount: AMOUNT,
    fee: 20,
    netAmount: 980,
    currency: 'USD',
    description: null,
    faultStep,
  });
  written.push(paymentId);
  return { paymentId, payer, merchant, input: { paymentId, payerId: payer.user.id, merchantId: merchant.user.id, merchantName: 'Acme', amount: AMOUNT, fee: 20, netAmount: 980, currency: 'USD' } };
}

/** Runs the real payment activities, with `overrides`, on a task queue of this test while `body` runs. */
async function withWorker<T>(overrides: Partial<PaymentActivities>, body: (taskQueue: string) => Promise<T>): Promise<T> {
  const taskQueue = `abandoned-${newId('req')}`;
  const worker = await Worker.create({
    connection: temporal.workerConnection,
    namespace: temporal.namespace,
    taskQueue,
    workflowBundle: { codePath: String(process.env.WORKFLOW_BUNDLE_PATH) },
    activities: {
      ...createPaymentActivities({ db, paymentDailyLimit: Number.MAX_SAFE_INTEGER }),
      ...overrides,
      notifyPayment: () => Promise.resolve({ notificationIds: [] }),
    },
  });
  return worker.runUntil(() => body(taskQueue));
}

/** The saga's row and the journals it posted, as they are now. */
async function stateOf(paymentId: string) {
  const row = await db('payments').select('status', 'compensation_started_at').where({ id: paymentId }).first();
  const journals = (await db('journals').select('journal_key').where('journal_key', 'like', `${paymentId}:%`).orderBy('seq')) as Array<{ journal_key: string }>;
  return { status: row?.status, compensating: row?.compensation_started_at !== null, journals: journals.map((journal) => journal.journal_key.slice(paymentId.length + 1)) };
}

/**
 * The reconciliation as it judges this saga at `EPOCH + ageMs`, with the saga dated EPOCH inside
 * a transaction that is rolled back: nothing else in the database is that old, so the stuck
 * sagas it names are this one or none, and nothing of the back-dating stays behind.
 */
async function reconciledAtAge(paymentId: string, ageMs: number): Promise<ReconciliationReport> {
  const trx = await db.transaction();
  try {
    await trx('payments').where({ id: paymentId }).update({ created_at: new Date(EPOCH_MS) });
    return await reconcile(trx, { stuckAfterMs: STUCK_AFTER_MS, now: new Date(EPOCH_MS + ageMs) });
  } finally {
    await trx.rollback();
  }
}

/** Stuck once older than STUCK_AFTER_MS (not at exactly that age), never offending, with clearing consistent. */
async function expectReportedStuck(paymentId: string, walletIds: string[]): Promise<void> {
  const young = await reconciledAtAge(paymentId, STUCK_AFTER_MS);
  expect(young.samples.stuckSagas).toEqual([]);
  const old = await reconciledAtAge(paymentId, STUCK_AFTER_MS + 1);
  expect({ stuck: old.samples.stuckSagas, ok: old.ok }).toEqual({ stuck: [`payment-${paymentId}`], ok: false });
  for (const report of [young, old]) {
    // Its money is where its state says: in clearing, for a saga in flight that debited the payer.
    expect(report.clearingMismatch).toEqual([]);
    expect(report.offendingSagas).not.toContain(paymentId);
    expect(report.heldMismatch.filter((mismatch) => walletIds.includes(mismatch.walletId))).toEqual([]);
    expect({ unbalanced: report.unbalancedJournals, sum: report.sumOfAllAccounts }).toEqual({ unbalanced: 0, sum: 0 });
  }
}

/** Ends the abandoned payment as an operator would (refund, then fail): the payer is whole and nothing is stuck or offending. */
async function expectEndedByOperator(paymentId: string, payerWalletId: string): Promise<void> {
  const saga = createPaymentActivities({ db, paymentDailyLimit: Number.MAX_SAFE_INTEGER });
  await environment.run(saga.refundPayer, { paymentId });
  await environment.run(saga.failPayment, { paymentId, step: 'operator', code: 'abandoned', message: 'ended by an operator' });
  expect(await stateOf(paymentId)).toEqual({ status: 'failed', compensating: true, journals: ['debit_payer', 'refund_payer'] });
  expect(await balanceOf(db, payerWalletId)).toBe(10_000);
  const report = await reconciledAtAge(paymentId, STUCK_AFTER_MS + 1);
  expect({ stuck: report.samples.stuckSagas, offending: report.offendingSagas.includes(paymentId), clearing: report.clearingMismatch }).toEqual({
    stuck: [],
    offending: false,
    clearing: [],
  });
}

/** A promise with its resolver, for a stub to announce where it is and to be let go. */
function signal(): { promise: Promise<void>; resolve: () => void } {
  let resolve = () => {};
  const promise = new Promise<void>((settle) => {
    resolve = settle;
  });
  return { promise, resolve };
}

describe('abandoned sagas', () => {
  it('when a payment saga is terminated after debit_payer, then the payment stays processing with its money in clearing, is reported stuck once older than STUCK_AFTER_MS, and an operator can end it', async () => {
    const { paymentId, payer, merchant, input } = await pendingPayment(null);
    const [reached, release] = [signal(), signal()];

    await withWorker(
      {
        // credit_merchant holds until the test lets it go: the saga is terminated while it waits.
        creditMerchant: async () => {
          reached.resolve();
          await release.promise;
          throw ApplicationFailure.nonRetryable('let go after the saga was terminated', 'LetGo');
        },
        // The money steps are local activities: the worker goes on with the saga's next local steps
        // (here the compensating path) until its workflow task ends and it learns of the termination.
        // This one stops that continuation, so the test sees what the termination itself leaves.
        beginPaymentCompensation: () => Promise.reject(ApplicationFailure.nonRetryable('the saga was terminated', 'Terminated')),
      },
      async (taskQueue) => {
        await startPayment(temporal.client, { paymentsTaskQueue: taskQueue, notificationsTaskQueue: taskQueue }, input);
        await reached.promise;
        const handle = temporal.client.workflow.getHandle(`payment-${paymentId}`);
        await handle.terminate('an operator terminated the saga');
        release.resolve();
        expect((await handle.describe()).status.name).toBe('TERMINATED');
      },
    );

    expect(await stateOf(paymentId)).toEqual({ status: 'processing', compensating: false, journals: ['debit_payer'] });
    expect({ payer: await balanceOf(db, payer.wallet.id), merchant: await balanceOf(db, merchant.wallet.id) }).toEqual({ payer: 10_000 - AMOUNT, merchant: 0 });
    await expectReportedStuck(paymentId, [payer.wallet.id, merchant.wallet.id]);
    await expectEndedByOperator(paymentId, payer.wallet.id);
  });

  it('when a compensation fails non-retryably, then the workflow fails, the payment stays processing with its money in clearing, is reported stuck once older than STUCK_AFTER_MS, and an operator can end it', async () => {
    // The fault drill fails credit_merchant; refund_payer then refuses for good.
    const { paymentId, payer, merchant, input } = await pendingPayment('credit_merchant');
    let refunds = 0;

    const failure = await withWorker(
      {
        refundPayer: () => {
          refunds += 1;
          return Promise.reject(ApplicationFailure.nonRetryable('the ledger refuses the refund', 'RefundRefused'));
        },
      },
      async (taskQueue) => {
        await startPayment(temporal.client, { paymentsTaskQueue: taskQueue, notificationsTaskQueue: taskQueue }, input);
        return temporal.client.workflow
          .getHandle(`payment-${paymentId}`)
          .result()
          .then(
            () => undefined,
            (error: unknown) => error,
          );
      },
    );

    expect(failure).toBeInstanceOf(WorkflowFailedError);
    // A regular activity's failure arrives wrapped in an ActivityFailure; a local one's as the refusal itself.
    const cause = (failure as WorkflowFailedError).cause;
    const refusal = cause instanceof ActivityFailure ? cause.cause : cause;
    expect(refusal).toBeInstanceOf(ApplicationFailure);
    expect({ type: (refusal as ApplicationFailure).type, refunds }).toEqual({ type: 'RefundRefused', refunds: 1 });
    // Marked compensating (so no late forward step moves money), but never refunded nor failed.
    expect(await stateOf(paymentId)).toEqual({ status: 'processing', compensating: true, journals: ['debit_payer'] });
    expect({ payer: await balanceOf(db, payer.wallet.id), merchant: await balanceOf(db, merchant.wallet.id) }).toEqual({ payer: 10_000 - AMOUNT, merchant: 0 });
    await expectReportedStuck(paymentId, [payer.wallet.id, merchant.wallet.id]);
    await expectEndedByOperator(paymentId, payer.wallet.id);
  });
});
