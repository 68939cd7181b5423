import { z } from 'zod';
import { NOTE_WARNING } from '../../activities/email-templates';
import { PLAIN_TEXT_PATTERN } from '../../api/validation';
import { actorsOf, expectError } from '../support/actors';
import { request, type TestResponse } from '../support/http';
import { startStack, type TestStack } from '../support/stack';
import { buildWorld, documentedRoutes, fillPath, routeKey, type World } from './world';

/**
 * Injection (OWASP's API8 of 2019, folded into API8/API10 in 2023): hostile strings in every
 * text field of every body. Each answer is a 4xx, or the text is stored as sent and comes
 * back as the same JSON string; never a 5xx, never money moved other than by the request itself.
 * Text people write for others (notes, descriptions, reasons, names) refuses control, line-break
 * and bidi characters with 400 naming the field. The text fields are read from each route's own
 * body schema, so a new field is covered at once.
 */
let stack: TestStack;
let actors: ReturnType<typeof actorsOf>;
let world: World;
/** The customer whose password the password route changes; their token is renewed after each change. */
let changer: { email: string; password: string; token: string };

beforeAll(async () => {
  stack = await startStack();
  actors = actorsOf(stack);
  world = await buildWorld(stack);
  const account = await actors.signUp({ name: 'Changer' });
  changer = { email: account.email, password: 'correct horse battery', token: account.token };
}, 120_000);

afterAll(async () => {
  await stack.stop();
});

const HOSTILE = [
  "' OR '1'='1' -- ",
  '"; DROP TABLE users; --',
  "1' AND SLEEP(5) AND '1'='1",
  "admin'/*",
  '$where: this.balance > 0',
  '{"$gt": ""}',
  'line one\r\nX-Injected: yes\r\n\r\n<html>',
  '<script>alert("x")</script>',
  '"><img src=x onerror=alert(1)>',
  '../../../../etc/passwd',
  '..%2f..%2f..%2fetc%2fpasswd',
  'nul\u0000byte',
  'right\u202Eleft\u200B\uFEFF\u0007\u001b[31m',
  '😀 emoji and ünïcödé',
  'lone \ud800 surrogate',
  '%s%s%s%n',
  '${7*7}{{7*7}}',
];
/** Structured values where a string belongs (NoSQL-style operators, arrays, prototype keys). */
const STRUCTURED: unknown[] = [{ $gt: '' }, { $ne: null }, ['a', 'b'], { __proto__: { role: 'admin' } }, { constructor: { prototype: { admin: true } } }];

/** A valid body for each route that takes one, and how its caller is found. */
const ROUTES: Record<string, { token: () => string; base: () => Record<string, unknown>; params?: () => Record<string, string> }> = {
  'POST /v1/auth/register': { token: () => '', base: () => ({ email: `inj-${Math.random().toString(36).slice(2)}@example.test`, password: 'correct horse battery', name: 'Injected' }) },
  'POST /v1/auth/login': { token: () => '', base: () => ({ email: world.bob.email, password: 'correct horse battery' }) },
  'PATCH /v1/me': { token: () => world.bob.token, base: () => ({ name: 'Bob' }) },
  'POST /v1/me/password': { token: () => changer.token, base: () => ({ currentPassword: changer.password, newPassword: 'another passphrase' }) },
  'POST /v1/wallets': { token: () => world.strangerCustomer.token, base: () => ({ currency: 'EUR' }) },
  'POST /v1/wallets/:id/topups': { token: () => world.ada.token, params: () => ({ id: world.ada.wallet.id }), base: () => ({ amount: 1, currency: 'USD' }) },
  'POST /v1/payments': { token: () => world.ada.token, base: () => ({ merchantId: world.merchant.user.id, amount: 1, currency: 'USD' }) },
  'POST /v1/payments/:id/refunds': { token: () => world.merchant.token, params: () => ({ id: world.paymentId }), base: () => ({ amount: 1 }) },
  'POST /v1/transfers': { token: () => world.ada.token, base: () => ({ toUserId: world.bob.user.id, amount: 1, currency: 'USD' }) },
  'PUT /v1/merchant/webhook': { token: () => world.strangerMerchant.token, base: () => ({ url: 'http://127.0.0.1:9/hooks' }) },
  'POST /v1/admin/payments/:id/review': { token: () => world.adminToken, params: () => ({ id: world.paymentId }), base: () => ({ decision: 'approve' }) },
  'POST /v1/admin/blocklist': { token: () => world.adminToken, base: () => ({ kind: 'user', value: 'usr_not_a_user' }) },
  'POST /v1/me/aliases': { token: () => world.bob.token, base: () => ({ alias: '@bob_injection' }) },
};

