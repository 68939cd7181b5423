import Ajv2020 from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import type Router from '@koa/router';
import type { z } from 'zod';
import { buildRouters } from '../api/app';
import type { AppDependencies } from '../api/dependencies';
import { openApiPath } from '../api/openapi/document';
import { handleSchema, recipientReferenceSchema } from '../api/recipients';
import { emailSchema, nameSchema } from '../api/routes/auth';
import { listQuerySchema, PLAIN_TEXT_PATTERN } from '../api/validation';
import { openApiDocumentFor, ResponseValidator } from './support/openapi';
import { startStack, testConfig, type TestStack } from './support/stack';

/** The OpenAPI document is generated from the routes' own schemas: it lists exactly what is routed. */
type JsonObject = Record<string, unknown>;

function routedOperations(routers: Router[]): string[] {
  return routers
    .flatMap((router) => router.stack.flatMap((layer) => layer.methods.filter((method) => method !== 'HEAD').map((method) => `${method.toLowerCase()} ${openApiPath(String(layer.path))}`)))
    .sort();
}

function documentedOperations(document: JsonObject): string[] {
  return Object.entries(document.paths as Record<string, JsonObject>)
    .flatMap(([path, operations]) => Object.keys(operations).map((method) => `${method} ${path}`))
    .sort();
}

