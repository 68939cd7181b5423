import { z } from 'zod';
import { isKnownCurrency } from '../domain/currencies';
import { DEFAULT_LEDGER_SYSTEM_SHARDS, MAX_LEDGER_SYSTEM_SHARDS } from '../domain/ledger-shards';
import type { RiskRules } from '../domain/risk';

/**
 * The JWT secret of the test suite, also printed in old copies of `.env.example`: it is public, so
 * the API refuses it outside NODE_ENV=test, and production refuses it in every process.
 */
export const DEVELOPMENT_JWT_SECRET = 'dev-only-secret-change-me-0123456789abcdef';

/**
 * The highest FEE_BPS accepted: below 50 %, so every payment of at least 1 minor unit leaves the
 * merchant at least 1 after the fee rounded half up. From 5000 on, a small payment would net 0, and
 * the merchant's journal line would be 0, which the ledger refuses: the payment would end
 * `processing_error`. The configuration refuses such a rate instead.
 */
export const MAX_FEE_BPS = 4_999;

/** How long one database wait may last unless configured: a lock wait (seconds) and taking a pooled connection (ms). */
export const DEFAULT_DATABASE_WAIT_LIMITS = { lockWaitTimeoutS: 2, acquireTimeoutMs: 2_000 } as const;

const integer = (defaultValue: number, min: number, max: number) =>
  z.coerce
    .number()
    .int('must be a whole number')
    .min(min, `must be at least ${min}`)
    .max(max, `must be at most ${max}`)
    .default(defaultValue);

const booleanFlag = (defaultValue: boolean) =>
  z
    .enum(['true', 'false'], { message: 'must be true or false' })
    .default(defaultValue ? 'true' : 'false')
    .transform((value) => value === 'true');

/**
 * What the API's shutdown grace adds to PAYMENT_SYNC_WAIT_MS: a payment waiting the whole sync wait
 * still reads its row and writes its answer after it. Measured in milliseconds, not a fraction of the wait.
 */
export const API_SHUTDOWN_MARGIN_MS = 5_000;

/** An ISO 4217 code the currency table (domain/currencies.ts) knows, so its minor units are known too. */
const currencyCode = z
  .string()
  .regex(/^[A-Z]{3}$/, 'must be an upper-case ISO 4217 code')
  .refine(isKnownCurrency, { error: (issue) => `must be an ISO 4217 currency that ICU knows (the currency table): ${String(issue.input)} is not, so its minor units are unknown` });

/** One rate limit: at most `limit` requests per `windowMs` for one key (an IP, an e-mail, a user). */
export interface RateLimitRule {
  limit: number;
  windowMs: number;
}

const WINDOW_UNIT_MS = { s: 1_000, m: 60_000, h: 3_600_000 } as const;

/** `<count>/<window>` such as `10/15m` (count 1–1000000, window 1s–24h), or `off`. */
const rateLimitRule = (defaultValue: string) =>
  z
    .string()
    .default(defaultValue)
    .refine((value) => /^(off|[1-9]\d{0,6}\/[1-9]\d{0,4}[smh])$/.test(value), 'must be <count>/<window> such as 10/15m (s, m or h), or off')
    .transform((value): RateLimitRule | null => {
      const match = /^(\d+)\/(\d+)([smh])$/.exec(value);
      if (!match?.[1] || !match[2] || !match[3]) return null;
      return { limit: Number(match[1]), windowMs: Number(match[2]) * WINDOW_UNIT_MS[match[3] as keyof typeof WINDOW_UNIT_MS] };
    })
    .refine((rule) => rule === null || (rule.limit <= 1_000_000 && rule.windowMs <= 86_400_000), 'must be at most 1000000 per 24h');

/**
 * Every environment variable SagaPay reads, with its default and its limits.
 * `.env.example` documents the same list; keep them in step.
 */
