import { ApplicationFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { DefaultLogger } from '@temporalio/worker';
import type { Knex } from 'knex';
import { ErrorType, type ErrorTypeName } from '../domain/errors';
import { newId } from '../domain/ids';
import { systemAccountId } from '../domain/types';
import { createDatabase } from '../infra/database';
import { balanceOf, sumOfEntries, userWithWallet } from '../test/support/fixtures';
import { endLeftoverSagas } from '../test/support/leftovers';
import { testConfig } from '../test/support/stack';
import { createNotificationActivities } from './notify';
import { insertPendingPayment } from '../store/payment-records';
import { listSteps } from '../store/saga-timeline';
import { createPaymentSagaActivities } from './payments';
import { postJournal } from '../store/ledger';

/**
 * The payment saga's activities against the real database: each money step run
 * twice moves money once, business refusals are typed and non-retryable,
 * compensations work on frozen wallets, and the ledger stays in balance.
 */
let db: Knex;
let environment: MockActivityEnvironment;

const GENEROUS_DAILY_LIMIT = 100_000_000;
const CLEARING = systemAccountId('clearing', 'USD');
const FEES = systemAccountId('fees', 'USD');

beforeAll(() => {
  db = createDatabase(testConfig().databaseUrl, 5);
  // Refusals are expected here; the activity logger would print each one.
  environment = new MockActivityEnvironment(undefined, { logger: new DefaultLogger('ERROR') });
});

afterAll(async () => {
  const saga = activities();
  await endLeftoverSagas(
    db,
    'payments',
    written,
    [
      { step: 'credit_merchant', compensation: 'reverse_merchant_credit', run: (paymentId) => run(saga.reverseMerchantCredit, { paymentId }) },
      { step: 'debit_payer', compensation: 'refund_payer', run: (paymentId) => run(saga.refundPayer, { paymentId }) },
    ],
    (paymentId) => run(saga.failPayment, { paymentId, step: 'test_cleanup', code: 'abandoned', message: 'left in flight by an activity test' }),
  );
  await db.destroy();
});

/** Every payment this file wrote: afterAll ends those a test left in flight. */
const written: string[] = [];

type Party = Awaited<ReturnType<typeof userWithWallet>>;

interface PaymentRowInput {
  payer: Party;
  merchant: Party;
  amount: number;
  fee: number;
  netAmount: number;
  faultStep?: string;
  status?: 'pending' | 'processing' | 'succeeded' | 'failed';
}

/** Writes a payment row straight to the database, as the API would before starting its saga. */
async function insertPayment(database: Knex, input: PaymentRowInput): Promise<string> {
  const id = newId('pay');
  written.push(id);
  await insertPendingPayment(database, {
    id,
    payerId: input.payer.user.id,
    sourceWalletId: input.payer.wallet.id,
    merchantId: input.merchant.user.id,
    merchantWalletId: input.merchant.wallet.id,
    amount: input.amount,
    fee: input.fee,
    netAmount: input.netAmount,
    currency: 'USD',
    description: null,
    faultStep: input.faultStep ?? null,
  });
  if (input.status && input.status !== 'pending') await database('payments').where({ id }).update({ status: input.status });
  return id;
}

/** A payer funded with `payerBalance`, a merchant with an empty wallet, and a pending payment between them. */
async function newPayment(options: { payerBalance?: number; amount?: number; fee?: number; faultStep?: string } = {}) {
  const amount = options.amount ?? 10_000;
  const fee = options.fee ?? 300;
  const payer = await userWithWallet(db, { balance: options.payerBalance ?? 50_000 });
  const merchant = await userWithWallet(db, { role: 'merchant' });
  const paymentId = await insertPayment(db, { payer, merchant, amount, fee, netAmount: amount - fee, faultStep: options.faultStep });
  return { paymentId, payer, merchant, amount, fee, netAmount: amount - fee, payerBalance: options.payerBalance ?? 50_000 };
}

/** Like newPayment, with the validate step already passed (status processing, no timeline entry): what the money steps expect. */
async function validatedPayment(options: Parameters<typeof newPayment>[0] = {}) {
  const created = await newPayment(options);
  await db('payments').where({ id: created.paymentId }).update({ status: 'processing' });
  return created;
}

function activities(paymentDailyLimit = GENEROUS_DAILY_LIMIT) {
  return { ...createPaymentSagaActivities({ db, paymentDailyLimit }), ...createNotificationActivities({ db }) };
}

/** Runs an activity in the mock activity context. */
function run<A extends unknown[], R>(activity: (...args: A) => Promise<R>, ...args: A): Promise<R> {
  return environment.run<A, R, typeof activity>(activity, ...args);
}

/** The forward steps, by activity name. */
type ForwardActivity = 'validatePayment' | 'debitPayer' | 'creditMerchant' | 'writeLedger' | 'notifyPayment';

/** Runs one forward step of a payment, named by its activity. */
function runStep(name: ForwardActivity, paymentId: string): Promise<unknown> {
  const activity: (input: { paymentId: string }) => Promise<unknown> = activities()[name];
  return run(activity, { paymentId });
}

/** Asserts the activity failed with a non-retryable ApplicationFailure of `type`. */
async function expectRefusal(outcome: Promise<unknown>, type: ErrorTypeName): Promise<void> {
  const error = await outcome.then(
    () => null,
    (reason: unknown) => reason,
  );
  expect(error).toBeInstanceOf(ApplicationFailure);
  expect(error).toMatchObject({ type, nonRetryable: true });
}

/** How many journals carry the key `<paymentId>:<step>`. */
async function journalCount(paymentId: string, step: string): Promise<number> {
  const row = (await db('journals').count({ n: '*' }).where({ journal_key: `${paymentId}:${step}` }).first()) as { n: number | string } | undefined;
  return Number(row?.n ?? 0);
}

/** What this payment's entries moved on one account (shared system accounts move for other tests too). */
async function movedBy(paymentId: string, accountId: string): Promise<number> {
  const row = (await db('entries').sum({ total: 'amount' }).where({ account_id: accountId, reference_id: paymentId }).first()) as
    | { total: string | number | null }
    | undefined;
  return Number(row?.total ?? 0);
}

/** The ledger invariant: each account's entries sum to its balance, read in one snapshot (other tests post concurrently). */
async function expectLedgerInBalance(accountIds: string[]): Promise<void> {
  const readings = await db.transaction(
    async (trx) => {
      const rows: Array<{ accountId: string; balance: number; sumOfEntries: number }> = [];
      for (const accountId of accountIds) {
        rows.push({ accountId, balance: await balanceOf(trx, accountId), sumOfEntries: await sumOfEntries(trx, accountId) });
      }
      return rows;
    },
    { isolationLevel: 'repeatable read' },
  );
  expect(readings.map(({ accountId, sumOfEntries: sum }) => [accountId, sum])).toEqual(readings.map(({ accountId, balance }) => [accountId, balance]));
}

async function paymentRow(paymentId: string) {
  const row = await db('payments').select('status', 'failure_code', 'failure_message').where({ id: paymentId }).first();
  if (!row) throw new Error(`no payment ${paymentId}`);
  return row;
}

async function stepsOf(paymentId: string): Promise<string[]> {
  return (await listSteps(db, paymentId)).map((step) => `${step.name}:${step.status}`);
}

async function freeze(walletId: string): Promise<void> {
  await db('accounts').where({ id: walletId }).update({ status: 'frozen' });
}

describe('payment saga activities', () => {
  describe('validatePayment', () => {
    it('when the payer can pay, then the payment is processing and validate is completed', async () => {
      const { paymentId } = await newPayment({ payerBalance: 10_000, amount: 10_000 });

      await run(activities().validatePayment, { paymentId });
      await run(activities().validatePayment, { paymentId });

      expect((await paymentRow(paymentId)).status).toBe('processing');
      expect(await stepsOf(paymentId)).toEqual(['validate:completed']);
    });

    it('when the payer has less than the amount, then it refuses with InsufficientFunds and changes nothing', async () => {
      const { paymentId } = await newPayment({ payerBalance: 9_999, amount: 10_000 });

      await expectRefusal(run(activities().validatePayment, { paymentId }), ErrorType.InsufficientFunds);

      expect((await paymentRow(paymentId)).status).toBe('pending');
      expect(await stepsOf(paymentId)).toEqual([]);
    });

    it.each(['payer', 'merchant'] as const)('when the %s wallet is frozen, then it refuses with WalletFrozen', async (side) => {
      const payment = await newPayment();
      await freeze(payment[side].wallet.id);

      await expectRefusal(run(activities().validatePayment, { paymentId: payment.paymentId }), ErrorType.WalletFrozen);

      expect((await paymentRow(payment.paymentId)).status).toBe('pending');
    });

    it('when the payment would take the payer over the 24-hour limit, then it refuses with LimitExceeded', async () => {
      const payer = await userWithWallet(db, { balance: 50_000 });
      const merchant = await userWithWallet(db, { role: 'merchant' });
      await insertPayment(db, { payer, merchant, amount: 6_000, fee: 0, netAmount: 6_000, status: 'succeeded' });
      const paymentId = await insertPayment(db, { payer, merchant, amount: 4_001, fee: 0, netAmount: 4_001 });

      await expectRefusal(run(activities(10_000).validatePayment, { paymentId }), ErrorType.LimitExceeded);

      expect((await paymentRow(paymentId)).status).toBe('pending');
    });

    it('when the payment reaches the 24-hour limit exactly, then it passes (failed payments do not count)', async () => {
      const payer = await userWithWallet(db, { balance: 50_000 });
      const merchant = await userWithWallet(db, { role: 'merchant' });
      await insertPayment(db, { payer, merchant, amount: 6_000, fee: 0, netAmount: 6_000, status: 'succeeded' });
      await insertPayment(db, { payer, merchant, amount: 9_000, fee: 0, netAmount: 9_000, status: 'failed' });
      const paymentId = await insertPayment(db, { payer, merchant, amount: 4_000, fee: 0, netAmount: 4_000 });

      await run(activities(10_000).validatePayment, { paymentId });

      expect((await paymentRow(paymentId)).status).toBe('processing');
    });
  });

  describe('money moves once', () => {
    it('when debitPayer runs twice, then the payer is debited once, into clearing', async () => {
      const { paymentId, payer, amount, payerBalance } = await validatedPayment();

      const first = await run(activities().debitPayer, { paymentId });
      const second = await run(activities().debitPayer, { paymentId });

      expect(second).toEqual(first);
      expect(await balanceOf(db, payer.wallet.id)).toBe(payerBalance - amount);
      expect(await movedBy(paymentId, CLEARING)).toBe(amount);
      expect(await journalCount(paymentId, 'debit_payer')).toBe(1);
      expect(await stepsOf(paymentId)).toEqual(['debit_payer:completed']);
      await expectLedgerInBalance([payer.wallet.id, CLEARING]);
    });

    it('when creditMerchant runs twice, then the merchant gets the net amount and the platform the fee, once', async () => {
      const { paymentId, payer, merchant, fee, netAmount } = await validatedPayment();
      await run(activities().debitPayer, { paymentId });

      const first = await run(activities().creditMerchant, { paymentId });
      const second = await run(activities().creditMerchant, { paymentId });

      expect(second).toEqual(first);
      expect(await balanceOf(db, merchant.wallet.id)).toBe(netAmount);
      expect(await movedBy(paymentId, FEES)).toBe(fee);
      expect(await movedBy(paymentId, CLEARING)).toBe(0);
      expect(await journalCount(paymentId, 'credit_merchant')).toBe(1);
      await expectLedgerInBalance([payer.wallet.id, merchant.wallet.id, CLEARING, FEES]);
    });

    it('when the fee is zero, then creditMerchant and reverseMerchantCredit post no fee line', async () => {
      const { paymentId, merchant, amount } = await validatedPayment({ fee: 0 });
      await run(activities().debitPayer, { paymentId });

      await run(activities().creditMerchant, { paymentId });
      expect(await balanceOf(db, merchant.wallet.id)).toBe(amount);
      await run(activities().reverseMerchantCredit, { paymentId });

      expect(await balanceOf(db, merchant.wallet.id)).toBe(0);
      expect(await db('entries').where({ account_id: FEES, reference_id: paymentId })).toEqual([]);
      await expectLedgerInBalance([merchant.wallet.id, CLEARING]);
    });

    it('when reverseMerchantCredit runs twice, then the merchant credit and the fee go back to clearing once', async () => {
      const { paymentId, payer, merchant, amount } = await validatedPayment();
      await run(activities().debitPayer, { paymentId });
      await run(activities().creditMerchant, { paymentId });

      const first = await run(activities().reverseMerchantCredit, { paymentId });
      const second = await run(activities().reverseMerchantCredit, { paymentId });

      expect(second).toEqual(first);
      expect(await balanceOf(db, merchant.wallet.id)).toBe(0);
      expect(await movedBy(paymentId, FEES)).toBe(0);
      expect(await movedBy(paymentId, CLEARING)).toBe(amount);
      expect(await journalCount(paymentId, 'reverse_merchant_credit')).toBe(1);
      expect(await stepsOf(paymentId)).toEqual(['debit_payer:completed', 'credit_merchant:compensated']);
      await expectLedgerInBalance([payer.wallet.id, merchant.wallet.id, CLEARING, FEES]);
    });

    it('when refundPayer runs twice, then the payer gets the amount back once', async () => {
      const { paymentId, payer, payerBalance } = await validatedPayment();
      await run(activities().debitPayer, { paymentId });

      const first = await run(activities().refundPayer, { paymentId });
      const second = await run(activities().refundPayer, { paymentId });

      expect(second).toEqual(first);
      expect(await balanceOf(db, payer.wallet.id)).toBe(payerBalance);
      expect(await movedBy(paymentId, CLEARING)).toBe(0);
      expect(await journalCount(paymentId, 'refund_payer')).toBe(1);
      expect(await stepsOf(paymentId)).toEqual(['debit_payer:compensated']);
      await expectLedgerInBalance([payer.wallet.id, CLEARING]);
    });
  });

  describe('frozen wallets', () => {
    it('when the payer wallet is frozen, then debitPayer refuses with WalletFrozen and changes nothing', async () => {
      const { paymentId, payer, payerBalance } = await validatedPayment();
      await freeze(payer.wallet.id);

      await expectRefusal(run(activities().debitPayer, { paymentId }), ErrorType.WalletFrozen);

      expect(await balanceOf(db, payer.wallet.id)).toBe(payerBalance);
      expect(await journalCount(paymentId, 'debit_payer')).toBe(0);
      expect(await movedBy(paymentId, CLEARING)).toBe(0);
      expect(await stepsOf(paymentId)).toEqual([]);
      await expectLedgerInBalance([payer.wallet.id]);
    });

    it('when the payer wallet was frozen after the debit, then refundPayer still gives the money back', async () => {
      const { paymentId, payer, payerBalance } = await validatedPayment();
      await run(activities().debitPayer, { paymentId });
      await freeze(payer.wallet.id);

      await run(activities().refundPayer, { paymentId });

      expect(await balanceOf(db, payer.wallet.id)).toBe(payerBalance);
      expect(await journalCount(paymentId, 'refund_payer')).toBe(1);
      await expectLedgerInBalance([payer.wallet.id, CLEARING]);
    });

    it('when the merchant wallet was frozen after the credit, then reverseMerchantCredit still takes the credit back', async () => {
      const { paymentId, payer, merchant } = await validatedPayment();
      await run(activities().debitPayer, { paymentId });
      await run(activities().creditMerchant, { paymentId });
      await freeze(merchant.wallet.id);

      await run(activities().reverseMerchantCredit, { paymentId });

      expect(await balanceOf(db, merchant.wallet.id)).toBe(0);
      expect(await journalCount(paymentId, 'reverse_merchant_credit')).toBe(1);
      await expectLedgerInBalance([payer.wallet.id, merchant.wallet.id, CLEARING, FEES]);
    });
  });

  describe('fault drill', () => {
    const forwardSteps = [
      { step: 'validate', activity: 'validatePayment' },
      { step: 'debit_payer', activity: 'debitPayer' },
      { step: 'credit_merchant', activity: 'creditMerchant' },
      { step: 'write_ledger', activity: 'writeLedger' },
      { step: 'notify', activity: 'notifyPayment' },
    ] as const;

    it.each(forwardSteps.map(({ step }) => step))('when the drill names %s, then exactly that step throws InjectedFault', async (faultStep) => {
      const { paymentId, payer, merchant } = await newPayment({ faultStep });
      const faultIndex = forwardSteps.findIndex(({ step }) => step === faultStep);

      for (const { activity } of forwardSteps.slice(0, faultIndex)) await runStep(activity, paymentId);
      const faulty = forwardSteps[faultIndex];
      if (!faulty) throw new Error(`unknown step ${faultStep}`);
      await expectRefusal(runStep(faulty.activity, paymentId), ErrorType.InjectedFault);

      const steps = await stepsOf(paymentId);
      expect(steps).toEqual(forwardSteps.slice(0, faultIndex).map(({ step }) => `${step}:completed`));
      expect(await journalCount(paymentId, faultStep)).toBe(0);
      await expectLedgerInBalance([payer.wallet.id, merchant.wallet.id, CLEARING, FEES]);
    });

    it('when the drill names a step, then the compensations still run', async () => {
      const { paymentId, payer, merchant, payerBalance } = await validatedPayment({ faultStep: 'write_ledger' });
      await run(activities().debitPayer, { paymentId });
      await run(activities().creditMerchant, { paymentId });
      await expectRefusal(run(activities().writeLedger, { paymentId }), ErrorType.InjectedFault);

      await run(activities().reverseMerchantCredit, { paymentId });
      await run(activities().refundPayer, { paymentId });

      expect(await balanceOf(db, payer.wallet.id)).toBe(payerBalance);
      expect(await balanceOf(db, merchant.wallet.id)).toBe(0);
      await expectLedgerInBalance([payer.wallet.id, merchant.wallet.id, CLEARING, FEES]);
    });
  });

  describe('the end of a payment', () => {
    it('when writeLedger runs twice, then the payment succeeded with one audit record', async () => {
      const { paymentId, amount, fee, netAmount } = await newPayment();
      await run(activities().validatePayment, { paymentId });
      await run(activities().debitPayer, { paymentId });
      await run(activities().creditMerchant, { paymentId });

      await run(activities().writeLedger, { paymentId });
      await run(activities().writeLedger, { paymentId });

      expect(await paymentRow(paymentId)).toEqual({ status: 'succeeded', failure_code: null, failure_message: null });
      const audits = await db('audit_log').select('action', 'data').where({ resource_type: 'payment', resource_id: paymentId });
      expect(audits).toHaveLength(1);
      expect(audits[0]?.action).toBe('payment.succeeded');
      expect(JSON.parse(String(audits[0]?.data))).toEqual({ amount, fee, netAmount, currency: 'USD' });
    });

    it('when failPayment runs after the payment succeeded, then it throws and the payment stays succeeded', async () => {
      const { paymentId } = await newPayment();
      for (const activity of ['validatePayment', 'debitPayer', 'creditMerchant', 'writeLedger'] as const) await runStep(activity, paymentId);

      await expect(
        run(activities().failPayment, { paymentId, step: 'notify', code: 'processing_error', message: 'late failure' }),
      ).rejects.toThrow(/already succeeded/);

      expect(await paymentRow(paymentId)).toEqual({ status: 'succeeded', failure_code: null, failure_message: null });
      expect(await stepsOf(paymentId)).toEqual(['validate:completed', 'debit_payer:completed', 'credit_merchant:completed', 'write_ledger:completed']);
    });

    it('when every step succeeds, then the timeline reads all five steps completed', async () => {
      const { paymentId, payer, merchant } = await newPayment();

      for (const activity of ['validatePayment', 'debitPayer', 'creditMerchant', 'writeLedger', 'notifyPayment'] as const) await runStep(activity, paymentId);

      expect(await stepsOf(paymentId)).toEqual([
        'validate:completed',
        'debit_payer:completed',
        'credit_merchant:completed',
        'write_ledger:completed',
        'notify:completed',
      ]);
      await expectLedgerInBalance([payer.wallet.id, merchant.wallet.id, CLEARING, FEES]);
    });

    it('when write_ledger fails and the saga compensates, then the timeline reads compensated steps and the failed one', async () => {
      const { paymentId, payer, merchant, payerBalance } = await newPayment({ faultStep: 'write_ledger' });
      await run(activities().validatePayment, { paymentId });
      await run(activities().debitPayer, { paymentId });
      await run(activities().creditMerchant, { paymentId });
      await expectRefusal(run(activities().writeLedger, { paymentId }), ErrorType.InjectedFault);

      await run(activities().reverseMerchantCredit, { paymentId });
      await run(activities().refundPayer, { paymentId });
      const failure = { paymentId, step: 'write_ledger', code: 'injected_fault', message: 'fault drill' };
      await run(activities().failPayment, failure);
      await run(activities().failPayment, failure);
      await run(activities().recordPaymentStep, { paymentId, step: 'notify', status: 'failed' });

      expect(await stepsOf(paymentId)).toEqual([
        'validate:completed',
        'debit_payer:compensated',
        'credit_merchant:compensated',
        'write_ledger:failed',
        'notify:failed',
      ]);
      expect(await paymentRow(paymentId)).toEqual({ status: 'failed', failure_code: 'injected_fault', failure_message: 'fault drill' });
      expect(await balanceOf(db, payer.wallet.id)).toBe(payerBalance);
      expect(await balanceOf(db, merchant.wallet.id)).toBe(0);
      await expectLedgerInBalance([payer.wallet.id, merchant.wallet.id, CLEARING, FEES]);
    });
  });
});

describe('races a payment must survive', () => {
  it('when two payments of one payer are validated at once, then the 24-hour limit still holds', async () => {
    const payer = await userWithWallet(db, { balance: 20_000 });
    const merchant = await userWithWallet(db, { role: 'merchant' });
    const first = await insertPayment(db, { payer, merchant, amount: 6_000, fee: 120, netAmount: 5_880 });
    const second = await insertPayment(db, { payer, merchant, amount: 6_000, fee: 120, netAmount: 5_880 });

    const outcomes = await Promise.allSettled([run(activities(10_000).validatePayment, { paymentId: first }), run(activities(10_000).validatePayment, { paymentId: second })]);

    expect(outcomes.map((outcome) => outcome.status).sort()).toEqual(['fulfilled', 'rejected']);
    const refused = outcomes.find((outcome): outcome is PromiseRejectedResult => outcome.status === 'rejected');
    expect(refused?.reason).toMatchObject({ type: ErrorType.LimitExceeded });
  });

  it('when the merchant tries to spend a credit whose saga has not finished, then it is refused and the reversal still works', async () => {
    const { paymentId, merchant, netAmount } = await newPayment();
    await run(activities().validatePayment, { paymentId });
    await run(activities().debitPayer, { paymentId });
    await run(activities().creditMerchant, { paymentId });
    const spend = (key: string) =>
      postJournal(db, {
        key,
        type: 'transfer',
        referenceId: key,
        lines: [
          { accountId: merchant.wallet.id, amount: -netAmount, type: 'transfer_out' },
          { accountId: systemAccountId('external', 'USD'), amount: netAmount, type: 'transfer_out' },
        ],
      });

    await expect(spend(`${paymentId}:early-spend`)).rejects.toMatchObject({ type: ErrorType.InsufficientFunds });
    await run(activities().reverseMerchantCredit, { paymentId });
    await run(activities().refundPayer, { paymentId });

    expect(await balanceOf(db, merchant.wallet.id)).toBe(0);
    expect(await db('accounts').select('held').where({ id: merchant.wallet.id }).first()).toEqual({ held: 0 });
    await expectLedgerInBalance([merchant.wallet.id, CLEARING, FEES]);
  });

  it('when write_ledger finishes the payment, then the merchant can spend the credit', async () => {
    const { paymentId, merchant, netAmount } = await newPayment();
    for (const step of ['validatePayment', 'debitPayer', 'creditMerchant', 'writeLedger'] as const) await runStep(step, paymentId);

    expect(await db('accounts').select('balance', 'held').where({ id: merchant.wallet.id }).first()).toEqual({ balance: netAmount, held: 0 });
    await postJournal(db, {
      key: `${paymentId}:spend`,
      type: 'transfer',
      referenceId: paymentId,
      lines: [
        { accountId: merchant.wallet.id, amount: -netAmount, type: 'transfer_out' },
        { accountId: systemAccountId('external', 'USD'), amount: netAmount, type: 'transfer_out' },
      ],
    });
    expect(await balanceOf(db, merchant.wallet.id)).toBe(0);
  });
});
