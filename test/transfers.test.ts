import type { Transfer } from '../store/transfer-records';
import type { transferWorkflow } from '../workflows/transfer';
import { systemAccountId } from '../domain/types';
import { currentStepQuery } from '../workflows/queries';
import { CustomerIdKey, MerchantIdKey, PaymentIdKey, SagaStatusKey } from '../domain/search-attributes';
import { actorsOf, expectError, type Actor } from './support/actors';
import { startStack, waitFor, type TestStack } from './support/stack';

/**
 * The transfer saga on the real stack: API → Temporal → workers → MariaDB.
 * Each test ends with the reconciliation check (afterEach): this file's sagas all final, the ledger's invariants held.
 */
let stack: TestStack;
let actors: ReturnType<typeof actorsOf>;
let adminToken: string;

/** A transfer as the API answers it. */
type TransferBody = Transfer;

const DAILY_LIMIT = 60_000;
const PROMO_CREDIT = 10_000;
const CLEARING = systemAccountId('clearing', 'USD');

beforeAll(async () => {
  stack = await startStack({ SAGA_FAULTS: 'enabled', PAYMENT_DAILY_LIMIT: String(DAILY_LIMIT) });
  actors = actorsOf(stack);
  adminToken = await actors.admin();
});

afterEach(async () => {
  await actors.expectReconciled(adminToken);
});

afterAll(async () => {
  await stack.stop();
});

function send(sender: Actor, body: Record<string, unknown>, headers: Record<string, string> = {}) {
  return actors.call<TransferBody>('POST', '/v1/transfers', { token: sender.token, headers, body: { currency: 'USD', ...body } });
}

/** Two customers with 100.00 USD of promotional credit each. */
async function twoPeople(): Promise<{ sender: Actor; recipient: Actor }> {
  const [sender, recipient] = await Promise.all([actors.signUp({ name: 'Ada' }), actors.signUp({ name: 'Bea' })]);
  return { sender, recipient };
}

/** The transfer once its saga has finished, notify step included. */
async function settled(reader: Actor, transfer: TransferBody): Promise<TransferBody> {
  await stack.temporal.workflow.getHandle(transfer.workflowId).result();
  return (await actors.call<TransferBody>('GET', `/v1/transfers/${transfer.id}`, { token: reader.token })).body;
}

const stepsOf = (transfer: TransferBody) => transfer.steps.map((step) => `${step.name}:${step.status}`);

async function journalsOf(transferId: string) {
  const rows = await stack.db('entries as e')
    .join('journals as j', 'j.id', 'e.journal_id')
    .select('j.journal_key', 'e.account_id', 'e.amount', 'e.type')
    .where('j.reference_id', transferId)
    .orderBy('e.seq', 'asc');
  return rows.map((row: { journal_key: string; account_id: string; amount: number; type: string }) => [
    row.journal_key.slice(transferId.length + 1),
    row.account_id,
    Number(row.amount),
    row.type,
  ]);
}

async function activityNamesOf(workflowId: string): Promise<string[]> {
  const history = await stack.temporal.workflow.getHandle(workflowId).fetchHistory();
  return (history.events ?? []).flatMap((event) => {
    const name = event.activityTaskScheduledEventAttributes?.activityType?.name;
    return name ? [name] : [];
  });
}

async function notificationsOf(userId: string, transferId: string): Promise<Array<{ type: string; title: string; body: string }>> {
  return stack.db('notifications')
    .select('type', 'title', 'body')
    .where({ user_id: userId, channel: 'in_app' })
    .andWhere('dedupe_key', 'like', `${transferId}:%`)
    .orderBy('seq', 'asc');
}

async function notificationTypes(userId: string, transferId: string): Promise<string[]> {
  return (await notificationsOf(userId, transferId)).map((row) => row.type);
}

async function heldOn(walletId: string): Promise<number> {
  const row = await stack.db('accounts').select('held').where({ id: walletId }).first();
  return Number(row?.held);
}

async function transferCount(senderId: string): Promise<number> {
  return Number((await stack.db('transfers').where({ sender_id: senderId }).count({ n: '*' }))[0]?.n);
}