const environmentSchema = z
  .object({
    NODE_ENV: z.enum(['development', 'test', 'production']).default('development'),
    DATABASE_URL: z
      .string({ message: 'is required (mysql://user:password@host:port/database)' })
      .regex(/^mysql:\/\//, 'must be a mysql:// URL'),
    DATABASE_POOL_MAX: integer(10, 1, 200),
    DATABASE_LOCK_WAIT_TIMEOUT_S: integer(DEFAULT_DATABASE_WAIT_LIMITS.lockWaitTimeoutS, 1, 5),
    DATABASE_ACQUIRE_TIMEOUT_MS: integer(DEFAULT_DATABASE_WAIT_LIMITS.acquireTimeoutMs, 100, 3_000),
    TEMPORAL_ADDRESS: z.string().min(1).default('127.0.0.1:7233'),
    TEMPORAL_NAMESPACE: z.string().min(1).default('default'),
    TASK_QUEUE_PAYMENTS: z.string().min(1).default('payments'),
    TASK_QUEUE_NOTIFICATIONS: z.string().min(1).default('notifications'),
    HOST: z.string().min(1).default('127.0.0.1'),
    PORT: integer(3000, 0, 65535),
    HTTP_HEADERS_TIMEOUT_MS: integer(10_000, 500, 120_000),
    HTTP_REQUEST_TIMEOUT_MS: integer(30_000, 1_000, 600_000),
    JWT_SECRET: z.string().min(32, 'must be at least 32 characters').default(DEVELOPMENT_JWT_SECRET),
    JWT_ISSUER: z.string().min(1).default('sagapay'),
    JWT_AUDIENCE: z.string().min(1).default('sagapay-api'),
    JWT_TTL_SECONDS: integer(900, 60, 86_400),
    REFRESH_TOKEN_TTL_SECONDS: integer(1_209_600, 300, 7_776_000),
    REFRESH_REUSE_GRACE_SECONDS: integer(20, 0, 60),
    REFRESH_COOKIE_SECURE: z.enum(['true', 'false'], { message: 'must be true or false' }).optional(),
    FEE_BPS: integer(200, 0, MAX_FEE_BPS),
    PROMO_CREDIT: integer(10_000, 0, 100_000_000),
    DEFAULT_CURRENCY: currencyCode.default('USD'),
    CURRENCIES: z
      .string()
      .default('USD,EUR,GBP,INR')
      .transform((value) => value.split(',').map((code) => code.trim()))
      .pipe(z.array(currencyCode).min(1, 'must list at least one currency')),
    MAX_AMOUNT: integer(100_000_000, 1, Number.MAX_SAFE_INTEGER),
    LEDGER_SYSTEM_SHARDS: integer(DEFAULT_LEDGER_SYSTEM_SHARDS, 1, MAX_LEDGER_SYSTEM_SHARDS),
    PAYMENT_SYNC_WAIT_MS: integer(10_000, 0, 60_000),
    PAYMENT_DAILY_LIMIT: integer(1_000_000, 1, Number.MAX_SAFE_INTEGER),
    STUCK_AFTER_MS: integer(300_000, 1_000, 7 * 86_400_000),
    SAGA_RECOVERY: booleanFlag(true),
    SAGA_RECOVERY_INTERVAL_MS: integer(20_000, 1_000, 60_000),
    SAGA_RECOVERY_MIN_AGE_MS: integer(15_000, 0, 300_000),
    SAGA_START_EXPIRES_AFTER_MS: integer(600_000, 1_000, 7 * 86_400_000),
    SMTP_URL: z.string().regex(/^smtps?:\/\//, 'must be an smtp:// or smtps:// URL').default('smtp://127.0.0.1:1025'),
    MAIL_FROM: z.string().min(3).max(200).regex(/^[^\r\n]+$/, 'must be one line').default('SagaPay <notifications@sagapay.localhost>'),
    WEBHOOK_ALLOW_PRIVATE: booleanFlag(false),
    DELIVERY_CONCURRENCY: integer(20, 1, 500),
    DELIVERY_POLL_INTERVAL_MS: integer(1_000, 10, 3_600_000),
    DELIVERY_LEASE_MS: integer(120_000, 1_000, 86_400_000),
    SAGA_FAULTS: z.enum(['enabled', 'disabled']).default('disabled'),
    LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
    LOG_FORMAT: z.enum(['json', 'pretty']).default('json'),
    TRUST_PROXY: booleanFlag(false),
    RATE_LIMIT_LOGIN_PER_IP: rateLimitRule('100/15m'),
    RATE_LIMIT_LOGIN_PER_EMAIL: rateLimitRule('10/15m'),
    RATE_LIMIT_REGISTER_PER_IP: rateLimitRule('20/1h'),
    RATE_LIMIT_MONEY_PER_USER: rateLimitRule('60/1m'),
    RATE_LIMIT_RECIPIENTS_PER_USER: rateLimitRule('30/15m'),
    RATE_LIMIT_RECIPIENTS_PER_IP: rateLimitRule('100/15m'),
    REDIS_URL: z.string().regex(/^rediss?:\/\//, 'must be a redis:// or rediss:// URL').optional(),
    METRICS_HOST: z.string().min(1).default('127.0.0.1'),
    METRICS_PORT_PAYMENTS_WORKER: integer(9464, 0, 65535),
    METRICS_PORT_NOTIFICATIONS_WORKER: integer(9465, 0, 65535),
    WORKER_METRICS_PORT: z.coerce.number().int('must be a whole number').min(0, 'must be at least 0').max(65535, 'must be at most 65535').optional(),
    WORKER_SHUTDOWN_GRACE_MS: integer(10_000, 0, 300_000),
    WEB_APP_DIR: z.string().min(1).optional(),
    TEMPORAL_UI_URL: z.url({ protocol: /^https?$/, message: 'must be an http(s) URL' }).default('http://localhost:8233'),
    RISK_VELOCITY_MAX_COUNT: integer(0, 0, 1_000_000),
    RISK_VELOCITY_MAX_AMOUNT: integer(0, 0, Number.MAX_SAFE_INTEGER),
    RISK_VELOCITY_WINDOW_MS: integer(3_600_000, 1_000, 7 * 86_400_000),
    RISK_NEW_ACCOUNT_AGE_MS: integer(0, 0, 365 * 86_400_000),
    RISK_NEW_ACCOUNT_MAX_AMOUNT: integer(50_000, 0, Number.MAX_SAFE_INTEGER),
    RISK_NEW_RECIPIENT_REVIEW_AMOUNT: integer(0, 0, Number.MAX_SAFE_INTEGER),
    RISK_REVIEW_TIMEOUT_MS: integer(86_400_000, 1_000, 30 * 86_400_000),
    WORKER_MAX_CACHED_WORKFLOWS: integer(1_000, 0, 100_000),
    WORKER_WORKFLOW_TASK_SLOTS: integer(40, 2, 1_000),
    WORKER_ACTIVITY_SLOTS: integer(100, 1, 1_000),
    WORKER_LOCAL_ACTIVITY_SLOTS: integer(100, 1, 1_000),
  })
  .superRefine((env, context) => {
    if (!env.CURRENCIES.includes(env.DEFAULT_CURRENCY)) {
      context.addIssue({ code: 'custom', path: ['DEFAULT_CURRENCY'], message: 'must be one of CURRENCIES' });
    }
    if (env.NODE_ENV === 'production' && env.JWT_SECRET === DEVELOPMENT_JWT_SECRET) {
      context.addIssue({ code: 'custom', path: ['JWT_SECRET'], message: 'must be set to a secret of your own in production' });
    }
    if (env.SAGA_START_EXPIRES_AFTER_MS <= env.SAGA_RECOVERY_MIN_AGE_MS) {
      context.addIssue({ code: 'custom', path: ['SAGA_START_EXPIRES_AFTER_MS'], message: 'must be more than SAGA_RECOVERY_MIN_AGE_MS' });
    }
    if (env.HTTP_REQUEST_TIMEOUT_MS < env.HTTP_HEADERS_TIMEOUT_MS) {
      context.addIssue({ code: 'custom', path: ['HTTP_REQUEST_TIMEOUT_MS'], message: 'must be at least HTTP_HEADERS_TIMEOUT_MS (the headers are part of the request)' });
    }
    if (env.REFRESH_TOKEN_TTL_SECONDS < env.JWT_TTL_SECONDS) {
      // A revoked session is known by its revoked refresh tokens, deleted once expired: they must outlive the access tokens issued with them.
      context.addIssue({ code: 'custom', path: ['REFRESH_TOKEN_TTL_SECONDS'], message: 'must be at least JWT_TTL_SECONDS (a session outlives its access tokens)' });
    }
    if (env.NODE_ENV === 'production' && env.SAGA_FAULTS === 'enabled') {
      context.addIssue({ code: 'custom', path: ['SAGA_FAULTS'], message: 'cannot be enabled in production' });
    }
  });

type Environment = z.infer<typeof environmentSchema>;

/** The validated configuration every composition root builds its dependencies from. */
export interface Config {
  nodeEnv: Environment['NODE_ENV'];
  databaseUrl: string;
  databasePoolMax: number;
  /** Bounds on every database wait (lock waits, taking a pooled connection), inside an activity attempt. */
  databaseWaitLimits: { lockWaitTimeoutS: number; acquireTimeoutMs: number };
  temporal: { address: string; namespace: string; paymentsTaskQueue: string; notificationsTaskQueue: string };
  /** The listener; a client gets headersTimeoutMs to send its headers and requestTimeoutMs for the whole request (slow senders are cut off). */
  http: { host: string; port: number; trustProxy: boolean; headersTimeoutMs: number; requestTimeoutMs: number };
  jwt: { secret: string; issuer: string; audience: string; ttlSeconds: number };
  /**
   * Web sessions: how long a refresh token lives (each use rotates it and starts a new term), how
   * long a token just rotated still answers with its successor (two tabs refreshing at once; 0
   * turns that off), and whether the cookie is marked `Secure` (by default only in production,
   * where the API is served over HTTPS).
   */
  session: { refreshTtlSeconds: number; reuseGraceSeconds: number; cookieSecure: boolean };
  money: { feeBps: number; promoCredit: number; defaultCurrency: string; currencies: string[]; maxAmount: number };
  /**
   * How many clearing and fee accounts each currency has (1–64): a saga moves money through the
   * ones of its shard, so sagas of one currency do not all queue on one account row's lock.
   */
  ledgerSystemShards: number;
  paymentSyncWaitMs: number;
  /** How long the API lets in-flight requests finish after SIGTERM: the sync wait plus a margin, so no waiting client is cut off. */
  apiShutdownGraceMs: number;
  /** Most a person may pay and send together (one limit across payments and transfers) in one currency over the last 24 hours (minor units). */
  paymentDailyLimit: number;
  stuckAfterMs: number;
  /**
   * The recovery of sagas whose row was committed but whose workflow never started: every
   * `intervalMs`, rows older than `minAgeMs` are started, or failed `expired` past `expireAfterMs`.
   */
  sagaRecovery: { enabled: boolean; intervalMs: number; minAgeMs: number; expireAfterMs: number };
  smtpUrl: string;
  /** The From of every e-mail, e.g. `SagaPay <notifications@example.com>`. */
  mailFrom: string;
  /** Lets webhook URLs point at loopback and private addresses (development and tests only). */
  webhookAllowPrivate: boolean;
  /**
   * The delivery dispatcher of each notifications worker: most sends at once, how long it sleeps
   * when nothing is due, and how long a claimed e-mail or webhook event stays its own (a worker
   * that dies mid-send leaves it to the others after that).
   */
  delivery: { concurrency: number; pollIntervalMs: number; leaseMs: number };
  sagaFaultsEnabled: boolean;
  logLevel: Environment['LOG_LEVEL'];
  /** `json` lines (the default, for machines) or `pretty` (colored, for a person at a terminal). */
  logFormat: Environment['LOG_FORMAT'];
  /** Per-key request limits; null turns one off. Counted in Redis when `redisUrl` is set, else in the database. */
  rateLimits: {
    loginPerIp: RateLimitRule | null;
    loginPerEmail: RateLimitRule | null;
    registerPerIp: RateLimitRule | null;
    moneyPerUser: RateLimitRule | null;
    /** `GET /v1/recipients` per user and per client IP: each answer says whether a handle or e-mail exists. */
    recipientsPerUser: RateLimitRule | null;
    recipientsPerIp: RateLimitRule | null;
  };
  redisUrl: string | undefined;
  /** Where each worker process serves the Temporal SDK's Prometheus metrics; port 0 turns it off. */
  workerMetrics: { host: string; paymentsPort: number; notificationsPort: number; portOverride: number | undefined };
  /** How long a stopping worker lets in-flight activities finish before cancelling them. */
  workerShutdownGraceMs: number;
  /**
   * The web wallet the API serves at `/`: the folder of its built files (undefined: the project's
   * `dist/web`) and the Temporal Web UI its admin pages link sagas to.
   */
  web: { directory: string | undefined; temporalUiUrl: string };
  /** The risk check's rules (a limit of 0 turns its rule off) and how long a payment waits in review. */
  risk: RiskRules;
  /** How much a worker process does at once, and how many workflows it keeps in memory (sticky execution). */
  workerTuning: WorkerTuning;
}

/** A worker's capacity: its workflow cache and its task slots (each slot is one task in progress). */
export interface WorkerTuning {
  /** Workflows kept in memory between tasks, so their next task needs no replay; 0 turns sticky execution off. */
  maxCachedWorkflows: number;
  workflowTaskSlots: number;
  activitySlots: number;
  /** Local activities in progress: a money saga's database steps (each holds one pooled connection while it runs). */
  localActivitySlots: number;
}

/** Raised when the environment is invalid; the message lists every bad variable. */
export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((problem) => `  - ${problem}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

/** What the calling process does with the configuration, where that changes what is valid. */
export interface LoadOptions {
  /**
   * This process signs and checks access tokens (the API): outside NODE_ENV=test it needs a
   * JWT_SECRET of its own, never the public example one. Workers and scripts never touch tokens.
   */
  signsTokens?: boolean;
}

/** Reads and validates the environment once; throws ConfigError naming each bad variable. */
export function loadConfig(source: NodeJS.ProcessEnv = process.env, options: LoadOptions = {}): Config {
  const present = Object.fromEntries(Object.entries(source).filter(([, value]) => value !== undefined && value !== ''));
  const parsed = environmentSchema.safeParse(present);
  if (!parsed.success) {
    throw new ConfigError(parsed.error.issues.map((issue) => `${issue.path.join('.') || '(environment)'} ${issue.message}`));
  }
  const env = parsed.data;
  if (options.signsTokens && env.NODE_ENV === 'development' && env.JWT_SECRET === DEVELOPMENT_JWT_SECRET) {
    throw new ConfigError([
      `JWT_SECRET ${present.JWT_SECRET === undefined ? 'is not set' : 'is the public example value'}: anyone could sign tokens with it. ` +
        'Set a random one of 32+ characters (openssl rand -hex 32); npm run dev makes one in .data/jwt-secret',
    ]);
  }
  return {
    nodeEnv: env.NODE_ENV,
    databaseUrl: env.DATABASE_URL,
    databasePoolMax: env.DATABASE_POOL_MAX,
    databaseWaitLimits: { lockWaitTimeoutS: env.DATABASE_LOCK_WAIT_TIMEOUT_S, acquireTimeoutMs: env.DATABASE_ACQUIRE_TIMEOUT_MS },
    temporal: {
      address: env.TEMPORAL_ADDRESS,
      namespace: env.TEMPORAL_NAMESPACE,
      paymentsTaskQueue: env.TASK_QUEUE_PAYMENTS,
      notificationsTaskQueue: env.TASK_QUEUE_NOTIFICATIONS,
    },
    http: {
      host: env.HOST,
      port: env.PORT,
      trustProxy: env.TRUST_PROXY,
      headersTimeoutMs: env.HTTP_HEADERS_TIMEOUT_MS,
      requestTimeoutMs: env.HTTP_REQUEST_TIMEOUT_MS,
    },
    jwt: { secret: env.JWT_SECRET, issuer: env.JWT_ISSUER, audience: env.JWT_AUDIENCE, ttlSeconds: env.JWT_TTL_SECONDS },
    session: {
      refreshTtlSeconds: env.REFRESH_TOKEN_TTL_SECONDS,
      reuseGraceSeconds: env.REFRESH_REUSE_GRACE_SECONDS,
      cookieSecure: env.REFRESH_COOKIE_SECURE === undefined ? env.NODE_ENV === 'production' : env.REFRESH_COOKIE_SECURE === 'true',
    },
    money: {
      feeBps: env.FEE_BPS,
      promoCredit: env.PROMO_CREDIT,
      defaultCurrency: env.DEFAULT_CURRENCY,
      currencies: env.CURRENCIES,
      maxAmount: env.MAX_AMOUNT,
    },
    ledgerSystemShards: env.LEDGER_SYSTEM_SHARDS,
    paymentSyncWaitMs: env.PAYMENT_SYNC_WAIT_MS,
    apiShutdownGraceMs: env.PAYMENT_SYNC_WAIT_MS + API_SHUTDOWN_MARGIN_MS,
    paymentDailyLimit: env.PAYMENT_DAILY_LIMIT,
    stuckAfterMs: env.STUCK_AFTER_MS,
    sagaRecovery: {
      enabled: env.SAGA_RECOVERY,
      intervalMs: env.SAGA_RECOVERY_INTERVAL_MS,
      minAgeMs: env.SAGA_RECOVERY_MIN_AGE_MS,
      expireAfterMs: env.SAGA_START_EXPIRES_AFTER_MS,
    },
    smtpUrl: env.SMTP_URL,
    mailFrom: env.MAIL_FROM,
    webhookAllowPrivate: env.WEBHOOK_ALLOW_PRIVATE,
    delivery: { concurrency: env.DELIVERY_CONCURRENCY, pollIntervalMs: env.DELIVERY_POLL_INTERVAL_MS, leaseMs: env.DELIVERY_LEASE_MS },
    sagaFaultsEnabled: env.SAGA_FAULTS === 'enabled',
    logLevel: env.LOG_LEVEL,
    logFormat: env.LOG_FORMAT,
    rateLimits: {
      loginPerIp: env.RATE_LIMIT_LOGIN_PER_IP,
      loginPerEmail: env.RATE_LIMIT_LOGIN_PER_EMAIL,
      registerPerIp: env.RATE_LIMIT_REGISTER_PER_IP,
      moneyPerUser: env.RATE_LIMIT_MONEY_PER_USER,
      recipientsPerUser: env.RATE_LIMIT_RECIPIENTS_PER_USER,
      recipientsPerIp: env.RATE_LIMIT_RECIPIENTS_PER_IP,
    },
    redisUrl: env.REDIS_URL,
    workerMetrics: {
      host: env.METRICS_HOST,
      paymentsPort: env.METRICS_PORT_PAYMENTS_WORKER,
      notificationsPort: env.METRICS_PORT_NOTIFICATIONS_WORKER,
      portOverride: env.WORKER_METRICS_PORT,
    },
    workerShutdownGraceMs: env.WORKER_SHUTDOWN_GRACE_MS,
    web: { directory: env.WEB_APP_DIR, temporalUiUrl: env.TEMPORAL_UI_URL.replace(/\/+$/, '') },
    risk: {
      velocityMaxCount: env.RISK_VELOCITY_MAX_COUNT,
      velocityMaxAmount: env.RISK_VELOCITY_MAX_AMOUNT,
      velocityWindowMs: env.RISK_VELOCITY_WINDOW_MS,
      newAccountAgeMs: env.RISK_NEW_ACCOUNT_AGE_MS,
      newAccountMaxAmount: env.RISK_NEW_ACCOUNT_MAX_AMOUNT,
      newRecipientReviewAmount: env.RISK_NEW_RECIPIENT_REVIEW_AMOUNT,
      reviewTimeoutMs: env.RISK_REVIEW_TIMEOUT_MS,
    },
    workerTuning: {
      maxCachedWorkflows: env.WORKER_MAX_CACHED_WORKFLOWS,
      workflowTaskSlots: env.WORKER_WORKFLOW_TASK_SLOTS,
      activitySlots: env.WORKER_ACTIVITY_SLOTS,
      localActivitySlots: env.WORKER_LOCAL_ACTIVITY_SLOTS,
    },
  };
}
