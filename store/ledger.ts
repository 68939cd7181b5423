import type { Knex } from 'knex';
import { DomainError, ErrorType } from '../domain/errors';
import { newId } from '../domain/ids';
import { assertSafeInteger, toSafeInteger } from '../domain/money';
import { assertShardCount, DEFAULT_LEDGER_SYSTEM_SHARDS, SHARDED_SYSTEM_ACCOUNT_KINDS } from '../domain/ledger-shards';
import { systemAccountId, systemAccountKey, type AccountKind, type EntryType, type SystemAccountKind } from '../domain/types';
import { inTransaction } from './transactions';

/** One side of a journal: a signed amount on one account (+ credit, − debit). */
export interface PostingLine {
  accountId: string;
  amount: number;
  type: EntryType;
}

/** A balanced money movement with a unique key; posting the same key twice moves money once. */
export interface JournalRequest {
  key: string;
  type: string;
  referenceId: string;
  lines: PostingLine[];
  /** Accounts that must be active (not frozen) for this movement; compensations pass none. */
  requireActive?: string[];
  /**
   * Changes to accounts' held money, posted with the journal: a saga holds what it
   * credits until it finishes, and its compensation takes back the hold with the money.
   */
  holds?: Array<{ accountId: string; amount: number }>;
}

/** What a posting recorded (or had recorded, when `replayed`). */
export interface PostedJournal {
  journalId: string;
  key: string;
  replayed: boolean;
  entries: Array<{ id: string; accountId: string; amount: number; balanceAfter: number }>;
}

interface LockedAccount {
  id: string;
  kind: AccountKind;
  currency: string;
  balance: number;
  held: number;
  status: 'active' | 'frozen';
}

const SYSTEM_ACCOUNT_KINDS: readonly SystemAccountKind[] = ['external', 'promotions', 'fees', 'clearing'];
const MAX_LINES = 16;
const MAX_KEY_LENGTH = 191;

/**
 * Creates the platform's system accounts for each currency, once: one `external` and one
 * `promotions` account, and `shards` clearing and fee accounts (shards 0 … shards − 1). Safe to run
 * by every process at every start: rows that exist are left alone, so raising the count adds
 * shards and lowering it removes none (a saga in flight may still hold money on a higher one).
 */
export async function ensureSystemAccounts(db: Knex, currencies: readonly string[], shards: number = DEFAULT_LEDGER_SYSTEM_SHARDS): Promise<void> {
  assertShardCount(shards);
  const now = new Date();
  const rows = currencies.flatMap((currency) =>
    SYSTEM_ACCOUNT_KINDS.flatMap((kind) =>
      shardNumbers(kind, shards).map((shard) => ({
        id: systemAccountId(kind, currency, shard),
        kind,
        shard,
        user_id: null,
        system_key: systemAccountKey(kind, currency, shard),
        currency,
        balance: 0,
        held: 0,
        status: 'active' as const,
        created_at: now,
        updated_at: now,
      })),
    ),
  );
  // Usually every one exists already: then nothing is written and no lock taken. Workers starting
  // together may both insert the missing ones; their duplicate-key checks can deadlock, so retry.
  const existing = new Set((await db('accounts').select('id').whereIn('id', rows.map((row) => row.id))).map((row) => String(row.id)));
  const missing = rows.filter((row) => !existing.has(row.id));
  if (missing.length === 0) return;
  await inTransaction(db, async (trx) => {
    await trx('accounts').insert(missing).onConflict('id').ignore();
  });
}

function shardNumbers(kind: SystemAccountKind, shards: number): number[] {
  const sharded = (SHARDED_SYSTEM_ACCOUNT_KINDS as readonly SystemAccountKind[]).includes(kind);
  return Array.from({ length: sharded ? shards : 1 }, (_, shard) => shard);
}

/**
 * Posts a balanced journal atomically and idempotently.
 *
 * One short transaction: lock the touched accounts in ascending id order (so two
 * postings never deadlock on each other), look for the key, check the rules,
 * insert the journal and its entries, update the balances. A key that was
 * already posted returns what was recorded, so retries are safe. Pass `trx` to
 * post inside a caller's transaction (e.g. with its idempotency row).
 */
