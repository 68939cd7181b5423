import { ApplicationFailure } from '@temporalio/common';
import type { temporal } from '@temporalio/proto';
import { MockActivityEnvironment } from '@temporalio/testing';
import { DefaultLogger } from '@temporalio/worker';
import { createPaymentActivities } from '../activities';
import { ErrorType } from '../domain/errors';
import { MONEY_SAGAS, sagaFailureOf, type MoneySagaKind, type MoneySagaOutcome, type StepFailure } from '../domain/money-sagas';
import type { Payment } from '../store/payment-records';
import type { Transfer } from '../store/transfer-records';
import { actorsOf, type Actor } from './support/actors';
import { startStackWith, startWorkersOf, stopWorkers, type RunningWorkers, type TestStack } from './support/stack';
import { activityNamesOf } from './support/step-activities';

/**
 * Issue 20, point 8, on the real stack: a saga's failure code is its first failure.
 *
 * A payments worker killed before its workflow task completed leaves what the task's local steps
 * committed (here validate refused the saga, and begin_compensation marked it and recorded why),
 * while Temporal heard of none of it: the next worker runs the task again from its first step.
 * The instant between the mark's commit and the end of the task cannot be hit with a kill on
 * purpose, so the test plays the dead worker. No payments worker polls when the API starts the
 * saga; the test runs the task's first steps through the real activities against the database;
 * then a payments worker starts and runs the task. Its validate, run again after the mark, is
 * refused by the fence (`SagaNotLive`, a processing error), and the saga still ends with the
 * first failure, `insufficient_funds`, in the workflow's result, the database and the API.
 */
const PROMO_CREDIT = 10_000;
const AMOUNT = PROMO_CREDIT + 1;

let stack: TestStack;
let actors: ReturnType<typeof actorsOf>;
let adminToken: string;
/** The in-process payments worker, while one runs. */
let paymentsWorker: RunningWorkers | undefined;

async function startPaymentsWorker(): Promise<void> {
  paymentsWorker = await startWorkersOf(stack.config, stack.db, stack.workerConnection, { payments: true, notifications: false });
}

async function stopPaymentsWorker(): Promise<void> {
  const running = paymentsWorker;
  paymentsWorker = undefined;
  if (running) await stopWorkers(running);
}

beforeAll(async () => {
  stack = await startStackWith({}, { paymentsWorker: false });
  actors = actorsOf(stack);
  adminToken = await actors.admin();
}, 30_000);

afterEach(async () => {
  await stopPaymentsWorker();
});

afterAll(async () => {
  await stack.stop();
});

/** The activities as the dead worker ran them: the real ones, against the stack's database. */
function deadWorkerActivities() {
  const { config, db } = stack;
  const activities = createPaymentActivities({ db, paymentDailyLimit: config.paymentDailyLimit, risk: config.risk, ledgerSystemShards: config.ledgerSystemShards });
  const environment = new MockActivityEnvironment(undefined, { logger: new DefaultLogger('ERROR') });
  return { activities, run: <A, R>(activity: (input: A) => Promise<R>, input: A) => environment.run(activity, input) };
}

/** What the workflow makes of a refused step: the refusal's type and message through `sagaFailureOf`. */
async function refusalAt(kind: MoneySagaKind, step: string, outcome: Promise<unknown>): Promise<StepFailure> {
  const error = await outcome.then(
    () => null,
    (reason: unknown) => reason,
  );
  if (!(error instanceof ApplicationFailure)) throw new Error(`${step} was not refused: ${String(error)}`);
  return { step, ...sagaFailureOf(kind, error.type ?? undefined, error.message) };
}

/** The type of the failure each run of a local activity ended with, in history order (null when it succeeded). */
async function localFailuresOf(workflowId: string, activity: string): Promise<Array<string | null>> {
  const history = await stack.temporal.workflow.getHandle(workflowId).fetchHistory();
  return (history.events ?? []).flatMap((event: temporal.api.history.v1.IHistoryEvent) => {
    const marker = event.markerRecordedEventAttributes;
    const data = marker?.details?.data?.payloads?.[0]?.data;
    if (marker?.markerName !== 'core_local_activity' || !data) return [];
    const { activityType, activity_type } = JSON.parse(Buffer.from(data).toString('utf8')) as { activityType?: string; activity_type?: string };
    if ((activityType ?? activity_type) !== activity) return [];
    const failure = marker.failure ?? null;
    return [failure ? (failure.applicationFailureInfo?.type ?? failure.cause?.applicationFailureInfo?.type ?? 'unknown') : null];
  });
}

/** One money saga kind as this file drives it. */
interface RefusedSaga {
  kind: 'payment' | 'transfer';
  /** The party paid: a merchant for a payment, a customer for a transfer. */
  payee: () => Promise<Actor>;
  send: (payer: Actor, payee: Actor) => Promise<{ id: string; workflowId: string }>;
  read: (reader: Actor, id: string) => Promise<Payment | Transfer>;
  /** The dead worker's validate, and its mark with the failure. */
  validate: (dead: ReturnType<typeof deadWorkerActivities>, sagaId: string) => Promise<unknown>;
  begin: (dead: ReturnType<typeof deadWorkerActivities>, sagaId: string, failure: StepFailure) => Promise<unknown>;
  activities: string[];
}

