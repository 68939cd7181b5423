import { MockActivityEnvironment } from '@temporalio/testing';
import { DefaultLogger } from '@temporalio/worker';
import type { Knex } from 'knex';
import { insertUser } from '../api/users';
import { newId } from '../domain/ids';
import { systemAccountId } from '../domain/types';
import { createDatabase } from '../infra/database';
import { balanceOf, uniqueEmail } from '../test/support/fixtures';
import { testConfig } from '../test/support/stack';
import { createNotificationActivities } from './notify';
import { createOnboardingActivities } from './onboarding';

/** Onboarding's activities against the real database, each run twice as Temporal may do. */
let db: Knex;
let environment: MockActivityEnvironment;

beforeAll(() => {
  db = createDatabase(testConfig().databaseUrl, 5);
  environment = new MockActivityEnvironment(undefined, { logger: new DefaultLogger('ERROR') });
});

afterAll(async () => {
  // These users' onboarding was driven by hand, step by step: end it as the saga's last step would.
  for (const userId of written) await environment.run(createOnboardingActivities({ db }).completeOnboarding, { userId });
  await db.destroy();
});

/** Every user this file wrote: each starts with its onboarding pending. */
const written: string[] = [];

async function newUser(currency = 'USD') {
  const user = await insertUser(db, { email: uniqueEmail(), passwordHash: 'x', name: 'Onboarding', phone: null, role: 'customer', currency });
  written.push(user.id);
  return user;
}

describe('onboarding activities', () => {
  const activities = () => ({ ...createOnboardingActivities({ db }), ...createNotificationActivities({ db }) });

  it('when createWallet runs twice, then the user has one wallet and both runs name it', async () => {
    const user = await newUser('GBP');
    const first = await environment.run(activities().createWallet, { userId: user.id, currency: 'GBP' });
    const second = await environment.run(activities().createWallet, { userId: user.id, currency: 'GBP' });

    expect(second).toEqual(first);
    expect(await db('accounts').where({ user_id: user.id }).count({ n: '*' })).toEqual([{ n: 1 }]);
  });

  it('when creditPromotion runs twice, then the promotion moves once, from the promotions account', async () => {
    const user = await newUser();
    const createWallet = activities().createWallet;
    const { walletId } = await environment.run<Parameters<typeof createWallet>, { walletId: string }, typeof createWallet>(createWallet, {
      userId: user.id,
      currency: 'USD',
    });

    const first = await environment.run(activities().creditPromotion, { userId: user.id, walletId, currency: 'USD', amount: 10_000 });
    const second = await environment.run(activities().creditPromotion, { userId: user.id, walletId, currency: 'USD', amount: 10_000 });

    expect(second).toEqual(first);
    expect(await balanceOf(db, walletId)).toBe(10_000);
    // The promotions account is shared with every test running now: look at this user's entries on it.
    const promotion = await db('entries').select('amount', 'type').where({ account_id: systemAccountId('promotions', 'USD'), reference_id: user.id });
    expect(promotion).toEqual([{ amount: -10_000, type: 'promo_credit' }]);
    const entries = await db('entries').select('amount', 'type', 'balance_after').where({ account_id: walletId });
    expect(entries).toEqual([{ amount: 10_000, type: 'promo_credit', balance_after: 10_000 }]);
  });

  it('when sendWelcome runs twice, then one in-app notification is recorded', async () => {
    const user = await newUser();
    const input = { userId: user.id, walletId: newId('wal'), currency: 'USD', promoCredit: 10_000 };
    const first = await environment.run(activities().sendWelcome, input);
    const second = await environment.run(activities().sendWelcome, input);

    expect(second).toEqual(first);
    const rows = await db('notifications').where({ user_id: user.id, channel: 'in_app' });
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ type: 'welcome', channel: 'in_app', title: 'Welcome to SagaPay' });
    expect(rows[0]?.body).toBe('Your USD wallet is ready. We added 100.00 USD to get you started.');
  });

  it('when completeOnboarding runs, then the user is no longer pending', async () => {
    const user = await newUser();
    await environment.run(activities().completeOnboarding, { userId: user.id });
    await environment.run(activities().completeOnboarding, { userId: user.id });
    expect(await db('users').select('onboarding_status').where({ id: user.id }).first()).toEqual({ onboarding_status: 'completed' });
  });
});
