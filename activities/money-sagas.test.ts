import { ErrorType } from '../domain/errors';
import { MONEY_SAGAS } from '../domain/money-sagas';
import { systemAccountId } from '../domain/types';
import { postJournal } from '../store/ledger';
import { balanceOf } from '../test/support/fixtures';
import { paymentFixture, refundFixture, transferFixture, validated, type MoneySagaFixture } from '../test/support/money-saga-fixtures';
import { clearingOf, feesOf, useSagaActivityHarness } from '../test/support/saga-activities';

/**
 * What every money saga's activities must do, against the real database, once per kind: each
 * money step run twice moves money once, refusals are typed and non-retryable, compensations work
 * on frozen wallets, the fault drill hits exactly its step, a saga ends once, and the ledger stays
 * in balance. What only one kind does lives in that kind's own test file.
 */
const harness = useSagaActivityHarness(async () => {
  for (const fixture of fixtures) await fixture.endLeftovers();
});
const { expectRefusal, journalCount, movedBy, heldOn, stepsOf, freeze, expectLedgerInBalance } = harness;
const db = () => harness.db();
const fixtures: MoneySagaFixture[] = [paymentFixture(harness), transferFixture(harness), refundFixture(harness)];

/** The step names of a kind, from its declaration. */
function stepsOfKind(fixture: MoneySagaFixture) {
  const [debit, credit] = MONEY_SAGAS[fixture.kind].moneySteps;
  if (!debit || !credit) throw new Error(`${fixture.kind} declares no debit and credit`);
  return { debit: debit.step, credit: credit.step, returnDebit: debit.compensation.step, reverseCredit: credit.compensation.step };
}

/** Every account a saga of this kind touches. */
function accountsOf(saga: { sagaId: string; debited: { wallet: { id: string } }; credited: { wallet: { id: string } } }): string[] {
  return [saga.debited.wallet.id, saga.credited.wallet.id, clearingOf(saga.sagaId), feesOf(saga.sagaId)];
}

async function sagaRow(fixture: MoneySagaFixture, sagaId: string) {
  const row = await db()(MONEY_SAGAS[fixture.kind].table).select('status', 'failure_code', 'failure_message').where({ id: sagaId }).first();
  if (!row) throw new Error(`no ${fixture.kind} ${sagaId}`);
  return row;
}

