import { ensureSystemAccounts } from '../store/ledger';
import { actorsOf, type Actor } from './support/actors';
import { startStack, type TestStack } from './support/stack';

/**
 * A currency without two decimals, end to end: JPY (0 digits) and KWD (3 digits) configured in
 * CURRENCIES, people signed up in them, a top-up and a payment, all in integer minor units, and
 * the e-mails writing each amount with the currency's own number of decimals (domain/currencies.ts).
 */
let stack: TestStack;
let actors: ReturnType<typeof actorsOf>;
let adminToken: string;

interface PaymentBody {
  id: string;
  status: string;
  amount: number;
  fee: number;
  netAmount: number;
  currency: string;
}

interface TransactionBody {
  amount: number;
  balanceAfter: number;
  type: string;
}

beforeAll(async () => {
  stack = await startStack({ CURRENCIES: 'USD,JPY,KWD', FEE_BPS: '200', PROMO_CREDIT: '10000' });
  // The suite's database was prepared for the default currencies; these two need their system accounts.
  await ensureSystemAccounts(stack.db, ['JPY', 'KWD'], stack.config.ledgerSystemShards);
  actors = actorsOf(stack);
  adminToken = await actors.admin();
});

afterAll(async () => {
  await stack?.stop();
});

/** The amounts of a wallet's history, newest first, as the API lists them. */
async function historyOf(actor: Actor): Promise<Array<[string, number, number]>> {
  const response = await actors.call<{ data: TransactionBody[] }>('GET', `/v1/wallets/${actor.wallet.id}/transactions`, { token: actor.token });
  return response.body.data.map((row) => [row.type, row.amount, row.balanceAfter]);
}

describe.each([
  // currency, how the e-mails write the promotional credit, the payment, its fee and its net amount.
  ['JPY', '10000 JPY', '1234 JPY', '25 JPY', '1209 JPY'],
  ['KWD', '10.000 KWD', '1.234 KWD', '0.025 KWD', '1.209 KWD'],
])('a %s wallet', (currency, promo, paid, fee, net) => {
  it('when a customer signs up, tops up and pays a merchant, then every amount is in minor units and the e-mails write the currency’s decimals', async () => {
    const merchant = await actors.signUp({ role: 'merchant', currency, name: `Shop ${currency}` });
    const payer = await actors.signUp({ currency, name: 'Ada' });
    expect([merchant.wallet.currency, payer.wallet.currency, payer.wallet.balance]).toEqual([currency, currency, 10_000]);
    const welcome = await stack.mailbox.waitForMail(payer.email);
    expect(welcome.text).toContain(`We added ${promo} to your wallet`);

    const topup = await actors.call<{ amount: number; currency: string }>('POST', `/v1/wallets/${payer.wallet.id}/topups`, {
      token: payer.token,
      body: { amount: 500, currency },
    });
    expect([topup.status, topup.body.amount, topup.body.currency]).toEqual([201, 500, currency]);
    const payment = await actors.call<PaymentBody>('POST', '/v1/payments', {
      token: payer.token,
      body: { merchantId: merchant.user.id, amount: 1_234, currency, description: 'Tea' },
    });

    expect(payment.status).toBe(201);
    expect(payment.body).toMatchObject({ status: 'succeeded', amount: 1_234, fee: 25, netAmount: 1_209, currency });
    expect(await actors.balanceOf(payer.token, payer.wallet.id)).toBe(10_000 + 500 - 1_234);
    expect(await actors.balanceOf(merchant.token, merchant.wallet.id)).toBe(1_209);
    expect(await historyOf(payer)).toEqual([
      ['payment_debit', -1_234, 9_266],
      ['topup', 500, 10_500],
      ['promo_credit', 10_000, 10_000],
    ]);
    expect(await historyOf(merchant)).toEqual([['payment_credit', 1_209, 1_209]]);
    const receipt = await stack.mailbox.waitForMail(payer.email, (mail) => mail.text.includes(payment.body.id));
    expect(receipt.subject).toBe(`Receipt: you paid ${paid} to Shop ${currency}`);
    const received = await stack.mailbox.waitForMail(merchant.email, (mail) => mail.text.includes(payment.body.id));
    expect(received.subject).toBe(`Payment received: ${paid}`);
    expect(received.text).toContain(`SagaPay fee: ${fee}. Credited to your wallet: ${net}.`);
  });
});

describe('the ledger after JPY and KWD money moved', () => {
  it('when the reconciliation runs, then every invariant holds', async () => {
    await actors.expectReconciled(adminToken);
  });
});
