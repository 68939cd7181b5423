import type { Knex } from 'knex';
import type { Context, Middleware } from 'koa';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
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
const SAGA_STATUSES = ['pending', 'processing', 'succeeded', 'failed'] as const;
const SAGA_TABLES = [
  ['payment', 'payments'],
  ['transfer', 'transfers'],
] as const;

/** Rows per status of one saga table; null when the table does not exist (yet). */
async function countByStatus(db: Knex, table: 'payments' | 'transfers'): Promise<Map<string, number> | null> {
  try {
    const rows: Array<{ status: string; count: number | string }> = await db(table).select('status').count({ count: '*' }).groupBy('status');
    return new Map(rows.map((row) => [row.status, Number(row.count)]));
  } catch (error) {
    if ((error as { code?: unknown }).code === 'ER_NO_SUCH_TABLE') return null;
    throw error;
  }
}

/**
 * Builds the registry. Payments and transfers by status are counted in the database
 * at scrape time (a grouped scan of the `(status, created_at)` index): the database,
 * not a process, is where the final status is written, so the numbers are exact,
 * survive restarts and never count a retried activity twice. Every API replica
 * reports the same totals: aggregate them with `max`, not `sum`.
 */
export function createApiMetrics(db: Knex): ApiMetrics {
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
    help: 'Payments and transfers in the database by status (succeeded and failed are final), counted at scrape time',
    labelNames: ['saga', 'status'] as const,
    registers: [registry],
    async collect() {
      const counts = await Promise.all(SAGA_TABLES.map(async ([saga, table]) => [saga, await countByStatus(db, table)] as const));
      this.reset();
      for (const [saga, byStatus] of counts) {
        if (!byStatus) continue;
        for (const status of SAGA_STATUSES) this.set({ saga, status }, byStatus.get(status) ?? 0);
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
