import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { createLogger } from '../infra/logger';
import type { ManagedProcess } from '../scripts/lib/processes';
import { actorsOf } from './support/actors';
import { uniqueEmail } from './support/fixtures';
import { startStackWith, waitFor, type TestStack } from './support/stack';
import { jsonLinesOf, spawnWorkerProcess } from './support/worker-process';

/**
 * The logs of a full run, at `debug`: the API's logger writes into a buffer, the payments
 * worker (a real child process) into a file. Every line must be JSON with the fields an
 * operator filters on, and none may hold a secret or a stack trace.
 */
const PASSWORD = 'correct horse battery staple';
const apiLog: string[] = [];
let stack: TestStack | undefined;
let worker: ManagedProcess | undefined;
let logDir: string | undefined;
let workerLogFile: string;

beforeAll(async () => {
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      apiLog.push(chunk.toString('utf8'));
      done();
    },
  });
  stack = await startStackWith({}, { paymentsWorker: false, logger: createLogger('debug', 'api', sink) });
  logDir = mkdtempSync(join(tmpdir(), 'sagapay-logs-'));
  workerLogFile = join(logDir, 'payments-worker.log');
  worker = await spawnWorkerProcess('payments', stack, { logFile: workerLogFile, env: { LOG_LEVEL: 'debug' } });
}, 60_000);

afterAll(async () => {
  try {
    await worker?.stop(15_000);
    await stack?.stop();
  } finally {
    if (logDir) rmSync(logDir, { recursive: true, force: true });
  }
}, 30_000);

describe('logs', () => {
  it('when a full flow runs at debug level, then every line is JSON with request and saga ids, and no secret or stack trace is in any of them', async () => {
    if (!stack) throw new Error('no stack');
    const actors = actorsOf(stack);
    const call = actors.call;
    // Register and log in (customer and merchant), top up, pay, and fail a login.
    const email = uniqueEmail('logs');
    expect((await call('POST', '/v1/auth/register', { body: { email, password: PASSWORD, name: 'Log Reader' } })).status).toBe(201);
    const token = await actors.login(email, PASSWORD);
    const merchant = await actors.signUp({ role: 'merchant', name: 'Log Shop' });
    const wallet = await waitFor(async () => (await call<{ wallets: Array<{ id: string; balance: number }> }>('GET', '/v1/me', { token })).body.wallets.find((one) => one.balance > 0), {
      what: 'the onboarding saga',
    });
    expect((await call('POST', `/v1/wallets/${wallet.id}/topups`, { token, body: { amount: 500, currency: 'USD' } })).status).toBe(201);
    const payment = await call<{ id: string; status: string; workflowId: string }>('POST', '/v1/payments', {
      token,
      body: { merchantId: merchant.user.id, amount: 700, currency: 'USD', description: 'log drill' },
    });
    expect(payment.body.status).toBe('succeeded');
    expect((await call('POST', '/v1/auth/login', { body: { email, password: `${PASSWORD}!` } })).status).toBe(401);
    const me = await call<{ user: { id: string } }>('GET', '/v1/me', { token });

    // The worker writes its log on its own schedule: wait (with a deadline) for the payment's debit line.
    const expectedWorkerLine = {
      msg: 'payer debited',
      paymentId: payment.body.id,
      workflowId: payment.body.workflowId,
      activityType: 'debitPayer',
      service: 'payments-worker',
    };
    await waitFor(() => jsonLinesOf(workerLogFile).some((line) => Object.entries(expectedWorkerLine).every(([key, value]) => line[key] === value)), {
      timeoutMs: 15_000,
      what: 'the payments worker to log the debit',
    });
    const apiText = apiLog.join('');
    const workerText = readFileSync(workerLogFile, 'utf8');
    for (const [where, text] of [
      ['api', apiText],
      ['payments worker', workerText],
    ] as const) {
      for (const secret of [PASSWORD, token, `Bearer ${token}`, merchant.token, '$argon2id$', '    at ']) {
        expect({ where, leaked: text.includes(secret) ? secret.slice(0, 12) : null }).toEqual({ where, leaked: null });
      }
    }

    // The access log: one JSON line per request, with who, what, route pattern, answer and time.
    const apiLines = apiText.trim().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>);
    const requests = apiLines.filter((line) => line.msg === 'request');
    const paid = requests.find((line) => line.method === 'POST' && line.route === '/v1/payments');
    expect(paid).toMatchObject({ level: 30, service: 'api', userId: me.body.user.id, path: '/v1/payments', status: 201 });
    expect(paid?.requestId).toMatch(/^req_/);
    expect(typeof paid?.durationMs).toBe('number');
    expect((paid?.headers as Record<string, string>).authorization).toBe('[redacted]');
    const failedLogin = requests.find((line) => line.route === '/v1/auth/login' && line.status === 401);
    expect(failedLogin).toBeDefined();
    expect(failedLogin?.userId).toBeUndefined();
    expect(requests.find((line) => line.route === '/v1/wallets/:id/topups')).toMatchObject({ path: `/v1/wallets/${wallet.id}/topups`, status: 201 });

    // The worker's activity and workflow lines carry the payment and its workflow.
    const workerLines = jsonLinesOf(workerLogFile);
    expect(workerLines).toContainEqual(expect.objectContaining(expectedWorkerLine));
  });
});
