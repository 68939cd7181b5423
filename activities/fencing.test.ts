import { ApplicationFailure } from '@temporalio/common';
import { ErrorType } from '../domain/errors';
import { MONEY_SAGAS, sagaFailureOf, type MoneySagaKind, type StepFailure } from '../domain/money-sagas';
import { balanceOf } from '../test/support/fixtures';
import { paymentFixture, refundFixture, transferFixture, validated, type MoneySagaFixture, type SagaActivities } from '../test/support/money-saga-fixtures';
import { clearingOf, feesOf, useSagaActivityHarness } from '../test/support/saga-activities';

/**
 * The fence, for every money saga kind: once the compensating path has marked a saga, no forward
 * step moves money or finishes it; a compensation whose step never committed moves nothing and
 * records nothing; a saga that already succeeded is never compensated; and a saga ends with the
 * first failure recorded with its mark, whatever a step run again afterwards failed with.
 */
const harness = useSagaActivityHarness(async () => {
  for (const fixture of fixtures) await fixture.endLeftovers();
});
const { expectRefusal, stepsOf } = harness;
const db = () => harness.db();
const fixtures: MoneySagaFixture[] = [paymentFixture(harness), transferFixture(harness), refundFixture(harness)];

/** The journal keys of a saga, without its id, in the order they were posted. */
async function journalKeys(sagaId: string): Promise<string[]> {
  const rows = (await db()('journals').select('journal_key').where({ reference_id: sagaId }).orderBy('seq')) as Array<{ journal_key: string }>;
  return rows.map((row) => row.journal_key.slice(sagaId.length + 1));
}

async function sagaRow(fixture: MoneySagaFixture, sagaId: string): Promise<{ status: string; compensation_started_at: Date | null } | undefined> {
  return db()(MONEY_SAGAS[fixture.kind].table).select('status', 'compensation_started_at').where({ id: sagaId }).first();
}

/** The failure a saga ended with, as its row keeps it. */
async function endingOf(fixture: MoneySagaFixture, sagaId: string): Promise<{ status: string; failure_code: string | null; failure_message: string | null } | undefined> {
  return db()(MONEY_SAGAS[fixture.kind].table).select('status', 'failure_code', 'failure_message').where({ id: sagaId }).first();
}

/**
 * Runs a step that must fail and answers what the workflow makes of its failure at `step`: a
 * refusal's type and message through `sagaFailureOf`, anything else a processing error.
 */
async function failureAt(kind: MoneySagaKind, step: string, outcome: Promise<unknown>): Promise<StepFailure> {
  const error = await outcome.then(
    () => null,
    (reason: unknown) => reason,
  );
  expect(error).toBeInstanceOf(Error);
  const type = error instanceof ApplicationFailure ? (error.type ?? undefined) : undefined;
  return { step, ...sagaFailureOf(kind, type, (error as Error).message) };
}

