import type { Middleware } from 'koa';
import { HttpError } from '../errors';

/** What @koa/router leaves on the context: every route layer whose path matched, whatever its methods. */
interface MatchedLayer {
  methods: string[];
}

/**
 * Answers a request whose path exists but not with its method: 405 `method_not_allowed` in the
 * contract's error shape, with `Allow` listing the path's methods; `OPTIONS` gets 200 with `Allow`.
 * One middleware over every router, mounted inside the error handler and before the routers: a
 * method the router does not know (`PURGE`, `PROPFIND`) is 405 like any other, where the router's
 * own `allowedMethods` raised 501 (our 500) for it and set no `Allow` when throwing.
 */
export function allowedMethods(): Middleware {
  return async (ctx, next) => {
    await next();
    if (ctx.status !== 404 || ctx.body !== undefined) return;
    const matched = (ctx as { matched?: MatchedLayer[] }).matched ?? [];
    const allowed = [...new Set(matched.flatMap((layer) => layer.methods))];
    if (allowed.length === 0) return;
    ctx.set('Allow', allowed.join(', '));
    if (ctx.method === 'OPTIONS') {
      ctx.status = 200;
      ctx.body = '';
      return;
    }
    throw new HttpError(405, 'method_not_allowed', `${ctx.method} is not allowed here; use ${allowed.join(', ')}.`, { allowed });
  };
}
