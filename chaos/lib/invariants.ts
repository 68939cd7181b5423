import type { Knex } from 'knex';
import { isFinalStatus } from '../../domain/payments';
import { MONEY_SAGA_KINDS, MONEY_SAGAS, type MoneySagaKind } from '../../domain/money-sagas';
import { reconcile, type ReconciliationReport } from '../../store/reconciliation';
import type { FaultName } from './schedule';
import type { OperationKind, OperationRecord } from './traffic';

/** One broken invariant: which check, where in the run, and what it saw. */
export interface Violation {
  check: string;
  /** The fault slot it belongs to; null: before the first fault or at the end. */
  fault: FaultName | null;
  detail: string;
}

/** Every check the run makes, for the report. */
export const CHECKS = {
  sumOfAllAccounts: 'the sum over all accounts is 0',
  unbalancedJournals: 'every journal sums to 0',
  walletsOutOfSync: 'every balance equals the sum of its entries (and held money is within it)',
  negativeUserWallets: 'no user wallet is negative',
  clearing: 'clearing holds exactly the money of the sagas in flight (per currency and per shard; holds too)',
  sagaJournals: 'each saga has its full set of journals, or a fully compensated net-zero set',
  unfinishedSagas: 'no saga is unfinished after the recovery window',
  apiStatus: "the API's status of each resource the client created (and the answer it got) matches the ledger",
  replays: 'replays of a key return the same resource and move no money',
  refusals: 'refused requests are refused with the contract’s code and create nothing',
  notifications: 'every notification promised is delivered once the faults stop',
} as const;

export type CheckName = keyof typeof CHECKS;

/** The violations a reconciliation report shows; stuck sagas only when `withStuck` (at the end). */
export function reconciliationViolations(report: ReconciliationReport, fault: FaultName | null, withStuck: boolean): Violation[] {
  const found: Violation[] = [];
  const add = (check: CheckName, detail: string) => found.push({ check, fault, detail });
  if (report.sumOfAllAccounts !== 0) add('sumOfAllAccounts', `the accounts sum to ${report.sumOfAllAccounts}`);
  if (report.unbalancedJournals > 0) add('unbalancedJournals', `${report.unbalancedJournals} journals do not sum to 0: ${report.samples.unbalancedJournals.join(', ')}`);
  if (report.walletsOutOfSync > 0) add('walletsOutOfSync', `${report.walletsOutOfSync} accounts differ from their entries: ${report.samples.walletsOutOfSync.join(', ')}`);
  if (report.negativeUserWallets > 0) add('negativeUserWallets', `${report.negativeUserWallets} negative wallets: ${report.samples.negativeUserWallets.join(', ')}`);
  const clearing = [...report.clearingMismatch, ...report.clearingShardMismatch];
  if (clearing.length > 0) add('clearing', `clearing against sagas in flight: ${JSON.stringify(clearing)}`);
  if (report.heldMismatch.length > 0) add('clearing', `held money against unreleased credits: ${JSON.stringify(report.heldMismatch)}`);
  if (report.offendingSagas.length > 0) add('sagaJournals', `money in clearing contradicts the saga's state: ${report.offendingSagas.join(', ')}`);
  if (withStuck && report.stuckSagas > 0) add('unfinishedSagas', `${report.stuckSagas} sagas unfinished: ${report.samples.stuckSagas.join(', ')}`);
  return found;
}

/** A money saga as the journal check reads it. */
export interface SagaRow {
  kind: MoneySagaKind;
  id: string;
  status: string;
}

/**
 * Per saga, from which step journals exist (`<sagaId>:<step>` keys): a succeeded saga has every
 * money step and no compensation; a failed one has the compensation of every money step it
 * posted; one still in flight is unfinished.
 */
export function sagaJournalViolations(sagas: readonly SagaRow[], postedKeys: ReadonlySet<string>): Violation[] {
  const found: Violation[] = [];
  for (const saga of sagas) {
    const steps = MONEY_SAGAS[saga.kind].moneySteps;
    const posted = (step: string) => postedKeys.has(`${saga.id}:${step}`);
    if (!isFinalStatus(saga.status)) {
      found.push({ check: 'unfinishedSagas', fault: null, detail: `${saga.kind} ${saga.id} is still ${saga.status}` });
    } else if (saga.status === 'succeeded') {
      const missing = steps.filter((step) => !posted(step.step)).map((step) => step.step);
      const undone = steps.filter((step) => posted(step.compensation.step)).map((step) => step.compensation.step);
      if (missing.length > 0 || undone.length > 0) {
        found.push({ check: 'sagaJournals', fault: null, detail: `${saga.kind} ${saga.id} succeeded without ${missing.join(', ') || '—'} / with ${undone.join(', ') || '—'}` });
      }
    } else {
      const open = steps.filter((step) => posted(step.step) !== posted(step.compensation.step)).map((step) => step.step);
      if (open.length > 0) found.push({ check: 'sagaJournals', fault: null, detail: `${saga.kind} ${saga.id} failed with ${open.join(', ')} not compensated (or a compensation without its step)` });
    }
  }
  return found;
}

