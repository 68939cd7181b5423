import Ajv2020 from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import type Router from '@koa/router';
import { buildRouters } from '../api/app';
import type { AppDependencies } from '../api/dependencies';
import { openApiPath } from '../api/openapi/document';
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

  it('when a body breaks the document, then the response validator says so', () => {
    const validator = new ResponseValidator(document);
    const wallet = { id: 'wal_1', userId: 'usr_1', currency: 'USD', balance: 5, status: 'active', createdAt: '2026-11-22T00:00:00.000Z' };
    expect(() => validator.validate('GET', '/v1/wallets/wal_1', 200, wallet)).not.toThrow();
    expect(() => validator.validate('GET', '/v1/wallets/wal_1', 200, { ...wallet, balance: 1.5 })).toThrow(/does not match/);
    expect(() => validator.validate('GET', '/v1/wallets/wal_1', 200, { ...wallet, passwordHash: 'x' })).toThrow(/does not match/);
    expect(() => validator.validate('GET', '/v1/wallets/wal_1', 418, {})).toThrow(/does not list/);
    expect(() => validator.validate('GET', '/v1/nowhere', 404, { error: { code: 'not_found' } })).toThrow(/does not match/);
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
