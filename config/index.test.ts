import { DEFAULT_RISK_RULES } from '../domain/risk';
import { API_SHUTDOWN_MARGIN_MS, ConfigError, DEVELOPMENT_JWT_SECRET, loadConfig, MAX_FEE_BPS } from '.';

const base = { DATABASE_URL: 'mysql://sagapay:secret@127.0.0.1:3306/sagapay' };

function problemsOf(env: Record<string, string>): string[] {
  try {
    loadConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  return [];
}

describe('loadConfig', () => {
  it('when only DATABASE_URL is set, then the documented defaults apply', () => {
    const config = loadConfig(base);
    expect(config.money).toEqual({
      feeBps: 200,
      promoCredit: 10_000,
      defaultCurrency: 'USD',
      currencies: ['USD', 'EUR', 'GBP', 'INR'],
      maxAmount: 100_000_000,
    });
    expect(config.paymentSyncWaitMs).toBe(10_000);
    expect(config.temporal).toEqual({
      address: '127.0.0.1:7233',
      namespace: 'default',
      paymentsTaskQueue: 'payments',
      notificationsTaskQueue: 'notifications',
    });
    expect(config.http.port).toBe(3000);
    expect(config.sagaFaultsEnabled).toBe(false);
  });

  it('when no RISK_* variable is set, then the risk rules are the defaults (only the blocklist on); set ones are read and bad ones named', () => {
    expect(loadConfig(base).risk).toEqual(DEFAULT_RISK_RULES);
    expect(loadConfig({ ...base, RISK_VELOCITY_MAX_COUNT: '5', RISK_NEW_RECIPIENT_REVIEW_AMOUNT: '20000', RISK_REVIEW_TIMEOUT_MS: '60000' }).risk).toMatchObject({
      velocityMaxCount: 5,
      newRecipientReviewAmount: 20_000,
      reviewTimeoutMs: 60_000,
    });
    expect(problemsOf({ ...base, RISK_VELOCITY_MAX_AMOUNT: '-1', RISK_REVIEW_TIMEOUT_MS: '10' })).toEqual([
      expect.stringMatching(/^RISK_VELOCITY_MAX_AMOUNT must be at least 0/),
      expect.stringMatching(/^RISK_REVIEW_TIMEOUT_MS must be at least 1000/),
    ]);
  });

  it('when several variables are bad, then every one is named in the message', () => {
    const problems = problemsOf({ ...base, FEE_BPS: '2.5', CURRENCIES: 'USD,euro', PORT: '70000', DEFAULT_CURRENCY: 'GBP', SMTP_URL: 'http://x' });
    expect(problems).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^FEE_BPS must be a whole number/),
        expect.stringMatching(/^CURRENCIES\.1 must be an upper-case ISO 4217 code/),
        expect.stringMatching(/^PORT must be at most 65535/),
        expect.stringMatching(/^SMTP_URL /),
      ]),
    );
  });

  it('when DATABASE_URL is missing, then the message says what it should look like', () => {
    expect(problemsOf({})).toEqual([expect.stringMatching(/^DATABASE_URL is required \(mysql:\/\//)]);
  });

  it('when CURRENCIES names a code the currency table does not know, then it refuses to start and says which', () => {
    expect(problemsOf({ ...base, CURRENCIES: 'USD,XYZ' })).toEqual([
      'CURRENCIES.1 must be an ISO 4217 currency that ICU knows (the currency table): XYZ is not, so its minor units are unknown',
    ]);
    expect(loadConfig({ ...base, CURRENCIES: 'USD,JPY,KWD' }).money.currencies).toEqual(['USD', 'JPY', 'KWD']);
  });

  it('when the default currency is not configured, then it is refused', () => {
    expect(problemsOf({ ...base, CURRENCIES: 'EUR,GBP' })).toEqual(['DEFAULT_CURRENCY must be one of CURRENCIES']);
  });

  it('when production runs with the development secret or saga faults, then it refuses to start', () => {
    expect(problemsOf({ ...base, NODE_ENV: 'production' })).toEqual(['JWT_SECRET must be set to a secret of your own in production']);
    expect(problemsOf({ ...base, NODE_ENV: 'production', JWT_SECRET: 'x'.repeat(40), SAGA_FAULTS: 'enabled' })).toEqual([
      'SAGA_FAULTS cannot be enabled in production',
    ]);
    expect(loadConfig({ ...base, NODE_ENV: 'production', JWT_SECRET: 'x'.repeat(40) }).jwt.secret).not.toBe(DEVELOPMENT_JWT_SECRET);
  });

  it('when FEE_BPS would let a payment net 0 for the merchant, then it is refused; the highest rate that cannot is accepted', () => {
    expect(loadConfig({ ...base, FEE_BPS: String(MAX_FEE_BPS) }).money.feeBps).toBe(4_999);
    expect(problemsOf({ ...base, FEE_BPS: '5000' })).toEqual([expect.stringMatching(/^FEE_BPS must be at most 4999/)]);
    expect(problemsOf({ ...base, FEE_BPS: '10000' })).toEqual([expect.stringMatching(/^FEE_BPS must be at most 4999/)]);
  });

  it('when LEDGER_SYSTEM_SHARDS is unset, 1, 64 or outside 1–64, then it is 8, 1, 64 or refused', () => {
    expect(loadConfig(base).ledgerSystemShards).toBe(8);
    expect(loadConfig({ ...base, LEDGER_SYSTEM_SHARDS: '1' }).ledgerSystemShards).toBe(1);
    expect(loadConfig({ ...base, LEDGER_SYSTEM_SHARDS: '64' }).ledgerSystemShards).toBe(64);
    expect(problemsOf({ ...base, LEDGER_SYSTEM_SHARDS: '0' })).toEqual([expect.stringMatching(/^LEDGER_SYSTEM_SHARDS must be at least 1/)]);
    expect(problemsOf({ ...base, LEDGER_SYSTEM_SHARDS: '65' })).toEqual([expect.stringMatching(/^LEDGER_SYSTEM_SHARDS must be at most 64/)]);
    expect(problemsOf({ ...base, LEDGER_SYSTEM_SHARDS: '2.5' })).toEqual([expect.stringMatching(/^LEDGER_SYSTEM_SHARDS must be a whole number/)]);
  });

  it('when PAYMENT_SYNC_WAIT_MS is long, then the API waits longer than it on SIGTERM', () => {
    for (const waitMs of [0, 10_000, 11_000, 60_000]) {
      const config = loadConfig({ ...base, PAYMENT_SYNC_WAIT_MS: String(waitMs) });
      expect(config.apiShutdownGraceMs).toBe(waitMs + API_SHUTDOWN_MARGIN_MS);
      expect(config.apiShutdownGraceMs).toBeGreaterThanOrEqual(waitMs + 1_000);
    }
  });

  it('when the API would sign tokens with the public example secret outside the test suite, then it is refused', () => {
    const refusal = (env: Record<string, string>) => {
      try {
        loadConfig({ ...base, ...env }, { signsTokens: true });
      } catch (error) {
        if (error instanceof ConfigError) return error.problems;
        throw error;
      }
      return [];
    };
    expect(refusal({ NODE_ENV: 'development' })).toEqual([expect.stringMatching(/^JWT_SECRET is not set: .*npm run dev makes one in \.data\/jwt-secret/)]);
    expect(refusal({ NODE_ENV: 'development', JWT_SECRET: DEVELOPMENT_JWT_SECRET })).toEqual([expect.stringMatching(/^JWT_SECRET is the public example value/)]);
    expect(refusal({ NODE_ENV: 'production', JWT_SECRET: DEVELOPMENT_JWT_SECRET })).toEqual(['JWT_SECRET must be set to a secret of your own in production']);
    expect(refusal({ NODE_ENV: 'test' })).toEqual([]);
    expect(refusal({ NODE_ENV: 'development', JWT_SECRET: 'x'.repeat(40) })).toEqual([]);
    // Workers and scripts sign no tokens: the example secret does not stop them in development.
    expect(loadConfig({ ...base, NODE_ENV: 'development' }).jwt.secret).toBe(DEVELOPMENT_JWT_SECRET);
  });

  it('when sessions are configured, then the refresh cookie is Secure by default only in production, and the lifetime is bounded', () => {
    const production = { ...base, NODE_ENV: 'production', JWT_SECRET: 'x'.repeat(40) };
    expect(loadConfig(base).session).toEqual({ refreshTtlSeconds: 1_209_600, reuseGraceSeconds: 20, cookieSecure: false });
    expect(loadConfig(production).session.cookieSecure).toBe(true);
    expect(loadConfig({ ...production, REFRESH_COOKIE_SECURE: 'false' }).session.cookieSecure).toBe(false);
    expect(loadConfig({ ...base, REFRESH_COOKIE_SECURE: 'true', REFRESH_TOKEN_TTL_SECONDS: '3600' }).session).toEqual({ refreshTtlSeconds: 3600, reuseGraceSeconds: 20, cookieSecure: true });
    expect(loadConfig({ ...base, REFRESH_REUSE_GRACE_SECONDS: '0' }).session.reuseGraceSeconds).toBe(0);
    expect(problemsOf({ ...base, REFRESH_REUSE_GRACE_SECONDS: '61' })).toEqual([expect.stringMatching(/^REFRESH_REUSE_GRACE_SECONDS must be at most 60/)]);
    expect(problemsOf({ ...base, REFRESH_TOKEN_TTL_SECONDS: '10', REFRESH_COOKIE_SECURE: 'yes' })).toEqual([
      expect.stringMatching(/^REFRESH_TOKEN_TTL_SECONDS /),
      expect.stringMatching(/^REFRESH_COOKIE_SECURE must be true or false/),
    ]);
    expect(problemsOf({ ...base, JWT_TTL_SECONDS: '3600', REFRESH_TOKEN_TTL_SECONDS: '1800' })).toEqual([expect.stringMatching(/^REFRESH_TOKEN_TTL_SECONDS must be at least JWT_TTL_SECONDS/)]);
    expect(loadConfig({ ...base, JWT_TTL_SECONDS: '3600', REFRESH_TOKEN_TTL_SECONDS: '3600' }).session.refreshTtlSeconds).toBe(3600);
  });

  it('when the listener limits are unset, set or inverted, then they are 10 s and 30 s, read, or refused', () => {
    expect(loadConfig(base).http).toMatchObject({ headersTimeoutMs: 10_000, requestTimeoutMs: 30_000 });
    expect(loadConfig({ ...base, HTTP_HEADERS_TIMEOUT_MS: '2000', HTTP_REQUEST_TIMEOUT_MS: '5000' }).http).toMatchObject({ headersTimeoutMs: 2_000, requestTimeoutMs: 5_000 });
    expect(problemsOf({ ...base, HTTP_HEADERS_TIMEOUT_MS: '20000', HTTP_REQUEST_TIMEOUT_MS: '5000' })).toEqual([expect.stringMatching(/^HTTP_REQUEST_TIMEOUT_MS must be at least HTTP_HEADERS_TIMEOUT_MS/)]);
    expect(problemsOf({ ...base, HTTP_HEADERS_TIMEOUT_MS: '10' })).toEqual([expect.stringMatching(/^HTTP_HEADERS_TIMEOUT_MS /)]);
  });
});