export async function postJournal(db: Knex, request: JournalRequest, trx?: Knex.Transaction): Promise<PostedJournal> {
  assertBalanced(request);
  if (trx) return postInTransaction(trx, request);
  try {
    return await inTransaction(db, (own) => postInTransaction(own, request));
  } catch (error) {
    if (isDuplicateKey(error)) return readPostedJournal(db, request);
    throw error;
  }
}

/**
 * Checks the key and the lines. A line of 0 is allowed (a refund that is all fee takes nothing
 * from the merchant) and is left out of the journal; at least two lines must still move money,
 * since a journal that moves nothing is a caller's mistake and one line cannot balance.
 */
function assertBalanced(request: JournalRequest): void {
  if (request.key.length === 0 || request.key.length > MAX_KEY_LENGTH) {
    throw new RangeError(`journal key must be 1–${MAX_KEY_LENGTH} characters`);
  }
  if (request.lines.length > MAX_LINES) throw new RangeError(`a journal has at most ${MAX_LINES} lines, got ${request.lines.length}`);
  let sum = 0;
  for (const line of request.lines) {
    assertSafeInteger(line.amount, `amount of ${line.accountId}`);
    sum += line.amount;
  }
  const moving = movingLines(request).length;
  if (moving < 2) throw new RangeError(`a journal has 2 or more lines that move money, got ${moving}`);
  if (sum !== 0) throw new DomainError(ErrorType.UnbalancedJournal, `journal ${request.key} sums to ${sum}, not 0`);
}

/** The lines that move money: those that get an entry. */
function movingLines(request: JournalRequest): PostingLine[] {
  return request.lines.filter((line) => line.amount !== 0);
}

async function postInTransaction(trx: Knex.Transaction, request: JournalRequest): Promise<PostedJournal> {
  const accountIds = [...new Set(request.lines.map((line) => line.accountId))].sort();
  const accounts = await lockAccounts(trx, accountIds);
  const existing = await findJournal(trx, request.key);
  if (existing) return existing;

  const balances = new Map(accounts.map((account) => [account.id, account]));
  checkRules(request, accountIds, balances);

  const now = new Date();
  const journalId = newId('jnl');
  await trx('journals').insert({
    id: journalId,
    journal_key: request.key,
    type: request.type,
    reference_id: request.referenceId,
    created_at: now,
  });
  // Lines of 0 get no entry; their accounts were still locked and judged by the rules above.
  const lines = movingLines(request);
  const entries: PostedJournal['entries'] = [];
  for (const line of lines) {
    const account = balances.get(line.accountId);
    if (!account) throw new Error(`account ${line.accountId} vanished mid-transaction`);
    account.balance += line.amount;
    assertSafeInteger(account.balance, `balance of ${account.id}`);
    entries.push({ id: newId('txn'), accountId: account.id, amount: line.amount, balanceAfter: account.balance });
  }
  await trx('entries').insert(
    entries.map((entry, index) => ({
      id: entry.id,
      journal_id: journalId,
      account_id: entry.accountId,
      amount: entry.amount,
      balance_after: entry.balanceAfter,
      type: lines[index]?.type ?? 'reversal',
      reference_id: request.referenceId,
      created_at: now,
    })),
  );
  for (const hold of request.holds ?? []) {
    const account = balances.get(hold.accountId);
    if (account) account.held += hold.amount;
  }
  for (const accountId of accountIds) {
    const account = balances.get(accountId);
    if (account) await trx('accounts').where({ id: accountId }).update({ balance: account.balance, held: account.held, updated_at: now });
  }
  return { journalId, key: request.key, replayed: false, entries };
}

async function lockAccounts(trx: Knex.Transaction, accountIds: string[]): Promise<LockedAccount[]> {
  const rows = await trx('accounts')
    .select('id', 'kind', 'currency', 'balance', 'held', 'status')
    .whereIn('id', accountIds)
    .orderBy('id', 'asc')
    .forUpdate();
  return rows.map((row) => ({
    id: row.id,
    kind: row.kind,
    currency: row.currency,
    balance: toSafeInteger(row.balance, 'balance'),
    held: toSafeInteger(row.held, 'held'),
    status: row.status,
  }));
}