/** One account's net over one saga's entries. */
export interface SagaNet {
  sagaId: string;
  accountId: string;
  net: number;
}

/** A failed saga must leave every account as it found it: any net other than 0 is money it kept or lost. */
export function netZeroViolations(nets: readonly SagaNet[]): Violation[] {
  return nets
    .filter((row) => row.net !== 0)
    .map((row) => ({ check: 'sagaJournals', fault: null, detail: `failed saga ${row.sagaId} left ${row.net} on ${row.accountId}` }));
}

/** Per failed saga and account, the net of its entries (only the non-zero ones). */
export async function failedSagaNets(db: Knex, failedIds: readonly string[]): Promise<SagaNet[]> {
  const nets: SagaNet[] = [];
  for (let start = 0; start < failedIds.length; start += 500) {
    const rows: Array<{ reference_id: string; account_id: string; net: unknown }> = await db('entries')
      .select('reference_id', 'account_id')
      .sum({ net: 'amount' })
      .whereIn('reference_id', failedIds.slice(start, start + 500))
      .groupBy('reference_id', 'account_id')
      .havingRaw('SUM(amount) <> 0');
    nets.push(...rows.map((row) => ({ sagaId: row.reference_id, accountId: row.account_id, net: Number(row.net) })));
  }
  return nets;
}

/** A resource as GET answered it at the end. */
export interface FinalResource {
  status: number;
  resourceStatus: string | null;
  failureCode: string | null;
}

const REFUSAL_STATUS = { bad_input: 400, unknown_recipient: 404 } as const;

/**
 * What the client saw of one operation against what the API says at the end: answered at all;
 * refusals with their status; every answer naming the same resource, at most one not a replay;
 * the final status final, matching the expectation and any final status an answer showed.
 */
export function recordViolations(record: OperationRecord, final: FinalResource | undefined): Violation[] {
  const found: Violation[] = [];
  const add = (check: CheckName, detail: string) => found.push({ check, fault: record.fault, detail: `${record.kind} #${record.seq} (${record.key}): ${detail}` });
  if (record.gaveUp || record.answers.length === 0) {
    add('apiStatus', 'never answered');
    return found;
  }
  if (record.expectation === 'bad_input' || record.expectation === 'unknown_recipient') {
    const expected = REFUSAL_STATUS[record.expectation];
    const wrong = record.answers.filter((answer) => answer.status !== expected || answer.resourceId !== null);
    if (wrong.length > 0) add('refusals', `expected ${expected}, got ${wrong.map((answer) => `${answer.status} ${answer.errorCode ?? ''}`.trim()).join(', ')}`);
    return found;
  }
  const refused = record.answers.filter((answer) => answer.status >= 300 || answer.resourceId === null);
  if (refused.length > 0) {
    add('apiStatus', `refused: ${refused.map((answer) => `${answer.status} ${answer.errorCode ?? ''}`.trim()).join(', ')}`);
    return found;
  }
  const ids = new Set(record.answers.map((answer) => answer.resourceId));
  if (ids.size > 1) add('replays', `one key answered ${ids.size} resources: ${[...ids].join(', ')}`);
  if (record.answers.filter((answer) => !answer.replayed).length > 1) add('replays', 'more than one answer was not marked Idempotent-Replayed');
  if (!final || final.status !== 200) {
    add('apiStatus', `GET answered ${final?.status ?? 'nothing'}`);
    return found;
  }
  if (!final.resourceStatus || !isFinalStatus(final.resourceStatus)) add('unfinishedSagas', `still ${final.resourceStatus ?? 'without status'}`);
  for (const answer of record.answers) {
    if (answer.resourceStatus && isFinalStatus(answer.resourceStatus) && answer.resourceStatus !== final.resourceStatus) {
      add('apiStatus', `an answer said ${answer.resourceStatus}, GET says ${final.resourceStatus ?? 'nothing'}`);
    }
  }
  if (record.expectation === 'insufficient_funds' || record.expectation === 'injected_fault') {
    if (final.resourceStatus !== 'failed' || final.failureCode !== record.expectation) add('apiStatus', `expected failed ${record.expectation}, GET says ${final.resourceStatus ?? '?'} ${final.failureCode ?? ''}`);
  }
  if (record.kind === 'topup' && final.resourceStatus !== 'succeeded') add('apiStatus', `a top-up ${final.resourceStatus ?? 'without status'}`);
  return found;
}

