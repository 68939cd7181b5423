import { Client, Connection } from '@temporalio/client';
import type { Server } from 'node:http';
import { ConfigError, loadConfig } from '../config';
import { createDatabase } from '../infra/database';
import { createLogger, describeError } from '../infra/logger';
import { createApp } from './app';

/** How long in-flight requests get to finish after SIGTERM before the process exits anyway. */
const SHUTDOWN_GRACE_MS = 10_000;

/** Composition root of the API process: reads the configuration, builds the pools, serves until SIGTERM. */
function main(): void {
  const config = loadConfig();
  const logger = createLogger(config.logLevel, 'api');
  const db = createDatabase(config.databaseUrl, config.databasePoolMax);
  const connection = Connection.lazy({ address: config.temporal.address });
  const temporal = new Client({ connection, namespace: config.temporal.namespace });
  const app = createApp({
    db,
    temporal,
    config,
    report: (error, requestId) => logger.error({ requestId, error: describeError(error) }, 'request failed'),
  });
  const server: Server = app.listen(config.http.port, config.http.host, () => {
    logger.info({ url: `http://${config.http.host}:${config.http.port}` }, 'api listening');
  });

  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'api stopping: finishing in-flight requests');
    const forced = setTimeout(() => {
      logger.warn('api grace period over: closing remaining connections');
      server.closeAllConnections();
    }, SHUTDOWN_GRACE_MS);
    forced.unref();
    server.close(() => {
      void Promise.allSettled([db.destroy(), connection.close()]).then(() => {
        logger.info('api stopped');
        process.exit(0);
      });
    });
    server.closeIdleConnections();
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

try {
  main();
} catch (error) {
  if (error instanceof ConfigError) console.error(error.message);
  else console.error('api failed to start:', describeError(error));
  process.exit(1);
}
