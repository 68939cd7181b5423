import type { Middleware } from 'koa';
import { DomainError } from '../../domain/errors';
import { isDatabaseUnavailable } from '../../infra/database';
import { isTemporalUnavailable } from '../../infra/sagas';
import { isContention } from '../../store/transactions';
import { fromDomainError, HttpError } from '../errors';

/** What the error handler tells the outside world about a failure that is not the client's. */
export type ErrorReporter = (error: unknown, requestId: string) => void;

const STATUS_CODES: Record<number, string> = {
  404: 'not_found',
  405: 'method_not_allowed',
  413: 'payload_too_large',
  415: 'unsupported_media_type',
};

/** Seconds a client waits after a 503: contention passes in a moment, an outage takes longer. */
const RETRY_AFTER_CONTENTION_S = 1;
const RETRY_AFTER_OUTAGE_S = 5;

/**
 * The one error handler at the top: every failure becomes the contract's error
 * shape. Only 4xx messages are shown; trouble with a dependency (the database out
 * of reach, a lock wait or deadlock past the retries, Temporal out of reach) is
 * 503 `service_unavailable` with `Retry-After`; anything else is a bug, 500
 * `internal_error`. The cause of every 5xx goes to the reporter, never to the client.
 */
export function errorHandler(report: ErrorReporter): Middleware {
  return async (ctx, next) => {
    try {
      await next();
      if (ctx.status === 404 && ctx.body === undefined) throw new HttpError(404, 'not_found', 'No such route.');
    } catch (caught) {
      const error = toHttpError(caught);
      const requestId = String(ctx.state.requestId ?? '');
      if (error.status >= 500) report(caught, requestId);
      ctx.status = error.status;
      ctx.body = {
        error: {
          code: error.code,
          message: error.message,
          ...(error.details ? { details: error.details } : {}),
          requestId,
        },
      };
      const retryAfter = error.details?.retryAfterSeconds;
      if (typeof retryAfter === 'number') ctx.set('Retry-After', String(retryAfter));
    }
  };
}

function toHttpError(caught: unknown): HttpError {
  if (caught instanceof HttpError) return caught;
  if (caught instanceof DomainError) {
    const mapped = fromDomainError(caught);
    if (mapped) return mapped;
  }
  const unavailable = serviceUnavailable(caught);
  if (unavailable) return unavailable;
  const status = typeof caught === 'object' && caught !== null ? (caught as { status?: unknown }).status : undefined;
  if (typeof status === 'number' && status >= 400 && status < 500) {
    const code = STATUS_CODES[status] ?? 'bad_request';
    return new HttpError(status, code, code === 'method_not_allowed' ? 'Method not allowed on this route.' : 'The request was refused.');
  }
  return new HttpError(500, 'internal_error', 'Something went wrong on our side; it has been logged.');
}

/** 503 for a failure of a dependency rather than of the request, recognised by its error code; undefined otherwise. */
function serviceUnavailable(caught: unknown): HttpError | undefined {
  const retryAfterSeconds = isContention(caught) ? RETRY_AFTER_CONTENTION_S : isDatabaseUnavailable(caught) || isTemporalUnavailable(caught) ? RETRY_AFTER_OUTAGE_S : undefined;
  if (retryAfterSeconds === undefined) return undefined;
  return new HttpError(503, 'service_unavailable', `The service is briefly unavailable; try again in ${retryAfterSeconds} s.`, { retryAfterSeconds });
}
