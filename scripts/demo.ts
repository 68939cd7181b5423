/**
 * `npm run demo`: a tour of the running stack (`npm run dev` in another terminal) through its public
 * API. It registers a customer, a friend and a merchant, tops up, pays the merchant, sends the friend
 * money and, when the stack runs with SAGA_FAULTS=enabled, makes a payment fail at `write_ledger` so
 * the compensations run. Each step prints its result and the saga's page in the Temporal Web UI;
 * the end prints the mail inbox, where every e-mail those sagas sent is waiting.
 */
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { loadLocalEnv } from './lib/local-env';

interface Wallet {
  id: string;
  currency: string;
  balance: number;
}

interface Saga {
  id: string;
  status: string;
  amount: number;
  fee?: number;
  netAmount?: number;
  currency: string;
  failure: { code: string; message: string } | null;
  steps: Array<{ name: string; status: string }>;
  workflowId: string;
}

interface Person {
  id: string;
  name: string;
  email: string;
  token: string;
}

const DEFAULT_API_URL = 'http://127.0.0.1:3000';
const PASSWORD = 'demo passphrase 0123';
const WALLET_WAIT_MS = 30_000;
const SAGA_WAIT_MS = 60_000;
const FINAL_STATUSES = ['succeeded', 'failed'];
const REQUEST_TIMEOUT_MS = 30_000;

/** Where the running stack is: the settings `npm run dev` wrote, then the environment, then defaults. */
function stackUrls() {
  loadLocalEnv();
  return {
    api: (process.env.SAGAPAY_API_URL || DEFAULT_API_URL).replace(/\/$/, ''),
    temporalUi: process.env.SAGAPAY_TEMPORAL_UI_URL,
    namespace: process.env.TEMPORAL_NAMESPACE || 'default',
    inbox: process.env.SAGAPAY_MAIL_INBOX_URL,
    faultsEnabled: process.env.SAGA_FAULTS === 'enabled',
  };
}

const urls = stackUrls();

/** One API call; a non-2xx answer throws with the contract's error code and message. */
async function call<T>(method: string, path: string, options: { token?: string; body?: unknown; headers?: Record<string, string> } = {}): Promise<T> {
  const headers: Record<string, string> = { ...options.headers };
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  if (options.body !== undefined) headers['content-type'] = 'application/json';
  const response = await fetch(`${urls.api}${path}`, {
    method,
    headers,
    body: options.body === undefined ? undefined : JSON.stringify(options.body),
    signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
  });
  const text = await response.text();
  const parsed: unknown = text ? JSON.parse(text) : undefined;
  if (!response.ok) {
    const error = (parsed as { error?: { code?: string; message?: string } } | undefined)?.error;
    throw new Error(`${method} ${path} answered ${response.status} ${error?.code ?? ''}: ${error?.message ?? text}`);
  }
  return parsed as T;
}

/** The Web UI page of a workflow, when the stack runs a Web UI. */
function workflowLink(workflowId: string): string {
  if (!urls.temporalUi) return `workflow ${workflowId}`;
  return `${urls.temporalUi}/namespaces/${encodeURIComponent(urls.namespace)}/workflows/${encodeURIComponent(workflowId)}`;
}

function money(amount: number, currency: string): string {
  return `${(amount / 100).toFixed(2)} ${currency}`;
}

async function register(name: string, role: 'customer' | 'merchant', run: string): Promise<Person> {
  const email = `${name.toLowerCase()}-${run}@example.com`;
  const { user } = await call<{ user: { id: string } }>('POST', '/v1/auth/register', { body: { email, password: PASSWORD, name, role } });
  const { accessToken } = await call<{ accessToken: string }>('POST', '/v1/auth/login', { body: { email, password: PASSWORD } });
  say(`  ${role} ${name} <${email}>: ${user.id}; onboarding ${workflowLink(`onboarding-${user.id}`)}`);
  return { id: user.id, name, email, token: accessToken };
}

/** Onboarding creates the wallet within seconds of registering; wait for it with a deadline. */
async function walletOf(person: Person): Promise<Wallet> {
  const deadline = Date.now() + WALLET_WAIT_MS;
  for (;;) {
    const { wallets } = await call<{ wallets: Wallet[] }>('GET', '/v1/me', { token: person.token });
    const wallet = wallets[0];
    if (wallet) return wallet;
    if (Date.now() >= deadline) throw new Error(`${person.name} has no wallet ${WALLET_WAIT_MS / 1000} s after registering: is the payments worker running?`);
    await sleep(250);
  }
}

/** A saga answered 202 (still running) is read again until it is final, with a deadline. */
async function finalState(path: string, saga: Saga, token: string): Promise<Saga> {
  const deadline = Date.now() + SAGA_WAIT_MS;
  let current = saga;
  while (!FINAL_STATUSES.includes(current.status)) {
    if (Date.now() >= deadline) throw new Error(`${current.id} is still ${current.status} after ${SAGA_WAIT_MS / 1000} s`);
    await sleep(250);
    current = await call<Saga>('GET', `${path}/${current.id}`, { token });
  }
  return current;
}

