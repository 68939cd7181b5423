import { existsSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { Connection } from '@temporalio/client';
import { createConnection } from 'mysql2/promise';
import { SEARCH_ATTRIBUTES } from '../../domain/search-attributes';
import { freePort, freePortInRange, retryOnPortClash, waitFor } from './processes';

/** IndexedValueType wire values from temporal/api/enums/v1/common.proto. */
const INDEXED_VALUE_TYPES: Record<string, number> = { Text: 1, Keyword: 2, Int: 3, Double: 4, Bool: 5, Datetime: 6, KeywordList: 7 };

function requiredEnv(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set: did test/global-setup.ts run?`);
  return value;
}

describe('the test stack started by globalSetup', () => {
  test('when a test reads DATABASE_URL, then the database answers SELECT 1 with the app user', async () => {
    const connection = await createConnection(requiredEnv('DATABASE_URL'));
    try {
      const [rows] = await connection.query('SELECT 1 AS one');
      expect(rows).toEqual([{ one: 1 }]);
    } finally {
      await connection.end();
    }
  });

  test('when the schema is listed, then the migrations have run', async () => {
    const connection = await createConnection(requiredEnv('DATABASE_URL'));
    try {
      const [rows] = await connection.query('SELECT COUNT(*) AS applied FROM knex_migrations');
      const [row] = rows as Array<{ applied: number }>;
      expect(row?.applied).toBeGreaterThan(0);
    } finally {
      await connection.end();
    }
  });

  test('when the Temporal server is asked, then every custom search attribute is registered with its type', async () => {
    const connection = await Connection.connect({ address: requiredEnv('TEMPORAL_ADDRESS') });
    try {
      const response = await connection.operatorService.listSearchAttributes({ namespace: requiredEnv('TEMPORAL_NAMESPACE') });
      const registered = response.customAttributes ?? {};
      for (const [name, type] of Object.entries(SEARCH_ATTRIBUTES)) {
        expect({ name, type: registered[name] }).toEqual({ name, type: INDEXED_VALUE_TYPES[type] });
      }
    } finally {
      await connection.close();
    }
  });

  test('when a test runs, then it sees the environment globalSetup prepared', () => {
    expect(existsSync(requiredEnv('WORKFLOW_BUNDLE_PATH'))).toBe(true);
    expect(process.env.NODE_ENV).toBe('test');
    expect(process.env.LOG_LEVEL).toBeDefined();
  });
});

describe('waitFor', () => {
  test('when the probe never succeeds, then it fails after the deadline naming what it waited for and the last error', async () => {
    const startedAt = Date.now();
    const waiting = waitFor(
      () => {
        throw new Error('still closed');
      },
      { timeoutMs: 200, intervalMs: 20, what: 'the door' },
    );
    await expect(waiting).rejects.toThrow(/timed out after 200 ms waiting for the door; last error: still closed/);
    expect(Date.now() - startedAt).toBeGreaterThanOrEqual(200);
  });

  test('when failIf reports a problem, then it stops waiting at once', async () => {
    const waiting = waitFor(() => false, { timeoutMs: 10_000, what: 'the door', failIf: () => 'the house burned down' });
    await expect(waiting).rejects.toThrow('gave up waiting for the door: the house burned down');
  });

  test('when the probe returns a value, then that value is the result', async () => {
    let attempts = 0;
    const result = await waitFor(() => (++attempts >= 3 ? 'open' : undefined), { timeoutMs: 5_000, intervalMs: 1, what: 'the door' });
    expect({ result, attempts }).toEqual({ result: 'open', attempts: 3 });
  });
});

describe('freePort', () => {
  test('when asked twice, then it returns usable port numbers', async () => {
    const ports = [await freePort(), await freePort()];
    for (const port of ports) expect(port).toBeGreaterThan(0);
  });
});

describe('freePortInRange', () => {
  test('when asked for a port below 32768, then it returns one in the range that can be bound', async () => {
    const port = await freePortInRange(20_000, 32_767);
    expect(port).toBeGreaterThanOrEqual(20_000);
    expect(port).toBeLessThanOrEqual(32_767);
    const server = createServer();
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', resolve);
    });
    await new Promise((resolve) => server.close(resolve));
  });

  test('when the only port of the range is taken, then it gives up saying so', async () => {
    const server = createServer();
    const port = await new Promise<number>((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port)));
    try {
      await expect(freePortInRange(port, port, '127.0.0.1', 3)).rejects.toThrow(`no free port found between ${port} and ${port} after 3 tries`);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });
});

describe('retryOnPortClash', () => {
  it('when a start fails because its port was taken, then it starts again, and other failures are thrown at once', async () => {
    let calls = 0;
    const started = await retryOnPortClash(() => {
      calls += 1;
      return calls < 3 ? Promise.reject(new Error('Bind on TCP/IP port: Address already in use')) : Promise.resolve('up');
    });
    expect({ started, calls }).toEqual({ started: 'up', calls: 3 });

    let failures = 0;
    const broken = retryOnPortClash(() => {
      failures += 1;
      return Promise.reject(new Error('no such binary'));
    });
    await expect(broken).rejects.toThrow('no such binary');
    expect(failures).toBe(1);
  });

  it('when the port keeps clashing, then it gives up after the attempts it was given', async () => {
    let calls = 0;
    const clashing = retryOnPortClash(() => {
      calls += 1;
      return Promise.reject(new Error('listen EADDRINUSE: address already in use 127.0.0.1:7233'));
    }, 2);
    await expect(clashing).rejects.toThrow(/EADDRINUSE/);
    expect(calls).toBe(2);
  });
});
