import { Client, Connection } from '@temporalio/client';
import { Redis } from 'ioredis';
import type { Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ConfigError, loadConfig } from '../config';
import { createDatabase } from '../infra/database';
import { untilTemporalCallsEnd } from '../infra/sagas';
import { createLogger, describeError } from '../infra/logger';
import { createRedisRateLimitStore } from '../infra/rate-limit-stores';
import { createApp } from './app';
import { createHttpServer } from './http-server';

/** Composition root of the API process: reads the configuration, builds the pools, serves until SIGTERM. */
function main(): void {
  const config = loadConfig(process.env, { signsTokens: true });
  const logger = createLogger(config.logLevel, 'api', config.logFormat === 'pretty' ? 'pretty' : undefined);
  const db = createDatabase(config.databaseUrl, config.databasePoolMax, config.databaseWaitLimits);
  const connection = Connection.lazy({ address: config.temporal.address });
  const temporal = new Client({ connection, namespace: config.temporal.namespace });
  // Rate limits count in Redis when it is configured. No offline queue and short timeouts:
  // while Redis is away a limit fails open at once instead of holding requests.
  const redis = config.redisUrl
    ? new Redis(config.redisUrl, { enableOfflineQueue: false, maxRetriesPerRequest: 1, commandTimeout: 500, connectTimeout: 2_000 })
    : undefined;
  redis?.on('error', (error: unknown) => logger.warn({ error: describeError(error) }, 'redis unavailable: rate limits fail open'));
  const app = createApp({
    db,
    temporal,
    config,
    logger,
    rateLimitStore: redis ? createRedisRateLimitStore(redis) : undefined,
    report: (error, requestId) => logger.error({ requestId, error: describeError(error) }, 'request failed'),
  });
  const server: Server = createHttpServer(app, config.http).listen(config.http.port, config.http.host, () => {
    // The bound port, not the configured one: with PORT=0 the system picks it, and this line reports it.
    const { port } = server.address() as AddressInfo;
    logger.info({ url: `http://${config.http.host}:${port}`, rateLimitStore: redis ? 'redis' : 'database' }, 'api listening');
  });

  // Answers being written: once stopping, each closes its connection when done (no keep-alive),
  // so the server closes as soon as the last one is answered instead of when clients let go.
  const answering = new Set<ServerResponse>();
  let stopping = false;
  server.on('request', (_request, response: ServerResponse) => {
    answering.add(response);
    response.once('close', () => answering.delete(response));
    if (stopping) response.setHeader('Connection', 'close');
  });
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal, inFlight: answering.size }, 'api stopping: finishing in-flight requests');
    for (const response of answering) if (!response.headersSent) response.setHeader('Connection', 'close');
    const forced = setTimeout(() => {
      logger.warn({ graceMs: config.apiShutdownGraceMs }, 'api grace period over: closing remaining connections');
      server.closeAllConnections();
    }, config.apiShutdownGraceMs);
    forced.unref();
    server.close(() => {
      // Temporal calls abandoned at their bound end first: a retry of one after the close would throw.
      void Promise.allSettled([db.destroy(), untilTemporalCallsEnd().then(() => connection.close()), redis?.quit()]).then(() => {
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
