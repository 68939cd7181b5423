import type { Knex } from 'knex';
import { insertUser } from '../api/users';
import { newId } from '../domain/ids';
import { systemAccountId, type EntryType, type Role } from '../domain/types';
import { createDatabase } from '../infra/database';
import { testConfig } from '../test/support/stack';
import { uniqueEmail } from '../test/support/fixtures';
import { ensureSystemAccounts, postJournal, type PostingLine } from './ledger';
import { insertPendingPayment } from './payment-records';
import { reconcileIn, type ReconciliationReport } from './reconciliation';
import { insertPendingTransfer } from './transfer-records';
import { createWallet } from './wallets';

/**
 * The reconciliation sees money where the sagas say it cannot be (issue 8). Each test corrupts
 * the ledger inside a transaction, reconciles inside it, and rolls it back: nothing is committed,
 * so the other test files, which reconcile the shared database, never see the corruption. The
 * transaction works in XTS (ISO 4217's code for testing), whose accounts it creates itself, so
 * its row locks are on rows no one else can touch.
 */
const CURRENCY = 'XTS';
const CLEARING = systemAccountId('clearing', CURRENCY);
const FEES = systemAccountId('fees', CURRENCY);
const EXTERNAL = systemAccountId('external', CURRENCY);
const BALANCE = 10_000;
const AMOUNT = 1_234;
const FEE = 25;
const NET = AMOUNT - FEE;
/** Long enough that no saga of the shared database counts as stuck: these tests look at money only. */
const OPTIONS = { stuckAfterMs: 7 * 86_400_000 };

let db: Knex;

beforeAll(() => {
  db = createDatabase(testConfig().databaseUrl, 3);
});

afterAll(async () => {
  await db.destroy();
});

/** Runs `work` in a transaction that is always rolled back. */
async function inRolledBackTransaction(work: (trx: Knex.Transaction) => Promise<void>): Promise<void> {
  const trx = await db.transaction();
  try {
    await ensureSystemAccounts(trx, [CURRENCY]);
    await work(trx);
  } finally {
    await trx.rollback();
  }
}

/** A user with an XTS wallet holding `balance`, topped up from the external account. */
async function walletOf(trx: Knex.Transaction, role: Role, balance = 0): Promise<{ userId: string; walletId: string }> {
  const user = await insertUser(trx, { email: uniqueEmail(role), passwordHash: 'not-a-real-hash', name: 'Fixture', phone: null, role, currency: CURRENCY });
  const wallet = await createWallet(trx, user.id, CURRENCY);
  if (balance > 0) await post(trx, `fixture:${wallet.id}`, wallet.id, [[EXTERNAL, -balance], [wallet.id, balance]]);
  return { userId: user.id, walletId: wallet.id };
}

/** Posts a balanced journal in the transaction, as a saga step would (key `<reference>:<step>`, typed by its step). */
async function post(
  trx: Knex.Transaction,
  key: string,
  referenceId: string,
  lines: Array<[accountId: string, amount: number]>,
  holds: Array<{ accountId: string; amount: number }> = [],
): Promise<void> {
  const type = key.slice(key.lastIndexOf(':') + 1);
  const postingLines: PostingLine[] = lines.map(([accountId, amount]) => ({ accountId, amount, type: ENTRY_TYPES[type] ?? 'topup' }));
  await postJournal(trx, { key, type, referenceId, lines: postingLines, holds }, trx);
}

const ENTRY_TYPES: Record<string, EntryType> = {
  debit_payer: 'payment_debit',
  credit_merchant: 'payment_credit',
  debit_sender: 'transfer_out',
  credit_recipient: 'transfer_in',
};

/** A payment from a funded customer to a merchant, in `status`. */
async function paymentIn(trx: Knex.Transaction, status: 'processing' | 'failed') {
  const payer = await walletOf(trx, 'customer', BALANCE);
  const merchant = await walletOf(trx, 'merchant');
  const id = newId('pay');
  await insertPendingPayment(trx, {
    id,
    payerId: payer.userId,
    sourceWalletId: payer.walletId,
    merchantId: merchant.userId,
    merchantWalletId: merchant.walletId,
    amount: AMOUNT,
    fee: FEE,
    netAmount: NET,
    currency: CURRENCY,
    description: null,
    faultStep: null,
  });
  const failed = status === 'failed' ? { failure_code: 'processing_error', failure_message: 'x', compensation_started_at: new Date() } : {};
  await trx('payments').where({ id }).update({ status, ...failed });
  return { id, payerWalletId: payer.walletId, merchantWalletId: merchant.walletId };
}

/** What the report says about this file's currency, wallets and sagas only: the shared database holds others'. */
function findingsOf(report: ReconciliationReport, walletIds: string[], sagaIds: string[]) {
  return {
    clearingMismatch: report.clearingMismatch.filter((mismatch) => mismatch.currency === CURRENCY),
    heldMismatch: report.heldMismatch.filter((mismatch) => walletIds.includes(mismatch.walletId)),
    offendingSagas: report.offendingSagas.filter((id) => sagaIds.includes(id)),
  };
}