/** The top-level fields of a body schema that accept a string. */
function textFieldsOf(schema: z.ZodType): string[] {
  const json = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as { properties?: Record<string, { type?: string; anyOf?: Array<{ type?: string }> }> };
  return Object.entries(json.properties ?? {})
    .filter(([, property]) => property.type === 'string' || (property.anyOf ?? []).some((option) => option.type === 'string'))
    .map(([name]) => name);
}

/** The top-level fields of a body schema held to one line of plain text (the schema publishes PLAIN_TEXT_PATTERN). */
function plainTextFieldsOf(schema: z.ZodType): string[] {
  const json = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as { properties?: Record<string, { pattern?: string; anyOf?: Array<{ pattern?: string }> }> };
  return Object.entries(json.properties ?? {})
    .filter(([, property]) => [property, ...(property.anyOf ?? [])].some((option) => option.pattern === PLAIN_TEXT_PATTERN.source))
    .map(([name]) => name);
}

/** Every string anywhere inside a JSON value. */
function stringsIn(value: unknown, found: string[] = []): string[] {
  if (typeof value === 'string') found.push(value);
  else if (Array.isArray(value)) for (const item of value) stringsIn(item, found);
  else if (value && typeof value === 'object') for (const item of Object.values(value)) stringsIn(item, found);
  return found;
}

async function adaBalance(): Promise<number> {
  return Number(((await stack.db('accounts').where({ id: world.ada.wallet.id }).first()) as { balance: number }).balance);
}

