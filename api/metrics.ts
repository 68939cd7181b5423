import type { Knex } from 'knex';
import type { Context, Middleware } from 'koa';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import { IN_FLIGHT_STATUSES, MONEY_SAGA_KINDS, MONEY_SAGAS, type MoneySagaKind } from '../domain/money-sagas';
import type { AppDependencies } from './dependencies';

/** The API's Prometheus metrics: one registry per app, served at `GET /metrics`. */
export interface ApiMetrics {
  registry: Registry;
  httpRequestDuration: Histogram<'method' | 'route' | 'status'>;
  rateLimited: Counter<'limit'>;
}

/** Request durations from 5 ms to 30 s: a payment may wait up to PAYMENT_SYNC_WAIT_MS (≤ 60 s) for its saga. */
const HTTP_BUCKETS_SECONDS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

/** The statuses every saga table has; each is exported, at 0 when no row has it, so series never vanish. */
const SAGA_STATUSES = [...IN_FLIGHT_STATUSES, 'succeeded', 'failed'] as const;

/** Statuses only some kinds have: payments wait `in_review` for an admin's risk decision. */
const EXTRA_STATUSES: Partial<Record<MoneySagaKind, readonly string[]>> = { payment: ['in_review'] };

/** How old the saga counts `/metrics` serves may get: each API process reads them at most this often. */
export const SAGA_COUNTS_MAX_AGE_MS = 15_000;

/** Rows per status of one saga table; null when the table does not exist (yet). */
async function countByStatus(db: Knex, table: string): Promise<Map<string, number> | null> {
  try {
    const rows: Array<{ status: string; count: number | string }> = await db(table).select('status').count({ count: '*' }).groupBy('status');
    return new Map(rows.map((row) => [row.status, Number(row.count)]));
  } catch (error) {
    if ((error as { code?: unknown }).code === 'ER_NO_SUCH_TABLE') return null;
    throw error;
  }
}

type SagaCounts = ReadonlyArray<readonly [saga: MoneySagaKind, byStatus: Map<string, number> | null]>;

/**
 * The saga counts of every table, read again only once they are `maxAgeMs` old, so the database
 * work does not grow with the scrape rate: scrapes in between (several Prometheus servers, a
 * dashboard polling) read the cache, and scrapes arriving during a read share it.
 */
function cachedSagaCounts(db: Knex, maxAgeMs: number, nowMs: () => number): () => Promise<SagaCounts> {
  let cached: { readAtMs: number; counts: SagaCounts } | undefined;
  let reading: Promise<SagaCounts> | undefined;
  return () => {
    if (cached && nowMs() - cached.readAtMs < maxAgeMs) return Promise.resolve(cached.counts);
    reading ??= Promise.all(MONEY_SAGA_KINDS.map(async (saga) => [saga, await countByStatus(db, MONEY_SAGAS[saga].table)] as const))
      .then((counts) => {
        cached = { readAtMs: nowMs(), counts };
        return counts;
      })
      .finally(() => {
        reading = undefined;
      });
    return reading;
  };
}

/** Knobs of `createApiMetrics` that tests turn. */
export interface ApiMetricsOptions {
  sagaCountsMaxAgeMs?: number;
  nowMs?: () => number;
}

/**
 * Builds the registry. Payments and transfers by status are counted in the database
 * (a grouped scan of the `(status, created_at)` index), at most once per
 * `SAGA_COUNTS_MAX_AGE_MS` per process, never once per scrape: the database, not a process,
 * is where the final status is written, so the numbers are exact (if up to that old),
 * survive restarts and never count a retried activity twice. Every API replica
 * reports the same totals: aggregate them with `max`, not `sum`.
 */
export function createApiMetrics(db: Knex, { sagaCountsMaxAgeMs = SAGA_COUNTS_MAX_AGE_MS, nowMs = Date.now }: ApiMetricsOptions = {}): ApiMetrics {
  const sagaCounts = cachedSagaCounts(db, sagaCountsMaxAgeMs, nowMs);
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const httpRequestDuration = new Histogram({
    name: 'sagapay_http_request_duration_seconds',
    help: 'HTTP requests by method, route pattern and status: time from arrival to the response',
    labelNames: ['method', 'route', 'status'] as const,
    buckets: HTTP_BUCKETS_SECONDS,
    registers: [registry],
  });
  const rateLimited = new Counter({
    name: 'sagapay_rate_limited_total',
    help: 'Requests refused with 429 rate_limited, by limit',
    labelNames: ['limit'] as const,
    registers: [registry],
  });
  new Gauge({
    name: 'sagapay_sagas',
    help: `Payments, transfers and refunds in the database by status (succeeded and failed are final; payments also in_review), read from it at most every ${sagaCountsMaxAgeMs / 1000} s per API process`,
    labelNames: ['saga', 'status'] as const,
    registers: [registry],
    async collect() {
      const counts = await sagaCounts();
      this.reset();
      for (const [saga, byStatus] of counts) {
        if (!byStatus) continue;
        for (const status of [...SAGA_STATUSES, ...(EXTRA_STATUSES[saga] ?? [])]) this.set({ saga, status }, byStatus.get(status) ?? 0);
      }
    },
  });
  return { registry, httpRequestDuration, rateLimited };
}

const metricsOfApp = new WeakMap<AppDependencies, ApiMetrics>();

/** The metrics of the app built from these dependencies: the middleware, the limits and `/metrics` share one registry. */
export function apiMetricsOf(dependencies: AppDependencies): ApiMetrics {
  let metrics = metricsOfApp.get(dependencies);
  if (!metrics) {
    metrics = createApiMetrics(dependencies.db);
    metricsOfApp.set(dependencies, metrics);
  }
  return metrics;
}

/** The route pattern that answered (`/v1/payments/:id`), never the raw path: ids would make a series per resource. */
export function routeOf(ctx: Context): string {
  const matched = (ctx as Context & { _matchedRoute?: string | RegExp })._matchedRoute;
  return typeof matched === 'string' ? matched : '(unmatched)';
}

/** Times every request into `sagapay_http_request_duration_seconds`; mount it outside the error handler to see final statuses. */
export function httpMetrics(metrics: ApiMetrics): Middleware {
  return async (ctx, next) => {
    const stopTimer = metrics.httpRequestDuration.startTimer();
    try {
      await next();
    } finally {
      stopTimer({ method: ctx.method, route: routeOf(ctx), status: String(ctx.status) });
    }
  };
}
