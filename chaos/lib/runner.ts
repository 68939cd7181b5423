import { setTimeout as sleep } from 'node:timers/promises';
import type { Knex } from 'knex';
import { describeMachine } from '../../bench/lib/machine';
import { seedPopulation, type BenchPopulation } from '../../bench/lib/seed';
import { newId } from '../../domain/ids';
import { reconcile } from '../../store/reconciliation';
import { injectFault } from './faults';
import {
  CHECKS,
  deliveryViolations,
  failedSagaNets,
  netZeroViolations,
  postedStepKeys,
  reconciliationViolations,
  recordViolations,
  sagaJournalViolations,
  sagaRows,
  sagasInFlight,
  sampleLedger,
  unknownRows,
  type CheckName,
  type DeliveryCounts,
  type FinalResource,
  type Violation,
} from './invariants';
import type { ChaosOptions } from './options';
import { seededRandom } from './random';
import { emptyTraffic, type ChaosResult, type FaultResult, type SlotTraffic } from './report';
import { DEFAULT_SCHEDULE_SETTINGS, planSchedule, type FaultName, type ScheduleSettings } from './schedule';
import { startChaosStack, type ChaosStack } from './stack';
import { Traffic, type OperationKind, type OperationRecord } from './traffic';

const SAMPLE_INTERVAL_MS = 5_000;
const PROGRESS_INTERVAL_MS = 5_000;
/** How long a fault's backlog may take to drain before the next fault comes anyway. */
const RECOVERY_WINDOW_MS = 90_000;
/** After the traffic: how long the sagas may take to finish, and the deliveries to go out. */
const DRAIN_TIMEOUT_MS = 120_000;
const DELIVERY_TIMEOUT_MS = 180_000;
const REPLAYS_AFTER_THE_FACT = 60;
const READ_BACK_CONCURRENCY = 8;

/** The run's pace: the schedule's warm-up and slots, and how long the steering faults last. */
export interface ChaosPace extends ScheduleSettings {
  steeringMs: number;
}

/** `npm run chaos`: 15 s of each steering fault, slots of at least 20 s. */
export const FULL_PACE: ChaosPace = { ...DEFAULT_SCHEDULE_SETTINGS, steeringMs: 15_000 };

/** Where the run is: what the sampler and the progress line read. */
interface RunState {
  fault: FaultName | null;
  violations: Violation[];
  samples: { taken: number; failed: number };
}

/** The path GET reads a record's resource at, or null for a top-up (read from its row). */
function resourcePath(record: OperationRecord, id: string): string | null {
  if (record.kind === 'payment') return `/v1/payments/${id}`;
  if (record.kind === 'transfer') return `/v1/transfers/${id}`;
  if (record.kind === 'refund') return `/v1/refunds/${id}`;
  return null;
}

/** Polls until `done` is true; answers the ms it took, or null at the deadline. Errors (a database down) count as not yet. */
async function timeUntil(done: () => Promise<boolean>, deadlineMs: number): Promise<number | null> {
  const startedAt = Date.now();
  while (Date.now() - startedAt < deadlineMs) {
    if (await done().catch(() => false)) return Date.now() - startedAt;
    await sleep(100);
  }
  return null;
}

/** Until /readyz answers 200, then until every saga created before `endedAt` is final. */
async function measureRecovery(stack: ChaosStack, endedAt: Date): Promise<{ apiMs: number | null; backlogMs: number | null }> {
  const apiMs = await timeUntil(async () => (await fetch(`${stack.apiUrl}/readyz`, { signal: AbortSignal.timeout(2_000) })).status === 200, RECOVERY_WINDOW_MS);
  const drained = await timeUntil(async () => (await sagasInFlight(stack.db, endedAt)) === 0, RECOVERY_WINDOW_MS);
  return { apiMs, backlogMs: drained === null ? null : Date.now() - endedAt.getTime() };
}

