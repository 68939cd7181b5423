import type { Knex } from 'knex';
import { newId } from '../domain/ids';
import { createDatabase } from '../infra/database';
import { userWithWallet } from '../test/support/fixtures';
import { testConfig } from '../test/support/stack';
import { insertPendingPayment } from './payment-records';
import { reconcileIn } from './reconciliation';
import { insertPendingTransfer } from './transfer-records';

/**
 * Stuck-saga detection, tested once with an injected clock: the sagas are written inside a
 * transaction that is rolled back, dated in the year 2000, and judged at a `now` of that year.
 * Nothing else in the database is that old, so the report names exactly these sagas, and
 * nothing is left behind for later reconciliations (the API tests judge only their own sagas).
 */
let db: Knex;

beforeAll(() => {
  db = createDatabase(testConfig().databaseUrl, 5);
});

afterAll(async () => {
  await db.destroy();
});

const EPOCH_MS = Date.parse('2000-01-01T00:00:00.000Z');
const STUCK_AFTER_MS = 60_000;
const NOW = new Date(EPOCH_MS + 90_000);
/** The last instant a saga may have started at and still count as stuck at NOW. */
const LAST_STUCK_MS = NOW.getTime() - STUCK_AFTER_MS - 1;

type Party = Awaited<ReturnType<typeof userWithWallet>>;
type SagaStatus = 'pending' | 'processing' | 'in_review' | 'succeeded' | 'failed';

async function paymentAt(trx: Knex.Transaction, payer: Party, merchant: Party, createdAtMs: number, status: SagaStatus): Promise<string> {
  const id = newId('pay');
  await insertPendingPayment(trx, {
    id,
    payerId: payer.user.id,
    sourceWalletId: payer.wallet.id,
    merchantId: merchant.user.id,
    merchantWalletId: merchant.wallet.id,
    amount: 1_000,
    fee: 20,
    netAmount: 980,
    currency: 'USD',
    description: null,
    faultStep: null,
  });
  await trx('payments').where({ id }).update({ status, created_at: new Date(createdAtMs) });
  return `payment-${id}`;
}

async function transferAt(trx: Knex.Transaction, sender: Party, recipient: Party, createdAtMs: number, status: Exclude<SagaStatus, 'in_review'>): Promise<string> {
  const id = newId('trf');
  await insertPendingTransfer(trx, {
    id,
    senderId: sender.user.id,
    fromWalletId: sender.wallet.id,
    recipientId: recipient.user.id,
    toWalletId: recipient.wallet.id,
    amount: 1_000,
    currency: 'USD',
    note: null,
    faultStep: null,
  });
  await trx('transfers').where({ id }).update({ status, created_at: new Date(createdAtMs) });
  return `transfer-${id}`;
}

async function onboardingAt(trx: Knex.Transaction, createdAtMs: number, status: 'pending' | 'completed'): Promise<string> {
  const { user } = await userWithWallet(trx);
  await trx('users').where({ id: user.id }).update({ onboarding_status: status, created_at: new Date(createdAtMs) });
  return `onboarding-${user.id}`;
}

describe('reconciliation of stuck sagas', () => {
  it('when sagas stay unfinished longer than STUCK_AFTER_MS, then exactly those are stuck; younger and final ones are not', async () => {
    const trx = await db.transaction();
    try {
      const payer = await userWithWallet(trx);
      const merchant = await userWithWallet(trx, { role: 'merchant' });
      const stuck = [
        await onboardingAt(trx, EPOCH_MS, 'pending'),
        await paymentAt(trx, payer, merchant, EPOCH_MS, 'pending'),
        await paymentAt(trx, payer, merchant, LAST_STUCK_MS, 'processing'),
        await transferAt(trx, payer, merchant, EPOCH_MS, 'processing'),
      ];
      // Exactly STUCK_AFTER_MS old is not yet stuck; neither is a final saga, however old.
      await onboardingAt(trx, LAST_STUCK_MS + 1, 'pending');
      await paymentAt(trx, payer, merchant, LAST_STUCK_MS + 1, 'processing');
      await paymentAt(trx, payer, merchant, EPOCH_MS, 'succeeded');
      await transferAt(trx, payer, merchant, EPOCH_MS, 'failed');
      await onboardingAt(trx, EPOCH_MS, 'completed');

      const report = await reconcileIn(trx, { stuckAfterMs: STUCK_AFTER_MS, now: NOW });

      expect(report.stuckSagas).toBe(stuck.length);
      expect([...report.samples.stuckSagas].sort()).toEqual([...stuck].sort());
      expect(report.ok).toBe(false);
      expect(report.checkedAt).toBe(NOW.toISOString());
    } finally {
      await trx.rollback();
    }
  });

  it('when payments wait in review, then only those past their review timeout (and STUCK_AFTER_MS old) are stuck', async () => {
    const trx = await db.transaction();
    try {
      const payer = await userWithWallet(trx);
      const merchant = await userWithWallet(trx, { role: 'merchant' });
      const review = async (createdAtMs: number, expiresAtMs: number) => {
        const workflowId = await paymentAt(trx, payer, merchant, createdAtMs, 'in_review');
        const id = workflowId.slice('payment-'.length);
        await trx('risk_checks').insert({
          ...{ saga_id: id, step: 'risk_check', saga_kind: 'payment', outcome: 'review', rule: 'new_recipient' },
          ...{ review_expires_at: new Date(expiresAtMs), decision: null, decided_by: null, decided_at: null, created_at: new Date(createdAtMs) },
        });
        return workflowId;
      };
      const timedOut = await review(EPOCH_MS, NOW.getTime());
      await review(EPOCH_MS, NOW.getTime() + 1); // still waiting for an admin: not stuck, however old
      await review(LAST_STUCK_MS + 1, EPOCH_MS); // past its timeout but younger than STUCK_AFTER_MS

      const report = await reconcileIn(trx, { stuckAfterMs: STUCK_AFTER_MS, now: NOW });

      expect(report.samples.stuckSagas).toEqual([timedOut]);
      expect(report.stuckSagas).toBe(1);
    } finally {
      await trx.rollback();
    }
  });
});