describe('a transfer that succeeds', () => {
  it('when Ada sends 12.34 USD to Bea, then the money moves through clearing with no fee and every step is recorded', async () => {
    const { sender, recipient } = await twoPeople();

    const response = await send(sender, { toUserId: recipient.user.id, amount: 1_234, note: 'Lunch' });

    expect(response.status).toBe(201);
    const transfer = response.body;
    expect(Object.keys(transfer).sort()).toEqual(
      ['id', 'status', 'amount', 'currency', 'fromWalletId', 'toWalletId', 'note', 'failure', 'steps', 'workflowId', 'createdAt', 'updatedAt'].sort(),
    );
    expect(transfer).toMatchObject({
      status: 'succeeded',
      amount: 1_234,
      currency: 'USD',
      fromWalletId: sender.wallet.id,
      toWalletId: recipient.wallet.id,
      note: 'Lunch',
      failure: null,
      workflowId: `transfer-${transfer.id}`,
    });
    expect(transfer.id).toMatch(/^trf_/);
    const final = await settled(sender, transfer);
    expect(stepsOf(final)).toEqual(['validate:completed', 'risk_check:completed', 'debit_sender:completed', 'credit_recipient:completed', 'write_ledger:completed', 'notify:completed']);

    expect(await actors.balanceOf(sender.token, sender.wallet.id)).toBe(PROMO_CREDIT - 1_234);
    expect(await actors.balanceOf(recipient.token, recipient.wallet.id)).toBe(PROMO_CREDIT + 1_234);
    expect(await heldOn(recipient.wallet.id)).toBe(0);
    expect(await journalsOf(transfer.id)).toEqual([
      ['debit_sender', sender.wallet.id, -1_234, 'transfer_out'],
      ['debit_sender', CLEARING, 1_234, 'transfer_out'],
      ['credit_recipient', CLEARING, -1_234, 'transfer_in'],
      ['credit_recipient', recipient.wallet.id, 1_234, 'transfer_in'],
    ]);
    const transactions = (wallet: Actor) =>
      actors.call<{ data: Array<{ amount: number; type: string; referenceId: string }> }>('GET', `/v1/wallets/${wallet.wallet.id}/transactions?limit=1`, { token: wallet.token });
    expect((await transactions(sender)).body.data).toEqual([expect.objectContaining({ amount: -1_234, type: 'transfer_out', referenceId: transfer.id })]);
    expect((await transactions(recipient)).body.data).toEqual([expect.objectContaining({ amount: 1_234, type: 'transfer_in', referenceId: transfer.id })]);

    expect(await notificationsOf(sender.user.id, transfer.id)).toEqual([{ type: 'transfer_sent', title: 'Transfer sent', body: 'You sent 12.34 USD to Bea.' }]);
    expect(await notificationsOf(recipient.user.id, transfer.id)).toEqual([
      { type: 'transfer_received', title: 'Money received', body: 'Ada sent you 12.34 USD. Note: Lunch' },
    ]);

    const handle = stack.temporal.workflow.getHandle<typeof transferWorkflow>(transfer.workflowId);
    await expect(handle.result()).resolves.toEqual({ status: 'succeeded', failure: null, compensated: [], notified: true });
    expect(await activityNamesOf(transfer.workflowId)).toEqual(['validateTransfer', 'checkTransferRisk', 'debitSender', 'creditRecipient', 'writeTransferLedger', 'notifyTransfer']);
    expect(await handle.query(currentStepQuery)).toBe('completed');
    const description = await handle.describe();
    expect(description.typedSearchAttributes.get(CustomerIdKey)).toBe(sender.user.id);
    expect(description.typedSearchAttributes.get(SagaStatusKey)).toBe('succeeded');
    expect(description.typedSearchAttributes.get(PaymentIdKey)).toBeUndefined();
    expect(description.typedSearchAttributes.get(MerchantIdKey)).toBeUndefined();
    expect(await description.staticSummary()).toBe('send 12.34 USD to Bea');
    // Histories are readable in the Web UI: no e-mail address goes into the saga.
    const history = JSON.stringify(await handle.fetchHistory());
    expect(history).not.toContain(sender.email);
    expect(history).not.toContain(recipient.email);
  });

  it('when the recipient is named by e-mail (any case, padded), then the transfer reaches their wallet', async () => {
    const { sender, recipient } = await twoPeople();

    const response = await send(sender, { toEmail: `  ${recipient.email.toUpperCase()} `, amount: 500 });

    expect(response.status).toBe(201);
    expect(response.body).toMatchObject({ status: 'succeeded', toWalletId: recipient.wallet.id, note: null });
    expect(await actors.balanceOf(recipient.token, recipient.wallet.id)).toBe(PROMO_CREDIT + 500);
    expect(await actors.balanceOf(sender.token, sender.wallet.id)).toBe(PROMO_CREDIT - 500);
    await settled(sender, response.body);
  });
});