/** The traffic of the records started in one slot. */
function slotTraffic(records: readonly OperationRecord[]): SlotTraffic {
  const traffic = emptyTraffic();
  for (const record of records) {
    traffic.operations[record.kind] += 1;
    if (record.expectation === 'injected_fault') traffic.drilled += 1;
    else if (record.expectation !== 'accepted') traffic.refusals += 1;
    if (record.retries > 0) traffic.retried += 1;
    traffic.http5xx += record.http5xx;
    traffic.http500 += record.http500;
    traffic.http503 += record.http503;
    traffic.http503WithoutRetryAfter += record.http503WithoutRetryAfter;
  }
  return traffic;
}

/** Samples the ledger every few seconds until `signal` aborts. */
async function sampleWhileRunning(db: Knex, state: RunState, signal: AbortSignal): Promise<void> {
  while (!signal.aborted) {
    await sleep(SAMPLE_INTERVAL_MS, undefined, { signal }).catch(() => undefined);
    if (signal.aborted) return;
    try {
      state.violations.push(...(await sampleLedger(db, state.fault)));
      state.samples.taken += 1;
    } catch {
      state.samples.failed += 1;
    }
  }
}

/** Reads every resource the client created back through the API (top-ups from their rows). */
async function readBack(stack: ChaosStack, records: readonly OperationRecord[]): Promise<Map<OperationRecord, FinalResource>> {
  const finals = new Map<OperationRecord, FinalResource>();
  const queue = records.filter((record) => record.answers.some((answer) => answer.resourceId !== null));
  const worker = async () => {
    for (let record = queue.shift(); record; record = queue.shift()) {
      const id = record.answers.find((answer) => answer.resourceId !== null)?.resourceId as string;
      const path = resourcePath(record, id);
      if (path === null) {
        const row = (await stack.db('topups').select('status').where({ id }).first()) as { status: string } | undefined;
        finals.set(record, { status: row ? 200 : 404, resourceStatus: row?.status ?? null, failureCode: null });
        continue;
      }
      const response = await fetch(`${stack.apiUrl}${path}`, { headers: { authorization: `Bearer ${record.token}` } });
      const body = (await response.json()) as { status?: string; failure?: { code?: string } | null };
      finals.set(record, { status: response.status, resourceStatus: body.status ?? null, failureCode: body.failure?.code ?? null });
    }
  };
  await Promise.all(Array.from({ length: READ_BACK_CONCURRENCY }, worker));
  return finals;
}

const TABLE_OF: Record<OperationKind, string> = { payment: 'payments', transfer: 'transfers', refund: 'refunds', topup: 'topups' };

/** Checks that every row is named by some answer (a duplicate would not be). */
async function rowsNamedByAnswers(db: Knex, records: readonly OperationRecord[]): Promise<Violation[]> {
  const found: Violation[] = [];
  for (const kind of Object.keys(TABLE_OF) as OperationKind[]) {
    const answered = new Set(records.filter((record) => record.kind === kind).flatMap((record) => record.answers.map((answer) => answer.resourceId ?? '')));
    const rows = await db<{ id: string }>(TABLE_OF[kind]).select('id');
    found.push(...unknownRows(kind, rows.map((row) => row.id), answered));
  }
  return found;
}

async function journalCount(db: Knex): Promise<number> {
  const row = (await db('journals').count({ count: '*' }).first()) as { count: number | string } | undefined;
  return Number(row?.count ?? 0);
}

