import type { Middleware } from 'koa';
import { readFile, stat } from 'node:fs/promises';
import { extname, join } from 'node:path';

/** Where the web wallet's built files are, and what its pages are told at load time. */
export interface WebAppOptions {
  /** The folder `npm run web:build` writes (index.html plus hashed files under assets/). */
  directory: string;
  /** Read by the admin pages to link a saga to the Temporal Web UI. */
  temporalUiUrl: string;
  temporalNamespace: string;
  /** The server honours X-Saga-Fault (SAGA_FAULTS=enabled): the pay form then offers the fault drill. */
  sagaFaults: boolean;
  /** The currencies wallets may hold (CURRENCIES), for the app's currency pickers. */
  currencies: string[];
}

/** Paths that belong to the API and its operational endpoints: never answered with the app. */
const API_PREFIXES = ['/docs', '/openapi.json', '/healthz', '/readyz', '/metrics'];

/**
 * Any API version, served or not (`/v1`, `/v2/payments`, `/v0`): a client probing a version this
 * server does not have gets the API's JSON 404, never the app's HTML with 200.
 */
const API_VERSION_PATH = /^\/v\d+(?:\/|$)/;

const CONTENT_TYPES: Record<string, string> = {
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8',
  '.webmanifest': 'application/manifest+json',
};

/** A file name the app's build produces: no slashes, no dot-files, nothing that could leave the folder. */
const SAFE_FILE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,200}$/;

/**
 * The app's own pages allow scripts, styles and connections from this origin only: no inline
 * script can run even if some text were ever rendered as HTML. `/docs` keeps its own page and rules.
 */
export const WEB_APP_CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "font-src 'self'",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

/** In any case: the API answers `/V1/…` with 404 (its paths match exactly), never with the app's page. */
function isApiPath(path: string): boolean {
  const lowerCase = path.toLowerCase();
  return API_VERSION_PATH.test(lowerCase) || API_PREFIXES.some((prefix) => lowerCase === prefix || lowerCase.startsWith(`${prefix}/`));
}

async function readIfFile(path: string): Promise<Buffer | undefined> {
  try {
    if (!(await stat(path)).isFile()) return undefined;
    return await readFile(path);
  } catch {
    return undefined;
  }
}

function escapeAttribute(value: string): string {
  return value.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** index.html with the runtime settings in a meta tag: data, not script, so the CSP needs no exception. */
function withSettings(html: string, options: WebAppOptions): string {
  const { temporalUiUrl, temporalNamespace, sagaFaults, currencies } = options;
  const settings = JSON.stringify({ temporalUiUrl, temporalNamespace, sagaFaults, currencies });
  return html.replace('<meta name="sagapay-settings" content="{}">', `<meta name="sagapay-settings" content="${escapeAttribute(settings)}">`);
}

/**
 * Serves the web wallet for what no API route answered: `GET /assets/<hashed file>` cached for a
 * year as immutable, other files of the build's root briefly, and every other GET or HEAD outside
 * the API's paths (a deep link such as `/payments/pay_…`) the app's index.html, never cached, so
 * the app's own router shows the page. API paths keep their JSON 404 and 405 answers.
 */
export function webApp(options: WebAppOptions): Middleware {
  return async (ctx, next) => {
    await next();
    if (ctx.body !== undefined || ctx.status !== 404) return;
    if ((ctx.method !== 'GET' && ctx.method !== 'HEAD') || isApiPath(ctx.path)) return;
    if ((ctx as { matched?: unknown[] }).matched?.length) return;

    const segments = ctx.path.split('/').filter((segment) => segment !== '');
    const isAsset = segments.length === 2 && segments[0] === 'assets' && SAFE_FILE.test(segments[1] ?? '');
    const isRootFile = segments.length === 1 && SAFE_FILE.test(segments[0] ?? '') && extname(segments[0] ?? '') in CONTENT_TYPES;
    if (isAsset || isRootFile) {
      const file = await readIfFile(join(options.directory, ...segments));
      if (file) {
        ctx.type = CONTENT_TYPES[extname(ctx.path)] ?? 'application/octet-stream';
        ctx.set('Cache-Control', isAsset ? 'public, max-age=31536000, immutable' : 'public, max-age=3600');
        ctx.set('X-Content-Type-Options', 'nosniff');
        ctx.body = file;
        ctx.status = 200;
        return;
      }
    }
    // A missing file must not become the app's HTML: the browser would try to run it as script.
    if (segments[0] === 'assets' || extname(ctx.path) !== '') return;

    const index = await readIfFile(join(options.directory, 'index.html'));
    if (!index) return;
    ctx.status = 200;
    ctx.type = 'text/html; charset=utf-8';
    ctx.set('Cache-Control', 'no-cache');
    ctx.set('Content-Security-Policy', WEB_APP_CONTENT_SECURITY_POLICY);
    ctx.set('X-Content-Type-Options', 'nosniff');
    ctx.set('Referrer-Policy', 'no-referrer');
    ctx.set('X-Frame-Options', 'DENY');
    ctx.body = withSettings(index.toString('utf8'), options);
  };
}
