import Router from '@koa/router';
import type { AppDependencies } from '../dependencies';

const READINESS_TIMEOUT_MS = 2_000;

function withTimeout<T>(work: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not answer within ${READINESS_TIMEOUT_MS} ms`)), READINESS_TIMEOUT_MS);
  });
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}

/** `/healthz` (the process is up) and `/readyz` (its database and Temporal answer). */
export function healthRoutes(dependencies: AppDependencies): Router {
  const router = new Router();

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
