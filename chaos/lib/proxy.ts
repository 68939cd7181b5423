import { createServer, Socket, type AddressInfo, type Server } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

/** A TCP proxy on 127.0.0.1 in front of a server, adding latency on demand: a slow database without touching it. */
export interface LatencyProxy {
  port: number;
  /** The delay added to every chunk the server sends back, in ms (0: none). */
  latencyMs: number;
  /** `databaseUrl` with its host and port replaced by the proxy's. */
  rewrite(databaseUrl: string): string;
  close(): Promise<void>;
}

/**
 * Forwards every connection to `target`; chunks from the server wait `latencyMs` (in order) before
 * they reach the client. A side that closes or fails closes the other.
 */
export async function openLatencyProxy(target: { host: string; port: number }): Promise<LatencyProxy> {
  const sockets = new Set<Socket>();
  const state = { latencyMs: 0 };
  const server: Server = createServer((client) => {
    const upstream = new Socket();
    sockets.add(client);
    sockets.add(upstream);
    const closeBoth = () => {
      client.destroy();
      upstream.destroy();
      sockets.delete(client);
      sockets.delete(upstream);
    };
    client.on('error', closeBoth).on('close', closeBoth);
    upstream.on('error', closeBoth).on('close', closeBoth);
    client.on('data', (chunk) => upstream.write(chunk));
    let delivered: Promise<void> = Promise.resolve();
    upstream.on('data', (chunk) => {
      const latencyMs = state.latencyMs;
      if (latencyMs === 0) {
        delivered = delivered.then(() => void client.write(chunk));
        return;
      }
      const dueAt = Date.now() + latencyMs;
      delivered = delivered.then(async () => {
        await sleep(Math.max(0, dueAt - Date.now()));
        if (!client.destroyed) client.write(chunk);
      });
    });
    upstream.connect(target.port, target.host);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  return {
    port,
    get latencyMs() {
      return state.latencyMs;
    },
    set latencyMs(value: number) {
      if (!Number.isSafeInteger(value) || value < 0 || value > 60_000) throw new RangeError('latencyMs must be a whole number from 0 to 60000');
      state.latencyMs = value;
    },
    rewrite: (databaseUrl) => {
      const url = new URL(databaseUrl);
      url.hostname = '127.0.0.1';
      url.port = String(port);
      return url.toString();
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
