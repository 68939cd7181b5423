import { ErrorType } from '../domain/errors';
import { userWithWallet } from '../test/support/fixtures';
import { transferFixture, validated } from '../test/support/money-saga-fixtures';
import { clearingOf, useSagaActivityHarness } from '../test/support/saga-activities';

/**
 * What only the transfer saga's activities do, against the real database: a merchant cannot be
 * a recipient, the sender's 24-hour limit, the entry types, and who is told. The cases every money
 * saga shares are in `money-sagas.test.ts`.
 */
const harness = useSagaActivityHarness(() => transfers.endLeftovers());
const transfers = transferFixture(harness);
const { expectRefusal, expectLedgerInBalance, stepsOf } = harness;
const db = () => harness.db();

async function statusOf(transferId: string): Promise<unknown> {
  return (await db()('transfers').select('status').where({ id: transferId }).first())?.status;
}

/** A funded sender and a customer recipient with an empty wallet. */
async function parties() {
  return { sender: await userWithWallet(db(), { balance: 50_000 }), recipient: await userWithWallet(db()) };
}

/** The in-app notifications of one transfer, in the order they were written. */
async function notificationsOf(transferId: string, columns: string[]): Promise<Array<Record<string, unknown>>> {
  return (await db()('notifications').select(...columns).where({ channel: 'in_app' }).andWhere('dedupe_key', 'like', `${transferId}:%`).orderBy('seq')) as Array<Record<string, unknown>>;
}

describe('transfer saga activities', () => {
  it('when the recipient is a merchant, then validate refuses with RecipientIsMerchant and changes nothing', async () => {
    const sender = await userWithWallet(db(), { balance: 50_000 });
    const merchant = await userWithWallet(db(), { role: 'merchant' });
    const transferId = await transfers.insert({ sender, recipient: merchant, amount: 1_000 });

    await expectRefusal(transfers.activities().validate(transferId), ErrorType.RecipientIsMerchant);

    expect(await statusOf(transferId)).toBe('pending');
    expect(await stepsOf(transferId)).toEqual([]);
  });

  it('when debitSender runs and refundSender gives it back, then the entries are transfer_out and a reversal', async () => {
    const { sagaId, debited } = await validated(db(), transfers);
    const saga = transfers.activities();

    await saga.debit(sagaId);
    expect(await db()('entries').select('type').where({ reference_id: sagaId }).orderBy('seq')).toEqual([{ type: 'transfer_out' }, { type: 'transfer_out' }]);
    await saga.returnDebit(sagaId);

    expect(await db()('entries').select('type').where({ reference_id: sagaId, account_id: debited.wallet.id }).orderBy('seq')).toEqual([
      { type: 'transfer_out' },
      { type: 'reversal' },
    ]);
  });

  describe('the 24-hour limit', () => {
    it('when the transfer would take the sender over the 24-hour limit, then it refuses with LimitExceeded', async () => {
      const { sender, recipient } = await parties();
      await transfers.insert({ sender, recipient, amount: 6_000, status: 'succeeded' });
      const transferId = await transfers.insert({ sender, recipient, amount: 4_001 });

      await expectRefusal(transfers.activities(10_000).validate(transferId), ErrorType.LimitExceeded);

      expect(await statusOf(transferId)).toBe('pending');
    });

    it('when the transfer reaches the 24-hour limit exactly, then it passes (failed and pending transfers do not count)', async () => {
      const { sender, recipient } = await parties();
      await transfers.insert({ sender, recipient, amount: 3_000, status: 'succeeded' });
      await transfers.insert({ sender, recipient, amount: 3_000, status: 'processing' });
      await transfers.insert({ sender, recipient, amount: 9_000, status: 'failed' });
      await transfers.insert({ sender, recipient, amount: 9_000, status: 'pending' });
      const transferId = await transfers.insert({ sender, recipient, amount: 4_000 });

      await transfers.activities(10_000).validate(transferId);

      expect(await statusOf(transferId)).toBe('processing');
    });

    it('when two transfers of one sender are validated at once, then the 24-hour limit still holds', async () => {
      const sender = await userWithWallet(db(), { balance: 20_000 });
      const recipient = await userWithWallet(db());
      const first = await transfers.insert({ sender, recipient, amount: 6_000 });
      const second = await transfers.insert({ sender, recipient, amount: 6_000 });

      const outcomes = await Promise.allSettled([transfers.activities(10_000).validate(first), transfers.activities(10_000).validate(second)]);

      expect(outcomes.map((outcome) => outcome.status).sort()).toEqual(['fulfilled', 'rejected']);
      const refused = outcomes.find((outcome): outcome is PromiseRejectedResult => outcome.status === 'rejected');
      expect(refused?.reason).toMatchObject({ type: ErrorType.LimitExceeded });
    });
  });

  describe('who is told', () => {
    it('when every step succeeds and notify runs twice, then both people are told once', async () => {
      const sender = await userWithWallet(db(), { balance: 50_000 });
      const recipient = await userWithWallet(db());
      const transferId = await transfers.insert({ sender, recipient, amount: 1_234, note: 'Rent' });
      const saga = transfers.activities();

      for (const step of ['validate', 'debit', 'credit', 'writeLedger', 'notify', 'notify'] as const) await saga[step](transferId);

      expect(await stepsOf(transferId)).toEqual(['validate:completed', 'debit_sender:completed', 'credit_recipient:completed', 'write_ledger:completed', 'notify:completed']);
      expect(await notificationsOf(transferId, ['user_id', 'type', 'body'])).toEqual([
        { user_id: sender.user.id, type: 'transfer_sent', body: 'You sent 12.34 USD to Fixture.' },
        { user_id: recipient.user.id, type: 'transfer_received', body: 'Fixture sent you 12.34 USD. Note: Rent' },
      ]);
      await expectLedgerInBalance([sender.wallet.id, recipient.wallet.id, clearingOf(transferId)]);
    });

    it('when write_ledger failed and the saga compensated, then notify tells only the sender, once', async () => {
      const { sagaId, debited } = await transfers.newSaga({ faultStep: 'write_ledger' });
      const saga = transfers.activities();
      for (const step of ['validate', 'debit', 'credit'] as const) await saga[step](sagaId);
      await expectRefusal(saga.writeLedger(sagaId), ErrorType.InjectedFault);
      await saga.reverseCredit(sagaId);
      await saga.returnDebit(sagaId);
      await saga.fail(sagaId, { step: 'write_ledger', code: 'injected_fault', message: 'fault drill' });

      await saga.notify(sagaId);
      await saga.notify(sagaId);

      expect(await stepsOf(sagaId)).toEqual(['validate:completed', 'debit_sender:compensated', 'credit_recipient:compensated', 'write_ledger:failed', 'notify:completed']);
      const notifications = await notificationsOf(sagaId, ['user_id', 'type', 'data']);
      expect(notifications.map((row) => [row.user_id, row.type])).toEqual([[debited.user.id, 'transfer_failed']]);
      expect(JSON.parse(String(notifications[0]?.data))).toMatchObject({ transferId: sagaId, failureCode: 'injected_fault' });
    });
  });
});