describe('the OpenAPI document', () => {
  const config = testConfig();
  const document = openApiDocumentFor(config);

  it('when the routers are listed, then every route is documented and every documented operation is routed', () => {
    const { routers } = buildRouters({ config } as unknown as AppDependencies);
    expect(documentedOperations(document)).toEqual(routedOperations(routers));
    expect(documentedOperations(document)).toEqual(
      expect.arrayContaining(['post /v1/auth/register', 'post /v1/payments', 'get /v1/payments/{id}', 'get /v1/admin/reconciliation', 'get /openapi.json']),
    );
  });

  it('when read as OpenAPI 3.1, then every schema in it compiles as JSON Schema 2020-12', () => {
    expect(document.openapi).toBe('3.1.0');
    const ajv = new Ajv2020({ strict: false });
    addFormats(ajv);
    const schemas: JsonObject[] = [];
    const collect = (value: unknown): void => {
      if (Array.isArray(value)) value.forEach(collect);
      else if (value && typeof value === 'object') {
        for (const [key, item] of Object.entries(value as JsonObject)) {
          if (key === 'schema' && item && typeof item === 'object') schemas.push(item as JsonObject);
          else collect(item);
        }
      }
    };
    collect(document.paths);
    expect(schemas.length).toBeGreaterThan(20);
    for (const schema of schemas) expect(() => ajv.compile({ ...schema, components: document.components })).not.toThrow();
  });

  describe('the document is as strict as the validation (found by schemathesis)', () => {
    type Operation = { parameters?: Array<{ name: string; schema: JsonObject }>; requestBody?: { content: { 'application/json': { schema: JsonObject } } } };
    const operationOf = (path: string, method: string) => (document.paths as Record<string, Record<string, Operation>>)[path]?.[method] as Operation;
    const bodyOf = (path: string, method = 'post') => operationOf(path, method).requestBody?.content['application/json'].schema as { properties: Record<string, JsonObject>; oneOf?: unknown };
    const queryOf = (path: string, name: string) => operationOf(path, 'get').parameters?.find((parameter) => parameter.name === name)?.schema;
    const ajv = new Ajv2020({ strict: false });
    addFormats(ajv);
    /** Whether the document's schema and the validation's zod schema say the same of every sample. */
    const verdicts = (documented: JsonObject | undefined, validation: z.ZodType, samples: unknown[]) => {
      const validate = ajv.compile(documented ?? {});
      return samples.map((sample) => ({ sample, document: validate(sample), validation: validation.safeParse(sample).success }));
    };
    const agreeing = (rows: Array<{ sample: unknown; document: boolean; validation: boolean }>) => rows.map((row) => ({ ...row, document: row.validation }));

    it('when a list is documented, then its limit is an integer from 1 to 100, as validation reads it', () => {
      const lists = Object.entries(document.paths as Record<string, Record<string, Operation>>).filter(([, operations]) => operations.get?.parameters?.some((parameter) => parameter.name === 'limit'));
      expect(lists.length).toBeGreaterThanOrEqual(10);
      for (const [path] of lists) expect({ path, limit: queryOf(path, 'limit') }).toEqual({ path, limit: { type: 'integer', minimum: 1, maximum: 100 } });
      // A query value is text: the document's integer n is the text String(n).
      const texts = ['0', '1', '20', '100', '101', '-1'];
      const limit = listQuerySchema.shape.limit;
      expect(texts.map((text) => ({ text, document: ajv.validate(queryOf('/v1/payments', 'limit') ?? {}, Number(text)), validation: limit.safeParse(text).success }))).toEqual(
        texts.map((text) => ({ text, document: ['1', '20', '100'].includes(text), validation: ['1', '20', '100'].includes(text) })),
      );
    });

    it('when an e-mail, a name or a handle is documented, then the document accepts what validation accepts and refuses what it refuses', () => {
      const emails = ['', 'a', 'ada@example.com', ' Ada@Example.COM ', 'ada@example', 'ada@@example.com', `${'a'.repeat(245)}@example.com`, 'ada @example.com'];
      for (const path of ['/v1/auth/login', '/v1/auth/register']) {
        expect(bodyOf(path).properties.email).toEqual(expect.objectContaining({ type: 'string', minLength: 6, maxLength: 254, pattern: expect.stringContaining('@') as unknown }));
        const rows = verdicts(bodyOf(path).properties.email, emailSchema, emails);
        expect(rows).toEqual(agreeing(rows));
      }
      const handles = ['', 'ab', 'ada', '@Ada_1', ' @ada ', '@@ada', 'a'.repeat(31), 'ad-a', 'ada\u00a0'];
      for (const [path, field] of [['/v1/payments', 'merchant'], ['/v1/transfers', 'to'], ['/v1/me/aliases', 'alias']] as const) {
        expect(bodyOf(path).properties[field]).toEqual(expect.objectContaining({ type: 'string', maxLength: 64, pattern: expect.stringContaining('[A-Za-z0-9_]{3,30}') as unknown }));
        const rows = verdicts(bodyOf(path).properties[field], handleSchema, handles);
        expect(rows).toEqual(agreeing(rows));
      }
      const references = [...handles, ...emails];
      const recipientRows = verdicts(queryOf('/v1/recipients', 'to'), recipientReferenceSchema, references);
      expect(recipientRows).toEqual(agreeing(recipientRows));
      const names = ['', ' ', '\t\n', 'Ada', ' Ada ', 'x'.repeat(100), 'x'.repeat(101)];
      const nameRows = verdicts(bodyOf('/v1/auth/register').properties.name, nameSchema, names);
      expect(nameRows).toEqual(agreeing(nameRows));
    });

    it('when a route reads X-Saga-Fault or Idempotency-Key, or pages with startingAfter, then the document states the values and the 404', () => {
      type Parameter = { name: string; in: string; schema: JsonObject };
      const headerOf = (path: string, name: string) => (operationOf(path, 'post') as { parameters: Parameter[] }).parameters.find((parameter) => parameter.in === 'header' && parameter.name === name)?.schema;
      expect(headerOf('/v1/payments', 'X-Saga-Fault')).toEqual({ type: 'string', enum: ['', 'validate', 'risk_check', 'debit_payer', 'credit_merchant', 'write_ledger', 'notify'] });
      expect(headerOf('/v1/transfers', 'Idempotency-Key')).toEqual({ type: 'string', maxLength: 255, pattern: '^[\\x20-\\x7E]*$' });
      const lists = Object.entries(document.paths as Record<string, Record<string, Operation & { responses: JsonObject }>>).filter(([, operations]) => operations.get?.parameters?.some((parameter) => parameter.name === 'startingAfter'));
      for (const [path, operations] of lists) expect({ path, declares404: '404' in (operations.get?.responses ?? {}) }).toEqual({ path, declares404: true });
    });

    it('when a body names its recipient by exactly one of several fields, then the document says so with oneOf', () => {
      expect(bodyOf('/v1/payments').oneOf).toEqual([{ required: ['merchantId'] }, { required: ['merchant'] }]);
      expect(bodyOf('/v1/transfers').oneOf).toEqual([{ required: ['toUserId'] }, { required: ['toEmail'] }, { required: ['to'] }]);
      const validate = ajv.compile(bodyOf('/v1/transfers'));
      const base = { amount: 100, currency: 'USD' };
      expect([validate(base), validate({ ...base, to: '@ada' }), validate({ ...base, to: '@ada', toUserId: 'usr_1' }), validate({ ...base, toEmail: 'a@b.co', toUserId: 'usr_1', to: 'ada' })]).toEqual([
        false,
        true,
        false,
        false,
      ]);
    });
  });

  it.each([
    ['/v1/transfers', 'post', 'note'],
    ['/v1/payments', 'post', 'description'],
    ['/v1/payments/{id}/refunds', 'post', 'reason'],
    ['/v1/auth/register', 'post', 'name'],
    ['/v1/me', 'patch', 'name'],
    ['/v1/admin/blocklist', 'post', 'reason'],
  ])('when %s %s takes %s, then the document publishes the plain-text rule as its pattern', (path, method, field) => {
    const operation = (document.paths as Record<string, Record<string, JsonObject>>)[path]?.[method];
    const body = operation?.requestBody as { content: { 'application/json': { schema: { properties: Record<string, unknown> } } } } | undefined;
    const property = body?.content['application/json'].schema.properties[field];
    expect(JSON.stringify(property)).toContain(`"pattern":${JSON.stringify(PLAIN_TEXT_PATTERN.source)}`);
  });

  it('when a body breaks the document, then the response validator says so', () => {
    const validator = new ResponseValidator(document);
    const wallet = { id: 'wal_1', userId: 'usr_1', currency: 'USD', balance: 5, held: 0, status: 'active', createdAt: '2026-11-22T00:00:00.000Z' };
    const answer = (status: number, body: unknown) => ({ status, body, headers: new Headers() });
    expect(() => validator.validate('GET', '/v1/wallets/wal_1', answer(200, wallet))).not.toThrow();
    expect(() => validator.validate('GET', '/v1/wallets/wal_1', answer(200, { ...wallet, balance: 1.5 }))).toThrow(/does not match/);
    expect(() => validator.validate('GET', '/v1/wallets/wal_1', answer(200, { ...wallet, passwordHash: 'x' }))).toThrow(/does not match/);
    expect(() => validator.validate('GET', '/v1/wallets/wal_1', answer(418, {}))).toThrow(/does not list/);
    expect(() => validator.validate('GET', '/v1/nowhere', answer(404, { error: { code: 'not_found' } }))).toThrow(/does not match/);
  });

  it('when the API sends Location, Retry-After or Idempotent-Replayed, then the document declares each where it is sent, with its form', () => {
    const headersOf = (path: string, method: string, status: number) =>
      ((document.paths as Record<string, Record<string, { responses: Record<string, { headers?: Record<string, { required: boolean; schema: JsonObject }> }> }>>)[path]?.[method]
        ?.responses[String(status)]?.headers ?? {}) as Record<string, { required: boolean; schema: JsonObject }>;
    for (const collection of ['/v1/payments', '/v1/transfers']) {
      expect(headersOf(collection, 'post', 202)).toEqual({
        Location: expect.objectContaining({ required: true, schema: { type: 'string', pattern: `^${collection}/[A-Za-z0-9_]+$` } }) as unknown,
        'Idempotent-Replayed': expect.objectContaining({ required: false, schema: { type: 'string', enum: ['true'] } }) as unknown,
      });
      expect(Object.keys(headersOf(collection, 'post', 201))).toEqual(['Idempotent-Replayed']);
    }
    expect(Object.keys(headersOf('/v1/wallets/{id}/topups', 'post', 201))).toEqual(['Idempotent-Replayed']);
    for (const [path, method] of [['/v1/auth/login', 'post'], ['/v1/auth/register', 'post'], ['/v1/payments', 'post'], ['/v1/transfers', 'post'], ['/v1/wallets/{id}/topups', 'post']] as const) {
      expect({ path, retryAfter: headersOf(path, method, 429)['Retry-After'] }).toEqual({ path, retryAfter: expect.objectContaining({ required: true, schema: { type: 'integer', minimum: 1 } }) as unknown });
    }
  });

  describe('response headers', () => {
    const validator = new ResponseValidator(document);
    const payment = {
      id: 'pay_01JD3S6W2C0000000000000000',
      status: 'processing',
      amount: 1_000,
      fee: 20,
      netAmount: 980,
      currency: 'USD',
    };
    const rateLimited = { error: { code: 'rate_limited', message: 'Too many requests; try again in 3 s.', requestId: 'req_1' } };
    const accepted = (headers: Record<string, string>) => ({ status: 202, body: payment, headers: new Headers(headers) });
    const bodyless = (status: number, body: unknown, headers: Record<string, string>) => ({ status, body, headers: new Headers(headers) });
    // The body is not what these cases judge: a schema failure would hide the header's.
    const validatorIgnoringBodies = new ResponseValidator({
      ...document,
      paths: Object.fromEntries(
        Object.entries(document.paths as Record<string, Record<string, { responses: Record<string, JsonObject> }>>).map(([path, operations]) => [
          path,
          Object.fromEntries(
            Object.entries(operations).map(([method, operation]) => [
              method,
              { ...operation, responses: Object.fromEntries(Object.entries(operation.responses).map(([status, { content: _content, ...rest }]) => [status, rest])) },
            ]),
          ),
        ]),
      ),
    });

    it('when a declared, required header is missing, then the validator fails', () => {
      expect(() => validatorIgnoringBodies.validate('POST', '/v1/payments', accepted({}))).toThrow(/declares header Location as required, but the answer has none/);
      expect(() => validatorIgnoringBodies.validate('POST', '/v1/auth/login', bodyless(429, rateLimited, {}))).toThrow(/declares header Retry-After as required/);
    });

    it('when a declared header is malformed, then the validator fails', () => {
      expect(() => validatorIgnoringBodies.validate('POST', '/v1/payments', accepted({ location: `/v1/transfers/${payment.id}` }))).toThrow(/header Location.*does not match/s);
      expect(() => validatorIgnoringBodies.validate('POST', '/v1/payments', accepted({ location: `/v1/payments/${payment.id}`, 'idempotent-replayed': 'yes' }))).toThrow(
        /header Idempotent-Replayed.*does not match/s,
      );
      for (const retryAfter of ['0', '1.5', 'Wed, 21 Oct 2026 07:28:00 GMT', '']) {
        expect(() => validatorIgnoringBodies.validate('POST', '/v1/auth/login', bodyless(429, rateLimited, { 'retry-after': retryAfter }))).toThrow(/header Retry-After.*does not match/s);
      }
    });

    it('when a header is sent where the document does not declare it, then the validator fails', () => {
      expect(() => validatorIgnoringBodies.validate('POST', '/v1/payments', bodyless(201, payment, { location: `/v1/payments/${payment.id}` }))).toThrow(/sends header Location/);
      expect(() => validatorIgnoringBodies.validate('GET', '/v1/wallets/wal_1', bodyless(200, {}, { 'idempotent-replayed': 'true' }))).toThrow(/sends header Idempotent-Replayed/);
      expect(() => validatorIgnoringBodies.validate('GET', '/v1/wallets/wal_1', bodyless(404, rateLimited, { 'retry-after': '3' }))).toThrow(/sends header Retry-After/);
      expect(() => validator.validate('GET', '/v1/nowhere', bodyless(404, rateLimited, { location: '/v1/payments/pay_1' }))).toThrow(/sends header Location/);
    });

    it('when every declared header is there and well-formed, then the validator accepts the answer', () => {
      expect(() => validatorIgnoringBodies.validate('POST', '/v1/payments', accepted({ location: `/v1/payments/${payment.id}` }))).not.toThrow();
      expect(() => validatorIgnoringBodies.validate('POST', '/v1/payments', accepted({ location: `/v1/payments/${payment.id}`, 'idempotent-replayed': 'true' }))).not.toThrow();
      expect(() => validatorIgnoringBodies.validate('POST', '/v1/transfers', bodyless(201, {}, { 'idempotent-replayed': 'true' }))).not.toThrow();
      expect(() => validator.validate('POST', '/v1/auth/login', bodyless(429, rateLimited, { 'retry-after': '3' }))).not.toThrow();
    });
  });
});

