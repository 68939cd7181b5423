import type { Payment } from '../store/payment-records';
import type { Refund } from '../store/refund-records';
import type { Transfer } from '../store/transfer-records';
import { actorsOf, expectError, type Actor, type WalletBody } from './support/actors';
import { startStack, type TestStack } from './support/stack';

/**
 * Several wallets per user on the real stack: opening one (idempotent, one per currency, races
 * included), and payments, refunds and transfers in a second currency moving exactly the wallets
 * of that currency. Each test ends with the reconciliation check (afterEach).
 */
let stack: TestStack;
let actors: ReturnType<typeof actorsOf>;
let adminToken: string;

/** A wallet as the API answers it, `held` included. */
type Wallet = WalletBody & { held: number; createdAt: string };
type Page<T> = { data: T[]; hasMore: boolean; nextCursor: string | null };

beforeAll(async () => {
  stack = await startStack({ FEE_BPS: '200' });
  actors = actorsOf(stack);
  adminToken = await actors.admin();
});

afterEach(async () => {
  await actors.expectReconciled(adminToken);
});

afterAll(async () => {
  await stack.stop();
});

function openWallet(actor: Actor | string, currency: string, headers: Record<string, string> = {}) {
  const token = typeof actor === 'string' ? actor : actor.token;
  return actors.call<Wallet>('POST', '/v1/wallets', { token, headers, body: { currency } });
}

async function topUp(actor: Actor, wallet: Wallet, amount: number): Promise<void> {
  const response = await actors.call('POST', `/v1/wallets/${wallet.id}/topups`, { token: actor.token, body: { amount, currency: wallet.currency } });
  expect(response.status).toBe(201);
}

/** Every ledger entry of a saga: which account, how much, and that account's currency. */
async function entriesOf(referenceId: string): Promise<Array<{ accountId: string; amount: number; currency: string }>> {
  const rows = await stack.db('entries as e').join('accounts as a', 'a.id', 'e.account_id').select('e.account_id', 'e.amount', 'a.currency').where('e.reference_id', referenceId);
  return rows.map((row: { account_id: string; amount: number | string; currency: string }) => ({ accountId: row.account_id, amount: Number(row.amount), currency: row.currency }));
}

/** What the saga moved on one account, summed over its entries. */
const movedOn = (entries: Array<{ accountId: string; amount: number }>, accountId: string) =>
  entries.filter((entry) => entry.accountId === accountId).reduce((sum, entry) => sum + entry.amount, 0);

