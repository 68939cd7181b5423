import type { LookupAddress } from 'node:dns';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { newId } from '../../domain/ids';
import { nonPublicReason, type HostResolver } from '../../infra/network-addresses';
import { postWebhook } from '../../infra/webhook-http';
import { actorsOf, expectError } from '../support/actors';
import { startStack, waitFor, type TestStack } from '../support/stack';

/**
 * OWASP API7 (server-side request forgery) through merchant webhooks, and API10 (unsafe
 * consumption of APIs): what a merchant's endpoint answers. This file's stack runs with
 * WEBHOOK_ALLOW_PRIVATE=false, as production does. A local server listening on every
 * address (IPv4 and IPv6) stands for the internal network: it proves each refused form
 * would have reached it (the control requests do), and that the refused ones never did.
 */
let stack: TestStack;
let actors: ReturnType<typeof actorsOf>;
let internal: RecordingServer;

/** A server on `::` (dual stack) that records every request; what it answers is up to `answer`. */
interface RecordingServer {
  port: number;
  requests: string[];
  answer: (request: IncomingMessage, response: ServerResponse) => void;
  close(): Promise<void>;
}

async function recordingServer(): Promise<RecordingServer> {
  const recording: RecordingServer = {
    port: 0,
    requests: [],
    answer: (_request, response) => response.end('ok'),
    close: () => new Promise((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    }),
  };
  const server: Server = createServer((request, response) => {
    recording.requests.push(`${request.method ?? ''} ${request.url ?? ''}`);
    recording.answer(request, response);
  });
  await new Promise<void>((resolve) => server.listen({ port: 0, host: '::', ipv6Only: false }, resolve));
  recording.port = (server.address() as AddressInfo).port;
  return recording;
}

beforeAll(async () => {
  stack = await startStack({ WEBHOOK_ALLOW_PRIVATE: 'false' });
  actors = actorsOf(stack);
  internal = await recordingServer();
});

afterAll(async () => {
  await internal.close();
  await stack.stop();
});

beforeEach(() => {
  internal.requests.length = 0;
  internal.answer = (_request, response) => response.end('ok');
});

const REFUSAL = { url: 'must resolve to public internet addresses only (private, loopback and link-local ones are refused)' };

/** Every way of writing an internal address we know of, each pointing at the internal server's port. */
const internalForms = (port: number) => [
  `http://127.0.0.1:${port}/hooks`,
  `http://127.1:${port}/hooks`,
  `http://2130706433:${port}/hooks`,
  `http://0177.0.0.1:${port}/hooks`,
  `http://0x7f.1:${port}/hooks`,
  `http://0x7f000001:${port}/hooks`,
  `http://017700000001:${port}/hooks`,
  `http://0.0.0.0:${port}/hooks`,
  `http://0:${port}/hooks`,
  `http://localhost:${port}/hooks`,
  `http://LOCALHOST:${port}/hooks`,
  `http://localhost.:${port}/hooks`,
  `http://[::1]:${port}/hooks`,
  `http://[0:0:0:0:0:0:0:1]:${port}/hooks`,
  `http://[::]:${port}/hooks`,
  `http://[::ffff:127.0.0.1]:${port}/hooks`,
  `http://[::ffff:7f00:1]:${port}/hooks`,
  `http://[::127.0.0.1]:${port}/hooks`,
];

