import type Router from '@koa/router';
import Koa from 'koa';
import { join } from 'node:path';
import { version as API_VERSION } from '../package.json';
import type { AppDependencies } from './dependencies';
import { apiMetricsOf, httpMetrics } from './metrics';
import { accessLog } from './middleware/access-log';
import { allowedMethods } from './middleware/allowed-methods';
import { errorHandler } from './middleware/errors';
import { jsonBody } from './middleware/json-body';
import { ApiDocs } from './openapi/registry';
import { requestId } from './middleware/request-id';
import { securityHeaders } from './middleware/security-headers';
import { webApp } from './middleware/web-app';
import { adminRoutes } from './routes/admin';
import { auditRoutes } from './routes/audit';
import { aliasRoutes } from './routes/aliases';
import { authRoutes } from './routes/auth';
import { directoryRoutes } from './routes/directory';
import { docsRoutes } from './routes/docs';
import { healthRoutes } from './routes/health';
import { merchantWebhookRoutes } from './routes/merchant-webhook';
import { metricsRoutes } from './routes/metrics';
import { notificationRoutes } from './routes/notifications';
import { paymentRoutes } from './routes/payments';
import { profileRoutes } from './routes/profile';
import { refundRoutes } from './routes/refunds';
import { transferRoutes } from './routes/transfers';
import { walletRoutes } from './routes/wallets';

/** Every router of the API, and the documentation their routes registered on the way. */
export function buildRouters(dependencies: AppDependencies): { routers: Router[]; docs: ApiDocs } {
  const docs = new ApiDocs();
  const routers = [
    healthRoutes(dependencies, docs),
    metricsRoutes(dependencies, docs),
    authRoutes(dependencies, docs),
    profileRoutes(dependencies, docs),
    walletRoutes(dependencies, docs),
    paymentRoutes(dependencies, docs),
    refundRoutes(dependencies, docs),
    transferRoutes(dependencies, docs),
    notificationRoutes(dependencies, docs),
    merchantWebhookRoutes(dependencies, docs),
    adminRoutes(dependencies, docs),
    auditRoutes(dependencies, docs),
    aliasRoutes(dependencies, docs),
    directoryRoutes(dependencies, docs),
  ];
  routers.push(docsRoutes(docs, API_VERSION));
  // A router that matched paths in any case would answer /V1/me like /v1/me, but past the
  // middleware that keys on the exact prefix (no-store caching, the web app's fallback).
  for (const router of routers) if (router.opts.sensitive !== true) throw new Error('every router must match paths case-sensitively: new Router({ sensitive: true })');
  return { routers, docs };
}

/** Where `npm run web:build` writes the web wallet, served at `/` unless WEB_APP_DIR says otherwise. */
export const WEB_APP_BUILD_DIRECTORY = join(__dirname, '..', 'dist', 'web');

/** Builds the Koa app; it binds no port, so tests can drive `app.callback()` directly. */
export function createApp(dependencies: AppDependencies): Koa {
  // Behind a proxy, the client address is the last X-Forwarded-For entry (the one our proxy
  // appended): a client can put anything in front of it, which would let it dodge per-IP limits.
  const app = new Koa({ proxy: dependencies.config.http.trustProxy, maxIpsCount: 1 });
  app.silent = true;
  app.use(requestId());
  if (dependencies.logger) app.use(accessLog(dependencies.logger));
  app.use(httpMetrics(apiMetricsOf(dependencies)));
  app.use(securityHeaders());
  app.use(errorHandler(dependencies.report));
  app.use(allowedMethods());
  app.use(jsonBody());
  const { web, temporal, sagaFaultsEnabled, money } = dependencies.config;
  app.use(
    webApp({
      directory: web.directory ?? WEB_APP_BUILD_DIRECTORY,
      temporalUiUrl: web.temporalUiUrl,
      temporalNamespace: temporal.namespace,
      sagaFaults: sagaFaultsEnabled,
      currencies: money.currencies,
    }),
  );
  for (const router of buildRouters(dependencies).routers) app.use(router.routes());
  return app;
}
