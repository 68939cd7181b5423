import type { Knex } from 'knex';

/** The MySQL errors after which a whole transaction may simply run again: contention, not a fault. */
const RETRYABLE_MYSQL_ERRORS = new Set(['ER_LOCK_DEADLOCK', 'ER_LOCK_WAIT_TIMEOUT']);
const MAX_TRANSACTION_ATTEMPTS = 5;
/**
 * No new attempt starts once this much time has passed since the first: with a lock wait of a
 * few seconds and a bounded pool wait, the last attempt still ends inside a 10 s activity attempt
 * and well inside an API request's patience.
 */
const TRANSACTION_RETRY_BUDGET_MS = 3_000;
/** The pause before attempt n + 1 is drawn from [0, min(cap, base · 2ⁿ)): full jitter, so two victims of one deadlock do not meet again. */
const BACKOFF_BASE_MS = 10;
const BACKOFF_CAP_MS = 200;

/** How a transaction runs: READ COMMITTED unless the caller needs another isolation level. */
export interface TransactionOptions {
  isolationLevel?: Knex.IsolationLevels;
}

/**
 * Runs `work` in a short transaction (READ COMMITTED by default), again from the start after a
 * jittered pause when InnoDB picks it as a deadlock victim or a lock wait times out, within a
 * bounded number of attempts and time. Everything `work` does must be in `trx`: a failed attempt
 * is rolled back whole, so running it again is safe. The last error is thrown when the bound is
 * reached; the API answers it 503 `service_unavailable`.
 */
export async function inTransaction<T>(db: Knex, work: (trx: Knex.Transaction) => Promise<T>, options: TransactionOptions = {}): Promise<T> {
  const startedAt = Date.now();
  const isolationLevel = options.isolationLevel ?? 'read committed';
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await db.transaction(work, { isolationLevel });
    } catch (error) {
      const budgetLeft = Date.now() - startedAt < TRANSACTION_RETRY_BUDGET_MS;
      if (attempt >= MAX_TRANSACTION_ATTEMPTS || !budgetLeft || !isContention(error)) throw error;
      await pause(Math.random() * Math.min(BACKOFF_CAP_MS, BACKOFF_BASE_MS * 2 ** attempt));
    }
  }
}

/** True for a deadlock or a lock wait timeout: the database was busy, nothing is wrong with the request. */
export function isContention(error: unknown): boolean {
  const code = typeof error === 'object' && error !== null ? (error as { code?: unknown }).code : undefined;
  return typeof code === 'string' && RETRYABLE_MYSQL_ERRORS.has(code);
}

function pause(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