/** Replays a sample of answered keys once everything is final: the same resource, marked replayed, and not one journal more. */
async function replayAfterTheFact(stack: ChaosStack, traffic: Traffic, seed: number): Promise<{ replayed: number; violations: Violation[] }> {
  const random = seededRandom(seed + 1);
  const answered = traffic.records.filter((record) => record.answers.some((answer) => answer.status < 300 && answer.resourceId !== null));
  const sample = Array.from({ length: Math.min(REPLAYS_AFTER_THE_FACT, answered.length) }, () => answered.splice(random.int(answered.length), 1)[0] as OperationRecord);
  const before = await journalCount(stack.db);
  const violations: Violation[] = [];
  for (const record of sample) {
    const first = record.answers[0];
    const answer = await traffic.replay(record);
    if (!answer || answer.resourceId !== first?.resourceId || !answer.replayed) {
      violations.push({ check: 'replays', fault: null, detail: `${record.kind} ${record.key}: a replay answered ${answer ? `${answer.status} ${answer.resourceId ?? ''} replayed=${answer.replayed}` : 'nothing'} (first: ${first?.resourceId ?? '?'})` });
    }
  }
  const after = await journalCount(stack.db);
  if (after !== before) violations.push({ check: 'replays', fault: null, detail: `replays after the fact posted ${after - before} journals` });
  return { replayed: sample.length, violations };
}

/** Waits until no e-mail or webhook event is pending, then compares what was recorded with what arrived. */
async function checkDeliveries(stack: ChaosStack, sagaIds: readonly string[]): Promise<{ counts: DeliveryCounts; drainedMs: number | null; violations: Violation[] }> {
  const countWhere = async (table: string, where: Record<string, string>) =>
    Number(((await stack.db(table).count({ count: '*' }).where(where).first()) as { count: number | string } | undefined)?.count ?? 0);
  const drainedMs = await timeUntil(
    async () => (await countWhere('notifications', { channel: 'email', status: 'pending' })) + (await countWhere('webhook_events', { status: 'pending' })) === 0,
    DELIVERY_TIMEOUT_MS,
  );
  const [notifiedRows] = (await stack.db.raw("SELECT DISTINCT SUBSTRING_INDEX(dedupe_key, ':', 1) AS saga FROM notifications")) as [Array<{ saga: string }>];
  const notified = new Set(notifiedRows.map((row) => row.saga));
  const counts: DeliveryCounts = {
    emailsPending: await countWhere('notifications', { channel: 'email', status: 'pending' }),
    emailsFailed: await countWhere('notifications', { channel: 'email', status: 'failed' }),
    emailsSent: await countWhere('notifications', { channel: 'email', status: 'sent' }),
    smtpReceived: stack.smtp.received(),
    webhooksPending: await countWhere('webhook_events', { status: 'pending' }),
    webhooksFailed: await countWhere('webhook_events', { status: 'failed' }),
    webhooksDelivered: await countWhere('webhook_events', { status: 'delivered' }),
    webhooksReceived: new Set(stack.webhooks.accepted().map((request) => request.event.id)).size,
    sagasWithoutNotification: sagaIds.filter((id) => !notified.has(id)),
  };
  return { counts, drainedMs, violations: deliveryViolations(counts) };
}

/** Every check of the end: the ledger, the sagas' journals, what the API says, replays, deliveries. */
async function checkAtTheEnd(
  stack: ChaosStack,
  traffic: Traffic,
  options: ChaosOptions,
  say: (line: string) => void,
): Promise<{ violations: Violation[]; readBack: number; replayed: number; deliveries: ChaosResult['deliveries'] }> {
  const violations: Violation[] = [];
  say('Checking the ledger…');
  violations.push(...reconciliationViolations(await reconcile(stack.db, { stuckAfterMs: 1_000 }), null, true));
  const sagas = await sagaRows(stack.db);
  violations.push(...sagaJournalViolations(sagas, await postedStepKeys(stack.db, sagas)));
  violations.push(...netZeroViolations(await failedSagaNets(stack.db, sagas.filter((saga) => saga.status === 'failed').map((saga) => saga.id))));
  say(`Reading back ${traffic.records.length} operations through the API…`);
  const finals = await readBack(stack, traffic.records);
  for (const record of traffic.records) violations.push(...recordViolations(record, finals.get(record)));
  violations.push(...(await rowsNamedByAnswers(stack.db, traffic.records)));
  say('Replaying keys after the fact…');
  const replays = await replayAfterTheFact(stack, traffic, options.seed);
  violations.push(...replays.violations);
  say('Waiting for the notifications to be delivered…');
  const finalSagas = sagas.filter((saga) => saga.status === 'succeeded' || saga.status === 'failed').map((saga) => saga.id);
  const deliveries = await checkDeliveries(stack, finalSagas);
  violations.push(...deliveries.violations);
  const { counts } = deliveries;
  return {
    violations,
    readBack: finals.size,
    replayed: replays.replayed,
    deliveries: {
      emailsSent: counts.emailsSent,
      smtpReceived: counts.smtpReceived,
      webhooksDelivered: counts.webhooksDelivered,
      webhookRequestsAccepted: stack.webhooks.accepted().length,
      drainedMs: deliveries.drainedMs,
    },
  };
}

