import knex from 'knex';
import { request as httpRequest, type IncomingHttpHeaders, type OutgoingHttpHeaders } from 'node:http';
import { connect, createServer, type Socket } from 'node:net';
import { createApp } from '../../api/app';
import { createHttpServer } from '../../api/http-server';
import { MAX_BODY_BYTES } from '../../api/middleware/json-body';
import { JSON_CONTENT_SECURITY_POLICY } from '../../api/middleware/security-headers';
import { actorsOf, expectError } from '../support/actors';
import { request, type TestResponse } from '../support/http';
import { listenOnEphemeralPort, serveOnEphemeralPort, startStack, type ListeningApp, type TestStack } from '../support/stack';
import { buildWorld, documentedRoutes, fillPath, routeKey, type World } from './world';

/**
 * OWASP API4 (unrestricted resource consumption) and API8 (security misconfiguration): every
 * size, depth, count and time a client controls has a limit that answers 4xx (or cuts the
 * connection) without costing the server more than the limit; answers carry the security
 * headers, no CORS grant, no server banner and no stack trace.
 */
let stack: TestStack;
let actors: ReturnType<typeof actorsOf>;
let world: World;

beforeAll(async () => {
  stack = await startStack();
  actors = actorsOf(stack);
  world = await buildWorld(stack);
}, 120_000);

afterAll(async () => {
  await stack.stop();
});

/** Who may call a route: its admin, merchant or customer. */
function tokenFor(path: string): string {
  if (path.startsWith('/v1/admin/')) return world.adminToken;
  if (path.startsWith('/v1/merchant/')) return world.merchant.token;
  return world.ada.token;
}

/** Money POSTs as a client sends them, with an Idempotency-Key: the bodies most work is done for. */
const MONEY_POSTS = () => [
  { path: '/v1/payments', body: { merchantId: world.merchant.user.id, amount: 100, currency: 'USD' } },
  { path: `/v1/wallets/${world.ada.wallet.id}/topups`, body: { amount: 100, currency: 'USD' } },
  { path: '/v1/transfers', body: { toUserId: world.bob.user.id, amount: 100, currency: 'USD' } },
];

async function balances(): Promise<unknown> {
  return stack.db('accounts').whereIn('id', [world.ada.wallet.id, world.bob.wallet.id, world.merchant.wallet.id]).select('id', 'balance', 'held').orderBy('id');
}

describe('API4 page sizes', () => {
  it('when any list is asked for more than 100 items, zero, a negative, a fraction or a word, then 400 validation_error; 100 is served', async () => {
    const lists = documentedRoutes(stack.config).filter((route) => route.method === 'get' && route.query && 'limit' in route.query.shape);
    expect(lists.length).toBeGreaterThanOrEqual(10);
    for (const route of lists) {
      const path = fillPath(route.path, { id: route.path.includes('wallets') ? world.ada.wallet.id : world.paymentId });
      for (const limit of ['101', '1000000', '0', '-1', '1.5', 'abc', '1e2', '', '5&limit=6', '9007199254740993']) {
        const response = await actors.call('GET', `${path}?limit=${limit}`, { token: tokenFor(path) });
        expect({ route: routeKey(route), limit, status: response.status }).toEqual({ route: routeKey(route), limit, status: 400 });
        expectError(response, 400, 'validation_error');
      }
      const most = await actors.call<{ data: unknown[] }>('GET', `${path}?limit=100`, { token: tokenFor(path) });
      expect({ route: routeKey(route), status: most.status }).toEqual({ route: routeKey(route), status: 200 });
      expect(most.body.data.length).toBeLessThanOrEqual(100);
    }
  });
});