describe.each(fixtures.map((fixture) => ({ kind: fixture.kind, fixture })))('fencing of a $kind', ({ fixture }) => {
  const [debit, credit] = MONEY_SAGAS[fixture.kind].moneySteps;
  let saga: SagaActivities;
  beforeAll(() => {
    saga = fixture.activities();
  });
  const notLive = (outcome: Promise<unknown>) => expectRefusal(outcome, ErrorType.SagaNotLive);

  it('when the saga is marked before its debit commits, then the late debit moves nothing and its compensation records nothing', async () => {
    const { sagaId, debited, debitedBalance } = await validated(db(), fixture);

    expect(await saga.beginCompensation(sagaId)).toEqual({ succeeded: false });
    await notLive(saga.debit(sagaId));
    expect(await saga.returnDebit(sagaId)).toEqual({ journalId: null });
    await saga.fail(sagaId, { step: credit.step, code: 'processing_error', message: 'gave up' });

    expect(await balanceOf(db(), debited.wallet.id)).toBe(debitedBalance);
    expect(await journalKeys(sagaId)).toEqual([]);
    expect(await stepsOf(sagaId)).toEqual([`${credit.step}:failed`]);
    const row = await sagaRow(fixture, sagaId);
    expect(row?.status).toBe('failed');
    expect(row?.compensation_started_at).toBeInstanceOf(Date);
  });

  it('when the saga is marked after its debit, then a late credit moves nothing and only the debit is refunded', async () => {
    const { sagaId, debited, credited, debitedBalance } = await validated(db(), fixture);
    await saga.debit(sagaId);

    await saga.beginCompensation(sagaId);
    await notLive(saga.credit(sagaId));
    expect(await saga.reverseCredit(sagaId)).toEqual({ journalId: null });
    const returned = (await saga.returnDebit(sagaId)) as { journalId: string | null };
    expect(typeof returned.journalId).toBe('string');

    expect(await balanceOf(db(), debited.wallet.id)).toBe(debitedBalance);
    expect(await balanceOf(db(), credited.wallet.id)).toBe(0);
    expect(await journalKeys(sagaId)).toEqual([debit.step, debit.compensation.step]);
    expect(await stepsOf(sagaId)).toEqual([`${debit.step}:compensated`]);
  });

  it('when a dead worker left its steps to run again after the mark, then validate and the committed steps answer as before and move nothing, and every one is compensated', async () => {
    // A worker killed before its workflow task completed: the task's local steps (validate, debit,
    // credit, the failing step and begin_compensation) committed, but Temporal never heard of them,
    // so the next worker runs them again after the saga was marked compensating.
    const { sagaId, debited, credited, debitedBalance } = await validated(db(), fixture);
    const debitedFirst = (await saga.debit(sagaId)) as { journalId: string };
    const creditedFirst = (await saga.credit(sagaId)) as { journalId: string };
    expect(await saga.beginCompensation(sagaId)).toEqual({ succeeded: false });
    const movedBefore = await journalKeys(sagaId);

    await saga.validate(sagaId);
    expect(await saga.debit(sagaId)).toEqual({ journalId: debitedFirst.journalId });
    expect(await saga.credit(sagaId)).toEqual({ journalId: creditedFirst.journalId });
    await notLive(saga.writeLedger(sagaId));
    expect(await journalKeys(sagaId)).toEqual(movedBefore);

    expect(typeof ((await saga.reverseCredit(sagaId)) as { journalId: string | null }).journalId).toBe('string');
    expect(typeof ((await saga.returnDebit(sagaId)) as { journalId: string | null }).journalId).toBe('string');
    expect(await balanceOf(db(), debited.wallet.id)).toBe(debitedBalance);
    expect(await balanceOf(db(), credited.wallet.id)).toBe(0);
    expect(await journalKeys(sagaId)).toEqual([debit.step, credit.step, credit.compensation.step, debit.compensation.step]);
  });

  it('when the saga is marked, then a late final step cannot make it succeed', async () => {
    const { sagaId } = await validated(db(), fixture);
    await saga.debit(sagaId);
    await saga.credit(sagaId);

    await saga.beginCompensation(sagaId);
    await notLive(saga.writeLedger(sagaId));

    expect((await sagaRow(fixture, sagaId))?.status).toBe('processing');
  });

  it('when a late final step already succeeded, then the mark answers succeeded and compensations move nothing', async () => {
    const { sagaId, credited } = await validated(db(), fixture);
    await saga.debit(sagaId);
    await saga.credit(sagaId);
    await saga.writeLedger(sagaId);
    const creditedBalance = await balanceOf(db(), credited.wallet.id);

    expect(await saga.beginCompensation(sagaId)).toEqual({ succeeded: true });
    expect(await saga.reverseCredit(sagaId)).toEqual({ journalId: null });
    expect(await saga.returnDebit(sagaId)).toEqual({ journalId: null });

    expect(await balanceOf(db(), credited.wallet.id)).toBe(creditedBalance);
    expect(await sagaRow(fixture, sagaId)).toEqual({ status: 'succeeded', compensation_started_at: null });
  });

  it('when a compensation runs without the mark (a saga started before fencing), then it marks the saga itself', async () => {
    const { sagaId } = await validated(db(), fixture);
    await saga.debit(sagaId);

    await saga.returnDebit(sagaId);

    await notLive(saga.credit(sagaId));
    expect((await sagaRow(fixture, sagaId))?.compensation_started_at).toBeInstanceOf(Date);
  });

  // A worker killed before its workflow task completed: the task's local steps and the mark committed,
  // so the next worker runs those steps again after the mark, and the step that fails may now fail
  // for another reason. The mark recorded the first failure; the saga ends with it.
  it('when validate refused the saga (insufficient_funds) and, run again after the mark, is refused by the fence, then the saga still ends insufficient_funds', async () => {
    const { sagaId, debited, debitedBalance } = await fixture.newSaga({ debitedBalance: fixture.debitedAmount - 1 });
    const first = await failureAt(fixture.kind, 'validate', saga.validate(sagaId));
    expect(first.code).toBe('insufficient_funds');
    expect(await saga.beginCompensation(sagaId, first)).toEqual({ succeeded: false, firstFailure: first });

    const again = await failureAt(fixture.kind, 'validate', saga.validate(sagaId));
    expect(again.code).toBe('processing_error');
    expect(await saga.beginCompensation(sagaId, again)).toEqual({ succeeded: false, firstFailure: first });
    expect(await saga.reverseCredit(sagaId)).toEqual({ journalId: null });
    expect(await saga.returnDebit(sagaId)).toEqual({ journalId: null });
    await saga.fail(sagaId, again);
    // Ending it failed again, with yet another failure, changes nothing.
    await saga.fail(sagaId, { step: 'write_ledger', code: 'processing_error', message: 'late' });

    expect(await endingOf(fixture, sagaId)).toEqual({ status: 'failed', failure_code: 'insufficient_funds', failure_message: first.message });
    expect(await stepsOf(sagaId)).toEqual(['validate:failed']);
    expect(await journalKeys(sagaId)).toEqual([]);
    expect(await balanceOf(db(), debited.wallet.id)).toBe(debitedBalance);
  });

  it('when the credit failed on purpose (injected_fault) and the debit, run again after the mark, gives up on a lock, then every compensation runs and the saga still ends injected_fault', async () => {
    const { table } = MONEY_SAGAS[fixture.kind];
    const { sagaId, debited, credited, debitedBalance } = await validated(db(), fixture, { faultStep: credit.step });
    await saga.debit(sagaId);
    const first = await failureAt(fixture.kind, credit.step, saga.credit(sagaId));
    expect(first.code).toBe('injected_fault');
    expect(await saga.beginCompensation(sagaId, first)).toEqual({ succeeded: false, firstFailure: first });

    // The debit's second run waits for the saga's row, which another session holds, past every lock wait.
    const holder = await db().transaction();
    let again: StepFailure;
    try {
      await holder(table).where({ id: sagaId }).forUpdate();
      again = await failureAt(fixture.kind, debit.step, saga.debit(sagaId));
    } finally {
      await holder.rollback();
    }
    expect(again).toMatchObject({ step: debit.step, code: 'processing_error' });
    expect(await saga.beginCompensation(sagaId, again)).toEqual({ succeeded: false, firstFailure: first });
    expect(await saga.reverseCredit(sagaId)).toEqual({ journalId: null });
    expect(typeof ((await saga.returnDebit(sagaId)) as { journalId: string | null }).journalId).toBe('string');
    await saga.fail(sagaId, again);

    expect(await endingOf(fixture, sagaId)).toEqual({ status: 'failed', failure_code: 'injected_fault', failure_message: first.message });
    expect(await stepsOf(sagaId)).toEqual([`${debit.step}:compensated`, `${credit.step}:failed`]);
    expect(await journalKeys(sagaId)).toEqual([debit.step, debit.compensation.step]);
    expect(await balanceOf(db(), debited.wallet.id)).toBe(debitedBalance);
    expect(await balanceOf(db(), credited.wallet.id)).toBe(0);
    await harness.expectLedgerInBalance([debited.wallet.id, credited.wallet.id, clearingOf(sagaId), feesOf(sagaId)]);
  });
});
