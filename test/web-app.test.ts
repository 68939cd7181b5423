import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createApp } from '../api/app';
import type { AppDependencies } from '../api/dependencies';
import { WEB_APP_CONTENT_SECURITY_POLICY } from '../api/middleware/web-app';
import { serveOnEphemeralPort, testConfig, type ListeningApp } from './support/stack';

/**
 * How the API serves the web wallet's built files: these run on a hand-made build folder, so they
 * need no bundler; test/web-wallet.test.ts drives the real build in a browser.
 */
const INDEX = '<!doctype html><html><head><meta name="sagapay-settings" content="{}"><script type="module" src="/assets/index-abc123.js"></script></head><body></body></html>';

describe('the web wallet as the API serves it', () => {
  let directory: string;
  let api: ListeningApp;

  beforeAll(async () => {
    directory = mkdtempSync(join(tmpdir(), 'sagapay-web-'));
    mkdirSync(join(directory, 'assets'));
    writeFileSync(join(directory, 'index.html'), INDEX);
    writeFileSync(join(directory, 'assets', 'index-abc123.js'), 'console.log("app")');
    writeFileSync(join(directory, 'favicon.svg'), '<svg xmlns="http://www.w3.org/2000/svg"/>');
    // No route these tests call reaches the database or Temporal.
    const config = testConfig({ WEB_APP_DIR: directory, TEMPORAL_UI_URL: 'http://temporal-ui.test:8233/', SAGA_FAULTS: 'enabled' });
    api = await serveOnEphemeralPort(createApp({ config, report: () => undefined } as unknown as AppDependencies), config);
  });

  afterAll(async () => {
    await api.close();
    rmSync(directory, { recursive: true, force: true });
  });

  const get = (path: string, init: RequestInit = {}) => fetch(`${api.baseUrl}${path}`, init);

  it('when / or a deep link is opened, then the app page comes, not cached, with a CSP and the settings in a meta tag', async () => {
    for (const path of ['/', '/payments/pay_01JXYZ', '/admin', '/wallets/wal_1/']) {
      const response = await get(path);
      expect({ path, status: response.status }).toEqual({ path, status: 200 });
      expect(response.headers.get('content-type')).toBe('text/html; charset=utf-8');
      expect(response.headers.get('cache-control')).toBe('no-cache');
      expect(response.headers.get('content-security-policy')).toBe(WEB_APP_CONTENT_SECURITY_POLICY);
      const html = await response.text();
      const settings = /name="sagapay-settings" content="([^"]*)"/.exec(html)?.[1]?.replace(/&quot;/g, '"');
      expect(JSON.parse(settings ?? '{}')).toEqual({
        temporalUiUrl: 'http://temporal-ui.test:8233',
        temporalNamespace: 'default',
        sagaFaults: true,
        currencies: ['USD', 'EUR', 'GBP', 'INR'],
      });
    }
    expect(WEB_APP_CONTENT_SECURITY_POLICY).toContain("script-src 'self'");
    expect(WEB_APP_CONTENT_SECURITY_POLICY).not.toContain('unsafe-inline');
  });

  it('when a hashed asset is fetched, then it is cached for a year as immutable; a root file briefly', async () => {
    const asset = await get('/assets/index-abc123.js');
    expect(asset.status).toBe(200);
    expect(asset.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect(asset.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    expect(await asset.text()).toBe('console.log("app")');
    const icon = await get('/favicon.svg');
    expect({ status: icon.status, cache: icon.headers.get('cache-control'), type: icon.headers.get('content-type') }).toEqual({ status: 200, cache: 'public, max-age=3600', type: 'image/svg+xml' });
    expect((await get('/assets/index-abc123.js', { method: 'HEAD' })).status).toBe(200);
  });

  it('when an asset is missing or a path tries to leave the folder, then the answer is the JSON 404, never the app page', async () => {
    for (const path of ['/assets/index-gone.js', '/assets/..%2Findex.html', '/assets/../../package.json', '/favicon.ico', '/assets/sub/dir.js']) {
      const response = await get(path);
      expect({ path, status: response.status, type: response.headers.get('content-type') }).toEqual({ path, status: 404, type: 'application/json; charset=utf-8' });
      expect(((await response.json()) as { error: { code: string } }).error.code).toBe('not_found');
    }
  });

  it('when API and operational paths are called, then they keep their own answers', async () => {
    const unknownApi = await get('/v1/nowhere');
    expect(unknownApi.status).toBe(404);
    expect(((await unknownApi.json()) as { error: { code: string } }).error.code).toBe('not_found');
    expect((await get('/v1/me')).status).toBe(401);
    expect((await get('/v1/payments', { method: 'PATCH' })).status).toBe(405);
    expect(await (await get('/healthz')).json()).toEqual({ status: 'ok' });
    const docs = await get('/docs');
    expect(docs.status).toBe(200);
    expect(docs.headers.get('content-security-policy')).toBeNull();
    expect(await docs.text()).toContain('SwaggerUIBundle');
    expect((await get('/openapi.json')).headers.get('content-type')).toContain('application/json');
    expect((await get('/docs/nothing-here')).status).toBe(404);
  });

  it('when a path under any API version is opened with a build present, then it is the contract’s JSON 404, never the app page', async () => {
    for (const path of ['/v2/payments', '/v0/payments', '/v2', '/v10/', '/v1', '/v1/', '/v3/wallets/wal_1']) {
      const response = await get(path);
      expect({ path, status: response.status, type: response.headers.get('content-type') }).toEqual({ path, status: 404, type: 'application/json; charset=utf-8' });
      const body = (await response.json()) as { error: { code: string; message: string; requestId: string } };
      expect(body.error).toEqual({ code: 'not_found', message: expect.any(String) as unknown, requestId: expect.stringMatching(/^req_/) as unknown });
    }
    // Only a version segment is the API's: app deep links that merely start with a v stay the app.
    for (const path of ['/vouchers', '/v2x/payments', '/view']) {
      expect({ path, status: (await get(path)).status }).toEqual({ path, status: 200 });
    }
  });

  it('when a write is sent to an app path, then it is the JSON 404: only GET and HEAD load the app', async () => {
    const response = await fetch(`${api.baseUrl}/payments/pay_1`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    expect(response.status).toBe(404);
    expect(response.headers.get('content-type')).toBe('application/json; charset=utf-8');
  });
});

describe('the web wallet without a build', () => {
  it('when the build folder is missing, then / is the JSON 404 and the API still answers', async () => {
    const config = testConfig({ WEB_APP_DIR: join(tmpdir(), 'sagapay-web-not-built-anywhere') });
    const api = await serveOnEphemeralPort(createApp({ config, report: () => undefined } as unknown as AppDependencies), config);
    try {
      const response = await fetch(`${api.baseUrl}/`);
      expect(response.status).toBe(404);
      expect((await fetch(`${api.baseUrl}/healthz`)).status).toBe(200);
    } finally {
      await api.close();
    }
  });
});
