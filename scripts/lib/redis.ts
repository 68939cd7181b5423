import { errorWithLog, isPortOpen, spawnManaged, waitFor, type ManagedProcess } from './processes';
import { ensureComponent, findOnPath, REDIS_SERVER } from './provision';

/** A running private redis-server. */
export interface RedisServer {
  /** `redis://127.0.0.1:<port>`, the value for REDIS_URL. */
  url: string;
  process: ManagedProcess;
}

/**
 * Starts a private redis-server on 127.0.0.1 (installed with apt-get first when missing), holding
 * nothing on disk: it only counts rate-limit windows, which may start afresh after a restart.
 */
export async function startRedis(port: number, logFile: string): Promise<RedisServer> {
  await ensureComponent(REDIS_SERVER, () => findOnPath('redis-server') !== undefined);
  const binary = findOnPath('redis-server') ?? 'redis-server';
  const args = ['--bind', '127.0.0.1', '--port', String(port), '--save', '', '--appendonly', 'no', '--loglevel', 'warning'];
  const managed = spawnManaged('redis', binary, args, { logFile });
  try {
    await waitFor(() => isPortOpen(port), {
      timeoutMs: 15_000,
      intervalMs: 100,
      what: `redis-server to listen on 127.0.0.1:${port}`,
      failIf: () => (managed.hasExited() ? 'redis-server exited' : undefined),
    });
  } catch (error) {
    await managed.stop(5_000);
    throw errorWithLog((error as Error).message, logFile);
  }
  return { url: `redis://127.0.0.1:${port}`, process: managed };
}