/** The merchants' webhook: the first (hot) merchant's events go to the receiver, which checks their signatures. */
async function registerWebhook(stack: ChaosStack, population: BenchPopulation): Promise<void> {
  const merchant = population.merchants[0];
  if (!merchant) throw new Error('no merchant to register a webhook for');
  const response = await fetch(`${stack.apiUrl}/v1/merchant/webhook`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${merchant.token}` },
    body: JSON.stringify({ url: stack.webhooks.url }),
  });
  if (response.status !== 200) throw new Error(`registering the webhook answered ${response.status}`);
  stack.webhooks.secret = ((await response.json()) as { secret: string }).secret;
}

/** Runs the faults one after another; each waits for its planned time and for the previous one's recovery. */
async function runSchedule(stack: ChaosStack, traffic: Traffic, population: BenchPopulation, options: ChaosOptions, pace: ChaosPace, state: RunState, startedAt: number, say: (line: string) => void) {
  const results: Array<Omit<FaultResult, 'traffic' | 'violations'>> = [];
  for (const planned of planSchedule(options.faults, options.durationS * 1_000, pace)) {
    const wait = startedAt + planned.atMs - Date.now();
    if (wait > 0) await sleep(wait);
    state.fault = planned.fault;
    traffic.mode.fault = planned.fault;
    const faultStartedAt = Date.now();
    say(`>> ${planned.fault} at ${Math.round((faultStartedAt - startedAt) / 1_000)} s`);
    const injection = await injectFault(planned.fault, { stack, traffic, population, steeringMs: pace.steeringMs, say });
    const endedAt = new Date();
    const recovery = await measureRecovery(stack, endedAt);
    say(`<< ${planned.fault}: ${injection.note}; API back after ${recovery.apiMs ?? '—'} ms, backlog drained after ${recovery.backlogMs ?? '—'} ms`);
    results.push({ fault: planned.fault, startedAtS: Math.round((faultStartedAt - startedAt) / 1_000), note: injection.note, apiRecoveryMs: recovery.apiMs, backlogRecoveryMs: recovery.backlogMs });
  }
  return results;
}

/** Prints a progress line every few seconds until `signal` aborts. */
async function reportProgress(stack: ChaosStack, traffic: Traffic, state: RunState, startedAt: number, signal: AbortSignal, say: (line: string) => void): Promise<void> {
  while (!signal.aborted) {
    await sleep(PROGRESS_INTERVAL_MS, undefined, { signal }).catch(() => undefined);
    if (signal.aborted) return;
    const answered = traffic.records.filter((record) => record.answers.length > 0).length;
    const retried = traffic.records.filter((record) => record.retries > 0).length;
    const inFlight = await sagasInFlight(stack.db).catch(() => NaN);
    say(
      `  ${Math.round((Date.now() - startedAt) / 1_000)} s [${state.fault ?? 'warm-up'}] operations ${traffic.records.length}, answered ${answered}, retried ${retried}; ` +
        `sagas in flight ${Number.isNaN(inFlight) ? '?' : inFlight}; samples ${state.samples.taken} (+${state.samples.failed} failed); violations ${state.violations.length}`,
    );
  }
}

/** Counts per check. */
function byCheck(violations: readonly Violation[]): Record<CheckName, number> {
  const counts = Object.fromEntries(Object.keys(CHECKS).map((check) => [check, 0])) as Record<CheckName, number>;
  for (const violation of violations) counts[violation.check as CheckName] += 1;
  return counts;
}

/**
 * One chaos run on a stack of its own: seeds the wallets, drives the traffic while the faults come
 * one after another, samples the ledger meanwhile, checks everything at the end, and stops the stack.
 */
export async function runChaos(
  options: ChaosOptions,
  command: string,
  say: (line: string) => void,
  onStoppable: (stop: () => Promise<void>) => void = () => undefined,
  pace: ChaosPace = FULL_PACE,
): Promise<ChaosResult> {
  const wallStartedAt = Date.now();
  const stack = await startChaosStack(say, { paymentsWorkers: options.paymentsWorkers }, onStoppable);
  try {
    const population = await seedPopulation(stack.db, stack.config.jwt, { customers: options.customers, merchants: options.merchants, currency: stack.config.money.defaultCurrency });
    await registerWebhook(stack, population);
    say(`Seeded ${population.customers.length} customers and ${population.merchants.length} merchants; ${options.faults.length} faults over ${options.durationS} s (seed ${options.seed})`);
    const traffic = new Traffic(stack.apiUrl, population, seededRandom(options.seed), newId('req').slice(-8).toLowerCase());
    const state: RunState = { fault: null, violations: [], samples: { taken: 0, failed: 0 } };
    const stopTraffic = new AbortController();
    const startedAt = Date.now();
    const running = traffic.run(options.concurrency, stopTraffic.signal);
    const sampling = sampleWhileRunning(stack.db, state, stopTraffic.signal);
    const progress = reportProgress(stack, traffic, state, startedAt, stopTraffic.signal, say);
    let faults: Array<Omit<FaultResult, 'traffic' | 'violations'>> = [];
    try {
      faults = await runSchedule(stack, traffic, population, options, pace, state, startedAt, say);
      const left = startedAt + options.durationS * 1_000 - Date.now();
      if (left > 0) await sleep(left);
    } finally {
      stopTraffic.abort();
      await Promise.all([running, sampling, progress]);
    }
    say(`Traffic stopped after ${Math.round((Date.now() - startedAt) / 1_000)} s: ${traffic.records.length} operations. Waiting for the sagas to finish…`);
    await timeUntil(async () => (await sagasInFlight(stack.db)) === 0, DRAIN_TIMEOUT_MS);
    const end = await checkAtTheEnd(stack, traffic, options, say);
    const violations = [...state.violations, ...end.violations];
    const inSlot = (fault: FaultName | null) => traffic.records.filter((record) => record.fault === fault);
    const violationsIn = (fault: FaultName | null) => violations.filter((violation) => violation.fault === fault).length;
    return {
      command,
      date: new Date(wallStartedAt).toISOString(),
      machine: await describeMachine(stack.db, stack.config.temporal.address),
      settings: options,
      wallTimeS: Math.round((Date.now() - wallStartedAt) / 1_000),
      warmUp: { traffic: slotTraffic(inSlot(null)), violations: violationsIn(null) },
      faults: faults.map((fault) => ({ ...fault, traffic: slotTraffic(inSlot(fault.fault)), violations: violationsIn(fault.fault) })),
      samples: state.samples,
      readBack: end.readBack,
      replayed: end.replayed,
      deliveries: end.deliveries,
      violationsByCheck: byCheck(violations),
      violations,
    };
  } finally {
    say('Stopping the stack…');
    await stack.stop();
  }
}
