import { ErrorType } from '../domain/errors';
import { balanceOf, userWithWallet } from '../test/support/fixtures';
import { paymentFixture } from '../test/support/money-saga-fixtures';
import { clearingOf, feesOf, useSagaActivityHarness } from '../test/support/saga-activities';

/**
 * What only the payment saga's activities do, against the real database: the fee line and the
 * payer's 24-hour limit. The cases every money saga shares are in `money-sagas.test.ts`.
 */
const harness = useSagaActivityHarness(() => payments.endLeftovers());
const payments = paymentFixture(harness);
const { expectRefusal, expectLedgerInBalance } = harness;

async function statusOf(paymentId: string): Promise<unknown> {
  return (await harness.db()('payments').select('status').where({ id: paymentId }).first())?.status;
}

/** A funded payer and a merchant with an empty wallet. */
async function parties() {
  return { payer: await userWithWallet(harness.db(), { balance: 50_000 }), merchant: await userWithWallet(harness.db(), { role: 'merchant' }) };
}

describe('payment saga activities', () => {
  it('when the fee is zero, then creditMerchant and reverseMerchantCredit post no fee line', async () => {
    const { payer, merchant } = await parties();
    const paymentId = await payments.insert({ payer, merchant, amount: 10_000, fee: 0, status: 'processing' });
    const saga = payments.activities();
    await saga.debit(paymentId);

    await saga.credit(paymentId);
    expect(await balanceOf(harness.db(), merchant.wallet.id)).toBe(10_000);
    await saga.reverseCredit(paymentId);

    expect(await balanceOf(harness.db(), merchant.wallet.id)).toBe(0);
    expect(await harness.db()('entries').where({ account_id: feesOf(paymentId), reference_id: paymentId })).toEqual([]);
    await expectLedgerInBalance([merchant.wallet.id, clearingOf(paymentId)]);
  });

  describe('the 24-hour limit', () => {
    it('when the payment would take the payer over the 24-hour limit, then it refuses with LimitExceeded', async () => {
      const { payer, merchant } = await parties();
      await payments.insert({ payer, merchant, amount: 6_000, fee: 0, status: 'succeeded' });
      const paymentId = await payments.insert({ payer, merchant, amount: 4_001, fee: 0 });

      await expectRefusal(payments.activities(10_000).validate(paymentId), ErrorType.LimitExceeded);

      expect(await statusOf(paymentId)).toBe('pending');
    });

    it('when the payment reaches the 24-hour limit exactly, then it passes (failed payments do not count)', async () => {
      const { payer, merchant } = await parties();
      await payments.insert({ payer, merchant, amount: 6_000, fee: 0, status: 'succeeded' });
      await payments.insert({ payer, merchant, amount: 9_000, fee: 0, status: 'failed' });
      const paymentId = await payments.insert({ payer, merchant, amount: 4_000, fee: 0 });

      await payments.activities(10_000).validate(paymentId);

      expect(await statusOf(paymentId)).toBe('processing');
    });

    it('when two payments of one payer are validated at once, then the 24-hour limit still holds', async () => {
      const payer = await userWithWallet(harness.db(), { balance: 20_000 });
      const merchant = await userWithWallet(harness.db(), { role: 'merchant' });
      const first = await payments.insert({ payer, merchant, amount: 6_000, fee: 120 });
      const second = await payments.insert({ payer, merchant, amount: 6_000, fee: 120 });

      const outcomes = await Promise.allSettled([payments.activities(10_000).validate(first), payments.activities(10_000).validate(second)]);

      expect(outcomes.map((outcome) => outcome.status).sort()).toEqual(['fulfilled', 'rejected']);
      const refused = outcomes.find((outcome): outcome is PromiseRejectedResult => outcome.status === 'rejected');
      expect(refused?.reason).toMatchObject({ type: ErrorType.LimitExceeded });
    });
  });
});