describe('API4 request bodies', () => {
  it('when a body is over 64 KiB, declared or streamed without a length, then 413 payload_too_large and nothing moves', async () => {
    const before = await balances();
    const padding = 'x'.repeat(MAX_BODY_BYTES);
    for (const { path, body } of MONEY_POSTS()) {
      const declared = await request(stack.baseUrl, 'POST', path, { token: world.ada.token, body: { ...body, description: padding }, headers: { 'idempotency-key': `big-${path}` } });
      expectError(declared, 413, 'payload_too_large');
    }
    // A chunked body has no Content-Length: the limit is counted while reading.
    const chunks = (function* () {
      for (let index = 0; index < 8; index += 1) yield new TextEncoder().encode(index === 0 ? `{"amount":100,"currency":"USD","pad":"${padding}` : padding);
      yield new TextEncoder().encode('"}');
    })();
    const streamed = await fetch(`${stack.baseUrl}/v1/wallets/${world.ada.wallet.id}/topups`, {
      method: 'POST',
      headers: { authorization: `Bearer ${world.ada.token}`, 'content-type': 'application/json', 'idempotency-key': 'chunked' },
      body: ReadableStream.from(chunks),
      duplex: 'half',
    });
    expect(streamed.status).toBe(413);
    expect(await balances()).toEqual(before);
  });

  it('when a body nests arrays or objects thousands deep, anywhere, then 400 invalid_json, never a 5xx, and nothing moves', async () => {
    const before = await balances();
    const deepArray = `${'['.repeat(20_000)}${']'.repeat(20_000)}`;
    const deepObject = `${'{"a":'.repeat(5_000)}1${'}'.repeat(5_000)}`;
    const routes = documentedRoutes(stack.config).filter((route) => route.body);
    for (const route of routes) {
      const path = fillPath(route.path, { id: route.path.includes('wallets') ? world.ada.wallet.id : world.paymentId });
      for (const raw of [deepArray, deepObject, `{"name":"Ada","extra":${deepArray}}`]) {
        const response = await request(stack.baseUrl, route.method.toUpperCase(), path, { token: tokenFor(path), raw, headers: { 'content-type': 'application/json' } });
        expect({ route: routeKey(route), status: response.status }).toEqual({ route: routeKey(route), status: 400 });
      }
    }
    // The money routes with a valid body and one deep extra field, under an Idempotency-Key (the request is hashed).
    for (const { path, body } of MONEY_POSTS()) {
      const raw = `${JSON.stringify(body).slice(0, -1)},"extra":${deepArray}}`;
      const response = await request(stack.baseUrl, 'POST', path, { token: world.ada.token, raw, headers: { 'content-type': 'application/json', 'idempotency-key': `deep-${path}` } });
      expect({ path, status: response.status }).toEqual({ path, status: 400 });
      expectError(response, 400, 'invalid_json');
    }
    // Thirty levels is a normal document: accepted as JSON (and refused only by the schema, which wants no such field).
    const shallow = await request(stack.baseUrl, 'PATCH', '/v1/me', { token: world.bob.token, raw: `{"name":"Bob","extra":${'['.repeat(30)}${']'.repeat(30)}}`, headers: { 'content-type': 'application/json' } });
    expect(shallow.status).toBe(200);
    expect(await balances()).toEqual(before);
  });

  it('when a body is not JSON, or JSON of another content type, then 400 invalid_json or 415, with no parser detail', async () => {
    const invalid = expectError(await request(stack.baseUrl, 'POST', '/v1/payments', { token: world.ada.token, raw: '{"amount": 1,', headers: { 'content-type': 'application/json' } }), 400, 'invalid_json');
    expect(invalid.message).not.toMatch(/position|Unexpected|SyntaxError/);
    expectError(await request(stack.baseUrl, 'POST', '/v1/payments', { token: world.ada.token, raw: 'amount=1', headers: { 'content-type': 'application/x-www-form-urlencoded' } }), 415, 'unsupported_media_type');
  });
});

/** A raw connection to `port` that records what the server sent and when it closed. */
function rawConnection(port: number) {
  const socket: Socket = connect(port, '127.0.0.1');
  const state = { received: '', closed: false, socket };
  socket.setEncoding('utf8');
  socket.on('data', (chunk: string) => (state.received += chunk));
  socket.on('close', () => (state.closed = true));
  socket.on('error', () => undefined);
  return state;
}

