import { log } from '@temporalio/activity';
import type { Knex } from 'knex';
import { systemAccountId } from '../domain/types';
import { withDomainFailures } from './failures';
import { postJournal } from '../store/ledger';
import { createWallet } from '../store/wallets';

/** The onboarding saga's money-side steps; each one is safe to run twice. */
export function createOnboardingActivities({ db }: { db: Knex }) {
  return {
    /** Step create_wallet: the user's wallet in their currency (unique per user and currency). */
    createWallet: withDomainFailures(async (input: { userId: string; currency: string }): Promise<{ walletId: string }> => {
      const wallet = await createWallet(db, input.userId, input.currency);
      log.info('wallet ready', { userId: input.userId, walletId: wallet.id });
      return { walletId: wallet.id };
    }),

    /** Step credit_promotion: promotions → wallet, keyed by the user so it happens once. */
    creditPromotion: withDomainFailures(
      async (input: { userId: string; walletId: string; currency: string; amount: number }): Promise<{ journalId: string }> => {
        const posted = await postJournal(db, {
          key: `onboarding-${input.userId}:promo_credit`,
          type: 'promo_credit',
          referenceId: input.userId,
          lines: [
            { accountId: systemAccountId('promotions', input.currency), amount: -input.amount, type: 'promo_credit' },
            { accountId: input.walletId, amount: input.amount, type: 'promo_credit' },
          ],
        });
        log.info('promotional credit posted', { userId: input.userId, journalId: posted.journalId, replayed: posted.replayed });
        return { journalId: posted.journalId };
      },
    ),

    /** Step complete: marks the user onboarded, which takes them off the stuck-saga list. */
    completeOnboarding: async (input: { userId: string }): Promise<void> => {
      await db('users').where({ id: input.userId }).update({ onboarding_status: 'completed', updated_at: new Date() });
    },
  };
}
