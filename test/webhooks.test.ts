import { WorkflowNotFoundError } from '@temporalio/client';
import { createApp } from '../api/app';
import { webhookWorkflowId } from '../domain/workflow-ids';
import { postWebhook } from '../infra/webhook-http';
import { actorsOf, expectError, type Actor } from './support/actors';
import { request } from './support/http';
import { serveOnEphemeralPort, startStack, waitFor, type ListeningApp, type TestStack } from './support/stack';
import { verifyWebhookSignature, WebhookReceiver } from './support/webhook-receiver';

/**
 * Merchant webhooks on the real stack: a real HTTP receiver on 127.0.0.1 verifies
 * every signature (the stack runs with WEBHOOK_ALLOW_PRIVATE=true for that), and the
 * notifications worker's delivery dispatcher retries with the test's short intervals.
 */
let stack: TestStack;
let actors: ReturnType<typeof actorsOf>;
let receiver: WebhookReceiver;

interface DeliveryBody {
  id: string;
  eventId: string;
  eventType: string;
  url: string;
  status: string;
  responseStatus: number | null;
  attempt: number;
  createdAt: string;
}

interface ListBody<T> {
  data: T[];
  hasMore: boolean;
  nextCursor: string | null;
}

beforeAll(async () => {
  stack = await startStack();
  actors = actorsOf(stack);
});

beforeEach(async () => {
  receiver = await WebhookReceiver.open();
});

afterEach(async () => {
  // Every event of this file's merchants ends delivered before its receiver goes: none keeps retrying at a freed port.
  await waitFor(async () => (await stack.db('webhook_events').whereIn('merchant_id', merchantIds).andWhereNot({ status: 'delivered' })).length === 0, {
    what: 'the webhook events of this test to be delivered',
  });
  await receiver.close();
});

/** The merchants whose webhook points at a receiver of this file. */
const merchantIds: string[] = [];

afterAll(async () => {
  // The file moves money: it ends with the ledger's invariants.
  await actors.expectReconciled(await actors.admin());
  await stack.stop();
});

function setWebhook(merchant: Actor, url: string) {
  return actors.call<{ url: string; secret: string }>('PUT', '/v1/merchant/webhook', { token: merchant.token, body: { url } });
}

/** A merchant whose webhook points at this test's receiver, which knows the secret. */
async function merchantWithWebhook(name: string): Promise<Actor> {
  const merchant = await actors.signUp({ role: 'merchant', name });
  const response = await setWebhook(merchant, receiver.url);
  expect(response.status).toBe(200);
  receiver.secret = response.body.secret;
  merchantIds.push(merchant.user.id);
  return merchant;
}

function pay(payer: Actor, merchant: Actor, amount: number) {
  return actors.call<{ id: string; status: string }>('POST', '/v1/payments', { token: payer.token, body: { merchantId: merchant.user.id, amount, currency: 'USD' } });
}

async function deliveriesOf(merchant: Actor): Promise<DeliveryBody[]> {
  const response = await actors.call<ListBody<DeliveryBody>>('GET', '/v1/merchant/webhook/deliveries?limit=100', { token: merchant.token });
  expect(response.status).toBe(200);
  return response.body.data;
}

describe('registering a webhook', () => {
  it('when a merchant sets a URL, then the answer shows a secret once, and setting it again rotates the secret', async () => {
    const merchant = await actors.signUp({ role: 'merchant' });

    const first = await setWebhook(merchant, receiver.url);
    const second = await setWebhook(merchant, `${receiver.url}?v=2`);

    expect(first.status).toBe(200);
    expect(first.headers.get('cache-control')).toBe('no-store');
    expect(first.body).toEqual({ url: receiver.url, secret: expect.stringMatching(/^whsec_[\w-]{43}$/) as string });
    expect(second.body.url).toBe(`${receiver.url}?v=2`);
    expect(second.body.secret).not.toBe(first.body.secret);
    const stored = await stack.db('webhook_endpoints').where({ merchant_id: merchant.user.id });
    expect(stored).toHaveLength(1);
    expect(stored[0]).toMatchObject({ url: `${receiver.url}?v=2`, secret: second.body.secret });
  });

  it('when the URL is not an http(s) URL, then it is 400 validation_error', async () => {
    const merchant = await actors.signUp({ role: 'merchant' });
    for (const url of ['ftp://example.com/hooks', 'not a url', 'https://user:pass@example.com/hooks', 'https://example.com/hooks#x', `https://example.com/${'a'.repeat(2048)}`, 42]) {
      const error = expectError(await actors.call('PUT', '/v1/merchant/webhook', { token: merchant.token, body: { url } }), 400, 'validation_error');
      expect(Object.keys(error.details?.fields ?? {})).toEqual(['url']);
    }
  });

  it('when a customer or nobody calls the webhook routes, then it is 403 forbidden or 401', async () => {
    const customer = await actors.signUp();
    expectError(await setWebhook(customer, receiver.url), 403, 'forbidden');
    expectError(await actors.call('GET', '/v1/merchant/webhook/deliveries', { token: customer.token }), 403, 'forbidden');
    expectError(await actors.call('PUT', '/v1/merchant/webhook', { body: { url: receiver.url } }), 401, 'unauthorized');
  });
});

