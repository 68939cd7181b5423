import { createServer, type Server } from 'node:http';
import type Koa from 'koa';
import type { Config } from '../config';

/** Largest request head (request line and headers) accepted; past it Node answers 431 and closes. */
export const MAX_HEADER_BYTES = 16 * 1024;

/** How often open connections are checked against the timeouts; a late sender is cut off at most this much after its deadline. */
const TIMEOUT_CHECK_INTERVAL_MS = 1_000;

/**
 * The API's HTTP listener. Node's defaults let a client take a minute to send its headers and
 * five to send its body, checked every 30 s: a few hundred slow connections (slowloris) would hold
 * the process. Here both deadlines come from the configuration and are checked every second.
 */
export function createHttpServer(app: Koa, limits: Pick<Config['http'], 'headersTimeoutMs' | 'requestTimeoutMs'>): Server {
  const handle = app.callback();
  return createServer(
    {
      headersTimeout: limits.headersTimeoutMs,
      requestTimeout: limits.requestTimeoutMs,
      connectionsCheckingInterval: TIMEOUT_CHECK_INTERVAL_MS,
      maxHeaderSize: MAX_HEADER_BYTES,
    },
    (request, response) => void handle(request, response),
  );
}
