import type { Middleware } from 'koa';
import { newId } from '../../domain/ids';

const ACCEPTABLE_REQUEST_ID = /^[\w.:-]{1,128}$/;

/** Echoes a sane client `X-Request-Id` or mints one; every response carries it. */
export function requestId(): Middleware {
  return async (ctx, next) => {
    const sent = ctx.get('X-Request-Id');
    ctx.state.requestId = ACCEPTABLE_REQUEST_ID.test(sent) ? sent : newId('req');
    ctx.set('X-Request-Id', ctx.state.requestId as string);
    await next();
  };
}