describe('API7 registering a webhook URL', () => {
  it.each([
    ...internalForms(8080),
    'http://169.254.169.254/latest/meta-data/',
    'http://2852039166/latest/meta-data/',
    'http://[::ffff:169.254.169.254]/latest/meta-data/',
    'http://[fe80::1]/hooks',
    'http://[fc00::1]/hooks',
    'http://[fd12:3456::1]/hooks',
    'http://[64:ff9b::7f00:1]/hooks',
    'http://10.1.2.3/hooks',
    'http://192.168.0.1/hooks',
    'http://100.64.0.1/hooks',
    'http://127.0.0.1.nip.io/hooks',
  ])('when a merchant sets %s, then 400 with one message whatever the reason, and nothing is stored', async (url) => {
    const merchant = await actors.signUp({ role: 'merchant' });
    const error = expectError(await actors.call('PUT', '/v1/merchant/webhook', { token: merchant.token, body: { url } }), 400, 'validation_error');
    expect(error.details?.fields).toEqual(REFUSAL);
    expect(await stack.db('webhook_endpoints').where({ merchant_id: merchant.user.id })).toEqual([]);
  });

  it.each([
    ['file:///etc/passwd', 'must be an http or https URL'],
    ['gopher://127.0.0.1:6379/_INFO', 'must be an http or https URL'],
    ['ftp://93.184.216.34/hooks', 'must be an http or https URL'],
    ['javascript:alert(1)', 'must be an http or https URL'],
    ['data:text/plain,hello', 'must be an http or https URL'],
    ['dict://127.0.0.1:11211/stat', 'must be an http or https URL'],
    ['//93.184.216.34/hooks', 'must be an http or https URL'],
    ['http://good.example@127.0.0.1/hooks', 'must not contain credentials'],
    ['http://user:password@93.184.216.34/hooks', 'must not contain credentials'],
    ['http://93.184.216.34/hooks#@127.0.0.1', 'must not contain a fragment'],
  ])('when a merchant sets %s, then 400 validation_error (%s)', async (url, message) => {
    const merchant = await actors.signUp({ role: 'merchant' });
    const error = expectError(await actors.call('PUT', '/v1/merchant/webhook', { token: merchant.token, body: { url } }), 400, 'validation_error');
    expect(error.details?.fields).toEqual({ url: message });
    expect(await stack.db('webhook_endpoints').where({ merchant_id: merchant.user.id })).toEqual([]);
  });
});

describe('API7 at delivery time', () => {
  const refusing = { timeoutMs: 2_000, allowPrivateAddresses: false };

  it('when a stored URL names an internal address in any form, then the POST is refused before connecting (each form does reach the server when private addresses are allowed)', async () => {
    for (const url of internalForms(internal.port)) {
      await expect(postWebhook(url, '{}', {}, refusing)).rejects.toThrow(/not a public address|non-public address|ENOTFOUND|EAI_AGAIN/);
    }
    expect(internal.requests).toEqual([]);
    // The control: the same forms do reach the internal server when the check is off (localhost. does not resolve here; ::127.0.0.1 is unroutable).
    const reachable = internalForms(internal.port).filter((url) => !url.includes('localhost.') && !url.includes('[::127.0.0.1]'));
    for (const url of reachable) await expect(postWebhook(url, '{}', {}, { ...refusing, allowPrivateAddresses: true })).resolves.toEqual({ status: 200 });
    expect(internal.requests).toHaveLength(reachable.length);
  });

  it('when a name resolved to a public address at registration and resolves to an internal one at delivery (DNS rebinding), then the delivery is refused on the resolved address', async () => {
    let answers: LookupAddress[][] = [[{ address: '93.184.216.34', family: 4 }], [{ address: '127.0.0.1', family: 4 }]];
    const asked: string[] = [];
    const rebinding: HostResolver = async (hostname) => {
      asked.push(hostname);
      const [next, ...rest] = answers;
      answers = rest.length > 0 ? rest : answers;
      return Promise.resolve(next ?? []);
    };
    const url = `http://rebind.example:${internal.port}/hooks`;
    await expect(nonPublicReason('rebind.example', rebinding)).resolves.toBeUndefined();
    await expect(postWebhook(url, '{}', {}, { ...refusing, resolver: rebinding })).rejects.toThrow(/rebind\.example resolves to a non-public address/);
    expect(asked).toEqual(['rebind.example', 'rebind.example']);

    for (const internalAnswer of [
      [{ address: '93.184.216.34', family: 4 }, { address: '127.0.0.1', family: 4 }],
      [{ address: '::1', family: 6 }],
      [{ address: '::ffff:127.0.0.1', family: 6 }],
      [{ address: 'fe80::1', family: 6 }],
      [{ address: 'fc00::1', family: 6 }],
      [{ address: '169.254.169.254', family: 4 }],
      [{ address: '0.0.0.0', family: 4 }],
      [],
    ]) {
      const resolver: HostResolver = () => Promise.resolve(internalAnswer);
      await expect(postWebhook(url, '{}', {}, { ...refusing, resolver })).rejects.toThrow(/non-public address/);
    }
    expect(internal.requests).toEqual([]);
  });

  it('when a merchant’s stored URL points inside (as after a rebinding), then the real notifications worker records failed attempts without a response and nothing arrives', async () => {
    const [customer, merchant] = await Promise.all([actors.signUp(), actors.signUp({ role: 'merchant' })]);
    // Another request of this process opened a connection to the same host and port without the check:
    // the delivery must not ride on it (it did, through Node's keep-alive pool, before attempts got their own).
    await expect(postWebhook(`http://localhost:${internal.port}/warm`, '{}', {}, { ...refusing, allowPrivateAddresses: true })).resolves.toEqual({ status: 200 });
    internal.requests.length = 0;
    const now = new Date();
    await stack.db('webhook_endpoints').insert({ id: newId('whe'), merchant_id: merchant.user.id, url: `http://localhost:${internal.port}/hooks`, secret: 'whsec_test', created_at: now, updated_at: now });
    const payment = await actors.call<{ status: string }>('POST', '/v1/payments', { token: customer.token, body: { merchantId: merchant.user.id, amount: 500, currency: 'USD' } });
    expect(payment.body.status).toBe('succeeded');
    const deliveries = await waitFor(
      async () => {
        const page = await actors.call<{ data: Array<{ status: string; responseStatus: number | null; url: string }> }>('GET', '/v1/merchant/webhook/deliveries', { token: merchant.token });
        return page.body.data.length > 0 ? page.body.data : undefined;
      },
      { what: 'the first delivery attempt' },
    );
    expect(deliveries[0]).toMatchObject({ responseStatus: null, url: `http://localhost:${internal.port}/hooks` });
    expect(deliveries[0]?.status).not.toBe('succeeded');
    expect(internal.requests).toEqual([]);
  });
});