describe('API4 slow and oversized requests on the API’s listener', () => {
  let api: ListeningApp;
  const limits = { headersTimeoutMs: 1_000, requestTimeoutMs: 2_000 };

  beforeAll(async () => {
    const app = createApp({ db: stack.db, temporal: stack.temporal, config: { ...stack.config, http: { ...stack.config.http, ...limits } }, report: () => undefined });
    api = await listenOnEphemeralPort(createHttpServer(app, limits));
  });

  afterAll(async () => {
    await api.close();
  });

  it('when 40 clients trickle headers or bodies (slowloris), then each is cut off with 408 near its deadline while others are served at once', async () => {
    const port = Number(new URL(api.baseUrl).port);
    const headerTricklers = Array.from({ length: 25 }, () => rawConnection(port));
    const bodyTricklers = Array.from({ length: 15 }, () => rawConnection(port));
    const silent = Array.from({ length: 5 }, () => rawConnection(port));
    for (const client of headerTricklers) client.socket.write('GET /v1/me HTTP/1.1\r\nHost: api\r\n');
    for (const client of bodyTricklers) client.socket.write(`POST /v1/auth/login HTTP/1.1\r\nHost: api\r\nContent-Type: application/json\r\nContent-Length: 500\r\n\r\n{`);
    const startedMs = Date.now();
    const trickle = setInterval(() => {
      for (const client of headerTricklers) if (!client.closed) client.socket.write('X-Slow: 1\r\n');
      for (const client of bodyTricklers) if (!client.closed) client.socket.write(' ');
    }, 200);
    try {
      // Meanwhile a normal client is answered at once.
      const quickStartMs = Date.now();
      expect((await request(api.baseUrl, 'GET', '/healthz')).status).toBe(200);
      const quickMs = Date.now() - quickStartMs;
      expect(quickMs).toBeLessThan(1_000);

      const everyone = [...headerTricklers, ...bodyTricklers, ...silent];
      const deadlineMs = limits.requestTimeoutMs + 3_000;
      while (everyone.some((client) => !client.closed) && Date.now() - startedMs < deadlineMs) await new Promise((resolve) => setTimeout(resolve, 50));
      const elapsedMs = Date.now() - startedMs;
      expect(everyone.filter((client) => !client.closed)).toHaveLength(0);
      expect(elapsedMs).toBeLessThan(deadlineMs);
      for (const client of [...headerTricklers, ...bodyTricklers]) expect(client.received).toMatch(/^HTTP\/1\.1 408 /);
      console.log(
        `slowloris: ${everyone.length} slow connections (headers timeout ${limits.headersTimeoutMs} ms, request timeout ${limits.requestTimeoutMs} ms) all cut off ${elapsedMs} ms after they started; a normal request meanwhile answered in ${quickMs} ms`,
      );
    } finally {
      clearInterval(trickle);
      for (const client of [...headerTricklers, ...bodyTricklers, ...silent]) client.socket.destroy();
    }
  });

  it('when the request headers or the request line are over 16 KiB, then 431 and the connection closes; the server keeps serving', async () => {
    const port = Number(new URL(api.baseUrl).port);
    const client = rawConnection(port);
    client.socket.write(`GET /v1/me HTTP/1.1\r\nHost: api\r\nX-Huge: ${'h'.repeat(20 * 1024)}\r\n\r\n`);
    await new Promise<void>((resolve) => {
      const check = setInterval(() => {
        if (client.closed) {
          clearInterval(check);
          resolve();
        }
      }, 20);
    });
    expect(client.received).toMatch(/^HTTP\/1\.1 431 /);
    const longQuery = await fetch(`${api.baseUrl}/v1/me?x=${'q'.repeat(20 * 1024)}`, { headers: { authorization: `Bearer ${world.ada.token}` } });
    expect(longQuery.status).toBe(431);
    expect((await request(api.baseUrl, 'GET', '/healthz')).status).toBe(200);
  });
});