describe('delivering events', () => {
  it('when the endpoint answers 500 twice and then 200, then three attempts are recorded and exactly one event is accepted', async () => {
    const merchant = await merchantWithWebhook('Acme');
    receiver.plannedStatuses = [500, 500];
    const payer = await actors.signUp();

    const payment = await pay(payer, merchant, 1_234);

    expect(payment.body.status).toBe('succeeded');
    const deliveries = await waitFor(
      async () => {
        const list = await deliveriesOf(merchant);
        return list[0]?.status === 'succeeded' ? list : undefined;
      },
      { what: 'the webhook event to be delivered' },
    );
    expect(receiver.received).toHaveLength(3);
    expect(receiver.received.map((request) => [request.signatureValid, request.status])).toEqual([
      [true, 500],
      [true, 500],
      [true, 200],
    ]);
    expect(new Set(receiver.received.map((request) => request.body)).size).toBe(1);
    expect(receiver.accepted()).toHaveLength(1);
    const event = receiver.accepted()[0]?.event;
    expect(event).toMatchObject({
      id: expect.stringMatching(/^evt_/) as string,
      type: 'payment.succeeded',
      data: { id: payment.body.id, status: 'succeeded', amount: 1_234, fee: 25, netAmount: 1_209, currency: 'USD', merchantId: merchant.user.id },
    });
    expect(Date.parse(event?.createdAt ?? '')).not.toBeNaN();
    expect(deliveries.map((delivery) => [delivery.attempt, delivery.status, delivery.responseStatus])).toEqual([
      [3, 'succeeded', 200],
      [2, 'failed', 500],
      [1, 'failed', 500],
    ]);
    for (const delivery of deliveries) expect(delivery).toMatchObject({ eventId: event?.id, eventType: 'payment.succeeded', url: receiver.url, id: expect.stringMatching(/^whd_/) as string });

    // No workflow per event: the dispatcher delivered it from the database (the secret never left it).
    await expect(stack.temporal.workflow.getHandle(webhookWorkflowId(event?.id ?? '')).describe()).rejects.toBeInstanceOf(WorkflowNotFoundError);
    expect(await stack.db('webhook_events').where({ id: event?.id ?? '' }).first()).toMatchObject({
      status: 'delivered',
      attempts: 3,
      delivery_queue: stack.config.temporal.notificationsTaskQueue,
      next_attempt_at: null,
      locked_until: null,
      last_error: null,
    });
  });

  it('when a payment fails, then the merchant gets payment.failed; after a rotation, events are signed with the new secret only', async () => {
    const merchant = await merchantWithWebhook('Rotating Shop');
    const oldSecret = receiver.secret;
    const rotated = await setWebhook(merchant, receiver.url);
    receiver.secret = rotated.body.secret;
    const payer = await actors.signUp();

    const payment = await pay(payer, merchant, 10_001);

    expect(payment.body.status).toBe('failed');
    const request = await waitFor(() => receiver.accepted()[0], { what: 'the payment.failed event' });
    expect(request.event).toMatchObject({ type: 'payment.failed', data: { id: payment.body.id, status: 'failed', failure: { code: 'insufficient_funds' } } });
    expect(verifyWebhookSignature(receiver.secret, request.signature, request.body)).toBe(true);
    expect(verifyWebhookSignature(oldSecret, request.signature, request.body)).toBe(false);
    expect(verifyWebhookSignature(receiver.secret, request.signature, `${request.body} `)).toBe(false);
    const [, timestamp] = /^t=(\d+),v1=[0-9a-f]{64}$/.exec(request.signature) ?? [];
    expect(verifyWebhookSignature(receiver.secret, request.signature, request.body, 300, Number(timestamp) + 301)).toBe(false);
  });

  it('when the endpoint does not answer, then each attempt is recorded without a response status, until it answers', async () => {
    const merchant = await merchantWithWebhook('Offline Shop');
    receiver.answering = false;
    const payer = await actors.signUp();

    await pay(payer, merchant, 100);

    const deliveries = await waitFor(
      async () => {
        const list = await deliveriesOf(merchant);
        return list.length >= 2 && list.every((delivery) => delivery.status === 'failed') ? list : undefined;
      },
      { what: 'two failed attempts' },
    );
    expect(deliveries.slice(-2).map((delivery) => [delivery.attempt, delivery.responseStatus])).toEqual([
      [2, null],
      [1, null],
    ]);
    expect(receiver.received).toEqual([]);

    // Back online: the next retry is delivered, so no delivery keeps retrying after this test.
    receiver.answering = true;
    await waitFor(async () => (await deliveriesOf(merchant))[0]?.status === 'succeeded', { what: 'the delivery once the endpoint answers' });
    expect(receiver.accepted().map((request) => request.event.type)).toEqual(['payment.succeeded']);
  });

  it('when a merchant has no webhook, then nothing is recorded; one merchant never sees another’s deliveries', async () => {
    const withWebhook = await merchantWithWebhook('Seen');
    const without = await actors.signUp({ role: 'merchant', name: 'Unseen' });
    const payer = await actors.signUp();

    const payment = await pay(payer, without, 300);
    await pay(payer, withWebhook, 300);

    await waitFor(() => receiver.accepted()[0], { what: 'the event of the merchant with a webhook' });
    await waitFor(async () => (await stack.db('saga_steps').where({ saga_id: payment.body.id, name: 'notify' }).first()) !== undefined, { what: 'the notify step' });
    expect(await stack.db('webhook_events').where({ merchant_id: without.user.id })).toEqual([]);
    expect(await deliveriesOf(without)).toEqual([]);
    expect((await deliveriesOf(withWebhook)).every((delivery) => delivery.url === receiver.url)).toBe(true);
  });
});

