import { ErrorType } from '../domain/errors';
import { MONEY_SAGAS } from '../domain/money-sagas';
import { balanceOf } from '../test/support/fixtures';
import { paymentFixture, refundFixture, transferFixture, validated, type MoneySagaFixture, type SagaActivities } from '../test/support/money-saga-fixtures';
import { useSagaActivityHarness } from '../test/support/saga-activities';

/**
 * The fence, for every money saga kind: once the compensating path has marked a saga, no forward
 * step moves money or finishes it; a compensation whose step never committed moves nothing and
 * records nothing; and a saga that already succeeded is never compensated.
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
});
