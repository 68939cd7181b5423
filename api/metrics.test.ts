import type { Knex } from 'knex';
import { createDatabase } from '../infra/database';
import { testConfig } from '../test/support/stack';
import { createApiMetrics } from './metrics';

/** `/metrics` against the real database: the saga counts cost a bounded number of queries, whatever the scrape rate. */
let db: Knex;
const sagaQueries: string[] = [];

beforeAll(() => {
  db = createDatabase(testConfig().databaseUrl, 2);
  db.on('query', (query: { sql: string }) => {
    if (/from `(payments|transfers)`/i.test(query.sql)) sagaQueries.push(query.sql);
  });
});

afterAll(async () => {
  await db.destroy();
});

beforeEach(() => {
  sagaQueries.length = 0;
});

/** The value of `sagapay_sagas{saga, status}` in a scrape. */
function sagas(text: string, saga: string, status: string): number | undefined {
  const line = text.split('\n').find((candidate) => candidate.startsWith(`sagapay_sagas{saga="${saga}",status="${status}"}`));
  return line === undefined ? undefined : Number(line.slice(line.lastIndexOf(' ') + 1));
}

describe('the saga counts of /metrics', () => {
  it('when /metrics is scraped again and again, then the tables are read once per max age, not once per scrape', async () => {
    let nowMs = 1_000_000;
    const { registry } = createApiMetrics(db, { sagaCountsMaxAgeMs: 15_000, nowMs: () => nowMs });

    const first = await registry.metrics();
    for (let scrape = 0; scrape < 20; scrape += 1) {
      nowMs += 500;
      await registry.metrics();
    }
    expect(sagaQueries).toHaveLength(2);
    expect(sagas(first, 'payment', 'succeeded')).toBeGreaterThanOrEqual(0);
    expect(sagas(first, 'transfer', 'pending')).toBeGreaterThanOrEqual(0);

    nowMs += 5_000;
    await registry.metrics();
    expect(sagaQueries).toHaveLength(4);
  });

  it('when scrapes arrive together on a cold cache, then they share one read', async () => {
    const { registry } = createApiMetrics(db);

    const texts = await Promise.all(Array.from({ length: 10 }, () => registry.metrics()));

    expect(sagaQueries).toHaveLength(2);
    expect(new Set(texts.map((text) => sagas(text, 'payment', 'succeeded'))).size).toBe(1);
  });
});
