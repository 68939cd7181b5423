/**
 * The web wallet in a real browser (headless Chromium through playwright-core) against the real
 * stack: the app is built from its sources first, served by the API under test (with the fault
 * drill on), and driven the way a person would, by labels and button names. One browser for the
 * file, a fresh context per scenario. Screenshots land in docs/screenshots/ for the README.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { hashPassword } from '../api/auth/passwords';
import { insertUser } from '../api/users';
import { ensureSystemAccounts } from '../store/ledger';
import { actorsOf, type Actor } from './support/actors';
import { uniqueEmail } from './support/fixtures';
import { startStack, type TestStack } from './support/stack';

const execFileAsync = promisify(execFile);
const ROOT = join(__dirname, '..');
/**
 * Every scenario takes its screenshots; they replace the README's pictures in docs/screenshots/ only
 * with UPDATE_SCREENSHOTS=1, so a plain `npm test` leaves the work tree as it found it.
 */
const SCREENSHOTS = process.env.UPDATE_SCREENSHOTS === '1' ? join(ROOT, 'docs', 'screenshots') : join(tmpdir(), 'sagapay-screenshots');
const PASSWORD = 'correct horse battery';
/** Long enough for a cold build and a saga on a busy 2-core machine; every wait below polls. */
const BUILD_TIMEOUT_MS = 300_000;
const SCENARIO_TIMEOUT_MS = 120_000;
const UI_TIMEOUT_MS = 30_000;
/** Unique per run, so the directory search finds this file's merchant and no other. */
const MERCHANT_NAME = `Acme Books ${Date.now().toString(36)}`;

/**
 * Vite's lock folder for a build without a cache folder of its own (node_modules/.vite): the
 * rebuild `npm run dev` keeps running holds a lock there, and a second such build refuses to start.
 */
const DEFAULT_VITE_LOCK_DIR = join(ROOT, 'node_modules', '.vite', 'lock');

/**
 * Leaves the lock record a running `npm run dev` rebuild of this checkout leaves (same command,
 * root, config and mode), held by a live process (the test runner's parent); returns its file.
 */
function plantDevBuildLock(): string {
  mkdirSync(DEFAULT_VITE_LOCK_DIR, { recursive: true });
  const file = join(DEFAULT_VITE_LOCK_DIR, `sagapay-test-${process.pid}.json`);
  const record = { command: 'build', root: join(ROOT, 'web'), configFile: join(ROOT, 'web', 'vite.config.mts'), mode: 'production', pid: process.ppid, urls: null };
  writeFileSync(file, `${JSON.stringify(record)}\n`);
  return file;
}

/** What a plain `vite build` of the app (Vite's default cache folder) answers: `built`, or its error. */
async function plainViteBuild(outDir: string): Promise<string> {
  const args = ['build', '--config', join(ROOT, 'web', 'vite.config.mts'), '--outDir', outDir, '--emptyOutDir', '--logLevel', 'error'];
  const env = { ...process.env, SAGAPAY_VITE_CACHE_DIR: '' };
  return execFileAsync(join(ROOT, 'node_modules', '.bin', 'vite'), args, { cwd: ROOT, env, timeout: BUILD_TIMEOUT_MS }).then(
    () => 'built',
    (error: { stderr?: string; message: string }) => error.stderr || error.message,
  );
}

interface AxeResult {
  violations: Array<{ id: string; impact: string | null; help: string; nodes: Array<{ target: unknown }> }>;
}

