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
import { postJournal } from '../store/ledger';
import { createNotificationActivities } from './notify';
import { listSteps } from '../store/saga-timeline';
import { insertPendingTransfer } from '../store/transfer-records';
import { createTransferSagaActivities } from './transfers';

/**
 * The transfer saga's activities against the real database: each money step run
 * twice moves money once, business refusals are typed and non-retryable,
 * compensations work on frozen wallets, and the ledger stays in balance.
 */
let db: Knex;
let environment: MockActivityEnvironment;

const GENEROUS_DAILY_LIMIT = 100_000_000;
const CLEARING = systemAccountId('clearing', 'USD');

beforeAll(() => {
  db = createDatabase(testConfig().databaseUrl, 5);
  // Refusals are expected here; the activity logger would print each one.
  environment = new MockActivityEnvironment(undefined, { logger: new DefaultLogger('ERROR') });
});

afterAll(async () => {
  const saga = activities();
  await endLeftoverSagas(
    db,
    'transfers',
    written,
    [
      { step: 'credit_recipient', compensation: 'reverse_recipient_credit', run: (transferId) => run(saga.reverseRecipientCredit, { transferId }) },
      { step: 'debit_sender', compensation: 'refund_sender', run: (transferId) => run(saga.refundSender, { transferId }) },
    ],
    (transferId) => run(saga.failTransfer, { transferId, step: 'test_cleanup', code: 'abandoned', message: 'left in flight by an activity test' }),
  );
  await db.destroy();
});

/** Every transfer this file wrote: afterAll ends those a test left in flight. */
const written: string[] = [];

type Party = Awaited<ReturnType<typeof userWithWallet>>;

interface TransferRowInput {
  sender: Party;
  recipient: Party;
  amount: number;
  note?: string;
  faultStep?: string;
  status?: 'pending' | 'processing' | 'succeeded' | 'failed';
}

/** Writes a transfer row straight to the database, as the API would before starting its saga. */
async function insertTransfer(database: Knex, input: TransferRowInput): Promise<string> {
  const id = newId('trf');
  written.push(id);
  await insertPendingTransfer(database, {
    id,
    senderId: input.sender.user.id,
    fromWalletId: input.sender.wallet.id,
    recipientId: input.recipient.user.id,
    toWalletId: input.recipient.wallet.id,
    amount: input.amount,
    currency: 'USD',
    note: input.note ?? null,
    faultStep: input.faultStep ?? null,
  });
  if (input.status && input.status !== 'pending') await database('transfers').where({ id }).update({ status: input.status });
  return id;
}

/** A sender funded with `senderBalance`, a recipient with an empty wallet, and a pending transfer between them. */
async function newTransfer(options: { senderBalance?: number; amount?: number; faultStep?: string; note?: string } = {}) {
  const amount = options.amount ?? 10_000;
  const senderBalance = options.senderBalance ?? 50_000;
  const sender = await userWithWallet(db, { balance: senderBalance });
  const recipient = await userWithWallet(db);
  const transferId = await insertTransfer(db, { sender, recipient, amount, faultStep: options.faultStep, note: options.note });
  return { transferId, sender, recipient, amount, senderBalance };
}

/** Like newTransfer, with the validate step already passed (status processing, no timeline entry): what the money steps expect. */
async function validatedTransfer(options: Parameters<typeof newTransfer>[0] = {}) {
  const created = await newTransfer(options);
  await db('transfers').where({ id: created.transferId }).update({ status: 'processing' });
  return created;
}

function activities(transferDailyLimit = GENEROUS_DAILY_LIMIT) {
  return { ...createTransferSagaActivities({ db, transferDailyLimit }), ...createNotificationActivities({ db }) };
}

/** Runs an activity in the mock activity context. */
function run<A extends unknown[], R>(activity: (...args: A) => Promise<R>, ...args: A): Promise<R> {
  return environment.run<A, R, typeof activity>(activity, ...args);
}

/** The forward steps, by activity name. */
type ForwardActivity = 'validateTransfer' | 'debitSender' | 'creditRecipient' | 'writeTransferLedger' | 'notifyTransfer';

