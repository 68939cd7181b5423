import { createServer, Socket, type AddressInfo, type Server } from 'node:net';
import { openLatencyProxy, type LatencyProxy } from './proxy';

/** The latency proxy against a real TCP echo server on 127.0.0.1. */
let echo: Server;
let proxy: LatencyProxy;

beforeAll(async () => {
  echo = createServer((socket) => socket.pipe(socket));
  await new Promise<void>((resolve) => echo.listen(0, '127.0.0.1', resolve));
  proxy = await openLatencyProxy({ host: '127.0.0.1', port: (echo.address() as AddressInfo).port });
});

afterAll(async () => {
  await proxy.close();
  await new Promise<void>((resolve) => echo.close(() => resolve()));
});

/** Sends `text` through the proxy and answers the echo and how long it took. */
async function roundTrip(text: string): Promise<{ echoed: string; elapsedMs: number }> {
  const socket = new Socket();
  await new Promise<void>((resolve, reject) => socket.once('error', reject).connect(proxy.port, '127.0.0.1', resolve));
  const startedAt = performance.now();
  const echoed = await new Promise<string>((resolve) => {
    let received = '';
    socket.on('data', (chunk: Buffer) => {
      received += chunk.toString('utf8');
      if (received.length >= text.length) resolve(received);
    });
    socket.write(text);
  });
  socket.destroy();
  return { echoed, elapsedMs: performance.now() - startedAt };
}

it('when no latency is set, then bytes pass through unchanged', async () => {
  proxy.latencyMs = 0;
  expect((await roundTrip('SELECT 1')).echoed).toBe('SELECT 1');
});

it('when latency is set, then every answer waits at least that long, in order', async () => {
  proxy.latencyMs = 150;
  const { echoed, elapsedMs } = await roundTrip('x'.repeat(200_000));
  proxy.latencyMs = 0;

  expect(echoed).toBe('x'.repeat(200_000));
  expect(elapsedMs).toBeGreaterThanOrEqual(145);
});

it('when the latency is out of range, then it is refused; the URL is rewritten to the proxy', () => {
  expect(() => (proxy.latencyMs = -1)).toThrow(RangeError);
  expect(proxy.rewrite('mysql://app:secret@127.0.0.1:3306/sagapay')).toBe(`mysql://app:secret@127.0.0.1:${proxy.port}/sagapay`);
});