describe('the web wallet in a browser', () => {
  let stack: TestStack;
  let actors: ReturnType<typeof actorsOf>;
  let browser: Browser;
  let buildRoot: string;
  let buildDirectory: string;
  /** What a plain Vite build answered while the planted dev lock was there. */
  let plainBuildBesideDev: string;
  let merchant: Actor;
  let axeSource: string;
  const contexts: BrowserContext[] = [];
  /** Console messages about the Content-Security-Policy, from every page: there must be none. */
  const cspViolations: string[] = [];

  beforeAll(async () => {
    const chromiumPath = process.env.CHROMIUM_PATH;
    if (!chromiumPath) throw new Error(`Chromium is needed for the browser tests: ${process.env.SAGAPAY_CHROMIUM_MISSING ?? 'not found'}`);
    buildRoot = mkdtempSync(join(tmpdir(), 'sagapay-web-build-'));
    buildDirectory = join(buildRoot, 'web');
    // Built as if `npm run dev` ran in this checkout: its output folder and Vite's cache are the
    // tests' own, so dev's lock on node_modules/.vite neither stops nor delays this build.
    const devLock = plantDevBuildLock();
    try {
      plainBuildBesideDev = await plainViteBuild(join(buildRoot, 'plain'));
      const args = ['scripts/build-web.ts', '--out-dir', buildDirectory, '--cache-dir', join(buildRoot, 'vite-cache')];
      await execFileAsync(join(ROOT, 'node_modules', '.bin', 'tsx'), args, { cwd: ROOT, timeout: BUILD_TIMEOUT_MS });
    } finally {
      rmSync(devLock, { force: true });
    }
    stack = await startStack({ SAGA_FAULTS: 'enabled', WEB_APP_DIR: buildDirectory, CURRENCIES: 'USD,EUR,GBP,INR,KWD' });
    // KWD has 3 decimals: the suite's database was prepared without it, so its system accounts come here.
    await ensureSystemAccounts(stack.db, ['KWD'], stack.config.ledgerSystemShards);
    actors = actorsOf(stack);
    merchant = await actors.signUp({ role: 'merchant', name: MERCHANT_NAME });
    axeSource = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');
    browser = await chromium.launch({ executablePath: chromiumPath, headless: true, args: ['--no-sandbox', '--disable-dev-shm-usage'] });
    mkdirSync(SCREENSHOTS, { recursive: true });
  }, BUILD_TIMEOUT_MS + 60_000);

  afterAll(async () => {
    for (const context of contexts) await context.close();
    await browser?.close();
    await stack?.stop();
    if (buildRoot) rmSync(buildRoot, { recursive: true, force: true });
  }, 60_000);

  afterEach(() => {
    expect(cspViolations).toEqual([]);
  });

  async function newPage(viewport = { width: 1200, height: 860 }): Promise<Page> {
    const context = await browser.newContext({ viewport, locale: 'en-US', timezoneId: 'UTC', deviceScaleFactor: 1 });
    contexts.push(context);
    context.setDefaultTimeout(UI_TIMEOUT_MS);
    const page = await context.newPage();
    page.on('console', (message) => {
      if (/content security policy/i.test(message.text())) cspViolations.push(message.text());
    });
    return page;
  }

  /** axe-core in the page: no serious or critical accessibility violation. */
  async function expectAccessible(page: Page, what: string): Promise<void> {
    // Evaluated by the test harness, not by a script tag: the page's CSP forbids inline scripts.
    await page.evaluate(axeSource);
    const result = await page.evaluate<AxeResult>('axe.run()');
    const serious = result.violations
      .filter((violation) => violation.impact === 'serious' || violation.impact === 'critical')
      .map((violation) => `${violation.id}: ${violation.help} (${JSON.stringify(violation.nodes.map((node) => node.target))})`);
    expect({ what, serious }).toEqual({ what, serious: [] });
  }

  async function screenshot(page: Page, name: string): Promise<void> {
    await page.screenshot({ path: join(SCREENSHOTS, `${name}.png`), fullPage: true, animations: 'disabled' });
  }

  async function logIn(page: Page, email: string, password = PASSWORD): Promise<void> {
    await page.goto(`${stack.baseUrl}/login`);
    await page.getByLabel('E-mail').fill(email);
    await page.getByLabel('Password').fill(password);
    await page.getByRole('button', { name: 'Log in' }).click();
  }

  /** Goes through the pay form and its confirmation screen, stopping before the final click. */
  async function fillPayment(page: Page, amount: string, description: string, fault?: string): Promise<void> {
    await page.getByRole('link', { name: 'Pay', exact: true }).click();
    // Found in the directory by part of its name.
    await page.getByLabel('Merchant', { exact: true }).fill(MERCHANT_NAME.slice(0, -2));
    await page.getByRole('list', { name: 'Merchants found' }).getByRole('button', { name: MERCHANT_NAME }).click();
    await page.getByLabel('Amount (USD)').fill(amount);
    await page.getByLabel('Description (optional)').fill(description);
    if (fault) await page.getByLabel('Fault drill (test servers only)').selectOption(fault);
    await page.getByRole('button', { name: 'Review payment' }).click();
    await page.getByRole('heading', { name: 'Confirm the payment' }).waitFor();
    expect(await page.getByTestId('confirm-merchant').innerText()).toBe(MERCHANT_NAME);
  }

  async function finalStatusOf(page: Page): Promise<string> {
    const status = page.getByTestId('saga-status');
    await status.filter({ hasText: /Succeeded|Failed/ }).waitFor();
    return (await status.innerText()).trim();
  }

  async function stepStatuses(page: Page, list: 'Saga steps' | 'Compensations'): Promise<string[]> {
    // Notify runs after the status is final; the page keeps following the saga until it is recorded.
    if (list === 'Saga steps') await page.locator('li[data-step="notify"][data-status="completed"]').waitFor();
    return page
      .getByRole('list', { name: list })
      .locator('li')
      .evaluateAll((items: Array<{ getAttribute(name: string): string | null }>) => items.map((item) => `${item.getAttribute('data-step')}:${item.getAttribute('data-status')}`));
  }

  async function paymentRowsOf(payerId: string): Promise<Array<{ id: string; amount: number; status: string }>> {
    const rows = await stack.db('payments').select('id', 'amount', 'status').where({ payer_id: payerId });
    return rows.map((row) => ({ id: String(row.id), amount: Number(row.amount), status: String(row.status) }));
  }

  it('when a dev build of this checkout holds Vite’s lock, then the tests’ build neither trips over it nor shares its folders', () => {
    // The planted lock is one Vite honours: a build with the default cache folder refuses to start.
    expect(plainBuildBesideDev).toMatch(/Found another Vite build process for this project/);
    expect(existsSync(join(buildDirectory, 'index.html'))).toBe(true);
    expect(existsSync(join(buildRoot, 'vite-cache'))).toBe(true);
    expect(buildDirectory.startsWith(join(ROOT, 'dist'))).toBe(false);
  });

  async function customerViaApi(): Promise<Actor> {
    return actors.signUp({ name: 'Grace Hopper' });
  }

  it(
    'when a person signs up, tops up and pays a merchant, then they watch the saga succeed and find it in their history',
    async () => {
      const page = await newPage();
      const email = uniqueEmail('web');
      let accessToken: string | undefined;
      page.on('request', (request) => {
        accessToken ??= request.headers().authorization?.replace(/^Bearer /, '');
      });

      await page.goto(`${stack.baseUrl}/signup`);
      await expectAccessible(page, 'sign-up');
      await page.getByLabel('Your name').fill('Ada Lovelace');
      await page.getByLabel('E-mail').fill(email);
      await page.getByLabel('Password').fill(PASSWORD);
      await screenshot(page, 'sign-up');
      await page.getByRole('button', { name: 'Create account' }).click();
      const balance = page.getByTestId('balance-USD');
      await balance.filter({ hasText: '$100.00' }).waitFor();
      const user = (await stack.db('users').where({ email }).first()) as { id: string };
      stack.own.add(user.id);

      await page.getByLabel('Top-up amount (USD)').fill('25.50');
      await page.getByRole('button', { name: 'Top up' }).click();
      await page.getByText('Added $25.50.').waitFor();
      await balance.filter({ hasText: '$125.50' }).waitFor();
      await expectAccessible(page, 'wallets');
      await screenshot(page, 'wallets');

      await fillPayment(page, '12.34', 'Two books');
      expect(await page.getByTestId('confirm-amount').innerText()).toBe('$12.34');
      await screenshot(page, 'pay-confirm');
      await page.getByRole('button', { name: 'Pay $12.34' }).click();
      await page.waitForURL(/\/payments\/pay_/);
      expect(await finalStatusOf(page)).toContain('Succeeded');
      expect(await stepStatuses(page, 'Saga steps')).toEqual(['validate:completed', 'risk_check:completed', 'debit_payer:completed', 'credit_merchant:completed', 'write_ledger:completed', 'notify:completed']);
      await expectAccessible(page, 'payment');
      await screenshot(page, 'payment-succeeded');

      const [payment] = await paymentRowsOf(user.id);
      expect(payment).toMatchObject({ amount: 1234, status: 'succeeded' });
      expect(page.url()).toBe(`${stack.baseUrl}/payments/${payment?.id}`);

      await page.getByRole('link', { name: 'Wallets' }).click();
      await page.getByRole('link', { name: 'History of the USD wallet' }).click();
      const history = page.getByRole('table', { name: 'Wallet history' });
      await history.locator('tr[data-type="payment_debit"]', { hasText: '-$12.34' }).waitFor();
      await history.locator('tr[data-type="topup"]', { hasText: '+$25.50' }).waitFor();
      await screenshot(page, 'history');

      // A reload forgets the in-memory token; the httpOnly refresh cookie signs the person back in.
      await page.reload();
      await history.locator('tr[data-type="payment_debit"]', { hasText: '-$12.34' }).waitFor();

      await page.getByRole('link', { name: 'Activity' }).click();
      await page.locator('.feed li[data-type="payment_succeeded"]').waitFor();
      await expectAccessible(page, 'activity');
      await screenshot(page, 'activity');

      // The access token lived in memory only.
      expect(accessToken).toBeTruthy();
      const stored = String(await page.evaluate('JSON.stringify({ ...localStorage, ...sessionStorage }) + document.cookie'));
      expect(stored).not.toContain(accessToken ?? 'no token seen');
    },
    SCENARIO_TIMEOUT_MS,
  );

  it(
    'when a KWD wallet is shown and topped up, then the page writes its 3 decimals and sends minor units',
    async () => {
      const customer = await actors.signUp({ currency: 'KWD', name: 'Noor' });
      const page = await newPage();
      await logIn(page, customer.email);
      const balance = page.getByTestId('balance-KWD');
      await balance.filter({ hasText: /KWD\s10\.000$/ }).waitFor();

      await page.getByLabel('Top-up amount (KWD)').fill('1.234');
      await page.getByRole('button', { name: 'Top up' }).click();
      await page.getByText(/Added KWD\s1\.234\./).waitFor();
      await balance.filter({ hasText: /KWD\s11\.234$/ }).waitFor();

      expect(await actors.balanceOf(customer.token, customer.wallet.id)).toBe(11_234);
    },
    SCENARIO_TIMEOUT_MS,
  );

  it(
    'when a payment is more than the wallet holds, then the page says why and no money moves',
    async () => {
      const customer = await customerViaApi();
      const merchantBefore = await actors.balanceOf(merchant.token, merchant.wallet.id);
      const page = await newPage();
      await logIn(page, customer.email);
      await page.getByTestId('balance-USD').filter({ hasText: '$100.00' }).waitFor();

      await fillPayment(page, '500', 'Too expensive');
      await page.getByRole('button', { name: 'Pay $500.00' }).click();
      expect(await finalStatusOf(page)).toContain('Failed');
      const failure = page.getByTestId('failure');
      expect(await failure.innerText()).toContain('insufficient_funds');
      await screenshot(page, 'payment-insufficient-funds');

      expect(await actors.balanceOf(customer.token, customer.wallet.id)).toBe(10_000);
      expect(await actors.balanceOf(merchant.token, merchant.wallet.id)).toBe(merchantBefore);
      expect(await paymentRowsOf(customer.user.id)).toEqual([expect.objectContaining({ amount: 50_000, status: 'failed' })]);
    },
    SCENARIO_TIMEOUT_MS,
  );

  it(
    'when a fault drill fails write_ledger, then the page shows the compensations, in reverse order, and the money is back',
    async () => {
      const customer = await customerViaApi();
      const merchantBefore = await actors.balanceOf(merchant.token, merchant.wallet.id);
      const page = await newPage();
      await logIn(page, customer.email);
      await fillPayment(page, '7', 'Fault drill', 'write_ledger');
      await page.getByRole('button', { name: 'Pay $7.00' }).click();
      expect(await finalStatusOf(page)).toContain('Failed');
      expect(await page.getByTestId('failure').innerText()).toContain('injected_fault');
      expect(await stepStatuses(page, 'Compensations')).toEqual(['reverse_merchant_credit:compensated', 'refund_payer:compensated']);
      expect(await stepStatuses(page, 'Saga steps')).toEqual([
        'validate:completed',
        'risk_check:completed',
        'debit_payer:compensated',
        'credit_merchant:compensated',
        'write_ledger:failed',
        'notify:completed',
      ]);
      await expectAccessible(page, 'compensated payment');
      await screenshot(page, 'payment-compensated');

      expect(await actors.balanceOf(customer.token, customer.wallet.id)).toBe(10_000);
      expect(await actors.balanceOf(merchant.token, merchant.wallet.id)).toBe(merchantBefore);
    },
    SCENARIO_TIMEOUT_MS,
  );

  it(
    'when the pay button is clicked twice, and a first attempt is lost on the network, then one payment is made with one Idempotency-Key',
    async () => {
      const customer = await customerViaApi();
      const page = await newPage();
      const keys: string[] = [];
      let dropped = false;
      await page.route('**/v1/payments', async (route) => {
        if (route.request().method() !== 'POST') return route.continue();
        keys.push(route.request().headers()['idempotency-key'] ?? '');
        // The first attempt never reaches the server: the app must retry with the same key.
        if (!dropped) {
          dropped = true;
          return route.abort('connectionreset');
        }
        return route.continue();
      });
      await logIn(page, customer.email);
      await fillPayment(page, '3', 'Double click');
      const pay = page.getByRole('button', { name: 'Pay $3.00' });
      await pay.click();
      await page.getByRole('alert').filter({ hasText: 'could not be reached' }).waitFor();

      // Two clicks in the same task, faster than any person: the second must not send a second request.
      await pay.evaluate((button: { click(): void }) => {
        button.click();
        button.click();
      });
      await page.waitForURL(/\/payments\/pay_/);
      expect(await finalStatusOf(page)).toContain('Succeeded');

      expect(keys).toHaveLength(2);
      expect(new Set(keys).size).toBe(1);
      expect(keys[0]).toMatch(/^payment-/);
      expect(await paymentRowsOf(customer.user.id)).toEqual([expect.objectContaining({ amount: 300, status: 'succeeded' })]);
      expect(await actors.balanceOf(customer.token, customer.wallet.id)).toBe(10_000 - 300);
    },
    SCENARIO_TIMEOUT_MS,
  );

  it(
    'when the merchant opens a payment they received, then they see its fee and refund part of it',
    async () => {
      const customer = await customerViaApi();
      const paid = await actors.call<{ id: string; status: string }>('POST', '/v1/payments', {
        token: customer.token,
        headers: { 'Idempotency-Key': `web-refund-${customer.user.id}` },
        body: { merchantId: merchant.user.id, amount: 2_000, currency: 'USD', description: 'Refund me' },
      });
      expect(paid.body.status).toBe('succeeded');

      const page = await newPage();
      await logIn(page, merchant.email);
      const received = page.getByRole('table', { name: 'Payments received' });
      const row = received.locator(`tr[data-payment="${paid.body.id}"]`);
      await row.waitFor();
      expect(await row.innerText()).toMatch(/\$20\.00\s+\$0\.40\s+\$19\.60\s+\$0\.00/);
      await expectAccessible(page, 'merchant');
      await screenshot(page, 'merchant-payments');

      await row.getByRole('link', { name: 'Refund me' }).click();
      await page.getByLabel('Amount to refund (USD)').fill('5.00');
      await page.getByLabel('Reason (optional)').fill('One book was damaged');
      await page.getByRole('button', { name: 'Refund', exact: true }).click();
      await page.waitForURL(/\/refunds\/ref_/);
      expect(await finalStatusOf(page)).toContain('Succeeded');
      await screenshot(page, 'refund-succeeded');

      const payment = await actors.call<{ refundedAmount: number }>('GET', `/v1/payments/${paid.body.id}`, { token: customer.token });
      expect(payment.body.refundedAmount).toBe(500);
      expect(await actors.balanceOf(customer.token, customer.wallet.id)).toBe(10_000 - 2_000 + 500);
    },
    SCENARIO_TIMEOUT_MS,
  );

  it(
    'when an admin runs the reconciliation, then every ledger invariant holds and a saga opens in the Temporal Web UI by link',
    async () => {
      const email = uniqueEmail('web-admin');
      await insertUser(stack.db, { email, passwordHash: await hashPassword(PASSWORD), name: 'Operations', phone: null, role: 'admin', currency: 'USD' });
      await stack.own.settle(stack.db);
      const page = await newPage();
      await logIn(page, email);
      await page.getByRole('button', { name: 'Run reconciliation' }).click();
      const checks = page.locator('.invariants li');
      await checks.first().waitFor();
      // Other test files share the database and may have sagas in flight: the ledger's own invariants must hold regardless.
      for (const invariant of ['All accounts sum to zero', 'Every journal balances', 'Every balance equals the sum of its entries', 'No user wallet is negative']) {
        expect(await checks.filter({ hasText: invariant }).getAttribute('data-holds')).toBe('true');
      }
      await expectAccessible(page, 'admin');
      await screenshot(page, 'admin-reconciliation');

      const [payment] = await stack.db('payments').select('id').where({ merchant_id: merchant.user.id }).limit(1);
      await page.getByLabel('Payment, transfer or refund id, or a workflow id').fill(String(payment?.id));
      const link = page.getByRole('link', { name: `Open payment-${payment?.id} in the Temporal Web UI` });
      expect(await link.getAttribute('href')).toBe(`${stack.config.web.temporalUiUrl}/namespaces/${stack.config.temporal.namespace}/workflows/payment-${payment?.id}`);
    },
    SCENARIO_TIMEOUT_MS,
  );

  it(
    'when a person claims a handle, then another sends them money by it after seeing their name',
    async () => {
      const [recipient, sender] = [await actors.signUp({ name: 'Katherine Johnson' }), await customerViaApi()];
      const handle = `@kj_${Date.now().toString(36)}`;
      const recipientPage = await newPage();
      await logIn(recipientPage, recipient.email);
      await recipientPage.getByRole('link', { name: 'Profile' }).click();
      await recipientPage.getByLabel('New handle').fill(handle);
      await recipientPage.getByRole('button', { name: 'Claim handle' }).click();
      await recipientPage.getByText(`${handle} is yours.`).waitFor();
      await expectAccessible(recipientPage, 'profile');
      await screenshot(recipientPage, 'profile-handles');

      const page = await newPage();
      await logIn(page, sender.email);
      await page.getByRole('link', { name: 'Send', exact: true }).click();
      await page.getByLabel('To (@handle or e-mail)').fill(handle);
      await page.getByLabel('Amount (USD)').fill('4.20');
      await page.getByRole('button', { name: 'Review transfer' }).click();
      expect(await page.getByTestId('confirm-recipient').innerText()).toBe(`Katherine Johnson (${handle})`);
      await screenshot(page, 'send-confirm');
      await page.getByRole('button', { name: 'Send $4.20' }).click();
      await page.waitForURL(/\/transfers\/trf_/);
      expect(await finalStatusOf(page)).toContain('Succeeded');
      expect(await actors.balanceOf(recipient.token, recipient.wallet.id)).toBe(10_000 + 420);

      // Mistakes are explained in words next to their fields, before anything is sent.
      await page.getByRole('link', { name: 'Send', exact: true }).click();
      await page.getByLabel('To (@handle or e-mail)').fill('not an address');
      await page.getByLabel('Amount (USD)').fill('1.999');
      await page.getByRole('button', { name: 'Review transfer' }).click();
      expect(await page.locator('#to-error').innerText()).toBe('Enter an @handle or an e-mail address.');
      expect(await page.locator('#amount-error').innerText()).toBe('At most 2 decimals for USD.');
      expect(await page.getByLabel('To (@handle or e-mail)').getAttribute('aria-invalid')).toBe('true');
    },
    SCENARIO_TIMEOUT_MS,
  );

  it(
    'when the app is opened on a phone by a deep link, then it logs in by keyboard alone, shows that page, and nothing is wider than the screen',
    async () => {
      const customer = await customerViaApi();
      const page = await newPage({ width: 390, height: 844 });
      await page.goto(`${stack.baseUrl}/wallets/${customer.wallet.id}`);
      // By keyboard alone: the skip link first, then the form's fields in order, Enter submits.
      await page.getByRole('heading', { name: 'Log in' }).waitFor();
      await page.keyboard.press('Tab');
      expect(await page.evaluate('document.activeElement.textContent.trim()')).toBe('Skip to content');
      await page.keyboard.press('Tab');
      expect(await page.evaluate('document.activeElement.id')).toBe('email');
      await page.keyboard.type(customer.email);
      await page.keyboard.press('Tab');
      await page.keyboard.type(PASSWORD);
      await page.keyboard.press('Enter');
      await page.getByRole('heading', { name: 'USD wallet history' }).waitFor();
      await page.getByRole('table', { name: 'Wallet history' }).locator('tr[data-type="promo_credit"]').waitFor();
      await page.getByRole('link', { name: 'Wallets' }).click();
      await page.getByTestId('balance-USD').waitFor();
      const overflow = Number(await page.evaluate('document.documentElement.scrollWidth - window.innerWidth'));
      expect(overflow).toBeLessThanOrEqual(0);
      await expectAccessible(page, 'phone');
      await screenshot(page, 'phone-wallets');
      expect(page.url()).toBe(`${stack.baseUrl}/wallets`);
    },
    SCENARIO_TIMEOUT_MS,
  );
});
