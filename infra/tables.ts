import type { Knex } from 'knex';

/**
 * Row types of every table, so knex queries are typed. BIGINT columns arrive as
 * numbers while they are safe integers and as decimal strings past that
 * (mysql2 `supportBigNumbers`); readers pass them through `toSafeInteger`.
 */
type BigIntColumn = number | string;

export interface UserRow {
  seq: BigIntColumn;
  id: string;
  email: string;
  password_hash: string;
  name: string;
  phone: string | null;
  role: 'customer' | 'merchant' | 'admin';
  currency: string;
  onboarding_status: 'pending' | 'completed';
  /** Carried by every access and refresh token; bumped to make all older ones stop working. */
  token_version: number;
  /** A closed account keeps its row (the ledger names it) but can no longer log in. */
  status: 'active' | 'closed';
  closed_at: Date | null;
  created_at: Date;
  updated_at: Date;
}

/** One refresh token of a web session, stored only as its SHA-256 hash. */
export interface RefreshTokenRow {
  seq: BigIntColumn;
  id: string;
  token_hash: Buffer;
  /** The login this token descends from by rotation; reuse of a rotated token revokes the whole family. */
  family_id: string;
  user_id: string;
  token_version: number;
  expires_at: Date;
  /** Set when this token was exchanged for its successor; presenting it again is reuse. */
  rotated_at: Date | null;
  revoked_at: Date | null;
  created_at: Date;
  /** The token this one was rotated to (null until rotated). */
  successor_id?: string | null;
  /**
   * That successor sealed with a key only this token's holder can derive (AES-256-GCM): what a
   * repeat within the grace window answers with. Never the token in plain text.
   */
  successor_sealed?: Buffer | null;
}

export interface AccountRow {
  seq: BigIntColumn;
  id: string;
  kind: 'wallet' | 'external' | 'promotions' | 'fees' | 'clearing';
  /** The number of a system account among its kind and currency (0 … LEDGER_SYSTEM_SHARDS − 1); null for wallets. */
  shard?: number | null;
  user_id: string | null;
  system_key: string | null;
  currency: string;
  balance: BigIntColumn;
  /** Credited by an unfinished saga: counted in `balance` but not spendable yet. */
  held: BigIntColumn;
  status: 'active' | 'frozen';
  created_at: Date;
  updated_at: Date;
}

export interface JournalRow {
  seq: BigIntColumn;
  id: string;
  journal_key: string;
  type: string;
  reference_id: string;
  created_at: Date;
}

export interface EntryRow {
  seq: BigIntColumn;
  id: string;
  journal_id: string;
  account_id: string;
  amount: BigIntColumn;
  balance_after: BigIntColumn;
  type: string;
  reference_id: string;
  created_at: Date;
}

export interface IdempotencyKeyRow {
  seq: BigIntColumn;
  user_id: string;
  idempotency_key: string;
  request_hash: string;
  resource_type: string;
  resource_id: string;
  created_at: Date;
}

export interface TopupRow {
  seq: BigIntColumn;
  id: string;
  wallet_id: string;
  user_id: string;
  amount: BigIntColumn;
  currency: string;
  status: 'succeeded';
  journal_id: string;
  created_at: Date;
}

export interface NotificationRow {
  seq: BigIntColumn;
  id: string;
  user_id: string;
  type: string;
  channel: 'in_app' | 'email';
  title: string;
  body: string;
  data: string;
  status: string;
  attempts: number;
  dedupe_key: string;
  /** The notifications task queue whose dispatchers send this e-mail; null for in-app rows and rows of delivery workflows. The delivery columns have database defaults. */
  delivery_queue?: string | null;
  next_attempt_at?: Date | null;
  locked_until?: Date | null;
  last_error?: string | null;
  created_at: Date;
  updated_at: Date;
}

export interface AuditLogRow {
  seq: BigIntColumn;
  id: string;
  actor_id: string | null;
  action: string;
  resource_type: string;
  resource_id: string;
  data: string;
  created_at: Date;
}

export interface PaymentRow {
  seq: BigIntColumn;
  id: string;
  payer_id: string;
  source_wallet_id: string;
  merchant_id: string;
  merchant_wallet_id: string;
  amount: BigIntColumn;
  fee: BigIntColumn;
  net_amount: BigIntColumn;
  currency: string;
  description: string | null;
  status: 'pending' | 'processing' | 'in_review' | 'succeeded' | 'failed';
  failure_code: string | null;
  failure_message: string | null;
  /** For `risk_declined`: the rule that declined it. */
  failure_rule?: string | null;
  fault_step: string | null;
  workflow_id: string;
  /** Set when the saga began compensating; forward money steps refuse to run after it. */
  compensation_started_at: Date | null;
  /** The saga's first failure, written once with the compensating mark: what its `failed` ending keeps. */
  first_failure_step?: string | null;
  first_failure_code?: string | null;
  first_failure_message?: string | null;
  first_failure_rule?: string | null;
  created_at: Date;
  updated_at: Date;
}