describe('several wallets', () => {
  it('when a customer opens a EUR wallet, then it starts at 0 with nothing held and no promotional credit, and GET /v1/wallets lists both', async () => {
    const customer = await actors.signUp();

    const opened = await openWallet(customer, 'EUR');

    expect(opened.status).toBe(201);
    expect(opened.body).toMatchObject({ userId: customer.user.id, currency: 'EUR', balance: 0, held: 0, status: 'active' });
    const list = await actors.call<Page<Wallet>>('GET', '/v1/wallets', { token: customer.token });
    expect(list.status).toBe(200);
    expect(list.body.data.map((wallet) => [wallet.currency, wallet.balance])).toEqual([
      ['EUR', 0],
      ['USD', 10_000],
    ]);
    expect(list.body).toMatchObject({ hasMore: false, nextCursor: null });
    const page = await actors.call<Page<Wallet>>('GET', '/v1/wallets?limit=1', { token: customer.token });
    expect(page.body).toMatchObject({ hasMore: true, nextCursor: opened.body.id });
    expect(await stack.db('entries').where({ account_id: opened.body.id })).toEqual([]);
    const me = await actors.call<{ wallets: Wallet[] }>('GET', '/v1/me', { token: customer.token });
    expect(me.body.wallets.map((wallet) => wallet.currency).sort()).toEqual(['EUR', 'USD']);
  });

  it('when a second wallet in a currency is asked for without the same key, then 409 wallet_exists and still one wallet', async () => {
    const customer = await actors.signUp();
    expect((await openWallet(customer, 'GBP', { 'Idempotency-Key': 'gbp-1' })).status).toBe(201);

    expectError(await openWallet(customer, 'GBP'), 409, 'wallet_exists');
    expectError(await openWallet(customer, 'GBP', { 'Idempotency-Key': 'gbp-2' }), 409, 'wallet_exists');
    expectError(await openWallet(customer, 'USD'), 409, 'wallet_exists');

    expect(await stack.db('accounts').where({ user_id: customer.user.id, currency: 'GBP' })).toHaveLength(1);
  });

  it('when the same Idempotency-Key is sent again, then the same wallet comes back replayed; with another currency it is 422', async () => {
    const customer = await actors.signUp();
    const headers = { 'Idempotency-Key': 'open-inr' };
    const first = await openWallet(customer, 'INR', headers);

    const replay = await openWallet(customer, 'INR', headers);
    const reused = await openWallet(customer, 'EUR', headers);

    expect(replay.status).toBe(201);
    expect(replay.body.id).toBe(first.body.id);
    expect(replay.headers.get('idempotent-replayed')).toBe('true');
    expect(first.headers.get('idempotent-replayed')).toBeNull();
    expectError(reused, 422, 'idempotency_key_reused');
    expect(await stack.db('accounts').where({ user_id: customer.user.id, currency: 'EUR' })).toEqual([]);
  });

  it('when the same opening arrives five times at once with one key, then all five answer the one wallet', async () => {
    const customer = await actors.signUp();

    const answers = await Promise.all(Array.from({ length: 5 }, () => openWallet(customer, 'EUR', { 'Idempotency-Key': 'eur-burst' })));

    expect(answers.map((answer) => answer.status)).toEqual([201, 201, 201, 201, 201]);
    expect(new Set(answers.map((answer) => answer.body.id)).size).toBe(1);
    expect(await stack.db('accounts').where({ user_id: customer.user.id, currency: 'EUR' })).toHaveLength(1);
  });

  it('when five openings in one currency arrive at once with different keys or none, then exactly one is 201 and the others 409 wallet_exists', async () => {
    const customer = await actors.signUp();

    const answers = await Promise.all([
      openWallet(customer, 'GBP'),
      openWallet(customer, 'GBP'),
      openWallet(customer, 'GBP', { 'Idempotency-Key': 'race-a' }),
      openWallet(customer, 'GBP', { 'Idempotency-Key': 'race-b' }),
      openWallet(customer, 'GBP', { 'Idempotency-Key': 'race-c' }),
    ]);

    expect(answers.map((answer) => answer.status).sort()).toEqual([201, 409, 409, 409, 409]);
    for (const answer of answers.filter((candidate) => candidate.status === 409)) expectError(answer, 409, 'wallet_exists');
    expect(await stack.db('accounts').where({ user_id: customer.user.id, currency: 'GBP' })).toHaveLength(1);
    // Only the winner's key (if it had one) names a wallet: the losers' keys rolled back with their attempt.
    const keys = await stack.db('idempotency_keys').where({ user_id: customer.user.id, resource_type: 'wallet' });
    expect(keys.length).toBeLessThanOrEqual(1);
  });

  it('when the currency is not configured or missing, or an admin asks, then nothing is opened', async () => {
    const customer = await actors.signUp();

    expect(expectError(await openWallet(customer, 'JPY'), 400, 'validation_error').details?.fields).toHaveProperty('currency');
    expectError(await openWallet(customer, 'eur'), 400, 'validation_error');
    expectError(await actors.call('POST', '/v1/wallets', { token: customer.token, body: {} }), 400, 'validation_error');
    expectError(await openWallet(adminToken, 'EUR'), 403, 'forbidden');
    expectError(await actors.call('GET', '/v1/wallets'), 401, 'unauthorized');

    expect(await stack.db('accounts').where({ user_id: customer.user.id })).toHaveLength(1);
  });
});

