import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ManagedProcess } from '../scripts/lib/processes';
import { actorsOf, type Actor } from './support/actors';
import { startStackWith, waitFor, type TestStack } from './support/stack';
import { jsonLinesOf, METRICS_PORT_TAKEN, spawnWorkerProcess, spawnWorkerWithMetrics } from './support/worker-process';

/**
 * Prometheus metrics, scraped as Prometheus would: the API's `/metrics`, and the
 * metrics endpoint of a real payments worker process (the Temporal SDK's metrics
 * plus the saga duration its activities record). The payments worker here is that
 * child process, so every saga of this file runs in it.
 */
let stack: TestStack | undefined;
let worker: ManagedProcess | undefined;
let workerMetricsUrl: string;
let logDir: string | undefined;
let logFile: string;
let actors: ReturnType<typeof actorsOf>;
let merchant: Actor;
let payer: Actor;

beforeAll(async () => {
  stack = await startStackWith({}, { paymentsWorker: false });
  actors = actorsOf(stack);
  logDir = mkdtempSync(join(tmpdir(), 'sagapay-metrics-'));
  logFile = join(logDir, 'payments-worker.log');
  ({ worker, metricsUrl: workerMetricsUrl } = await spawnWorkerWithMetrics('payments', stack, { logFile }));
  [merchant, payer] = await Promise.all([actors.signUp({ role: 'merchant', name: 'Metrics Mart' }), actors.signUp()]);
}, 60_000);

afterAll(async () => {
  try {
    await worker?.stop(15_000);
    await stack?.stop();
  } finally {
    if (logDir) rmSync(logDir, { recursive: true, force: true });
  }
}, 30_000);

/** The value of one sample line (`name{labels} value`), or undefined. */
function sample(text: string, name: string, labels: Record<string, string>): number | undefined {
  const line = text.split('\n').find((candidate) => {
    if (!candidate.startsWith(`${name}{`) && !candidate.startsWith(`${name} `)) return false;
    return Object.entries(labels).every(([key, value]) => candidate.includes(`${key}="${value}"`));
  });
  return line === undefined ? undefined : Number(line.slice(line.lastIndexOf(' ') + 1));
}

async function scrape(url: string): Promise<{ contentType: string | null; text: string }> {
  const response = await fetch(url);
  expect(response.status).toBe(200);
  return { contentType: response.headers.get('content-type'), text: await response.text() };
}

describe('metrics', () => {
  it('when the API has served requests, then /metrics has durations by route pattern and status, and sagas by status from the database', async () => {
    if (!stack) throw new Error('no stack');
    const payment = await actors.call<{ status: string }>('POST', '/v1/payments', {
      token: payer.token,
      body: { merchantId: merchant.user.id, amount: 250, currency: 'USD' },
    });
    expect(payment.body.status).toBe('succeeded');
    await actors.call('GET', `/v1/wallets/${payer.wallet.id}`, { token: payer.token });
    expect((await fetch(`${stack.baseUrl}/v1/no/such/route`)).status).toBe(404);

    // Other test files pay at the same time: the scraped count lies between the counts before and after.
    const countOf = async (status: 'succeeded' | 'failed') => Number((await stack?.db('payments').where({ status }).count({ count: '*' }).first())?.count);
    const succeededBefore = await countOf('succeeded');
    const failedBefore = await countOf('failed');
    const { contentType, text } = await scrape(`${stack.baseUrl}/metrics`);
    const succeededAfter = await countOf('succeeded');
    const failedAfter = await countOf('failed');

    expect(contentType).toMatch(/^text\/plain; version=0\.0\.4/);
    const byRoute = (method: string, route: string, status: string) =>
      sample(text, 'sagapay_http_request_duration_seconds_count', { method, route, status });
    expect(byRoute('GET', '/v1/wallets/:id', '200')).toBeGreaterThanOrEqual(1);
    expect(byRoute('POST', '/v1/payments', '201')).toBeGreaterThanOrEqual(1);
    expect(byRoute('POST', '/v1/auth/login', '200')).toBeGreaterThanOrEqual(2);
    expect(byRoute('GET', '(unmatched)', '404')).toBeGreaterThanOrEqual(1);
    expect(text).toMatch(/^sagapay_http_request_duration_seconds_bucket\{le="0\.005",method="GET",route="\/v1\/wallets\/:id",status="200"\} \d+$/m);
    // Labels carry route patterns only: no user, wallet or payment id makes a series of its own.
    expect(text).not.toMatch(/(usr|wal|pay)_[0-9A-Z]{10}/);

    const scraped = sample(text, 'sagapay_sagas', { saga: 'payment', status: 'succeeded' });
    expect(scraped).toBeGreaterThanOrEqual(succeededBefore);
    expect(scraped).toBeLessThanOrEqual(succeededAfter);
    expect(scraped).toBeGreaterThanOrEqual(1);
    const scrapedFailed = sample(text, 'sagapay_sagas', { saga: 'payment', status: 'failed' });
    expect(scrapedFailed).toBeGreaterThanOrEqual(failedBefore);
    expect(scrapedFailed).toBeLessThanOrEqual(failedAfter);
    expect(sample(text, 'process_cpu_user_seconds_total', {})).toBeGreaterThan(0);
  });

  it("when a payments worker process has run sagas, then its metrics port serves the Temporal SDK's metrics and the saga duration histogram", async () => {
    if (!stack) throw new Error('no stack');
    const refused = await actors.call<{ status: string }>('POST', '/v1/payments', {
      token: payer.token,
      body: { merchantId: merchant.user.id, amount: 1_000_000, currency: 'USD' },
    });
    expect(refused.body.status).toBe('failed');

    // The SDK exports on an interval: poll until the failed payment shows.
    const text = await waitFor(
      async () => {
        const scraped = await scrape(workerMetricsUrl);
        return (sample(scraped.text, 'sagapay_saga_duration_count', { saga: 'payment', status: 'failed' }) ?? 0) >= 1 ? scraped.text : undefined;
      },
      { timeoutMs: 10_000, intervalMs: 250, what: 'the failed payment in the worker metrics' },
    );

    expect(sample(text, 'sagapay_saga_duration_count', { saga: 'payment', status: 'succeeded' })).toBeGreaterThanOrEqual(1);
    expect(text).toMatch(/^sagapay_saga_duration_bucket\{.*le="0\.5".*\} \d+$/m);
    // debitPayer is a local activity: the SDK counts it in its local_activity metrics.
    expect(text).toMatch(/^temporal_local_activity_\w+\{[^}]*activity_type="debitPayer"[^}]*\} [1-9]/m);
    expect(sample(text, 'temporal_workflow_completed', { workflow_type: 'paymentWorkflow' })).toBeGreaterThanOrEqual(1);
    expect(text).toMatch(/^temporal_worker_task_slots_available\{/m);

    const lines = jsonLinesOf(logFile);
    expect(lines).toContainEqual(expect.objectContaining({ msg: 'worker polling', metrics: workerMetricsUrl }));
  });

  it('when a worker\'s metrics port is taken, then the worker exits saying so, which is what the test support retries on', async () => {
    if (!stack) throw new Error('no stack');
    const holder = createServer();
    await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', resolve));
    try {
      const port = (holder.address() as AddressInfo).port;
      const taken = spawnWorkerProcess('payments', stack, { logFile: join(logDir ?? tmpdir(), 'taken-port-worker.log'), env: { WORKER_METRICS_PORT: String(port) } });
      await expect(taken).rejects.toThrow(METRICS_PORT_TAKEN);
    } finally {
      await new Promise((resolve) => holder.close(resolve));
    }
  });
});