const CLEAN = { clearingMismatch: [], heldMismatch: [], offendingSagas: [] };

describe('reconciliation of clearing and holds against the sagas in flight', () => {
  it('when money enters clearing without a saga, then clearingMismatch names the currency and ok is false', async () => {
    await inRolledBackTransaction(async (trx) => {
      expect(findingsOf(await reconcileIn(trx, OPTIONS), [], [])).toEqual(CLEAN);

      await post(trx, 'corruption:clearing', 'corruption', [[EXTERNAL, -500], [CLEARING, 500]]);

      const report = await reconcileIn(trx, OPTIONS);
      expect(report.ok).toBe(false);
      expect(report.sumOfAllAccounts).toBe(0);
      expect(findingsOf(report, [], []).clearingMismatch).toEqual([{ currency: CURRENCY, clearingBalance: 500, sagasInFlight: 0 }]);
    });
  });

  it('when a failed payment’s debit is in the ledger with no refund (a late debit), then the payment is offending and clearing mismatches', async () => {
    await inRolledBackTransaction(async (trx) => {
      const payment = await paymentIn(trx, 'failed');
      expect(findingsOf(await reconcileIn(trx, OPTIONS), [payment.payerWalletId], [payment.id])).toEqual(CLEAN);

      await post(trx, `${payment.id}:debit_payer`, payment.id, [[payment.payerWalletId, -AMOUNT], [CLEARING, AMOUNT]]);

      const report = await reconcileIn(trx, OPTIONS);
      expect(report.ok).toBe(false);
      expect(findingsOf(report, [payment.payerWalletId, payment.merchantWalletId], [payment.id])).toEqual({
        clearingMismatch: [{ currency: CURRENCY, clearingBalance: AMOUNT, sagasInFlight: 0 }],
        heldMismatch: [],
        offendingSagas: [payment.id],
      });
    });
  });

  it('when a wallet’s held money changes without a saga, then heldMismatch names the wallet and ok is false', async () => {
    await inRolledBackTransaction(async (trx) => {
      const { walletId } = await walletOf(trx, 'customer', BALANCE);

      await trx('accounts').where({ id: walletId }).update({ held: 700 });

      const report = await reconcileIn(trx, OPTIONS);
      expect(report.ok).toBe(false);
      expect(findingsOf(report, [walletId], [])).toEqual({ ...CLEAN, heldMismatch: [{ walletId, held: 700, unreleasedSagaCredits: 0 }] });
    });
  });

  it('when a payment is in flight after debit_payer and after credit_merchant, then clearing and holds match it', async () => {
    await inRolledBackTransaction(async (trx) => {
      const payment = await paymentIn(trx, 'processing');
      const walletIds = [payment.payerWalletId, payment.merchantWalletId];

      await post(trx, `${payment.id}:debit_payer`, payment.id, [[payment.payerWalletId, -AMOUNT], [CLEARING, AMOUNT]]);
      expect(findingsOf(await reconcileIn(trx, OPTIONS), walletIds, [payment.id])).toEqual(CLEAN);

      await post(
        trx,
        `${payment.id}:credit_merchant`,
        payment.id,
        [[CLEARING, -AMOUNT], [payment.merchantWalletId, NET], [FEES, FEE]],
        [{ accountId: payment.merchantWalletId, amount: NET }],
      );
      const report = await reconcileIn(trx, OPTIONS);
      expect(findingsOf(report, walletIds, [payment.id])).toEqual(CLEAN);
      expect(report.sumOfAllAccounts).toBe(0);
    });
  });

  it('when a transfer is in flight after credit_recipient but its hold is missing, then heldMismatch names the recipient', async () => {
    await inRolledBackTransaction(async (trx) => {
      const sender = await walletOf(trx, 'customer', BALANCE);
      const recipient = await walletOf(trx, 'customer');
      const id = newId('trf');
      await insertPendingTransfer(trx, {
        id,
        senderId: sender.userId,
        fromWalletId: sender.walletId,
        recipientId: recipient.userId,
        toWalletId: recipient.walletId,
        amount: AMOUNT,
        currency: CURRENCY,
        note: null,
        faultStep: null,
      });
      await trx('transfers').where({ id }).update({ status: 'processing' });
      await post(trx, `${id}:debit_sender`, id, [[sender.walletId, -AMOUNT], [CLEARING, AMOUNT]]);
      await post(trx, `${id}:credit_recipient`, id, [[CLEARING, -AMOUNT], [recipient.walletId, AMOUNT]], [{ accountId: recipient.walletId, amount: AMOUNT }]);
      const walletIds = [sender.walletId, recipient.walletId];
      expect(findingsOf(await reconcileIn(trx, OPTIONS), walletIds, [id])).toEqual(CLEAN);

      await trx('accounts').where({ id: recipient.walletId }).update({ held: 0 });

      const report = await reconcileIn(trx, OPTIONS);
      expect(report.ok).toBe(false);
      expect(findingsOf(report, walletIds, [id])).toEqual({ ...CLEAN, heldMismatch: [{ walletId: recipient.walletId, held: 0, unreleasedSagaCredits: AMOUNT }] });
    });
  });
});