function checkRules(request: JournalRequest, accountIds: string[], accounts: Map<string, LockedAccount>): void {
  for (const accountId of accountIds) {
    if (!accounts.has(accountId)) throw new DomainError(ErrorType.AccountNotFound, `account ${accountId} does not exist`);
  }
  const currencies = new Set([...accounts.values()].map((account) => account.currency));
  if (currencies.size !== 1) {
    throw new DomainError(ErrorType.CurrencyMismatch, `journal ${request.key} mixes currencies ${[...currencies].join(', ')}`);
  }
  for (const accountId of request.requireActive ?? []) {
    if (accounts.get(accountId)?.status === 'frozen') {
      throw new DomainError(ErrorType.WalletFrozen, `wallet ${accountId} is frozen`);
    }
  }
  const balanceAfter = new Map([...accounts.values()].map((account) => [account.id, account.balance]));
  const heldAfter = new Map([...accounts.values()].map((account) => [account.id, account.held]));
  for (const line of request.lines) balanceAfter.set(line.accountId, (balanceAfter.get(line.accountId) ?? 0) + line.amount);
  for (const hold of request.holds ?? []) {
    if (!accounts.has(hold.accountId)) throw new Error(`hold on ${hold.accountId}, which the journal does not touch`);
    heldAfter.set(hold.accountId, (heldAfter.get(hold.accountId) ?? 0) + hold.amount);
  }
  for (const [accountId, balance] of balanceAfter) {
    const held = heldAfter.get(accountId) ?? 0;
    if (held < 0) throw new Error(`hold of ${accountId} would go below zero`);
    // A wallet never goes negative, and never spends what an unfinished saga holds.
    if (accounts.get(accountId)?.kind === 'wallet' && balance < held) {
      throw new DomainError(ErrorType.InsufficientFunds, `wallet ${accountId} has insufficient funds`);
    }
  }
}

/** The journal posted under `key`, as a replayed posting answers it; null when none was. */
export async function findJournal(db: Knex | Knex.Transaction, key: string): Promise<PostedJournal | null> {
  const journal = await db('journals').select('id').where({ journal_key: key }).first();
  if (!journal) return null;
  const rows = await db('entries')
    .select('id', 'account_id', 'amount', 'balance_after')
    .where({ journal_id: journal.id })
    .orderBy('seq', 'asc');
  return {
    journalId: journal.id,
    key,
    replayed: true,
    entries: rows.map((row) => ({
      id: row.id,
      accountId: row.account_id,
      amount: toSafeInteger(row.amount, 'amount'),
      balanceAfter: toSafeInteger(row.balance_after, 'balance_after'),
    })),
  };
}

async function readPostedJournal(db: Knex, request: JournalRequest): Promise<PostedJournal> {
  const existing = await findJournal(db, request.key);
  if (!existing) throw new Error(`journal ${request.key} hit a duplicate key but cannot be read back`);
  return existing;
}

/** Releases money a finished saga held on a wallet, inside the caller's transaction (which makes it happen once). */
export async function releaseHold(trx: Knex.Transaction, accountId: string, amount: number): Promise<void> {
  assertSafeInteger(amount, 'hold amount');
  const row = await trx('accounts').select('held').where({ id: accountId }).forUpdate().first();
  if (!row) throw new DomainError(ErrorType.AccountNotFound, `account ${accountId} does not exist`);
  const held = toSafeInteger(row.held, 'held') - amount;
  if (held < 0) throw new Error(`releasing ${amount} from ${accountId} would take its hold below zero`);
  await trx('accounts').where({ id: accountId }).update({ held, updated_at: new Date() });
}

/** True for MySQL's duplicate-key error (a unique constraint settled a race). */
export function isDuplicateKey(error: unknown): boolean {
  return typeof error === 'object' && error !== null && (error as { code?: unknown }).code === 'ER_DUP_ENTRY';
}