describe('API7 redirects and API10 what an endpoint answers', () => {
  const allowing = { timeoutMs: 1_000, allowPrivateAddresses: true };
  let merchantEndpoint: RecordingServer;

  beforeAll(async () => {
    merchantEndpoint = await recordingServer();
  });

  afterAll(async () => {
    await merchantEndpoint.close();
  });

  it.each([301, 302, 303, 307, 308])('when the endpoint answers %i to an internal address, then the redirect is not followed and counts as a failed attempt', async (status) => {
    merchantEndpoint.answer = (_request, response) => {
      response.writeHead(status, { Location: `http://127.0.0.1:${internal.port}/latest/meta-data/` });
      response.end();
    };
    await expect(postWebhook(`http://127.0.0.1:${merchantEndpoint.port}/hooks`, '{}', {}, allowing)).resolves.toEqual({ status });
    expect(internal.requests).toEqual([]);
  });

  it('when the endpoint answers an endless body, then at most 64 KiB is read and the answer’s status is all that is kept', async () => {
    let written = 0;
    merchantEndpoint.answer = (_request, response) => {
      response.writeHead(200, { 'Content-Type': 'application/json' });
      const chunk = Buffer.alloc(16 * 1024, 'x');
      const pump = () => {
        while (written < 50 * 1024 * 1024 && !response.destroyed && response.write(chunk)) written += chunk.length;
        if (written < 50 * 1024 * 1024 && !response.destroyed) response.once('drain', pump);
      };
      pump();
    };
    const startedMs = Date.now();
    await expect(postWebhook(`http://127.0.0.1:${merchantEndpoint.port}/hooks`, '{}', {}, allowing)).resolves.toEqual({ status: 200 });
    expect(Date.now() - startedMs).toBeLessThan(1_500);
    expect(written).toBeLessThan(5 * 1024 * 1024);
  });

  it('when the endpoint never answers, or trickles its headers, then the attempt ends at its timeout', async () => {
    merchantEndpoint.answer = () => undefined;
    let startedMs = Date.now();
    await expect(postWebhook(`http://127.0.0.1:${merchantEndpoint.port}/hooks`, '{}', {}, allowing)).rejects.toThrow();
    expect(Date.now() - startedMs).toBeLessThan(2_500);

    merchantEndpoint.answer = (_request, response) => {
      response.writeHead(200, { 'Content-Type': 'text/plain' });
      const trickle = setInterval(() => (response.destroyed ? clearInterval(trickle) : response.write('.')), 100);
      response.on('close', () => clearInterval(trickle));
    };
    startedMs = Date.now();
    await postWebhook(`http://127.0.0.1:${merchantEndpoint.port}/hooks`, '{}', {}, allowing).catch(() => undefined);
    expect(Date.now() - startedMs).toBeLessThan(2_500);
  });

  it('when an attempt is recorded, then only its status is stored: no answer body or header of the endpoint', async () => {
    const columns = Object.keys(await stack.db('webhook_deliveries').columnInfo());
    expect(columns.filter((column) => /body|header|response_(?!status)/.test(column))).toEqual([]);
  });
});
