import { parseArgs } from 'node:util';
import type { Knex } from 'knex';
import { paginate } from '../api/pagination';
import { newId } from '../domain/ids';
import { findAliasHolder } from '../store/aliases';
import { merchantsMatching, usersMatching } from '../store/directory';
import { runBenchmark, withPrivateDatabase } from './lib/private-database';

/**
 * How long the directory's lookups take on many users: the merchant search (a hit, a miss, no
 * query), the admin user search by e-mail prefix and the handle lookup behind
 * `GET /v1/recipients`. Starts a throw-away MariaDB, fills it, runs each query several times and
 * prints the median and the worst, plus the plan of the merchant search.
 *
 *   npm run bench:directory -- [--customers 50000] [--merchants 2000] [--runs 20]
 */
const { values } = parseArgs({
  options: { customers: { type: 'string', default: '50000' }, merchants: { type: 'string', default: '2000' }, runs: { type: 'string', default: '20' } },
});
const CUSTOMERS = Math.min(Math.max(Number(values.customers), 100), 1_000_000);
const MERCHANTS = Math.min(Math.max(Number(values.merchants), 10), 100_000);
const RUNS = Math.min(Math.max(Number(values.runs), 1), 200);
const BATCH_ROWS = 2_000;
const PAGE = { limit: 20 };

/** Customers and merchants (every merchant with one handle, every tenth customer too). */
async function load(db: Knex): Promise<void> {
  const now = new Date();
  const total = CUSTOMERS + MERCHANTS;
  for (let start = 0; start < total; start += BATCH_ROWS) {
    const users = [];
    const aliases = [];
    for (let index = start; index < Math.min(start + BATCH_ROWS, total); index += 1) {
      const merchant = index % Math.ceil(total / MERCHANTS) === 0;
      const id = newId('usr');
      users.push({
        id,
        email: `user${index}@bench.test`,
        password_hash: 'x',
        name: merchant ? `Shop number ${index}` : `Person ${index}`,
        phone: null,
        role: merchant ? ('merchant' as const) : ('customer' as const),
        currency: 'USD',
        onboarding_status: 'completed' as const,
        status: 'active' as const,
        token_version: 0,
        closed_at: null,
        created_at: now,
        updated_at: now,
      });
      if (merchant || index % 10 === 0) aliases.push({ alias: `${merchant ? 'shop' : 'person'}_${index}`, user_id: id, created_at: now });
    }
    await db('users').insert(users);
    if (aliases.length > 0) await db('aliases').insert(aliases);
  }
}

async function timeIt(name: string, run: () => Promise<unknown>): Promise<void> {
  const timesMs: number[] = [];
  for (let attempt = 0; attempt < RUNS; attempt += 1) {
    const started = performance.now();
    await run();
    timesMs.push(performance.now() - started);
  }
  const sorted = [...timesMs].sort((a, b) => a - b);
  const median = sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
  const max = sorted[sorted.length - 1] ?? Number.NaN;
  console.log(`${name.padEnd(48)} median ${median.toFixed(1).padStart(7)} ms   max ${max.toFixed(1).padStart(7)} ms`);
}

async function main(): Promise<void> {
  await withPrivateDatabase({ poolSize: 2, currencies: ['USD'] }, async (db) => {
    const loadStarted = performance.now();
    await load(db);
    await db.raw('ANALYZE TABLE users, aliases');
    console.log(`loaded ${CUSTOMERS} customers and ${MERCHANTS} merchants in ${((performance.now() - loadStarted) / 1_000).toFixed(1)} s; ${RUNS} runs each`);
    const lastShop = `shop_${(MERCHANTS - 1) * Math.ceil((CUSTOMERS + MERCHANTS) / MERCHANTS)}`;

    await timeIt('merchants, no query (first page)', () => paginate(merchantsMatching(db, undefined), PAGE, (row) => row));
    await timeIt('merchants, query "number 1" (many hits)', () => paginate(merchantsMatching(db, 'number 1'), PAGE, (row) => row));
    await timeIt('merchants, query "@shop_1" (handle)', () => paginate(merchantsMatching(db, '@shop_1'), PAGE, (row) => row));
    await timeIt('merchants, query "no such shop" (a miss)', () => paginate(merchantsMatching(db, 'no such shop'), PAGE, (row) => row));
    await timeIt('admin users, "user4999" (e-mail or name)', () => paginate(usersMatching(db, 'user4999'), PAGE, (row) => row));
    await timeIt('admin users, "user4999@" (e-mail prefix only)', () => paginate(usersMatching(db, 'user4999@'), PAGE, (row) => row));
    await timeIt('recipient by handle', () => findAliasHolder(db, lastShop));

    const [plan] = (await db.raw(`EXPLAIN ${merchantsMatching(db, 'number 1').orderBy('seq', 'desc').limit(21).toQuery()}`)) as [Array<Record<string, string | number | null>>];
    console.log('plan of the merchant search:');
    for (const row of plan) console.log(`  ${String(row.table)}: type ${String(row.type)}, key ${String(row.key)}, rows ${String(row.rows)}, ${String(row.Extra ?? '')}`);
  });
}

runBenchmark(main);