describe('hostile text in every body field', () => {
  it('when the routes are listed, then every route with a body has a row here and at least one text field', () => {
    const withBody = documentedRoutes(stack.config).filter((route) => route.body);
    expect(withBody.map(routeKey).sort()).toEqual(Object.keys(ROUTES).sort());
    for (const route of withBody) if (route.body) expect({ route: routeKey(route), fields: textFieldsOf(route.body).length > 0 }).toEqual({ route: routeKey(route), fields: true });
  });

  it('when any text field carries SQL, NoSQL, CRLF, HTML, traversal, NUL or control characters, then 4xx or the text comes back as sent (a note or name with control, line-break or bidi characters: 400 naming it); never 5xx, and money moves only as the accepted requests say', async () => {
    const before = await adaBalance();
    let adaSpent = 0;
    const accepted: string[] = [];
    for (const route of documentedRoutes(stack.config).filter((candidate) => candidate.body)) {
      const row = ROUTES[routeKey(route)];
      if (!row || !route.body) throw new Error(`no row for ${routeKey(route)}`);
      const path = fillPath(route.path, row.params?.() ?? {});
      const plainTextFields = plainTextFieldsOf(route.body);
      for (const field of textFieldsOf(route.body)) {
        for (const value of [...HOSTILE, ...STRUCTURED]) {
          const body = { ...row.base(), [field]: value };
          const response: TestResponse<unknown> = await actors.call(route.method.toUpperCase(), path, { token: row.token() || undefined, body });
          const label = `${routeKey(route)} ${field}=${JSON.stringify(value)}`;
          expect({ label, serverError: response.status >= 500 }).toEqual({ label, serverError: false });
          expect({ label, injectedHeader: response.headers.get('x-injected') }).toEqual({ label, injectedHeader: null });
          if (plainTextFields.includes(field) && typeof value === 'string' && !value.includes('\ud800') && !PLAIN_TEXT_PATTERN.test(value)) {
            const error = (response.body as { error?: { code?: string; details?: { fields?: Record<string, string> } } }).error;
            expect({ label, status: response.status, code: error?.code, named: Object.keys(error?.details?.fields ?? {}) }).toEqual({ label, status: 400, code: 'validation_error', named: [field] });
          }
          if (response.status >= 400) {
            expect(typeof (response.body as { error?: { code?: unknown } }).error?.code).toBe('string');
            continue;
          }
          if (typeof value !== 'string') throw new Error(`${label} accepted a structured value with ${response.status}`);
          accepted.push(label);
          // Whatever comes back that carries the text carries it unchanged (trimmed at most): no HTML escaping, no truncation, no reinterpretation.
          const echoed = stringsIn(response.body).filter((text) => text.includes(value.trim().slice(0, 6)) && text !== value && text !== value.trim());
          expect({ label, altered: echoed }).toEqual({ label, altered: [] });
          if (response.body !== null) expect(response.headers.get('content-type')).toMatch(/^application\/json/);
          const moved = (response.body as { status?: string; amount?: number } | null) ?? {};
          if (routeKey(route) === 'POST /v1/payments' || routeKey(route) === 'POST /v1/transfers') adaSpent += moved.status === 'succeeded' ? 1 : 0;
          if (routeKey(route) === 'POST /v1/wallets/:id/topups') adaSpent -= 1;
          if (routeKey(route) === 'POST /v1/payments/:id/refunds') adaSpent -= moved.status === 'succeeded' ? 1 : 0;
          if (routeKey(route) === 'POST /v1/me/password') {
            // The change went through: every older token is dead, so log in with the new password.
            changer.password = String(body.newPassword);
            const login = await actors.call<{ accessToken: string }>('POST', '/v1/auth/login', { body: { email: changer.email, password: changer.password } });
            expect(login.status).toBe(200);
            changer.token = login.body.accessToken;
          }
        }
      }
    }
    // Text fields that take free text did accept hostile text (stored as sent); the rest refused it.
    expect(accepted.some((label) => label.startsWith('POST /v1/payments description='))).toBe(true);
    expect(accepted.filter((label) => /\\r|\\n|\\u202e|\\u0007|\\u0000/i.test(label) && /description=|note=|name=|reason=/.test(label))).toEqual([]);
    expect(accepted.some((label) => label.startsWith('POST /v1/transfers note='))).toBe(true);
    expect(accepted.some((label) => label.startsWith('PATCH /v1/me name='))).toBe(true);
    expect(await adaBalance()).toBe(before - adaSpent);
    await actors.expectReconciled(world.adminToken);
  });

  it('when hostile text was accepted, then reading it back gives the same string, and the JSON answer escapes nothing into markup', async () => {
    for (const value of HOSTILE) {
      const saved = await actors.call<{ id: string; description: string | null }>('POST', '/v1/payments', {
        token: world.ada.token,
        body: { merchantId: world.merchant.user.id, amount: 1, currency: 'USD', description: value },
      });
      expect(saved.status).toBeLessThan(500);
      if (saved.status >= 400) continue;
      const raw = await fetch(`${stack.baseUrl}/v1/payments/${saved.body.id}`, { headers: { authorization: `Bearer ${world.ada.token}` } });
      const text = await raw.text();
      expect(raw.headers.get('content-type')).toMatch(/^application\/json/);
      expect(raw.headers.get('x-content-type-options')).toBe('nosniff');
      expect((JSON.parse(text) as { description: string }).description).toBe(value);
      // JSON escapes every control character: none reaches the wire raw.
      expect([...text].filter((character) => character.charCodeAt(0) < 0x20)).toEqual([]);
    }
    await actors.expectReconciled(world.adminToken);
  });
});

