import Router from '@koa/router';
import type { AppDependencies } from '../dependencies';
import { apiMetricsOf } from '../metrics';
import type { ApiDocs } from '../openapi/registry';

/** `GET /metrics`: Prometheus text format, no auth (bind the API where only your scraper and load balancer reach it, or filter the path there). */
export function metricsRoutes(dependencies: AppDependencies, docs: ApiDocs): Router {
  const router = new Router({ sensitive: true });
  const { registry } = apiMetricsOf(dependencies);
  docs.add({
    method: 'get',
    path: '/metrics',
    summary: 'Prometheus metrics (text exposition format): HTTP durations by route and status, sagas by status, rate-limit refusals, process',
    tag: 'Operations',
    auth: false,
    responses: { 200: { description: 'Prometheus text format 0.0.4' } },
    errors: [],
  });
  router.get('/metrics', async (ctx) => {
    ctx.body = await registry.metrics();
    ctx.set('Content-Type', registry.contentType);
  });
  return router;
}