/** Runs one forward step of a transfer, named by its activity. */
function runStep(name: ForwardActivity, transferId: string): Promise<unknown> {
  const activity: (input: { transferId: string }) => Promise<unknown> = activities()[name];
  return run(activity, { transferId });
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

/** How many journals carry the key `<transferId>:<step>`. */
async function journalCount(transferId: string, step: string): Promise<number> {
  const row = (await db('journals').count({ n: '*' }).where({ journal_key: `${transferId}:${step}` }).first()) as { n: number | string } | undefined;
  return Number(row?.n ?? 0);
}

/** What this transfer's entries moved on one account (the shared clearing account moves for other tests too). */
async function movedBy(transferId: string, accountId: string): Promise<number> {
  const row = (await db('entries').sum({ total: 'amount' }).where({ account_id: accountId, reference_id: transferId }).first()) as
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

async function transferRow(transferId: string) {
  const row = await db('transfers').select('status', 'failure_code', 'failure_message').where({ id: transferId }).first();
  if (!row) throw new Error(`no transfer ${transferId}`);
  return row;
}

async function stepsOf(transferId: string): Promise<string[]> {
  return (await listSteps(db, transferId)).map((step) => `${step.name}:${step.status}`);
}

async function heldOn(walletId: string): Promise<number> {
  const row = await db('accounts').select('held').where({ id: walletId }).first();
  return Number(row?.held);
}

async function freeze(walletId: string): Promise<void> {
  await db('accounts').where({ id: walletId }).update({ status: 'frozen' });
}

describe('transfer saga activities', () => {
  describe('validateTransfer', () => {
    it('when the sender can pay, then the transfer is processing and validate is completed', async () => {
      const { transferId } = await newTransfer({ senderBalance: 10_000, amount: 10_000 });

      await run(activities().validateTransfer, { transferId });
      await run(activities().validateTransfer, { transferId });

      expect((await transferRow(transferId)).status).toBe('processing');
      expect(await stepsOf(transferId)).toEqual(['validate:completed']);
    });

    it('when the sender has less than the amount, then it refuses with InsufficientFunds and changes nothing', async () => {
      const { transferId } = await newTransfer({ senderBalance: 9_999, amount: 10_000 });

      await expectRefusal(run(activities().validateTransfer, { transferId }), ErrorType.InsufficientFunds);

      expect((await transferRow(transferId)).status).toBe('pending');
      expect(await stepsOf(transferId)).toEqual([]);
    });

    it('when part of the balance is held by an unfinished saga, then only the rest can be sent', async () => {
      const { transferId, sender } = await newTransfer({ senderBalance: 10_000, amount: 10_000 });
      await db('accounts').where({ id: sender.wallet.id }).update({ held: 1 });

      await expectRefusal(run(activities().validateTransfer, { transferId }), ErrorType.InsufficientFunds);

      await db('accounts').where({ id: sender.wallet.id }).update({ held: 0 });
      expect((await transferRow(transferId)).status).toBe('pending');
    });

    it('when the recipient is a merchant, then it refuses with RecipientIsMerchant and changes nothing', async () => {
      const sender = await userWithWallet(db, { balance: 50_000 });
      const merchant = await userWithWallet(db, { role: 'merchant' });
      const transferId = await insertTransfer(db, { sender, recipient: merchant, amount: 1_000 });

      await expectRefusal(run(activities().validateTransfer, { transferId }), ErrorType.RecipientIsMerchant);

      expect((await transferRow(transferId)).status).toBe('pending');
      expect(await stepsOf(transferId)).toEqual([]);
    });

    it.each(['sender', 'recipient'] as const)('when the %s wallet is frozen, then it refuses with WalletFrozen', async (side) => {
      const transfer = await newTransfer();
      await freeze(transfer[side].wallet.id);

      await expectRefusal(run(activities().validateTransfer, { transferId: transfer.transferId }), ErrorType.WalletFrozen);

      expect((await transferRow(transfer.transferId)).status).toBe('pending');
    });

    it('when the transfer would take the sender over the 24-hour limit, then it refuses with LimitExceeded', async () => {
      const sender = await userWithWallet(db, { balance: 50_000 });
      const recipient = await userWithWallet(db);
      await insertTransfer(db, { sender, recipient, amount: 6_000, status: 'succeeded' });
      const transferId = await insertTransfer(db, { sender, recipient, amount: 4_001 });

      await expectRefusal(run(activities(10_000).validateTransfer, { transferId }), ErrorType.LimitExceeded);

      expect((await transferRow(transferId)).status).toBe('pending');
    });

    it('when the transfer reaches the 24-hour limit exactly, then it passes (failed and pending transfers do not count)', async () => {
      const sender = await userWithWallet(db, { balance: 50_000 });
      const recipient = await userWithWallet(db);
      await insertTransfer(db, { sender, recipient, amount: 3_000, status: 'succeeded' });
      await insertTransfer(db, { sender, recipient, amount: 3_000, status: 'processing' });
      await insertTransfer(db, { sender, recipient, amount: 9_000, status: 'failed' });
      await insertTransfer(db, { sender, recipient, amount: 9_000, status: 'pending' });
      const transferId = await insertTransfer(db, { sender, recipient, amount: 4_000 });

      await run(activities(10_000).validateTransfer, { transferId });

      expect((await transferRow(transferId)).status).toBe('processing');
    });

    it('when validate runs again after it passed, then the transfer is not judged a second time', async () => {
      const { transferId, sender } = await newTransfer({ senderBalance: 10_000, amount: 10_000 });
      await run(activities().validateTransfer, { transferId });
      // As if another saga had spent the money between the first attempt and a retry.
      await freeze(sender.wallet.id);

      await run(activities().validateTransfer, { transferId });

      expect((await transferRow(transferId)).status).toBe('processing');
    });

    it('when the transfer already failed, then validate refuses to revive it (SagaNotLive: the fence)', async () => {
      const sender = await userWithWallet(db, { balance: 50_000 });
      const recipient = await userWithWallet(db);
      const transferId = await insertTransfer(db, { sender, recipient, amount: 100, status: 'failed' });

      await expectRefusal(run(activities().validateTransfer, { transferId }), ErrorType.SagaNotLive);

      expect((await transferRow(transferId)).status).toBe('failed');
    });
  });

  describe('money moves once', () => {
    it('when debitSender runs twice, then the sender is debited once, into clearing', async () => {
      const { transferId, sender, amount, senderBalance } = await validatedTransfer();

      const first = await run(activities().debitSender, { transferId });
      const second = await run(activities().debitSender, { transferId });

      expect(second).toEqual(first);
      expect(await balanceOf(db, sender.wallet.id)).toBe(senderBalance - amount);
      expect(await movedBy(transferId, CLEARING)).toBe(amount);
      expect(await journalCount(transferId, 'debit_sender')).toBe(1);
      expect(await db('entries').select('type').where({ reference_id: transferId }).orderBy('seq')).toEqual([{ type: 'transfer_out' }, { type: 'transfer_out' }]);
      expect(await stepsOf(transferId)).toEqual(['debit_sender:completed']);
      await expectLedgerInBalance([sender.wallet.id, CLEARING]);
    });

    it('when creditRecipient runs twice, then the recipient gets the whole amount once, held until write_ledger', async () => {
      const { transferId, sender, recipient, amount } = await validatedTransfer();
      await run(activities().debitSender, { transferId });

      const first = await run(activities().creditRecipient, { transferId });
      const second = await run(activities().creditRecipient, { transferId });

      expect(second).toEqual(first);
      expect(await balanceOf(db, recipient.wallet.id)).toBe(amount);
      expect(await heldOn(recipient.wallet.id)).toBe(amount);
      expect(await movedBy(transferId, CLEARING)).toBe(0);
      expect(await journalCount(transferId, 'credit_recipient')).toBe(1);
      expect(await movedBy(transferId, recipient.wallet.id)).toBe(amount);
      await expectLedgerInBalance([sender.wallet.id, recipient.wallet.id, CLEARING]);
    });

    it('when creditRecipient runs before debitSender, then it fails and moves nothing', async () => {
      const { transferId, recipient } = await validatedTransfer();

      await expect(run(activities().creditRecipient, { transferId })).rejects.toThrow(/credit_recipient before debit_sender/);

      expect(await balanceOf(db, recipient.wallet.id)).toBe(0);
      expect(await journalCount(transferId, 'credit_recipient')).toBe(0);
    });

    it('when reverseRecipientCredit runs twice, then the credit and its hold go back once', async () => {
      const { transferId, sender, recipient, amount } = await validatedTransfer();
      await run(activities().debitSender, { transferId });
      await run(activities().creditRecipient, { transferId });

      const first = await run(activities().reverseRecipientCredit, { transferId });
      const second = await run(activities().reverseRecipientCredit, { transferId });

      expect(second).toEqual(first);
      expect(await balanceOf(db, recipient.wallet.id)).toBe(0);
      expect(await heldOn(recipient.wallet.id)).toBe(0);
      expect(await movedBy(transferId, CLEARING)).toBe(amount);
      expect(await journalCount(transferId, 'reverse_recipient_credit')).toBe(1);
      expect(await stepsOf(transferId)).toEqual(['debit_sender:completed', 'credit_recipient:compensated']);
      await expectLedgerInBalance([sender.wallet.id, recipient.wallet.id, CLEARING]);
    });

    it('when refundSender runs twice, then the sender gets the amount back once, as a reversal', async () => {
      const { transferId, sender, senderBalance } = await validatedTransfer();
      await run(activities().debitSender, { transferId });

      const first = await run(activities().refundSender, { transferId });
      const second = await run(activities().refundSender, { transferId });

      expect(second).toEqual(first);
      expect(await balanceOf(db, sender.wallet.id)).toBe(senderBalance);
      expect(await movedBy(transferId, CLEARING)).toBe(0);
      expect(await journalCount(transferId, 'refund_sender')).toBe(1);
      expect(await db('entries').select('type').where({ reference_id: transferId, account_id: sender.wallet.id }).orderBy('seq')).toEqual([
        { type: 'transfer_out' },
        { type: 'reversal' },
      ]);
      expect(await stepsOf(transferId)).toEqual(['debit_sender:compensated']);
      await expectLedgerInBalance([sender.wallet.id, CLEARING]);
    });
  });

  describe('frozen wallets', () => {
    it('when the sender wallet is frozen, then debitSender refuses with WalletFrozen and changes nothing', async () => {
      const { transferId, sender, senderBalance } = await validatedTransfer();
      await freeze(sender.wallet.id);

      await expectRefusal(run(activities().debitSender, { transferId }), ErrorType.WalletFrozen);

      expect(await balanceOf(db, sender.wallet.id)).toBe(senderBalance);
      expect(await journalCount(transferId, 'debit_sender')).toBe(0);
      expect(await stepsOf(transferId)).toEqual([]);
      await expectLedgerInBalance([sender.wallet.id]);
    });

    it('when the recipient wallet is frozen, then creditRecipient refuses with WalletFrozen and the money stays in clearing', async () => {
      const { transferId, recipient, amount } = await validatedTransfer();
      await run(activities().debitSender, { transferId });
      await freeze(recipient.wallet.id);

      await expectRefusal(run(activities().creditRecipient, { transferId }), ErrorType.WalletFrozen);

      expect(await balanceOf(db, recipient.wallet.id)).toBe(0);
      expect(await movedBy(transferId, CLEARING)).toBe(amount);
      await run(activities().refundSender, { transferId });
      expect(await movedBy(transferId, CLEARING)).toBe(0);
    });

    it('when the sender wallet was frozen after the debit, then refundSender still gives the money back', async () => {
      const { transferId, sender, senderBalance } = await validatedTransfer();
      await run(activities().debitSender, { transferId });
      await freeze(sender.wallet.id);

      await run(activities().refundSender, { transferId });

      expect(await balanceOf(db, sender.wallet.id)).toBe(senderBalance);
      expect(await journalCount(transferId, 'refund_sender')).toBe(1);
      await expectLedgerInBalance([sender.wallet.id, CLEARING]);
    });

    it('when the recipient wallet was frozen after the credit, then reverseRecipientCredit still takes the credit back', async () => {
      const { transferId, sender, recipient } = await validatedTransfer();
      await run(activities().debitSender, { transferId });
      await run(activities().creditRecipient, { transferId });
      await freeze(recipient.wallet.id);

      await run(activities().reverseRecipientCredit, { transferId });

      expect(await balanceOf(db, recipient.wallet.id)).toBe(0);
      expect(await journalCount(transferId, 'reverse_recipient_credit')).toBe(1);
      await expectLedgerInBalance([sender.wallet.id, recipient.wallet.id, CLEARING]);
    });
  });

  describe('fault drill', () => {
    const forwardSteps = [
      { step: 'validate', activity: 'validateTransfer' },
      { step: 'debit_sender', activity: 'debitSender' },
      { step: 'credit_recipient', activity: 'creditRecipient' },
      { step: 'write_ledger', activity: 'writeTransferLedger' },
      { step: 'notify', activity: 'notifyTransfer' },
    ] as const;

    it.each(forwardSteps.map(({ step }) => step))('when the drill names %s, then exactly that step throws InjectedFault', async (faultStep) => {
      const { transferId, sender, recipient } = await newTransfer({ faultStep });
      const faultIndex = forwardSteps.findIndex(({ step }) => step === faultStep);

      for (const { activity } of forwardSteps.slice(0, faultIndex)) await runStep(activity, transferId);
      const faulty = forwardSteps[faultIndex];
      if (!faulty) throw new Error(`unknown step ${faultStep}`);
      await expectRefusal(runStep(faulty.activity, transferId), ErrorType.InjectedFault);

      expect(await stepsOf(transferId)).toEqual(forwardSteps.slice(0, faultIndex).map(({ step }) => `${step}:completed`));
      expect(await journalCount(transferId, faultStep)).toBe(0);
      await expectLedgerInBalance([sender.wallet.id, recipient.wallet.id, CLEARING]);
    });
  });

  describe('the end of a transfer', () => {
    it('when writeTransferLedger runs twice, then the transfer succeeded with one audit record and the credit is released once', async () => {
      const { transferId, sender, recipient, amount } = await newTransfer();
      for (const activity of ['validateTransfer', 'debitSender', 'creditRecipient'] as const) await runStep(activity, transferId);

      await run(activities().writeTransferLedger, { transferId });
      await run(activities().writeTransferLedger, { transferId });

      expect(await transferRow(transferId)).toEqual({ status: 'succeeded', failure_code: null, failure_message: null });
      expect(await heldOn(recipient.wallet.id)).toBe(0);
      const audits = await db('audit_log').select('action', 'actor_id', 'data').where({ resource_type: 'transfer', resource_id: transferId });
      expect(audits).toHaveLength(1);
      expect(audits[0]).toMatchObject({ action: 'transfer.succeeded', actor_id: sender.user.id });
      expect(JSON.parse(String(audits[0]?.data))).toEqual({ amount, currency: 'USD', recipientId: recipient.user.id });
    });

    it('when failTransfer runs after the transfer succeeded, then it throws and the transfer stays succeeded', async () => {
      const { transferId } = await newTransfer();
      for (const activity of ['validateTransfer', 'debitSender', 'creditRecipient', 'writeTransferLedger'] as const) await runStep(activity, transferId);

      await expect(
        run(activities().failTransfer, { transferId, step: 'notify', code: 'processing_error', message: 'late failure' }),
      ).rejects.toThrow(/already succeeded/);

      expect(await transferRow(transferId)).toEqual({ status: 'succeeded', failure_code: null, failure_message: null });
    });

    it('when every step succeeds, then the timeline reads all five steps completed and both people are told once', async () => {
      const { transferId, sender, recipient } = await newTransfer({ amount: 1_234, note: 'Rent' });

      for (const activity of ['validateTransfer', 'debitSender', 'creditRecipient', 'writeTransferLedger', 'notifyTransfer'] as const) await runStep(activity, transferId);
      await runStep('notifyTransfer', transferId);

      expect(await stepsOf(transferId)).toEqual([
        'validate:completed',
        'debit_sender:completed',
        'credit_recipient:completed',
        'write_ledger:completed',
        'notify:completed',
      ]);
      const notifications = await db('notifications').select('user_id', 'type', 'body').where({ channel: 'in_app' }).andWhere('dedupe_key', 'like', `${transferId}:%`).orderBy('seq');
      expect(notifications).toEqual([
        { user_id: sender.user.id, type: 'transfer_sent', body: 'You sent 12.34 USD to Fixture.' },
        { user_id: recipient.user.id, type: 'transfer_received', body: 'Fixture sent you 12.34 USD. Note: Rent' },
      ]);
      await expectLedgerInBalance([sender.wallet.id, recipient.wallet.id, CLEARING]);
    });

    it('when write_ledger fails and the saga compensates, then the timeline reads compensated steps and the failed one, and only the sender is told', async () => {
      const { transferId, sender, recipient, senderBalance } = await newTransfer({ faultStep: 'write_ledger' });
      for (const activity of ['validateTransfer', 'debitSender', 'creditRecipient'] as const) await runStep(activity, transferId);
      await expectRefusal(run(activities().writeTransferLedger, { transferId }), ErrorType.InjectedFault);

      await run(activities().reverseRecipientCredit, { transferId });
      await run(activities().refundSender, { transferId });
      const failure = { transferId, step: 'write_ledger', code: 'injected_fault', message: 'fault drill' };
      await run(activities().failTransfer, failure);
      await run(activities().failTransfer, failure);
      await runStep('notifyTransfer', transferId);
      await runStep('notifyTransfer', transferId);

      expect(await stepsOf(transferId)).toEqual([
        'validate:completed',
        'debit_sender:compensated',
        'credit_recipient:compensated',
        'write_ledger:failed',
        'notify:completed',
      ]);
      expect(await transferRow(transferId)).toEqual({ status: 'failed', failure_code: 'injected_fault', failure_message: 'fault drill' });
      expect(await balanceOf(db, sender.wallet.id)).toBe(senderBalance);
      expect(await balanceOf(db, recipient.wallet.id)).toBe(0);
      expect(await heldOn(recipient.wallet.id)).toBe(0);
      const notifications = await db('notifications').select('user_id', 'type', 'data').where({ channel: 'in_app' }).andWhere('dedupe_key', 'like', `${transferId}:%`);
      expect(notifications.map((row) => [row.user_id, row.type])).toEqual([[sender.user.id, 'transfer_failed']]);
      expect(JSON.parse(String(notifications[0]?.data))).toMatchObject({ transferId, failureCode: 'injected_fault' });
      await expectLedgerInBalance([sender.wallet.id, recipient.wallet.id, CLEARING]);
    });

    it('when recordTransferStep marks notify failed, then the timeline says so', async () => {
      const { transferId } = await newTransfer();

      await run(activities().recordTransferStep, { transferId, step: 'notify', status: 'failed' });
      await run(activities().recordTransferStep, { transferId, step: 'notify', status: 'failed' });

      expect(await stepsOf(transferId)).toEqual(['notify:failed']);
    });
  });
});

describe('races a transfer must survive', () => {
  it('when two transfers of one sender are validated at once, then the 24-hour limit still holds', async () => {
    const sender = await userWithWallet(db, { balance: 20_000 });
    const recipient = await userWithWallet(db);
    const first = await insertTransfer(db, { sender, recipient, amount: 6_000 });
    const second = await insertTransfer(db, { sender, recipient, amount: 6_000 });

    const outcomes = await Promise.allSettled([
      run(activities(10_000).validateTransfer, { transferId: first }),
      run(activities(10_000).validateTransfer, { transferId: second }),
    ]);

    expect(outcomes.map((outcome) => outcome.status).sort()).toEqual(['fulfilled', 'rejected']);
    const refused = outcomes.find((outcome): outcome is PromiseRejectedResult => outcome.status === 'rejected');
    expect(refused?.reason).toMatchObject({ type: ErrorType.LimitExceeded });
  });

  it('when the recipient tries to spend a credit whose saga has not finished, then it is refused and the reversal still works', async () => {
    const { transferId, recipient, amount } = await newTransfer();
    for (const activity of ['validateTransfer', 'debitSender', 'creditRecipient'] as const) await runStep(activity, transferId);
    const spend = postJournal(db, {
      key: `${transferId}:early-spend`,
      type: 'transfer',
      referenceId: `${transferId}:early-spend`,
      lines: [
        { accountId: recipient.wallet.id, amount: -amount, type: 'transfer_out' },
        { accountId: systemAccountId('external', 'USD'), amount, type: 'transfer_out' },
      ],
    });

    await expect(spend).rejects.toMatchObject({ type: ErrorType.InsufficientFunds });
    await run(activities().reverseRecipientCredit, { transferId });
    await run(activities().refundSender, { transferId });

    expect(await balanceOf(db, recipient.wallet.id)).toBe(0);
    expect(await heldOn(recipient.wallet.id)).toBe(0);
    await expectLedgerInBalance([recipient.wallet.id, CLEARING]);
  });

  it('when write_ledger finishes the transfer, then the recipient can spend the credit', async () => {
    const { transferId, recipient, amount } = await newTransfer();
    for (const activity of ['validateTransfer', 'debitSender', 'creditRecipient', 'writeTransferLedger'] as const) await runStep(activity, transferId);

    expect(await db('accounts').select('balance', 'held').where({ id: recipient.wallet.id }).first()).toEqual({ balance: amount, held: 0 });
    await postJournal(db, {
      key: `${transferId}:spend`,
      type: 'transfer',
      referenceId: transferId,
      lines: [
        { accountId: recipient.wallet.id, amount: -amount, type: 'transfer_out' },
        { accountId: systemAccountId('external', 'USD'), amount, type: 'transfer_out' },
      ],
    });
    expect(await balanceOf(db, recipient.wallet.id)).toBe(0);
  });
});
