import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import type { Knex } from 'knex';
import { newId } from '../domain/ids';
import { spawnManaged, waitFor, type ManagedProcess } from '../scripts/lib/processes';
import { testConfig } from '../test/support/stack';
import { createDatabase } from './database';
import { createDatabaseRateLimitStore, createRedisRateLimitStore, type RateLimitStore } from './rate-limit-stores';

/** The stores on real servers: the test MariaDB, and a private redis-server when one is installed. */
const WINDOW_MS = 60_000;
/** A fixed instant inside a window (not at its edge), so the tests do not depend on the wall clock. */
const NOW_MS = 1_800_000_000_000 + 12_345;
const WINDOW_START_MS = NOW_MS - (NOW_MS % WINDOW_MS);

let db: Knex;

beforeAll(() => {
  db = createDatabase(testConfig().databaseUrl, 20);
});

afterAll(async () => {
  await db.destroy();
});

const uniqueBucket = () => `test:${newId('req')}`;

/** The behaviour both stores share. */
function describeStore(name: string, storeOf: () => RateLimitStore) {
  describe(name, () => {
    it('when a key is hit in one window, then the counts go 1, 2, 3 and say when the window resets', async () => {
      const store = storeOf();
      const bucket = uniqueBucket();
      const counts = [];
      for (let index = 0; index < 3; index += 1) counts.push(await store.hit(bucket, WINDOW_MS, NOW_MS + index));
      expect(counts).toEqual([1, 2, 3].map((hits) => ({ hits, resetAtMs: WINDOW_START_MS + WINDOW_MS })));
    });

    it('when 50 hits of one key race, then every count from 1 to 50 is handed out exactly once', async () => {
      const store = storeOf();
      const bucket = uniqueBucket();
      const counts = await Promise.all(Array.from({ length: 50 }, () => store.hit(bucket, WINDOW_MS, NOW_MS)));
      expect(counts.map((count) => count.hits).sort((a, b) => a - b)).toEqual(Array.from({ length: 50 }, (_, index) => index + 1));
    });

    it('when a key is peeked at, then its count is read and nothing is counted', async () => {
      const store = storeOf();
      const bucket = uniqueBucket();
      expect(await store.peek(bucket, WINDOW_MS, NOW_MS)).toEqual({ hits: 0, resetAtMs: WINDOW_START_MS + WINDOW_MS });
      await store.hit(bucket, WINDOW_MS, NOW_MS);
      expect((await store.peek(bucket, WINDOW_MS, NOW_MS)).hits).toBe(1);
      expect((await store.peek(bucket, WINDOW_MS, NOW_MS)).hits).toBe(1);
      expect((await store.peek(bucket, WINDOW_MS, WINDOW_START_MS + WINDOW_MS)).hits).toBe(0);
    });

    it('when the next window starts, or another key is hit, then counting starts again at 1', async () => {
      const store = storeOf();
      const bucket = uniqueBucket();
      await store.hit(bucket, WINDOW_MS, NOW_MS);
      await store.hit(bucket, WINDOW_MS, NOW_MS);
      expect(await store.hit(bucket, WINDOW_MS, WINDOW_START_MS + WINDOW_MS)).toEqual({ hits: 1, resetAtMs: WINDOW_START_MS + 2 * WINDOW_MS });
      expect((await store.hit(uniqueBucket(), WINDOW_MS, NOW_MS)).hits).toBe(1);
    });
  });
}

describeStore('the database rate limit store', () => createDatabaseRateLimitStore(db, { cleanupEveryMs: 3_600_000 }));

describe('the database rate limit store clean-up', () => {
  it('when windows have ended, then a hit clears them in the background and leaves live ones', async () => {
    const store = createDatabaseRateLimitStore(db, { cleanupEveryMs: 0, cleanupBatchRows: 10_000 });
    const ended = uniqueBucket();
    const live = uniqueBucket();
    // A window that ended an hour before the wall clock's now, and one that is still open.
    const longAgoMs = Date.now() - 3_600_000;
    await db('rate_limit_counters').insert({ bucket: ended, window_start_ms: longAgoMs - WINDOW_MS, hits: 7, expires_at: new Date(longAgoMs) });
    await store.hit(live, WINDOW_MS, Date.now());
    await waitFor(async () => (await db('rate_limit_counters').where({ bucket: ended }).first()) === undefined, { timeoutMs: 5_000, what: 'the ended window to be deleted' });
    expect(await db('rate_limit_counters').where({ bucket: live }).first()).toMatchObject({ hits: 1 });
  });
});

/**
 * A private redis-server, if the binary is installed (required under CI, skipped elsewhere). It listens on
 * a unix socket in a directory of its own and on no TCP port: a free port found first and bound
 * later could be taken in between by another process of the run.
 */
function redisServerBinary(): string | undefined {
  try {
    return execFileSync('sh', ['-c', 'command -v redis-server'], { encoding: 'utf8' }).trim() || undefined;
  } catch {
    return undefined;
  }
}

const redisBinary = redisServerBinary();
/** Under CI (CI=true, as .ci/run sets it) redis-server is provisioned: its absence fails these tests instead of skipping them. */
const redisRequired = ['true', '1'].includes((process.env.CI ?? '').toLowerCase());
(redisBinary || redisRequired ? describe : describe.skip)('with a private redis-server', () => {
  let server: ManagedProcess | undefined;
  let redis: Redis;
  const socketDirectory = mkdtempSync(join(tmpdir(), 'sagapay-redis-'));
  const socket = join(socketDirectory, 'redis.sock');

  beforeAll(async () => {
    if (!redisBinary) throw new Error('redis-server is not on PATH, and under CI the Redis store must be tested: run `npx tsx scripts/provision.ts --with-redis`');
    server = spawnManaged(
      'redis',
      redisBinary ?? 'redis-server',
      ['--port', '0', '--unixsocket', socket, '--unixsocketperm', '700', '--save', '', '--appendonly', 'no', '--loglevel', 'warning'],
      { logFile: '/dev/null' },
    );
    redis = new Redis({ path: socket, lazyConnect: true, maxRetriesPerRequest: 1 });
    await waitFor(
      async () => {
        if (redis.status !== 'ready') await redis.connect().catch(() => undefined);
        return redis.status === 'ready';
      },
      { timeoutMs: 10_000, intervalMs: 100, what: 'redis-server to accept connections' },
    );
  });

  afterAll(async () => {
    await redis.quit().catch(() => undefined);
    await server?.stop(5_000);
    rmSync(socketDirectory, { recursive: true, force: true });
  });

  describeStore('the redis rate limit store', () => createRedisRateLimitStore(redis, `test:${newId('req')}:`));

  it('when a window is counted, then its key expires by itself shortly after the window ends', async () => {
    const prefix = `test:${newId('req')}:`;
    const nowMs = Date.now();
    const { resetAtMs } = await createRedisRateLimitStore(redis, prefix).hit('bucket', WINDOW_MS, nowMs);
    const [key] = await redis.keys(`${prefix}*`);
    const expiresAtMs = await redis.pexpiretime(key ?? '');
    expect(expiresAtMs).toBeGreaterThan(resetAtMs);
    expect(expiresAtMs).toBeLessThanOrEqual(resetAtMs + 5_000);
  });
});
