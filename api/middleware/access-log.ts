import type { Middleware } from 'koa';
import type { Logger } from 'pino';
import { routeOf } from '../metrics';
import type { User } from '../users';

/**
 * One JSON line per request, written once the answer is known: request id, user id
 * (when authenticated), method, route pattern, path, status and duration. At `debug`
 * the request headers are added; the logger redacts `authorization` and cookies.
 * Mount it outside the error handler so it sees the final status.
 */
export function accessLog(logger: Logger): Middleware {
  return async (ctx, next) => {
    const startedAt = process.hrtime.bigint();
    try {
      await next();
    } finally {
      const durationMs = Number(process.hrtime.bigint() - startedAt) / 1e6;
      const line = {
        requestId: ctx.state.requestId as string | undefined,
        userId: (ctx.state.user as User | undefined)?.id,
        method: ctx.method,
        route: routeOf(ctx),
        path: ctx.path,
        status: ctx.status,
        durationMs: Math.round(durationMs * 10) / 10,
        ip: ctx.ip,
        ...(logger.isLevelEnabled('debug') ? { headers: ctx.request.headers } : {}),
      };
      if (ctx.status >= 500) logger.error(line, 'request');
      else logger.info(line, 'request');
    }
  };
}
