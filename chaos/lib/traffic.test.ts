import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { seededRandom } from './random';
import { retryAfterMs, Traffic } from './traffic';

/** A stand-in API that answers each POST with the next status (and headers) of a script, then 201. */
async function scriptedApi(script: Array<{ status: number; headers?: Record<string, string> }>): Promise<{ url: string; server: Server; requests: () => number }> {
  let requests = 0;
  const server = createServer((request, response) => {
    request.resume();
    request.on('end', () => {
      const next = script[requests] ?? { status: 201 };
      requests += 1;
      response.writeHead(next.status, { 'content-type': 'application/json', ...next.headers });
      response.end(next.status < 300 ? JSON.stringify({ id: 'pay_1', status: 'succeeded' }) : JSON.stringify({ error: { code: 'x', message: 'x', requestId: 'r' } }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server, requests: () => requests };
}

describe('the chaos client', () => {
  it('when the API answers 500, 503 with Retry-After and 503 without, then each is counted apart and the request is sent until answered', async () => {
    const api = await scriptedApi([{ status: 500 }, { status: 503, headers: { 'retry-after': '0' } }, { status: 503 }, { status: 502 }]);
    try {
      const user = { id: 'usr_1', walletId: 'wal_1', token: 't' };
      const traffic = new Traffic(api.url, { customers: [user, { ...user, id: 'usr_2' }], merchants: [user], currency: 'USD' }, seededRandom(1), 'test');
      const [record] = await traffic.burst(1, {}, 'accepted');

      expect(record).toMatchObject({ http5xx: 4, http500: 1, http503: 2, http503WithoutRetryAfter: 1, retries: 4 });
      expect(record?.answers).toHaveLength(1);
      expect(api.requests()).toBe(5);
    } finally {
      await new Promise<void>((resolve) => api.server.close(() => resolve()));
    }
  });

  it.each([
    ['2', 2_000],
    ['0', 0],
    ['Tue, 08 Dec 2026 00:00:03 GMT', 3_000],
    [null, null],
    ['', null],
    ['soon', null],
  ])('when Retry-After is %j, then the client reads %j ms', (header, expected) => {
    expect(retryAfterMs(header, Date.parse('Tue, 08 Dec 2026 00:00:00 GMT'))).toBe(expected);
  });
});
