import { parseArgs } from 'node:util';

/**
 * End-to-end latency of POST /v1/payments (API → Temporal → workers → database
 * → 201 with the final status) against a running stack (`npm run dev`).
 * Sequential on purpose: it measures one payment's latency, not throughput.
 *
 *   npm run bench:payments -- --count 20 [--api http://127.0.0.1:3000]
 */
const { values } = parseArgs({ options: { count: { type: 'string', default: '20' }, api: { type: 'string', default: 'http://127.0.0.1:3000' } } });
const count = Math.min(Math.max(Number(values.count), 1), 1_000);
const api = values.api ?? 'http://127.0.0.1:3000';

async function post(path: string, body: unknown, token?: string): Promise<Record<string, unknown>> {
  const response = await fetch(`${api}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify(body),
  });
  const parsed = (await response.json()) as Record<string, unknown>;
  if (response.status >= 300) throw new Error(`${path} answered ${response.status}: ${JSON.stringify(parsed)}`);
  return parsed;
}

async function signUp(role: 'customer' | 'merchant'): Promise<{ id: string; token: string }> {
  const email = `bench.${role}.${Date.now()}.${Math.random().toString(36).slice(2)}@example.test`;
  const password = 'benchmark password';
  const { user } = (await post('/v1/auth/register', { email, password, role, name: role === 'merchant' ? 'Bench Shop' : 'Bench' })) as { user: { id: string } };
  const { accessToken } = (await post('/v1/auth/login', { email, password })) as { accessToken: string };
  return { id: user.id, token: accessToken };
}

async function waitForWallet(token: string, minimumBalance: number): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    const me = (await (await fetch(`${api}/v1/me`, { headers: { authorization: `Bearer ${token}` } })).json()) as { wallets: Array<{ balance: number }> };
    if ((me.wallets[0]?.balance ?? -1) >= minimumBalance) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error('onboarding did not create the wallet within 30 s');
}

async function main(): Promise<void> {
  const merchant = await signUp('merchant');
  const payer = await signUp('customer');
  await waitForWallet(merchant.token, 0);
  await waitForWallet(payer.token, count);
  const latenciesMs: number[] = [];
  for (let index = 0; index < count; index += 1) {
    const started = performance.now();
    const payment = await post('/v1/payments', { merchantId: merchant.id, amount: 1, currency: 'USD' }, payer.token);
    latenciesMs.push(performance.now() - started);
    if (payment.status !== 'succeeded') throw new Error(`payment ${String(payment.id)} ended ${String(payment.status)}`);
  }
  latenciesMs.sort((a, b) => a - b);
  const at = (fraction: number) => latenciesMs[Math.min(latenciesMs.length - 1, Math.floor(fraction * latenciesMs.length))] ?? Number.NaN;
  console.log(
    `payments: ${count}  median ${at(0.5).toFixed(0)} ms  p90 ${at(0.9).toFixed(0)} ms  min ${at(0).toFixed(0)} ms  max ${at(1).toFixed(0)} ms`,
  );
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : String(error));
  process.exit(1);
});