describe('business refusals end the transfer failed, with nothing moved', () => {
  it('when the sender lacks funds, then the transfer fails insufficient_funds and only the sender is told', async () => {
    const { sender, recipient } = await twoPeople();

    const response = await send(sender, { toUserId: recipient.user.id, amount: PROMO_CREDIT + 1 });

    expect(response.status).toBe(201);
    expect(response.body).toMatchObject({ status: 'failed', failure: { code: 'insufficient_funds' } });
    expect(stepsOf(await settled(sender, response.body))).toEqual(['validate:failed', 'notify:completed']);
    expect(await actors.balanceOf(sender.token, sender.wallet.id)).toBe(PROMO_CREDIT);
    expect(await actors.balanceOf(recipient.token, recipient.wallet.id)).toBe(PROMO_CREDIT);
    expect(await journalsOf(response.body.id)).toEqual([]);
    expect(await notificationsOf(sender.user.id, response.body.id)).toEqual([
      { type: 'transfer_failed', title: 'Transfer failed', body: 'Your transfer of 100.01 USD to Bea failed; your balance is unchanged.' },
    ]);
    expect(await notificationTypes(recipient.user.id, response.body.id)).toEqual([]);
  });

  it.each(['sender', 'recipient'] as const)('when the %s wallet is frozen, then the transfer fails wallet_frozen', async (side) => {
    const people = await twoPeople();
    await actors.call('POST', `/v1/admin/wallets/${people[side].wallet.id}/freeze`, { token: adminToken });

    const response = await send(people.sender, { toUserId: people.recipient.user.id, amount: 500 });

    expect(response.body).toMatchObject({ status: 'failed', failure: { code: 'wallet_frozen' } });
    expect(stepsOf(await settled(people.sender, response.body))).toEqual(['validate:failed', 'notify:completed']);
    expect(await actors.balanceOf(people.sender.token, people.sender.wallet.id)).toBe(PROMO_CREDIT);
    expect(await actors.balanceOf(people.recipient.token, people.recipient.wallet.id)).toBe(PROMO_CREDIT);
    expect(await journalsOf(response.body.id)).toEqual([]);
  });

  it('when the transfer would pass the sender’s 24-hour limit, then it fails limit_exceeded and smaller ones still pass', async () => {
    const { sender, recipient } = await twoPeople();
    await actors.call('POST', `/v1/wallets/${sender.wallet.id}/topups`, { token: sender.token, body: { amount: DAILY_LIMIT, currency: 'USD' } });

    const first = await send(sender, { toUserId: recipient.user.id, amount: DAILY_LIMIT - 100 });
    const second = await send(sender, { toUserId: recipient.user.id, amount: 101 });
    const third = await send(sender, { toUserId: recipient.user.id, amount: 100 });

    expect(first.body.status).toBe('succeeded');
    expect(second.body).toMatchObject({ status: 'failed', failure: { code: 'limit_exceeded' } });
    expect(third.body.status).toBe('succeeded');
    expect(await actors.balanceOf(sender.token, sender.wallet.id)).toBe(PROMO_CREDIT);
    expect(await actors.balanceOf(recipient.token, recipient.wallet.id)).toBe(PROMO_CREDIT + DAILY_LIMIT);
    await Promise.all([first, second, third].map((response) => settled(sender, response.body)));
  });
});