describe('phishing in SagaPay’s name', () => {
  /** Characters that break a line, hide themselves or turn the text around them. */
  const REFUSED = [
    ['CR', '\r'],
    ['LF', '\n'],
    ['CRLF', '\r\n'],
    ['NEL', '\u0085'],
    ['line separator', '\u2028'],
    ['paragraph separator', '\u2029'],
    ['tab', '\t'],
    ['bell', '\u0007'],
    ['escape', '\u001b'],
    ['right-to-left override', '\u202E'],
    ['left-to-right embedding', '\u202A'],
    ['first strong isolate', '\u2068'],
    ['right-to-left mark', '\u200F'],
    ['Arabic letter mark', '\u061C'],
  ];
  /** Every field people write for others to read, with a request that otherwise succeeds. */
  const FIELDS: Array<[route: string, field: string, send: (text: string) => Promise<TestResponse<unknown>>]> = [
    ['POST /v1/transfers', 'note', (text) => actors.call('POST', '/v1/transfers', { token: world.ada.token, body: { toUserId: world.bob.user.id, amount: 1, currency: 'USD', note: text } })],
    ['POST /v1/payments', 'description', (text) => actors.call('POST', '/v1/payments', { token: world.ada.token, body: { merchantId: world.merchant.user.id, amount: 1, currency: 'USD', description: text } })],
    ['POST /v1/payments/:id/refunds', 'reason', (text) => actors.call('POST', `/v1/payments/${world.paymentId}/refunds`, { token: world.merchant.token, body: { amount: 1, reason: text } })],
    ['PATCH /v1/me', 'name', (text) => actors.call('PATCH', '/v1/me', { token: world.bob.token, body: { name: text } })],
    ['POST /v1/auth/register', 'name', (text) => actors.call('POST', '/v1/auth/register', { body: { email: `phish-${Math.random().toString(36).slice(2)}@example.test`, password: 'correct horse battery', name: text } })],
    ['POST /v1/admin/blocklist', 'reason', (text) => actors.call('POST', '/v1/admin/blocklist', { token: world.adminToken, body: { kind: 'user', value: 'usr_not_a_user', reason: text } })],
  ];

  it.each(FIELDS.flatMap(([route, field, send]) => REFUSED.map(([what, character]) => [route, field, what, character, send] as const)))(
    'when %s %s holds a %s, then 400 validation_error names the field and nothing is stored',
    async (_route, field, _what, character, send) => {
      const response = await send(`SagaPay Security${character}Verify now`);
      const error = expectError(response, 400, 'validation_error');
      expect(Object.keys(error.details?.fields ?? {})).toEqual([field]);
    },
  );

  it('when a transfer note reads like SagaPay asking for a login, then the e-mail quotes it as the sender’s, under a warning, with no link in either part', async () => {
    const note = 'SECURITY ALERT from SagaPay: your wallet is locked, verify at http://evil.example/login';
    const transfer = await actors.call<{ id: string; status: string }>('POST', '/v1/transfers', { token: world.ada.token, body: { toUserId: world.bob.user.id, amount: 1, currency: 'USD', note } });
    expect(transfer.body.status).toBe('succeeded');
    const mail = await stack.mailbox.waitForMail(world.bob.email, (candidate) => candidate.text.includes(transfer.body.id));
    expect(mail.text).toContain('Note from Ada:\n> SECURITY ALERT from SagaPay: your wallet is locked, verify at http[:]//evil[.]example/login\n');
    expect(mail.text).toContain(NOTE_WARNING);
    expect(mail.text).not.toMatch(/https?:\/\/|evil\.example/);
    expect(mail.html).toMatch(/<p>Note from Ada:<\/p><blockquote[^>]*>SECURITY ALERT from SagaPay/);
    expect(mail.html).not.toMatch(/<a\b|href=|https?:\/\/evil|evil\.example/i);
    await actors.expectReconciled(world.adminToken);
  });

  it.each(['@admin_', '@_admin', '@support_team', '@security_team', '@saga_pay', '@s4gapay', '@5upp0rt'])('when %s is claimed, then 400 validation_error: the handle is reserved', async (alias) => {
    const error = expectError(await actors.call('POST', '/v1/me/aliases', { token: world.bob.token, body: { alias } }), 400, 'validation_error');
    expect(error.details?.fields).toEqual({ alias: 'is reserved' });
  });
});

