import Koa from 'koa';
import type { AppDependencies } from './dependencies';
import { errorHandler } from './middleware/errors';
import { jsonBody } from './middleware/json-body';
import { requestId } from './middleware/request-id';
import { adminRoutes } from './routes/admin';
import { authRoutes } from './routes/auth';
import { healthRoutes } from './routes/health';
import { paymentRoutes } from './routes/payments';
import { walletRoutes } from './routes/wallets';

/** Builds the Koa app; it binds no port, so tests can drive `app.callback()` directly. */
export function createApp(dependencies: AppDependencies): Koa {
  const app = new Koa({ proxy: dependencies.config.http.trustProxy });
  app.silent = true;
  app.use(requestId());
  app.use(errorHandler(dependencies.report));
  app.use(jsonBody());
  for (const router of [healthRoutes(dependencies), authRoutes(dependencies), walletRoutes(dependencies), paymentRoutes(dependencies), adminRoutes(dependencies)]) {
    app.use(router.routes());
    app.use(router.allowedMethods({ throw: true }));
  }
  return app;
}