describe('a step that fails for good is compensated in reverse', () => {
  it('when debit_sender fails, then its registered compensation finds nothing to undo and the transfer fails', async () => {
    const { sender, recipient } = await twoPeople();

    const response = await send(sender, { toUserId: recipient.user.id, amount: 700 }, { 'X-Saga-Fault': 'debit_sender' });

    expect(response.body).toMatchObject({ status: 'failed', failure: { code: 'injected_fault' } });
    expect(stepsOf(await settled(sender, response.body))).toEqual(['validate:completed', 'risk_check:completed', 'debit_sender:failed', 'notify:completed']);
    expect(await journalsOf(response.body.id)).toEqual([]);
    expect(await activityNamesOf(response.body.workflowId)).toEqual(['validateTransfer', 'checkTransferRisk', 'debitSender', 'beginTransferCompensation', 'refundSender', 'failTransfer', 'notifyTransfer']);
  });

  it('when credit_recipient fails, then the sender is refunded and the transfer fails', async () => {
    const { sender, recipient } = await twoPeople();

    const response = await send(sender, { toUserId: recipient.user.id, amount: 700 }, { 'X-Saga-Fault': 'credit_recipient' });

    expect(response.body).toMatchObject({ status: 'failed', failure: { code: 'injected_fault' } });
    expect(stepsOf(await settled(sender, response.body))).toEqual(['validate:completed', 'risk_check:completed', 'debit_sender:compensated', 'credit_recipient:failed', 'notify:completed']);
    expect(await actors.balanceOf(sender.token, sender.wallet.id)).toBe(PROMO_CREDIT);
    expect(await actors.balanceOf(recipient.token, recipient.wallet.id)).toBe(PROMO_CREDIT);
    expect(await journalsOf(response.body.id)).toEqual([
      ['debit_sender', sender.wallet.id, -700, 'transfer_out'],
      ['debit_sender', CLEARING, 700, 'transfer_out'],
      ['refund_sender', CLEARING, -700, 'reversal'],
      ['refund_sender', sender.wallet.id, 700, 'reversal'],
    ]);
    const outcome: unknown = await stack.temporal.workflow.getHandle<typeof transferWorkflow>(response.body.workflowId).result();
    expect(outcome).toMatchObject({ status: 'failed', compensated: ['refund_sender'] });
    expect(await activityNamesOf(response.body.workflowId)).toEqual([
      'validateTransfer',
      'checkTransferRisk',
      'debitSender',
      'creditRecipient',
      'beginTransferCompensation',
      'reverseRecipientCredit',
      'refundSender',
      'failTransfer',
      'notifyTransfer',
    ]);
    expect(await notificationTypes(sender.user.id, response.body.id)).toEqual(['transfer_failed']);
    expect(await notificationTypes(recipient.user.id, response.body.id)).toEqual([]);
  });

  it('when write_ledger fails, then the recipient credit is reversed before the sender is refunded', async () => {
    const { sender, recipient } = await twoPeople();

    const response = await send(sender, { toUserId: recipient.user.id, amount: 1_000 }, { 'X-Saga-Fault': 'write_ledger' });

    expect(response.body).toMatchObject({ status: 'failed', failure: { code: 'injected_fault' } });
    expect(stepsOf(await settled(sender, response.body))).toEqual([
      'validate:completed',
      'risk_check:completed',
      'debit_sender:compensated',
      'credit_recipient:compensated',
      'write_ledger:failed',
      'notify:completed',
    ]);
    expect(await actors.balanceOf(sender.token, sender.wallet.id)).toBe(PROMO_CREDIT);
    expect(await actors.balanceOf(recipient.token, recipient.wallet.id)).toBe(PROMO_CREDIT);
    expect(await heldOn(recipient.wallet.id)).toBe(0);
    expect(await journalsOf(response.body.id)).toEqual([
      ['debit_sender', sender.wallet.id, -1_000, 'transfer_out'],
      ['debit_sender', CLEARING, 1_000, 'transfer_out'],
      ['credit_recipient', CLEARING, -1_000, 'transfer_in'],
      ['credit_recipient', recipient.wallet.id, 1_000, 'transfer_in'],
      ['reverse_recipient_credit', recipient.wallet.id, -1_000, 'reversal'],
      ['reverse_recipient_credit', CLEARING, 1_000, 'reversal'],
      ['refund_sender', CLEARING, -1_000, 'reversal'],
      ['refund_sender', sender.wallet.id, 1_000, 'reversal'],
    ]);
    expect(await activityNamesOf(response.body.workflowId)).toEqual([
      'validateTransfer',
      'checkTransferRisk',
      'debitSender',
      'creditRecipient',
      'writeTransferLedger',
      'beginTransferCompensation',
      'reverseRecipientCredit',
      'refundSender',
      'failTransfer',
      'notifyTransfer',
    ]);
    expect(await notificationTypes(sender.user.id, response.body.id)).toEqual(['transfer_failed']);
    expect(await notificationTypes(recipient.user.id, response.body.id)).toEqual([]);
  });

  it('when notify fails, then the money stays moved and only the notify step is failed', async () => {
    const { sender, recipient } = await twoPeople();

    const response = await send(sender, { toUserId: recipient.user.id, amount: 300 }, { 'X-Saga-Fault': 'notify' });
    expect(response.body.status).toBe('succeeded');
    const outcome: unknown = await stack.temporal.workflow.getHandle<typeof transferWorkflow>(response.body.workflowId).result();
    expect(outcome).toEqual({ status: 'succeeded', failure: null, compensated: [], notified: false });

    const final = (await actors.call<TransferBody>('GET', `/v1/transfers/${response.body.id}`, { token: sender.token })).body;
    expect(final.status).toBe('succeeded');
    expect(stepsOf(final)).toEqual(['validate:completed', 'risk_check:completed', 'debit_sender:completed', 'credit_recipient:completed', 'write_ledger:completed', 'notify:failed']);
    expect(await actors.balanceOf(sender.token, sender.wallet.id)).toBe(PROMO_CREDIT - 300);
    expect(await actors.balanceOf(recipient.token, recipient.wallet.id)).toBe(PROMO_CREDIT + 300);
    expect(await notificationTypes(sender.user.id, response.body.id)).toEqual([]);
    expect(await notificationTypes(recipient.user.id, response.body.id)).toEqual([]);
  });
});