function describeSaga(kind: string, saga: Saga): void {
  const fee = saga.fee === undefined ? '' : `, fee ${money(saga.fee, saga.currency)}, merchant gets ${money(saga.netAmount ?? 0, saga.currency)}`;
  const failure = saga.failure ? ` (${saga.failure.code}: ${saga.failure.message})` : '';
  say(`  ${kind} ${saga.id}: ${saga.status}${failure}, ${money(saga.amount, saga.currency)}${fee}`);
  say(`    steps: ${saga.steps.map((step) => `${step.name} ${step.status}`).join(' → ')}`);
  say(`    saga:  ${workflowLink(saga.workflowId)}`);
}

async function main(): Promise<void> {
  await call('GET', '/readyz').catch((error: unknown) => {
    throw new Error(`the stack at ${urls.api} is not ready (${(error as Error).message}); start it with \`npm run dev\` in another terminal`);
  });
  const run = randomBytes(3).toString('hex');
  say(`SagaPay demo against ${urls.api}\n\n1. Sign-ups (each starts an onboarding saga: a USD wallet, promotional credit for customers, a welcome e-mail)`);
  const ada = await register('Ada', 'customer', run);
  const bea = await register('Bea', 'customer', run);
  const shop = await register('Acme', 'merchant', run);
  const [adaWallet, beaWallet] = [await walletOf(ada), await walletOf(bea)];
  await walletOf(shop);
  say(`  Ada's wallet ${adaWallet.id}: ${money(adaWallet.balance, adaWallet.currency)}`);

  say('\n2. Top-up of 25.00 USD from the simulated funding source');
  const topup = await call<{ id: string; status: string; amount: number; currency: string }>('POST', `/v1/wallets/${adaWallet.id}/topups`, {
    token: ada.token,
    headers: { 'Idempotency-Key': `demo-topup-${run}` },
    body: { amount: 2500, currency: 'USD' },
  });
  say(`  top-up ${topup.id}: ${topup.status}, ${money(topup.amount, topup.currency)}`);

  say('\n3. Payment of 12.34 USD to Acme (the payment saga: validate → debit payer → credit merchant → ledger → notify)');
  const payment = await call<Saga>('POST', '/v1/payments', {
    token: ada.token,
    headers: { 'Idempotency-Key': `demo-order-${run}` },
    body: { merchantId: shop.id, amount: 1234, currency: 'USD', description: 'Demo order' },
  });
  describeSaga('payment', await finalState('/v1/payments', payment, ada.token));

  say('\n4. Transfer of 5.00 USD to Bea (the transfer saga, no fee)');
  const transfer = await call<Saga>('POST', '/v1/transfers', {
    token: ada.token,
    headers: { 'Idempotency-Key': `demo-transfer-${run}` },
    body: { toUserId: bea.id, amount: 500, currency: 'USD', note: 'Lunch' },
  });
  describeSaga('transfer', await finalState('/v1/transfers', transfer, ada.token));

  await faultDrill(ada, shop, run);

  const after = await call<Wallet>('GET', `/v1/wallets/${adaWallet.id}`, { token: ada.token });
  const beaAfter = await call<Wallet>('GET', `/v1/wallets/${beaWallet.id}`, { token: bea.token });
  say(`\nBalances now: Ada ${money(after.balance, after.currency)}, Bea ${money(beaAfter.balance, beaAfter.currency)}`);
  say(urls.inbox ? `Mail inbox (welcome, payment and transfer e-mails): ${urls.inbox}` : 'No local mail catcher: e-mails went to SMTP_URL.');
  if (urls.temporalUi) say(`Every saga: ${urls.temporalUi}/namespaces/${encodeURIComponent(urls.namespace)}/workflows`);
}

/** With SAGA_FAULTS=enabled on the stack, a payment whose `write_ledger` fails for good: its completed steps are undone in reverse. */
async function faultDrill(payer: Person, merchant: Person, run: string): Promise<void> {
  if (!urls.faultsEnabled) {
    say('\n5. Fault drill: skipped (start the stack with `SAGA_FAULTS=enabled npm run dev` to see a saga compensate)');
    return;
  }
  say('\n5. Fault drill: a payment whose write_ledger step fails for good (X-Saga-Fault: write_ledger)');
  const answered = await call<Saga>('POST', '/v1/payments', {
    token: payer.token,
    headers: { 'Idempotency-Key': `demo-drill-${run}`, 'X-Saga-Fault': 'write_ledger' },
    body: { merchantId: merchant.id, amount: 1000, currency: 'USD', description: 'Demo fault drill' },
  });
  const failed = await finalState('/v1/payments', answered, payer.token);
  describeSaga('payment', failed);
  if (failed.status === 'succeeded') {
    say('    the API ignored X-Saga-Fault: the stack itself does not run with SAGA_FAULTS=enabled');
  } else {
    say('    credit_merchant and debit_payer were compensated in reverse: the 10.00 USD is back with the payer');
  }
}

function say(line: string): void {
  process.stdout.write(`${line}\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`demo failed: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
});
