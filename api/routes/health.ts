import Router from '@koa/router';
import { z } from 'zod';
import type { AppDependencies } from '../dependencies';
import type { ApiDocs } from '../openapi/registry';

const READINESS_TIMEOUT_MS = 2_000;

function withTimeout<T>(work: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not answer within ${READINESS_TIMEOUT_MS} ms`)), READINESS_TIMEOUT_MS);
  });
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}

/** `/healthz` (the process is up) and `/readyz` (its database and Temporal answer). */
export function healthRoutes(dependencies: AppDependencies, docs: ApiDocs): Router {
  const router = new Router({ sensitive: true });
  const readiness = z.object({
    status: z.enum(['ok', 'unavailable']),
    checks: z.object({ database: z.enum(['ok', 'down']), temporal: z.enum(['ok', 'down']) }),
  });
  docs.add({
    method: 'get',
    path: '/healthz',
    summary: 'Liveness: the process answers',
    tag: 'Operations',
    auth: false,
    responses: { 200: { description: 'alive', schema: z.object({ status: z.literal('ok') }) } },
    errors: [],
    dependsOnServices: false,
  });
  docs.add({
    method: 'get',
    path: '/readyz',
    summary: 'Readiness: the database and Temporal answer',
    tag: 'Operations',
    auth: false,
    responses: { 200: { description: 'ready', schema: readiness }, 503: { description: 'a dependency is down', schema: readiness } },
    errors: [],
    dependsOnServices: false,
  });

  router.get('/healthz', (ctx) => {
    ctx.body = { status: 'ok' };
  });

  router.get('/readyz', async (ctx) => {
    const [database, temporal] = await Promise.allSettled([
      withTimeout(dependencies.db.raw('SELECT 1'), 'database'),
      withTimeout(
        dependencies.temporal.workflowService.describeNamespace({ namespace: dependencies.config.temporal.namespace }),
        'temporal',
      ),
    ]);
    const checks = { database: database.status === 'fulfilled' ? 'ok' : 'down', temporal: temporal.status === 'fulfilled' ? 'ok' : 'down' };
    const ready = checks.database === 'ok' && checks.temporal === 'ok';
    ctx.status = ready ? 200 : 503;
    ctx.body = { status: ready ? 'ok' : 'unavailable', checks };
  });

  return router;
}