describe('pre-checks refuse before anything is created', () => {
  it('when the recipient, currency or body is wrong, then the contract codes come back and no transfer exists', async () => {
    const { sender, recipient } = await twoPeople();
    const euroOnly = await actors.signUp({ currency: 'EUR' });

    expectError(await send(sender, { toUserId: 'usr_nope', amount: 100 }), 404, 'not_found');
    expectError(await send(sender, { toEmail: 'nobody.here@example.test', amount: 100 }), 404, 'not_found');
    expectError(await send(sender, { toUserId: sender.user.id, amount: 100 }), 422, 'self_payment');
    expectError(await send(sender, { toEmail: sender.email, amount: 100 }), 422, 'self_payment');
    const merchant = await actors.signUp({ role: 'merchant' });
    expectError(await send(sender, { toUserId: merchant.user.id, amount: 100 }), 422, 'recipient_is_merchant');
    expectError(await send(sender, { toEmail: merchant.email, amount: 100 }), 422, 'recipient_is_merchant');
    expectError(await send(sender, { toUserId: recipient.user.id, amount: 100, currency: 'EUR' }), 422, 'currency_mismatch');
    expectError(await send(sender, { toUserId: euroOnly.user.id, amount: 100 }), 422, 'currency_mismatch');
    const both = expectError(await send(sender, { toUserId: recipient.user.id, toEmail: recipient.email, amount: 100 }), 400, 'validation_error');
    expect(both.details?.fields).toEqual({ toUserId: 'give exactly one of toUserId, toEmail and to' });
    expectError(await send(sender, { amount: 100 }), 400, 'validation_error');
    for (const body of [
      { amount: 0 },
      { amount: -5 },
      { amount: 1.5 },
      { amount: '100' },
      { amount: 100, note: 'x'.repeat(201) },
      { amount: 100, currency: 'XYZ' },
      { amount: 100, currency: 'usd' },
    ]) {
      expectError(await send(sender, { toUserId: recipient.user.id, ...body }), 400, 'validation_error');
    }
    expectError(await send(sender, { toEmail: 'not-an-email', amount: 100 }), 400, 'validation_error');
    expectError(await send(sender, { toUserId: recipient.user.id, amount: 100 }, { 'X-Saga-Fault': 'debit_payer' }), 400, 'validation_error');
    expectError(await actors.call('POST', '/v1/transfers', { body: { toUserId: recipient.user.id, amount: 100, currency: 'USD' } }), 401, 'unauthorized');

    expect(await transferCount(sender.user.id)).toBe(0);
    expect(await actors.balanceOf(sender.token, sender.wallet.id)).toBe(PROMO_CREDIT);
    expect(await actors.balanceOf(merchant.token, merchant.wallet.id)).toBe(0);
  });
});