describe('serving the document', () => {
  let stack: TestStack;

  beforeAll(async () => {
    stack = await startStack();
  });

  afterAll(async () => {
    await stack.stop();
  });

  it('when /openapi.json is fetched, then it is the generated document, without auth', async () => {
    const response = await fetch(`${stack.baseUrl}/openapi.json`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^application\/json/);
    expect(await response.json()).toEqual({ ...openApiDocumentFor(stack.config), info: expect.objectContaining({ title: 'SagaPay API' }) as unknown });
  });

  it('when /docs is opened, then the page and its assets come from this server', async () => {
    const page = await fetch(`${stack.baseUrl}/docs`);
    const html = await page.text();
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
    const assets = [...html.matchAll(/(?:src|href)="([^"]+)"/g)].map((match) => match[1] ?? '');
    expect(assets.length).toBeGreaterThanOrEqual(3);
    for (const asset of assets) {
      expect(asset).toMatch(/^\/docs\/assets\//);
      const response = await fetch(`${stack.baseUrl}${asset}`);
      expect({ asset, status: response.status }).toEqual({ asset, status: 200 });
      expect((await response.arrayBuffer()).byteLength).toBeGreaterThan(100);
    }
    expect((await fetch(`${stack.baseUrl}/docs/assets/package.json`)).status).toBe(404);
  });
});

describe('bodies sent to writes that take none (found by npm run fuzz)', () => {
  let stack: TestStack;

  beforeAll(async () => {
    stack = await startStack();
  });

  afterAll(async () => {
    await stack.stop();
  });

  it('when any write is documented, then it lists the answers every write can give its body: 400, 413 and 415', () => {
    const document = openApiDocumentFor(stack.config);
    const writes = Object.entries(document.paths as Record<string, Record<string, { responses: JsonObject }>>).flatMap(([path, operations]) =>
      Object.entries(operations)
        .filter(([method]) => ['post', 'put', 'patch', 'delete'].includes(method))
        .map(([method, operation]) => ({ operation: `${method} ${path}`, statuses: ['400', '413', '415'].filter((status) => status in operation.responses) })),
    );
    expect(writes.length).toBeGreaterThan(15);
    for (const write of writes) expect(write).toEqual({ operation: write.operation, statuses: ['400', '413', '415'] });
  });

  it('when POST /v1/auth/logout gets a form body or broken JSON, then its 415 and 400 are answers the document declares', async () => {
    const validator = new ResponseValidator(openApiDocumentFor(stack.config));
    const send = async (contentType: string, body: string) => {
      const response = await fetch(`${stack.baseUrl}/v1/auth/logout`, { method: 'POST', headers: { 'Content-Type': contentType }, body });
      return { status: response.status, headers: response.headers, body: (await response.json()) };
    };

    const form = await send('application/x-www-form-urlencoded', 'a=1');
    const broken = await send('application/json', '{');

    expect([form.status, broken.status]).toEqual([415, 400]);
    expect(() => validator.validate('POST', '/v1/auth/logout', form)).not.toThrow();
    expect(() => validator.validate('POST', '/v1/auth/logout', broken)).not.toThrow();
  });
});