const CASES: RefusedSaga[] = [
  {
    kind: 'payment',
    payee: () => actors.signUp({ role: 'merchant', name: 'First Failure Cafe' }),
    send: async (payer, merchant) => {
      const response = await actors.call<Payment>('POST', '/v1/payments', {
        token: payer.token,
        headers: { Prefer: 'respond-async' },
        body: { merchantId: merchant.user.id, amount: AMOUNT, currency: 'USD', description: 'more than the payer has' },
      });
      expect(response.status).toBe(202);
      return response.body;
    },
    read: async (reader, id) => (await actors.call<Payment>('GET', `/v1/payments/${id}`, { token: reader.token })).body,
    validate: ({ activities, run }, paymentId) => run(activities.validatePayment, { paymentId }),
    begin: ({ activities, run }, paymentId, failure) => run(activities.beginPaymentCompensation, { paymentId, failure }),
    activities: ['validatePayment', 'beginPaymentCompensation', 'failPayment', 'notifyPayment'],
  },
  {
    kind: 'transfer',
    payee: () => actors.signUp({ name: 'Bea' }),
    send: async (sender, recipient) => {
      const response = await actors.call<Transfer>('POST', '/v1/transfers', {
        token: sender.token,
        headers: { Prefer: 'respond-async' },
        body: { toUserId: recipient.user.id, amount: AMOUNT, currency: 'USD', note: 'more than the sender has' },
      });
      expect(response.status).toBe(202);
      return response.body;
    },
    read: async (reader, id) => (await actors.call<Transfer>('GET', `/v1/transfers/${id}`, { token: reader.token })).body,
    validate: ({ activities, run }, transferId) => run(activities.validateTransfer, { transferId }),
    begin: ({ activities, run }, transferId, failure) => run(activities.beginTransferCompensation, { transferId, failure }),
    activities: ['validateTransfer', 'beginTransferCompensation', 'failTransfer', 'notifyTransfer'],
  },
];

describe('a saga whose steps a new worker runs again after a dead worker marked it', () => {
  it.each(CASES)(
    'when the dead worker recorded insufficient_funds and the $kind’s validate, run again, is refused by the fence, then it still ends insufficient_funds with nothing moved',
    async (saga) => {
      // Arrange: the parties sign up while a payments worker runs their onboarding; then no payments worker polls.
      await startPaymentsWorker();
      const [payer, payee] = await Promise.all([actors.signUp({ name: 'Ada' }), saga.payee()]);
      const payeeBefore = await actors.balanceOf(payee.token, payee.wallet.id);
      await stopPaymentsWorker();
      const { id, workflowId } = await saga.send(payer, payee);

      // The dead worker's workflow task: validate refused the saga, the mark recorded why.
      const dead = deadWorkerActivities();
      const first = await refusalAt(saga.kind, 'validate', saga.validate(dead, id));
      expect(first).toEqual({ step: 'validate', code: 'insufficient_funds', message: expect.stringContaining('insufficient funds') as unknown });
      expect(await saga.begin(dead, id, first)).toEqual({ succeeded: false, firstFailure: first });
      const marked = await stack.db(MONEY_SAGAS[saga.kind].table).select('status', 'compensation_started_at').where({ id }).first();
      expect({ status: marked?.status, compensating: marked?.compensation_started_at instanceof Date }).toEqual({ status: 'pending', compensating: true });

      // Act: the next worker runs the workflow task from its first step.
      await startPaymentsWorker();
      const handle = stack.temporal.workflow.getHandle<() => Promise<MoneySagaOutcome>>(workflowId);
      const outcome = await handle.result();

      // Assert: validate ran again and the fence refused it, yet the saga ended with the first failure.
      expect(await activityNamesOf(stack.temporal, workflowId)).toEqual(saga.activities);
      expect(await localFailuresOf(workflowId, saga.activities[0] ?? '')).toEqual([ErrorType.SagaNotLive]);
      expect(outcome).toEqual({ status: 'failed', failure: { code: 'insufficient_funds', message: first.message }, compensated: [], notified: true });
      const ended = await saga.read(payer, id);
      expect(ended).toMatchObject({ status: 'failed', failure: { code: 'insufficient_funds', message: first.message } });
      expect(ended.steps.map((step) => `${step.name}:${step.status}`)).toEqual(['validate:failed', 'notify:completed']);
      expect(await actors.balanceOf(payer.token, payer.wallet.id)).toBe(PROMO_CREDIT);
      expect(await actors.balanceOf(payee.token, payee.wallet.id)).toBe(payeeBefore);
      await actors.expectReconciled(adminToken);
    },
    60_000,
  );
});