describe('with WEBHOOK_ALLOW_PRIVATE=false', () => {
  let api: ListeningApp;

  beforeAll(async () => {
    const app = createApp({ db: stack.db, temporal: stack.temporal, config: { ...stack.config, webhookAllowPrivate: false }, report: () => undefined });
    api = await serveOnEphemeralPort(app, stack.config);
  });

  afterAll(async () => {
    await api.close();
  });

  it.each([
    'http://127.0.0.1:8080/hooks',
    'http://localhost/hooks',
    'http://[::1]/hooks',
    'http://169.254.169.254/latest/meta-data/',
    'http://10.0.0.8/hooks',
    'http://172.20.1.1/hooks',
    'https://192.168.1.1/hooks',
    'http://0.0.0.0/hooks',
    'http://[fd00::1]/hooks',
    'http://[fe80::1]/hooks',
    'http://[::ffff:127.0.0.1]/hooks',
    'http://2130706433/hooks',
    'http://no-such-host.invalid/hooks',
  ])('when a merchant sets %s, then it is refused with 400 validation_error', async (url) => {
    const merchant = await actors.signUp({ role: 'merchant' });
    const response = await request(api.baseUrl, 'PUT', '/v1/merchant/webhook', { token: merchant.token, body: { url } });
    const error = expectError(response, 400, 'validation_error');
    expect(error.details?.fields).toEqual({ url: 'must resolve to public internet addresses only (private, loopback and link-local ones are refused)' });
    expect(await stack.db('webhook_endpoints').where({ merchant_id: merchant.user.id })).toEqual([]);
  });

  it('when a merchant sets a URL at a public address, then it is accepted (nothing is sent until an event)', async () => {
    const merchant = await actors.signUp({ role: 'merchant' });
    const response = await request<{ url: string }>(api.baseUrl, 'PUT', '/v1/merchant/webhook', { token: merchant.token, body: { url: 'https://93.184.216.34/hooks' } });
    expect(response.status).toBe(200);
    expect(response.body.url).toBe('https://93.184.216.34/hooks');
  });

  it('when a delivery would go to a loopback address or a name resolving to one, then it is refused before connecting', async () => {
    const options = { timeoutMs: 2_000, allowPrivateAddresses: false };
    await expect(postWebhook(`${receiver.url}`, '{}', {}, options)).rejects.toThrow(/127\.0\.0\.1 is not a public address/);
    await expect(postWebhook(receiver.url.replace('127.0.0.1', 'localhost'), '{}', {}, options)).rejects.toThrow(/localhost resolves to a non-public address/);
    expect(receiver.received).toEqual([]);
    await expect(postWebhook(receiver.url, '{}', {}, { ...options, allowPrivateAddresses: true })).resolves.toEqual({ status: 400 });
  });
});