describe('hostile text in paths, queries and headers', () => {
  it('when ids, handles and search texts are hostile, then 4xx or an empty page, never 5xx; LIKE wildcards match only themselves', async () => {
    for (const value of [...HOSTILE.filter((text) => !text.includes('\ud800')), '%', '_', '\\']) {
      const encoded = encodeURIComponent(value);
      for (const path of [`/v1/payments/${encoded}`, `/v1/wallets/${encoded}`, `/v1/transfers/${encoded}`, `/v1/refunds/${encoded}`, `/v1/me/aliases/${encoded}`]) {
        const response = await request(stack.baseUrl, path.includes('aliases') ? 'DELETE' : 'GET', path, { token: world.ada.token });
        expect({ path, status: response.status }).toEqual({ path, status: path.includes('aliases') ? response.status : 404 });
        expect(response.status).toBeGreaterThanOrEqual(400);
        expect(response.status).toBeLessThan(500);
      }
      const merchants = await actors.call<{ data: Array<{ name: string; handle: string | null }> }>('GET', `/v1/merchants?query=${encoded}`, { token: world.ada.token });
      expect(merchants.status).toBeLessThan(500);
      // A match is by name or handle, with the text taken literally (a handle like @plain_florist matches "_").
      if (merchants.status === 200) for (const merchant of merchants.body.data) expect(`${merchant.name} ${merchant.handle ?? ''}`.toLowerCase()).toContain(value.trim().toLowerCase());
      const users = await actors.call<{ data: unknown[] }>('GET', `/v1/admin/users?query=${encoded}`, { token: world.adminToken });
      expect(users.status).toBeLessThan(500);
      const page = await actors.call('GET', `/v1/payments?startingAfter=${encoded}`, { token: world.ada.token });
      expect({ value, status: page.status < 500 }).toEqual({ value, status: true });
      const recipients = await actors.call('GET', `/v1/recipients?to=${encoded}`, { token: world.ada.token });
      expect(recipients.status).toBeGreaterThanOrEqual(400);
      expect(recipients.status).toBeLessThan(500);
    }
  });

  it('when a request id or an idempotency key is hostile, then the request id is replaced and the key refused or kept as plain text', async () => {
    for (const value of ['<script>alert(1)</script>', "' OR 1=1 --", 'x'.repeat(300), 'ok-but-\u00e9']) {
      const response = await fetch(`${stack.baseUrl}/v1/me`, { headers: { authorization: `Bearer ${world.ada.token}`, 'x-request-id': encodeURIComponent(value) === value ? value : encodeURI(value) } });
      expect(response.headers.get('x-request-id')).toMatch(/^[\w.:-]{1,128}$/);
      const keyed = await request(stack.baseUrl, 'POST', `/v1/wallets/${world.ada.wallet.id}/topups`, {
        token: world.ada.token,
        body: { amount: 1, currency: 'USD' },
        headers: { 'idempotency-key': encodeURI(value) },
      });
      expect(keyed.status).toBeLessThan(500);
      if (keyed.status >= 400) expectError(keyed, 400, 'validation_error');
    }
    await actors.expectReconciled(world.adminToken);
  });

  it('when a path climbs out with .. or encoded slashes, then 404 and no file is served', async () => {
    for (const path of ['/docs/assets/..%2f..%2fpackage.json', '/docs/assets/%2e%2e%2f%2e%2e%2f.env', '/assets/..%2f..%2fpackage.json', '/..%2f..%2fetc%2fpasswd', '/v1/..%2f..%2fpackage.json']) {
      const response = await fetch(`${stack.baseUrl}${path}`);
      const text = await response.text();
      expect({ path, status: response.status }).toEqual({ path, status: 404 });
      expect(text).not.toMatch(/"dependencies"|root:x:0|JWT_SECRET/);
    }
  });
});
