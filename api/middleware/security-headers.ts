import type { Middleware } from 'koa';

/** The policy of a JSON answer: it loads nothing, runs nothing and may not be framed. */
export const JSON_CONTENT_SECURITY_POLICY = "default-src 'none'; frame-ancestors 'none'";

/**
 * Headers every answer carries unless its route set its own (the web app and the docs pages
 * do): no content sniffing, no framing, no referrer. A JSON answer also gets a policy that
 * lets it run nothing if a browser ever renders it, and API answers are never cached, since
 * they carry balances and personal data. No CORS headers are sent: the web wallet is served
 * from the API's own origin, so other origins' pages cannot read answers.
 */
export function securityHeaders(): Middleware {
  return async (ctx, next) => {
    try {
      await next();
    } finally {
      const setIfMissing = (name: string, value: string) => {
        if (!ctx.response.get(name)) ctx.set(name, value);
      };
      setIfMissing('X-Content-Type-Options', 'nosniff');
      setIfMissing('X-Frame-Options', 'DENY');
      setIfMissing('Referrer-Policy', 'no-referrer');
      if (ctx.response.is('json')) setIfMissing('Content-Security-Policy', JSON_CONTENT_SECURITY_POLICY);
      if (ctx.path.startsWith('/v1/')) setIfMissing('Cache-Control', 'no-store');
    }
  };
}