export interface TransferRow {
  seq: BigIntColumn;
  id: string;
  sender_id: string;
  from_wallet_id: string;
  recipient_id: string;
  to_wallet_id: string;
  amount: BigIntColumn;
  currency: string;
  note: string | null;
  status: 'pending' | 'processing' | 'succeeded' | 'failed';
  failure_code: string | null;
  failure_message: string | null;
  /** For `risk_declined`: the rule that declined it. */
  failure_rule?: string | null;
  fault_step: string | null;
  workflow_id: string;
  /** Set when the saga began compensating; forward money steps refuse to run after it. */
  compensation_started_at: Date | null;
  /** The saga's first failure, written once with the compensating mark: what its `failed` ending keeps. */
  first_failure_step?: string | null;
  first_failure_code?: string | null;
  first_failure_message?: string | null;
  first_failure_rule?: string | null;
  created_at: Date;
  updated_at: Date;
}

export interface RefundRow {
  seq: BigIntColumn;
  id: string;
  payment_id: string;
  payer_id: string;
  source_wallet_id: string;
  merchant_id: string;
  merchant_wallet_id: string;
  amount: BigIntColumn;
  fee_refunded: BigIntColumn;
  net_amount: BigIntColumn;
  currency: string;
  reason: string | null;
  status: 'pending' | 'processing' | 'succeeded' | 'failed';
  failure_code: string | null;
  failure_message: string | null;
  fault_step: string | null;
  workflow_id: string;
  /** Set when the saga began compensating; forward money steps refuse to run after it. */
  compensation_started_at: Date | null;
  /** The saga's first failure, written once with the compensating mark: what its `failed` ending keeps. */
  first_failure_step?: string | null;
  first_failure_code?: string | null;
  first_failure_message?: string | null;
  first_failure_rule?: string | null;
  created_at: Date;
  updated_at: Date;
}

/** A handle held by a user (lower-case, without its `@`); releasing it deletes the row. */
export interface AliasRow {
  seq: BigIntColumn;
  alias: string;
  user_id: string;
  created_at: Date;
}

export interface SagaStepRow {
  seq: BigIntColumn;
  saga_id: string;
  name: string;
  status: 'completed' | 'failed' | 'compensated';
  at: Date;
}

/** A fixed-window counter of one rate limit key (see migrations/…_create_rate_limit_counters). */
export interface RateLimitCounterRow {
  bucket: string;
  window_start_ms: BigIntColumn;
  hits: number;
  expires_at: Date;
}

export interface WebhookEndpointRow {
  seq: BigIntColumn;
  id: string;
  merchant_id: string;
  url: string;
  /** The HMAC signing key: never logged, never in a workflow's input or result. */
  secret: string;
  created_at: Date;
  updated_at: Date;
}

export interface WebhookEventRow {
  seq: BigIntColumn;
  id: string;
  merchant_id: string;
  type: string;
  payload: string;
  dedupe_key: string;
  status: 'pending' | 'delivered' | 'failed';
  /** The notifications task queue whose dispatchers deliver this event; null for events of delivery workflows. */
  delivery_queue?: string | null;
  attempts?: number;
  next_attempt_at?: Date | null;
  locked_until?: Date | null;
  last_error?: string | null;
  created_at: Date;
  updated_at: Date;
}

export interface WebhookDeliveryRow {
  seq: BigIntColumn;
  id: string;
  event_id: string;
  merchant_id: string;
  event_type: string;
  url: string;
  attempt: number;
  status: 'pending' | 'succeeded' | 'failed';
  response_status: number | null;
  error: string | null;
  created_at: Date;
  updated_at: Date;
}

/** A table whose `seq` is generated by the database. */
/** A saga's risk verdict, once per saga and step; a review's deadline and how it ended. */
export interface RiskCheckRow {
  saga_id: string;
  step: string;
  saga_kind: string;
  outcome: 'allow' | 'review' | 'decline';
  rule: string | null;
  review_expires_at: Date | null;
  decision: 'approve' | 'decline' | 'timeout' | null;
  decided_by: string | null;
  decided_at: Date | null;
  created_at: Date;
}

/** An admin-kept blocklist entry: a user id, an e-mail address (lower case) or a merchant's user id. */
export interface RiskBlocklistRow {
  seq: BigIntColumn;
  id: string;
  kind: 'user' | 'email' | 'merchant';
  value: string;
  reason: string | null;
  created_by: string;
  created_at: Date;
}

type Table<Row extends { seq: BigIntColumn }> = Knex.CompositeTableType<Row, Omit<Row, 'seq'>, Partial<Omit<Row, 'seq'>>>;

declare module 'knex/types/tables' {
  interface Tables {
    users: Table<UserRow>;
    accounts: Table<AccountRow>;
    journals: Table<JournalRow>;
    entries: Table<EntryRow>;
    idempotency_keys: Table<IdempotencyKeyRow>;
    topups: Table<TopupRow>;
    notifications: Table<NotificationRow>;
    audit_log: Table<AuditLogRow>;
    payments: Table<PaymentRow>;
    saga_steps: Table<SagaStepRow>;
    webhook_endpoints: Table<WebhookEndpointRow>;
    webhook_events: Table<WebhookEventRow>;
    webhook_deliveries: Table<WebhookDeliveryRow>;
    transfers: Table<TransferRow>;
    refunds: Table<RefundRow>;
    aliases: Table<AliasRow>;
    rate_limit_counters: RateLimitCounterRow;
    refresh_tokens: Table<RefreshTokenRow>;
    risk_checks: RiskCheckRow;
    risk_blocklist: Table<RiskBlocklistRow>;
  }
}