describe.each(fixtures.map((fixture) => [fixture.kind, fixture] as const))('%s saga activities', (_kind, fixture) => {
  const names = stepsOfKind(fixture);
  const saga = () => fixture.activities();

  describe('validate', () => {
    it('when the debited side can pay exactly, then the saga is processing and validate is completed, also run twice', async () => {
      const { sagaId } = await fixture.newSaga({ debitedBalance: fixture.debitedAmount });

      await saga().validate(sagaId);
      await saga().validate(sagaId);

      expect((await sagaRow(fixture, sagaId)).status).toBe('processing');
      expect(await stepsOf(sagaId)).toEqual(['validate:completed']);
    });

    it('when the debited side has one unit less than it pays, then it refuses with InsufficientFunds and changes nothing', async () => {
      const { sagaId } = await fixture.newSaga({ debitedBalance: fixture.debitedAmount - 1 });

      await expectRefusal(saga().validate(sagaId), ErrorType.InsufficientFunds);

      expect((await sagaRow(fixture, sagaId)).status).toBe('pending');
      expect(await stepsOf(sagaId)).toEqual([]);
    });

    it('when part of the debited balance is held by an unfinished saga, then only the rest can be paid', async () => {
      const { sagaId, debited } = await fixture.newSaga({ debitedBalance: fixture.debitedAmount });
      await db()('accounts').where({ id: debited.wallet.id }).update({ held: 1 });

      await expectRefusal(saga().validate(sagaId), ErrorType.InsufficientFunds);

      await db()('accounts').where({ id: debited.wallet.id }).update({ held: 0 });
      expect((await sagaRow(fixture, sagaId)).status).toBe('pending');
    });

    it.each(fixture.creditRefusesFrozenWallet ? (['debited', 'credited'] as const) : (['debited'] as const))(
      'when the %s wallet is frozen, then it refuses with WalletFrozen',
      async (side) => {
        const created = await fixture.newSaga();
        await freeze(created[side].wallet.id);

        await expectRefusal(saga().validate(created.sagaId), ErrorType.WalletFrozen);

        expect((await sagaRow(fixture, created.sagaId)).status).toBe('pending');
      },
    );

    it('when validate runs again after it passed, then the saga is not judged a second time', async () => {
      const { sagaId, debited } = await fixture.newSaga({ debitedBalance: fixture.debitedAmount });
      await saga().validate(sagaId);
      // As if another saga had spent the money between the first attempt and a retry.
      await freeze(debited.wallet.id);

      await saga().validate(sagaId);

      expect((await sagaRow(fixture, sagaId)).status).toBe('processing');
    });

    it('when the saga already failed, then validate refuses to revive it (SagaNotLive: the fence)', async () => {
      const { sagaId } = await fixture.newSaga();
      await db()(MONEY_SAGAS[fixture.kind].table).where({ id: sagaId }).update({ status: 'failed' });

      await expectRefusal(saga().validate(sagaId), ErrorType.SagaNotLive);

      expect((await sagaRow(fixture, sagaId)).status).toBe('failed');
    });
  });

  describe('money moves once', () => {
    it('when debit runs twice, then the debited wallet is debited once, into clearing', async () => {
      const { sagaId, debited, debitedBalance, credited } = await validated(db(), fixture);

      const first = await saga().debit(sagaId);
      const second = await saga().debit(sagaId);

      expect(second).toEqual(first);
      expect(await balanceOf(db(), debited.wallet.id)).toBe(debitedBalance - fixture.debitedAmount);
      expect(await movedBy(sagaId, clearingOf(sagaId))).toBe(fixture.amount);
      expect(await movedBy(sagaId, feesOf(sagaId))).toBe(fixture.feesMoved.afterDebit);
      expect(await journalCount(sagaId, names.debit)).toBe(1);
      expect(await stepsOf(sagaId)).toEqual([`${names.debit}:completed`]);
      await expectLedgerInBalance(accountsOf({ sagaId, debited, credited }));
    });

    it('when credit runs twice, then the credited wallet gets its share once, held until write_ledger', async () => {
      const created = await validated(db(), fixture);
      const { sagaId, credited } = created;
      await saga().debit(sagaId);

      const first = await saga().credit(sagaId);
      const second = await saga().credit(sagaId);

      expect(second).toEqual(first);
      expect(await balanceOf(db(), credited.wallet.id)).toBe(fixture.creditedAmount);
      expect(await heldOn(credited.wallet.id)).toBe(fixture.creditedAmount);
      expect(await movedBy(sagaId, credited.wallet.id)).toBe(fixture.creditedAmount);
      expect(await movedBy(sagaId, feesOf(sagaId))).toBe(fixture.feesMoved.afterCredit);
      expect(await movedBy(sagaId, clearingOf(sagaId))).toBe(0);
      expect(await journalCount(sagaId, names.credit)).toBe(1);
      await expectLedgerInBalance(accountsOf(created));
    });

    it('when credit runs before debit, then it fails and moves nothing', async () => {
      const { sagaId, credited } = await validated(db(), fixture);

      await expect(saga().credit(sagaId)).rejects.toThrow(`${names.credit} before ${names.debit}`);

      expect(await balanceOf(db(), credited.wallet.id)).toBe(0);
      expect(await journalCount(sagaId, names.credit)).toBe(0);
    });

    it('when the credit is reversed twice, then the credit and its hold go back to clearing once', async () => {
      const created = await validated(db(), fixture);
      const { sagaId, credited } = created;
      await saga().debit(sagaId);
      await saga().credit(sagaId);

      const first = await saga().reverseCredit(sagaId);
      const second = await saga().reverseCredit(sagaId);

      expect(second).toEqual(first);
      expect(await balanceOf(db(), credited.wallet.id)).toBe(0);
      expect(await heldOn(credited.wallet.id)).toBe(0);
      expect(await movedBy(sagaId, feesOf(sagaId))).toBe(fixture.feesMoved.afterDebit);
      expect(await movedBy(sagaId, clearingOf(sagaId))).toBe(fixture.amount);
      expect(await journalCount(sagaId, names.reverseCredit)).toBe(1);
      expect(await stepsOf(sagaId)).toEqual([`${names.debit}:completed`, `${names.credit}:compensated`]);
      await expectLedgerInBalance(accountsOf(created));
    });

    it('when the debit is returned twice, then the debited wallet gets it back once', async () => {
      const created = await validated(db(), fixture);
      const { sagaId, debited, debitedBalance } = created;
      await saga().debit(sagaId);

      const first = await saga().returnDebit(sagaId);
      const second = await saga().returnDebit(sagaId);

      expect(second).toEqual(first);
      expect(await balanceOf(db(), debited.wallet.id)).toBe(debitedBalance);
      expect(await movedBy(sagaId, clearingOf(sagaId))).toBe(0);
      expect(await movedBy(sagaId, feesOf(sagaId))).toBe(0);
      expect(await journalCount(sagaId, names.returnDebit)).toBe(1);
      expect(await stepsOf(sagaId)).toEqual([`${names.debit}:compensated`]);
      await expectLedgerInBalance(accountsOf(created));
    });
  });

  describe('frozen wallets', () => {
    it('when the debited wallet is frozen, then debit refuses with WalletFrozen and changes nothing', async () => {
      const created = await validated(db(), fixture);
      const { sagaId, debited, debitedBalance } = created;
      await freeze(debited.wallet.id);

      await expectRefusal(saga().debit(sagaId), ErrorType.WalletFrozen);

      expect(await balanceOf(db(), debited.wallet.id)).toBe(debitedBalance);
      expect(await journalCount(sagaId, names.debit)).toBe(0);
      expect(await movedBy(sagaId, clearingOf(sagaId))).toBe(0);
      expect(await stepsOf(sagaId)).toEqual([]);
      await expectLedgerInBalance(accountsOf(created));
    });

    if (fixture.creditRefusesFrozenWallet) {
      it('when the credited wallet is frozen, then credit refuses with WalletFrozen and the money stays in clearing', async () => {
        const { sagaId, credited } = await validated(db(), fixture);
        await saga().debit(sagaId);
        await freeze(credited.wallet.id);

        await expectRefusal(saga().credit(sagaId), ErrorType.WalletFrozen);

        expect(await balanceOf(db(), credited.wallet.id)).toBe(0);
        expect(await movedBy(sagaId, clearingOf(sagaId))).toBe(fixture.amount);
        await saga().returnDebit(sagaId);
        expect(await movedBy(sagaId, clearingOf(sagaId))).toBe(0);
      });
    }

    it('when the debited wallet was frozen after the debit, then the return still gives the money back', async () => {
      const created = await validated(db(), fixture);
      const { sagaId, debited, debitedBalance } = created;
      await saga().debit(sagaId);
      await freeze(debited.wallet.id);

      await saga().returnDebit(sagaId);

      expect(await balanceOf(db(), debited.wallet.id)).toBe(debitedBalance);
      expect(await journalCount(sagaId, names.returnDebit)).toBe(1);
      await expectLedgerInBalance(accountsOf(created));
    });

    it('when the credited wallet was frozen after the credit, then the reversal still takes the credit back', async () => {
      const created = await validated(db(), fixture);
      const { sagaId, credited } = created;
      await saga().debit(sagaId);
      await saga().credit(sagaId);
      await freeze(credited.wallet.id);

      await saga().reverseCredit(sagaId);

      expect(await balanceOf(db(), credited.wallet.id)).toBe(0);
      expect(await journalCount(sagaId, names.reverseCredit)).toBe(1);
      await expectLedgerInBalance(accountsOf(created));
    });
  });

  describe('fault drill', () => {
    const forward = ['validate', 'debit', 'credit', 'writeLedger', 'notify'] as const;
    const steps = MONEY_SAGAS[fixture.kind].steps;

    it.each(steps.map((step, index) => [step, index] as const))('when the drill names %s, then exactly that step throws InjectedFault', async (faultStep, faultIndex) => {
      const created = await fixture.newSaga({ faultStep });
      const { sagaId } = created;
      const activities = saga();

      for (const activity of forward.slice(0, faultIndex)) await activities[activity](sagaId);
      const faulty = forward[faultIndex];
      if (!faulty) throw new Error(`unknown step ${faultStep}`);
      await expectRefusal(activities[faulty](sagaId), ErrorType.InjectedFault);

      expect(await stepsOf(sagaId)).toEqual(steps.slice(0, faultIndex).map((step) => `${step}:completed`));
      expect(await journalCount(sagaId, faultStep)).toBe(0);
      await expectLedgerInBalance(accountsOf(created));
    });

    it('when the drill names a step, then the compensations still run', async () => {
      const created = await validated(db(), fixture, { faultStep: 'write_ledger' });
      const { sagaId, debited, credited, debitedBalance } = created;
      await saga().debit(sagaId);
      await saga().credit(sagaId);
      await expectRefusal(saga().writeLedger(sagaId), ErrorType.InjectedFault);

      await saga().reverseCredit(sagaId);
      await saga().returnDebit(sagaId);

      expect(await balanceOf(db(), debited.wallet.id)).toBe(debitedBalance);
      expect(await balanceOf(db(), credited.wallet.id)).toBe(0);
      await expectLedgerInBalance(accountsOf(created));
    });
  });

  describe('the end of a saga', () => {
    it('when write_ledger runs twice, then the saga succeeded with one audit record and the credit is released', async () => {
      const created = await fixture.newSaga();
      const { sagaId, credited } = created;
      for (const step of ['validate', 'debit', 'credit'] as const) await saga()[step](sagaId);

      await saga().writeLedger(sagaId);
      await saga().writeLedger(sagaId);

      expect(await sagaRow(fixture, sagaId)).toEqual({ status: 'succeeded', failure_code: null, failure_message: null });
      expect(await heldOn(credited.wallet.id)).toBe(0);
      const audits = await db()('audit_log').select('action', 'actor_id', 'data').where({ resource_type: fixture.kind, resource_id: sagaId });
      expect(audits).toHaveLength(1);
      const { data, ...audit } = fixture.audit(created);
      expect(audits[0]).toMatchObject(audit);
      expect(JSON.parse(String(audits[0]?.data))).toEqual(data);
    });

    it('when fail runs after the saga succeeded, then it throws and the saga stays succeeded', async () => {
      const { sagaId } = await fixture.newSaga();
      for (const step of ['validate', 'debit', 'credit', 'writeLedger'] as const) await saga()[step](sagaId);

      await expect(saga().fail(sagaId, { step: 'notify', code: 'processing_error', message: 'late failure' })).rejects.toThrow(/already succeeded/);

      expect(await sagaRow(fixture, sagaId)).toEqual({ status: 'succeeded', failure_code: null, failure_message: null });
      expect(await stepsOf(sagaId)).toEqual(MONEY_SAGAS[fixture.kind].steps.slice(0, 4).map((step) => `${step}:completed`));
    });

    it('when every step succeeds, then the timeline reads all five steps completed', async () => {
      const created = await fixture.newSaga();

      for (const step of ['validate', 'debit', 'credit', 'writeLedger', 'notify'] as const) await saga()[step](created.sagaId);

      expect(await stepsOf(created.sagaId)).toEqual(MONEY_SAGAS[fixture.kind].steps.map((step) => `${step}:completed`));
      await expectLedgerInBalance(accountsOf(created));
    });

    it('when write_ledger fails and the saga compensates, then the timeline reads compensated steps and the failed ones', async () => {
      const created = await fixture.newSaga({ faultStep: 'write_ledger' });
      const { sagaId, debited, credited, debitedBalance } = created;
      for (const step of ['validate', 'debit', 'credit'] as const) await saga()[step](sagaId);
      await expectRefusal(saga().writeLedger(sagaId), ErrorType.InjectedFault);

      await saga().reverseCredit(sagaId);
      await saga().returnDebit(sagaId);
      const failure = { step: 'write_ledger', code: 'injected_fault', message: 'fault drill' };
      await saga().fail(sagaId, failure);
      await saga().fail(sagaId, failure);
      await saga().recordStep(sagaId, 'notify', 'failed');

      expect(await stepsOf(sagaId)).toEqual(['validate:completed', `${names.debit}:compensated`, `${names.credit}:compensated`, 'write_ledger:failed', 'notify:failed']);
      expect(await sagaRow(fixture, sagaId)).toEqual({ status: 'failed', failure_code: 'injected_fault', failure_message: 'fault drill' });
      expect(await balanceOf(db(), debited.wallet.id)).toBe(debitedBalance);
      expect(await balanceOf(db(), credited.wallet.id)).toBe(0);
      expect(await heldOn(credited.wallet.id)).toBe(0);
      await expectLedgerInBalance(accountsOf(created));
    });

    it('when the notify step is recorded failed twice, then the timeline says so once', async () => {
      const { sagaId } = await fixture.newSaga();

      await saga().recordStep(sagaId, 'notify', 'failed');
      await saga().recordStep(sagaId, 'notify', 'failed');

      expect(await stepsOf(sagaId)).toEqual(['notify:failed']);
    });
  });

  describe('races', () => {
    /** Moves the credited wallet's whole credit out of the platform. */
    const spend = (key: string, walletId: string) =>
      postJournal(db(), {
        key,
        type: 'transfer',
        referenceId: key,
        lines: [
          { accountId: walletId, amount: -fixture.creditedAmount, type: 'transfer_out' },
          { accountId: systemAccountId('external', 'USD'), amount: fixture.creditedAmount, type: 'transfer_out' },
        ],
      });

    it('when the credited side tries to spend a credit whose saga has not finished, then it is refused and the reversal still works', async () => {
      const created = await fixture.newSaga();
      const { sagaId, credited } = created;
      for (const step of ['validate', 'debit', 'credit'] as const) await saga()[step](sagaId);

      await expect(spend(`${sagaId}:early-spend`, credited.wallet.id)).rejects.toMatchObject({ type: ErrorType.InsufficientFunds });
      await saga().reverseCredit(sagaId);
      await saga().returnDebit(sagaId);

      expect(await balanceOf(db(), credited.wallet.id)).toBe(0);
      expect(await heldOn(credited.wallet.id)).toBe(0);
      await expectLedgerInBalance(accountsOf(created));
    });

    it('when write_ledger finishes the saga, then the credited side can spend the credit', async () => {
      const { sagaId, credited } = await fixture.newSaga();
      for (const step of ['validate', 'debit', 'credit', 'writeLedger'] as const) await saga()[step](sagaId);

      expect(await db()('accounts').select('balance', 'held').where({ id: credited.wallet.id }).first()).toEqual({ balance: fixture.creditedAmount, held: 0 });
      await spend(`${sagaId}:spend`, credited.wallet.id);
      expect(await balanceOf(db(), credited.wallet.id)).toBe(0);
    });
  });
});
