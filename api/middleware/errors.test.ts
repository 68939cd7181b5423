import { ServiceError } from '@temporalio/client';
import Koa from 'koa';
import { KnexTimeoutError } from 'knex';
import type { AddressInfo } from 'node:net';
import { TemporalTimeoutError } from '../../infra/sagas';
import { errorHandler } from './errors';

/** An error as a driver throws it: a message plus the properties that name it. */
function driverError(properties: Record<string, unknown>): Error {
  return Object.assign(new Error('select * from `users` - connect ECONNREFUSED 127.0.0.1:3306'), properties);
}

/** gRPC's UNAVAILABLE, wrapped as the Temporal client throws it. */
function temporalUnavailable(): Error {
  return new ServiceError('Failed to start Workflow', { cause: Object.assign(new Error('14 UNAVAILABLE: No connection established'), { code: 14, details: 'x', metadata: {} }) });
}

/** Answers one request to an app whose only handler throws `thrown`, through the error handler. */
async function answerTo(thrown: unknown): Promise<{ status: number; retryAfter: string | null; body: { error: { code: string; details?: unknown } }; reported: number }> {
  let reported = 0;
  const app = new Koa();
  app.silent = true;
  app.use(errorHandler(() => (reported += 1)));
  app.use(() => {
    throw thrown;
  });
  const server = app.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  try {
    const response = await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/`);
    return { status: response.status, retryAfter: response.headers.get('retry-after'), body: (await response.json()) as { error: { code: string } }, reported };
  } finally {
    await new Promise((resolve) => server.close(resolve));
  }
}

describe('errorHandler: a dependency’s trouble is 503, a bug is 500', () => {
  it.each([
    ['a deadlock past the retries', 1, driverError({ code: 'ER_LOCK_DEADLOCK', errno: 1213 })],
    ['a lock wait timeout past the retries', 1, driverError({ code: 'ER_LOCK_WAIT_TIMEOUT', errno: 1205 })],
    ['a refused connection', 5, driverError({ code: 'ECONNREFUSED', errno: -111 })],
    ['a connection lost mid-query', 5, driverError({ code: 'PROTOCOL_CONNECTION_LOST', fatal: true })],
    ['a command on a closed connection (fatal, no code)', 5, driverError({ fatal: true })],
    ['MariaDB killing the session on restart', 5, driverError({ errno: 1927 })],
    ['no pooled connection in time', 5, new KnexTimeoutError('Knex: Timeout acquiring a connection. The pool is probably full.')],
    ['Temporal unavailable', 5, temporalUnavailable()],
    ['a Temporal call abandoned at its bound', 5, new TemporalTimeoutError(2_000)],
  ])('when the cause is %s, then 503 service_unavailable with Retry-After %p and no internals', async (_, seconds, thrown) => {
    const answer = await answerTo(thrown);
    expect(answer).toMatchObject({ status: 503, retryAfter: String(seconds), body: { error: { code: 'service_unavailable', details: { retryAfterSeconds: seconds } } }, reported: 1 });
    expect(JSON.stringify(answer.body)).not.toMatch(/ECONN|select|127\.0\.0\.1|No connection|Knex/i);
  });

  it.each([
    ['a plain bug', new TypeError('cannot read properties of undefined')],
    ['a duplicate key nobody handled', driverError({ code: 'ER_DUP_ENTRY', errno: 1062 })],
    ['a syntax error in SQL', driverError({ code: 'ER_PARSE_ERROR', errno: 1064 })],
  ])('when the cause is %s, then 500 internal_error without Retry-After', async (_, thrown) => {
    const answer = await answerTo(thrown);
    expect(answer).toMatchObject({ status: 500, retryAfter: null, body: { error: { code: 'internal_error' } }, reported: 1 });
    expect(answer.body.error.details).toBeUndefined();
  });
});