describe('API8 security misconfiguration', () => {
  const answers = async (): Promise<Record<string, TestResponse<unknown>>> => ({
    'GET /v1/me 200': await request(stack.baseUrl, 'GET', '/v1/me', { token: world.ada.token }),
    'GET /v1/me 401': await request(stack.baseUrl, 'GET', '/v1/me'),
    'GET /v1/nowhere 404': await request(stack.baseUrl, 'GET', '/v1/nowhere', { token: world.ada.token }),
    'POST /v1/payments 400': await request(stack.baseUrl, 'POST', '/v1/payments', { token: world.ada.token, body: { amount: -1 } }),
    'GET /healthz 200': await request(stack.baseUrl, 'GET', '/healthz'),
  });

  it('when the API answers, success or error, then it sends nosniff, DENY framing, no referrer, a JSON policy that runs nothing, no-store on /v1, and no server banner', async () => {
    for (const [what, response] of Object.entries(await answers())) {
      const headers = Object.fromEntries(['x-content-type-options', 'x-frame-options', 'referrer-policy', 'content-security-policy', 'x-powered-by', 'server'].map((name) => [name, response.headers.get(name)]));
      expect({ what, headers }).toEqual({
        what,
        headers: {
          'x-content-type-options': 'nosniff',
          'x-frame-options': 'DENY',
          'referrer-policy': 'no-referrer',
          'content-security-policy': JSON_CONTENT_SECURITY_POLICY,
          'x-powered-by': null,
          server: null,
        },
      });
      if (what.includes('/v1/')) expect({ what, cache: response.headers.get('cache-control') }).toEqual({ what, cache: 'no-store' });
    }
  });

  it('when another origin asks (simple request or preflight), then no Access-Control-Allow-* header grants it anything', async () => {
    const origin = 'https://evil.example';
    const simple = await request(stack.baseUrl, 'GET', '/v1/me', { token: world.ada.token, headers: { origin } });
    const preflight = await fetch(`${stack.baseUrl}/v1/payments`, {
      method: 'OPTIONS',
      headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization, content-type' },
    });
    for (const response of [simple, preflight]) {
      const granted = [...response.headers.keys()].filter((name) => name.startsWith('access-control-'));
      expect(granted).toEqual([]);
    }
    expect(preflight.status).toBeLessThan(500);
  });

  it('when TRACE or an unknown method is sent, then 405 with the path\'s Allow; TRACK never reaches the app (400 from the HTTP parser); none echoes the request', async () => {
    const options = await rawRequest(stack.baseUrl, 'OPTIONS', '/v1/me', {});
    const allow = options.headers.allow;
    expect(options.status).toBe(200);
    expect(allow).toMatch(/\bGET\b/);
    const probe = { authorization: `Bearer ${world.ada.token}`, 'x-secret-probe': 'echo-me' };
    // node:http, not fetch: fetch refuses TRACE and TRACK before anything reaches the server.
    for (const method of ['TRACE', 'PROPFIND']) {
      const response = await rawRequest(stack.baseUrl, method, '/v1/me', probe);
      expect({ method, status: response.status, allow: response.headers.allow }).toEqual({ method, status: 405, allow });
      expect(JSON.parse(response.body)).toMatchObject({ error: { code: 'method_not_allowed' } });
      expect(response.body).not.toContain('echo-me');
    }
    // Node's HTTP parser knows no TRACK method: it refuses the request line and closes the connection.
    const track = await rawRequest(stack.baseUrl, 'TRACK', '/v1/me', probe);
    expect({ status: track.status, allow: track.headers.allow, connection: track.headers.connection, body: track.body }).toEqual({ status: 400, allow: undefined, connection: 'close', body: '' });
  });

  it('when the database is unreachable, then the answer is 503 service_unavailable with Retry-After and no stack, SQL or address, and the cause goes to the report', async () => {
    const closedPort = await new Promise<number>((resolve) => {
      const probe = createServer().listen(0, '127.0.0.1', () => {
        const { port } = probe.address() as { port: number };
        probe.close(() => resolve(port));
      });
    });
    const unreachable = knex({ client: 'mysql2', connection: { host: '127.0.0.1', port: closedPort, user: 'nobody', password: 'secret-db-password' }, pool: { min: 0, max: 1 }, acquireConnectionTimeout: 1_000, log: { warn: () => undefined, error: () => undefined, debug: () => undefined, deprecate: () => undefined } });
    const reported: unknown[] = [];
    const app = createApp({ db: unreachable, temporal: stack.temporal, config: stack.config, report: (error) => reported.push(error) });
    const broken = await serveOnEphemeralPort(app, stack.config);
    try {
      const response = await request(broken.baseUrl, 'GET', '/v1/me', { token: world.ada.token });
      const error = expectError(response, 503, 'service_unavailable');
      expect(response.headers.get('retry-after')).toBe('5');
      const text = JSON.stringify(response.body);
      expect(text).not.toMatch(/ECONNREFUSED|127\.0\.0\.1|select|secret-db-password|\bat\b.*\.(ts|js):\d+|stack/i);
      expect(error.details).toEqual({ retryAfterSeconds: 5 });
      expect(reported).toHaveLength(1);
    } finally {
      await broken.close();
      await unreachable.destroy();
    }
  });
});

/** One request sent with node:http, whatever its method (fetch refuses TRACE, TRACK and CONNECT). */
function rawRequest(baseUrl: string, method: string, path: string, headers: OutgoingHttpHeaders): Promise<{ status: number; headers: IncomingHttpHeaders; body: string }> {
  return new Promise((resolve, reject) => {
    const outgoing = httpRequest(new URL(path, baseUrl), { method, headers }, (response) => {
      let body = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => (body += chunk));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, headers: response.headers, body }));
      response.on('error', reject);
    });
    outgoing.on('error', reject);
    outgoing.end();
  });
}