describe('idempotency', () => {
  it('when 20 identical requests race with one key, then there is one transfer, one debit and one credit', async () => {
    const { sender, recipient } = await twoPeople();
    const headers = { 'Idempotency-Key': `gift-${sender.user.id}` };

    const responses = await Promise.all(Array.from({ length: 20 }, () => send(sender, { toUserId: recipient.user.id, amount: 400 }, headers)));

    expect(new Set(responses.map((response) => response.body.id)).size).toBe(1);
    expect(responses.filter((response) => response.headers.get('idempotent-replayed') === 'true')).toHaveLength(19);
    expect(responses.every((response) => response.status === 201 && response.body.status === 'succeeded')).toBe(true);
    expect(await transferCount(sender.user.id)).toBe(1);
    const [first] = responses;
    if (!first) throw new Error('no response');
    expect((await journalsOf(first.body.id)).map(([key]) => key)).toEqual(['debit_sender', 'debit_sender', 'credit_recipient', 'credit_recipient']);
    expect(await actors.balanceOf(sender.token, sender.wallet.id)).toBe(PROMO_CREDIT - 400);
    expect(await actors.balanceOf(recipient.token, recipient.wallet.id)).toBe(PROMO_CREDIT + 400);

    expectError(await send(sender, { toUserId: recipient.user.id, amount: 401 }, headers), 422, 'idempotency_key_reused');
    await settled(sender, first.body);
  });

  it('when the client asks to respond async, then it gets 202 with Location, and the transfer completes', async () => {
    const { sender, recipient } = await twoPeople();

    const response = await send(sender, { toUserId: recipient.user.id, amount: 250 }, { Prefer: 'respond-async' });

    expect(response.status).toBe(202);
    expect(response.headers.get('location')).toBe(`/v1/transfers/${response.body.id}`);
    expect(['pending', 'processing']).toContain(response.body.status);
    const final = await waitFor(async () => {
      const current = await actors.call<TransferBody>('GET', `/v1/transfers/${response.body.id}`, { token: recipient.token });
      // Any final status ends the wait: a failure shows as itself, not as a timeout.
      return current.body.status === 'succeeded' || current.body.status === 'failed' ? current.body : undefined;
    });
    expect({ status: final.status, failure: final.failure, amount: final.amount }).toEqual({ status: 'succeeded', failure: null, amount: 250 });
    await settled(sender, response.body);
  });
});

describe('reading transfers', () => {
  it('when the sender, the recipient, an admin or a stranger reads a transfer, then only the stranger gets 404', async () => {
    const { sender, recipient } = await twoPeople();
    const stranger = await actors.signUp();
    const transfer = await settled(sender, (await send(sender, { toUserId: recipient.user.id, amount: 100 })).body);

    for (const token of [sender.token, recipient.token, adminToken]) {
      const read = await actors.call<TransferBody>('GET', `/v1/transfers/${transfer.id}`, { token });
      expect({ status: read.status, body: read.body }).toEqual({ status: 200, body: transfer });
    }
    expectError(await actors.call('GET', `/v1/transfers/${transfer.id}`, { token: stranger.token }), 404, 'not_found');
    expectError(await actors.call('GET', '/v1/transfers/trf_nope', { token: sender.token }), 404, 'not_found');
  });

  it('when transfers are listed by role and status, then each side sees only its own, newest first', async () => {
    const { sender, recipient } = await twoPeople();
    const ok = await send(sender, { toUserId: recipient.user.id, amount: 100 });
    const failed = await send(sender, { toUserId: recipient.user.id, amount: 50_000 });
    const list = (query: string, token = sender.token) =>
      actors.call<{ data: TransferBody[]; hasMore: boolean }>('GET', `/v1/transfers${query}`, { token }).then((response) => response.body);
    const ids = (page: { data: TransferBody[] }) => page.data.map((transfer) => transfer.id);

    expect(ids(await list('?role=sender'))).toEqual([failed.body.id, ok.body.id]);
    expect(ids(await list('?role=sender&status=failed'))).toEqual([failed.body.id]);
    expect(ids(await list('?role=recipient'))).toEqual([]);
    expect((await list('?limit=1')).hasMore).toBe(true);
    expect(ids(await list('?role=recipient', recipient.token))).toEqual([failed.body.id, ok.body.id]);
    expect(ids(await list('', recipient.token))).toEqual([failed.body.id, ok.body.id]);
    expectError(await actors.call('GET', '/v1/transfers?role=boss', { token: sender.token }), 400, 'validation_error');
    await Promise.all([ok, failed].map((response) => settled(sender, response.body)));
  });
});