/** Rows of the run's users that no answer names: a request that moved money twice would leave one. */
export function unknownRows(kind: OperationKind, rowIds: readonly string[], answeredIds: ReadonlySet<string>): Violation[] {
  const extra = rowIds.filter((id) => !answeredIds.has(id));
  return extra.length === 0 ? [] : [{ check: 'replays', fault: null, detail: `${extra.length} ${kind} rows no answer names: ${extra.slice(0, 10).join(', ')}` }];
}

/** Where the notifications stand once the faults have stopped. */
export interface DeliveryCounts {
  emailsPending: number;
  emailsFailed: number;
  emailsSent: number;
  smtpReceived: number;
  webhooksPending: number;
  webhooksFailed: number;
  webhooksDelivered: number;
  /** Distinct event ids the receiver accepted. */
  webhooksReceived: number;
  /** Final money sagas of the run with no notification recorded. */
  sagasWithoutNotification: string[];
}

/** Every e-mail sent and received, every webhook event delivered and received, every final saga notified. */
export function deliveryViolations(counts: DeliveryCounts): Violation[] {
  const found: Violation[] = [];
  const add = (detail: string) => found.push({ check: 'notifications', fault: null, detail });
  if (counts.emailsPending > 0 || counts.emailsFailed > 0) add(`${counts.emailsPending} e-mails still pending, ${counts.emailsFailed} failed`);
  if (counts.smtpReceived < counts.emailsSent) add(`${counts.emailsSent} e-mails recorded sent, the SMTP sink received ${counts.smtpReceived}`);
  if (counts.webhooksPending > 0 || counts.webhooksFailed > 0) add(`${counts.webhooksPending} webhook events still pending, ${counts.webhooksFailed} failed`);
  if (counts.webhooksReceived < counts.webhooksDelivered) add(`${counts.webhooksDelivered} webhook events recorded delivered, the receiver accepted ${counts.webhooksReceived}`);
  if (counts.sagasWithoutNotification.length > 0) add(`${counts.sagasWithoutNotification.length} final sagas without a notification: ${counts.sagasWithoutNotification.slice(0, 10).join(', ')}`);
  return found;
}

/** The ledger checks of one sample during the run (a consistent snapshot; sagas in flight are not stuck yet). */
export async function sampleLedger(db: Knex, fault: FaultName | null): Promise<Violation[]> {
  const report = await reconcile(db, { stuckAfterMs: 7 * 86_400_000 });
  return reconciliationViolations(report, fault, false);
}

/** Every money saga row, with its status. */
export async function sagaRows(db: Knex): Promise<SagaRow[]> {
  const rows: SagaRow[] = [];
  for (const kind of MONEY_SAGA_KINDS) {
    const found = await db<{ id: string; status: string }>(MONEY_SAGAS[kind].table).select('id', 'status');
    rows.push(...found.map((row) => ({ kind, id: row.id, status: row.status })));
  }
  return rows;
}

/** The keys of every step journal of these sagas. */
export async function postedStepKeys(db: Knex, sagas: readonly SagaRow[]): Promise<Set<string>> {
  const keys = new Set<string>();
  for (let start = 0; start < sagas.length; start += 500) {
    const wanted = sagas.slice(start, start + 500).flatMap((saga) => MONEY_SAGAS[saga.kind].moneySteps.flatMap((step) => [`${saga.id}:${step.step}`, `${saga.id}:${step.compensation.step}`]));
    const found = (await db('journals').select('journal_key').whereIn('journal_key', wanted)) as Array<{ journal_key: string }>;
    for (const row of found) keys.add(row.journal_key);
  }
  return keys;
}

/** Sagas in flight now (any kind). */
export async function sagasInFlight(db: Knex, createdBefore?: Date): Promise<number> {
  let total = 0;
  for (const kind of MONEY_SAGA_KINDS) {
    const query = db(MONEY_SAGAS[kind].table).count({ count: '*' }).whereIn('status', ['pending', 'processing']);
    if (createdBefore) void query.andWhere('created_at', '<=', createdBefore);
    const row = (await query.first()) as { count: number | string } | undefined;
    total += Number(row?.count ?? 0);
  }
  return total;
}