describe('money in a second currency', () => {
  it('when a customer pays a merchant in EUR, then only the EUR wallets move, by the ledger; a refund goes back to the EUR source wallet', async () => {
    const [payer, merchant] = await Promise.all([actors.signUp(), actors.signUp({ role: 'merchant', name: 'Euro Shop' })]);
    const payerEur = (await openWallet(payer, 'EUR')).body;
    const merchantEur = (await openWallet(merchant, 'EUR')).body;
    await topUp(payer, payerEur, 5_000);

    const paid = await actors.call<Payment>('POST', '/v1/payments', {
      token: payer.token,
      body: { merchantId: merchant.user.id, amount: 1_000, currency: 'EUR', sourceWalletId: payerEur.id },
    });

    expect(paid.status).toBe(201);
    expect(paid.body).toMatchObject({ status: 'succeeded', currency: 'EUR', sourceWalletId: payerEur.id, merchantWalletId: merchantEur.id, fee: 20, netAmount: 980 });
    expect(await actors.balanceOf(payer.token, payerEur.id)).toBe(4_000);
    expect(await actors.balanceOf(payer.token, payer.wallet.id)).toBe(10_000);
    expect(await actors.balanceOf(merchant.token, merchantEur.id)).toBe(980);
    expect(await actors.balanceOf(merchant.token, merchant.wallet.id)).toBe(0);
    const entries = await entriesOf(paid.body.id);
    expect(new Set(entries.map((entry) => entry.currency))).toEqual(new Set(['EUR']));
    expect(entries.reduce((sum, entry) => sum + entry.amount, 0)).toBe(0);
    expect([movedOn(entries, payerEur.id), movedOn(entries, merchantEur.id)]).toEqual([-1_000, 980]);

    const refunded = await actors.call<Refund>('POST', `/v1/payments/${paid.body.id}/refunds`, { token: merchant.token, body: {} });

    expect(refunded.status).toBe(201);
    expect(refunded.body).toMatchObject({ status: 'succeeded', amount: 1_000, currency: 'EUR' });
    expect(await actors.balanceOf(payer.token, payerEur.id)).toBe(5_000);
    expect(await actors.balanceOf(payer.token, payer.wallet.id)).toBe(10_000);
    expect(await actors.balanceOf(merchant.token, merchantEur.id)).toBe(0);
    const refundEntries = await entriesOf(refunded.body.id);
    expect(new Set(refundEntries.map((entry) => entry.currency))).toEqual(new Set(['EUR']));
    expect(movedOn(refundEntries, payerEur.id)).toBe(1_000);
  });

  it('when a payment names a source wallet of another currency or of someone else, then it is refused and nothing is created', async () => {
    const [payer, stranger, merchant] = await Promise.all([actors.signUp(), actors.signUp(), actors.signUp({ role: 'merchant' })]);
    await openWallet(merchant, 'EUR');
    const strangerEur = (await openWallet(stranger, 'EUR')).body;
    const pay = (body: Record<string, unknown>) =>
      actors.call('POST', '/v1/payments', { token: payer.token, body: { merchantId: merchant.user.id, amount: 100, currency: 'EUR', ...body } });

    expectError(await pay({ sourceWalletId: payer.wallet.id }), 422, 'currency_mismatch');
    expectError(await pay({ sourceWalletId: strangerEur.id }), 404, 'wallet_not_found');
    expectError(await pay({}), 422, 'currency_mismatch');

    expect(await stack.db('payments').where({ payer_id: payer.user.id })).toEqual([]);
  });

  it('when a customer sends EUR, then the recipient needs a EUR wallet, and the transfer moves only the EUR wallets', async () => {
    const [sender, recipient] = await Promise.all([actors.signUp(), actors.signUp()]);
    const senderEur = (await openWallet(sender, 'EUR')).body;
    await topUp(sender, senderEur, 3_000);
    const send = () => actors.call<Transfer>('POST', '/v1/transfers', { token: sender.token, body: { toUserId: recipient.user.id, amount: 1_200, currency: 'EUR' } });

    expectError(await send(), 422, 'currency_mismatch');
    const recipientEur = (await openWallet(recipient, 'EUR')).body;
    const sent = await send();

    expect(sent.status).toBe(201);
    expect(sent.body).toMatchObject({ status: 'succeeded', currency: 'EUR', fromWalletId: senderEur.id, toWalletId: recipientEur.id });
    expect(await actors.balanceOf(sender.token, senderEur.id)).toBe(1_800);
    expect(await actors.balanceOf(recipient.token, recipientEur.id)).toBe(1_200);
    expect(await actors.balanceOf(sender.token, sender.wallet.id)).toBe(10_000);
    expect(await actors.balanceOf(recipient.token, recipient.wallet.id)).toBe(10_000);
    const entries = await entriesOf(sent.body.id);
    expect(new Set(entries.map((entry) => entry.currency))).toEqual(new Set(['EUR']));
    expect([movedOn(entries, senderEur.id), movedOn(entries, recipientEur.id)]).toEqual([-1_200, 1_200]);
  });
});
