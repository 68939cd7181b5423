import type { CeilingLevel } from './ceiling';
import type { LoadLevel } from './load';
import type { MachineInfo } from './machine';
import type { Scenario } from './options';
import type { LockCounters, SagaOutcomes } from './outcomes';
import type { Percentiles } from './stats';

/** One concurrency level of a payments scenario: what the client saw and how the sagas ended. */
export interface PaymentLevelResult {
  concurrency: number;
  windowS: number;
  /** Payments created in the window that succeeded, per second of the window. */
  paymentsPerSecond: number;
  created: number;
  succeeded: number;
  failed: Record<string, number>;
  unfinished: number;
  apiLatencyMs: Percentiles;
  sagaLatencyMs: Percentiles;
  responses: Record<string, number>;
  sagaFailuresAnswered: Record<string, number>;
  http5xx: number;
  /** paymentsPerSecond ÷ the no-op saga's workflows/s at the same concurrency; null without a ceiling run. */
  ratio: number | null;
}

/** One scenario's levels. */
export interface ScenarioResult {
  name: Scenario;
  paymentsWorkers: number;
  merchantsPaid: number;
  levels: PaymentLevelResult[];
  best: { concurrency: number; paymentsPerSecond: number } | null;
  /** InnoDB deadlocks and lock-wait timeouts during the scenario (the ledger retries them); null when unreadable. */
  locks: LockCounters | null;
  http5xx: number;
}

/** What a scenario measured, before ratios and bests. */
export interface ScenarioMeasurement {
  name: Scenario;
  paymentsWorkers: number;
  merchantsPaid: number;
  levels: Array<{ load: LoadLevel; outcomes: SagaOutcomes }>;
  locks: LockCounters | null;
}

/** Answers 500 in a level's responses ("500 internal_error", "500 unknown"…). */
function answers500(responses: Readonly<Record<string, number>>): number {
  return Object.entries(responses)
    .filter(([key]) => /^500(\s|$)/.test(key))
    .reduce((sum, [, count]) => sum + count, 0);
}

/**
 * Why `npm run bench` must exit non-zero, one line each; empty when it passed. A 500 is a bug by
 * the contract; any other 5xx (a 503 under the bench's load) is counted apart but fails it too:
 * the bench injects no outage.
 */
export function benchFailures(results: Pick<BenchResults, 'scenarios' | 'reconciliation'>): string[] {
  const levels = results.scenarios.flatMap((scenario) => scenario.levels);
  const http500 = levels.reduce((sum, level) => sum + answers500(level.responses), 0);
  const otherHttp5xx = levels.reduce((sum, level) => sum + level.http5xx, 0) - http500;
  return [
    ...(results.reconciliation.ok ? [] : ['the ledger does not reconcile']),
    ...(http500 > 0 ? [`${http500} answers were 500: a server error (a bug by the contract) reached a client`] : []),
    ...(otherHttp5xx > 0 ? [`${otherHttp5xx} answers were 5xx other than 500 (e.g. 503) under the bench's load, which injects no outage`] : []),
  ];
}

/** Everything `npm run bench` writes to latest.json. */
export interface BenchResults {
  date: string;
  machine: MachineInfo;
  settings: { levels: number[]; durationS: number; customers: number; merchants: number; scenarios: Scenario[]; quick: boolean };
  /** The best payments/s of the uniform scenario (or the first scenario run). */
  paymentsPerSecond: number | null;
  /** The best workflows/s of the no-op saga. */
  ceilingPerSecond: number | null;
  /** paymentsPerSecond ÷ ceilingPerSecond, each at its best concurrency. */
  ratio: number | null;
  scenarios: ScenarioResult[];
  ceiling: { levels: CeilingLevel[]; best: { concurrency: number; workflowsPerSecond: number } | null } | null;
  /** Best payments/s of a scenario ÷ that of uniform. */
  versusUniform: Partial<Record<Scenario, number>>;
  reconciliation: { ok: boolean; report: unknown };
}

/** What `buildResults` needs. */
export interface ResultsInput {
  date: Date;
  machine: MachineInfo;
  settings: BenchResults['settings'];
  scenarios: ScenarioMeasurement[];
  ceiling: CeilingLevel[] | null;
  reconciliation: { ok: boolean; report: unknown };
}

/** a ÷ b rounded to 0.001, or null when b is not positive. */
export function ratioOf(a: number, b: number | null | undefined): number | null {
  if (b === null || b === undefined || !(b > 0)) return null;
  return Math.round((a / b) * 1_000) / 1_000;
}

function bestOf<T>(items: readonly T[], value: (item: T) => number): T | null {
  let best: T | null = null;
  for (const item of items) if (best === null || value(item) > value(best)) best = item;
  return best;
}

/** Puts the measurements together: per-level ratios against the ceiling, the best of each, the comparisons with uniform. */
export function buildResults(input: ResultsInput): BenchResults {
  const ceilingByLevel = new Map((input.ceiling ?? []).map((level) => [level.concurrency, level.workflowsPerSecond]));
  const scenarios: ScenarioResult[] = input.scenarios.map((scenario) => {
    const levels = scenario.levels.map(({ load, outcomes }): PaymentLevelResult => ({
      concurrency: load.concurrency,
      windowS: Math.round((load.endedAt.getTime() - load.startedAt.getTime()) / 100) / 10,
      paymentsPerSecond: outcomes.paymentsPerSecond,
      created: outcomes.created,
      succeeded: outcomes.succeeded,
      failed: outcomes.failed,
      unfinished: outcomes.unfinished,
      apiLatencyMs: load.apiLatencyMs,
      sagaLatencyMs: outcomes.sagaLatencyMs,
      responses: load.responses,
      sagaFailuresAnswered: load.sagaFailuresAnswered,
      http5xx: load.http5xx,
      ratio: ratioOf(outcomes.paymentsPerSecond, ceilingByLevel.get(load.concurrency)),
    }));
    const best = bestOf(levels, (level) => level.paymentsPerSecond);
    return {
      name: scenario.name,
      paymentsWorkers: scenario.paymentsWorkers,
      merchantsPaid: scenario.merchantsPaid,
      levels,
      best: best ? { concurrency: best.concurrency, paymentsPerSecond: best.paymentsPerSecond } : null,
      locks: scenario.locks,
      http5xx: levels.reduce((sum, level) => sum + level.http5xx, 0),
    };
  });
  const ceilingBest = input.ceiling ? bestOf(input.ceiling, (level) => level.workflowsPerSecond) : null;
  const reference = scenarios.find((scenario) => scenario.name === 'uniform') ?? scenarios[0];
  const paymentsPerSecond = reference?.best?.paymentsPerSecond ?? null;
  const versusUniform: Partial<Record<Scenario, number>> = {};
  const uniformBest = scenarios.find((scenario) => scenario.name === 'uniform')?.best?.paymentsPerSecond;
  for (const scenario of scenarios) {
    const ratio = scenario.name === 'uniform' || !scenario.best ? null : ratioOf(scenario.best.paymentsPerSecond, uniformBest);
    if (ratio !== null) versusUniform[scenario.name] = ratio;
  }
  return {
    date: input.date.toISOString(),
    machine: input.machine,
    settings: input.settings,
    paymentsPerSecond,
    ceilingPerSecond: ceilingBest?.workflowsPerSecond ?? null,
    ratio: paymentsPerSecond === null ? null : ratioOf(paymentsPerSecond, ceilingBest?.workflowsPerSecond),
    scenarios,
    ceiling: input.ceiling
      ? { levels: input.ceiling, best: ceilingBest ? { concurrency: ceilingBest.concurrency, workflowsPerSecond: ceilingBest.workflowsPerSecond } : null }
      : null,
    versusUniform,
    reconciliation: input.reconciliation,
  };
}

const show = (value: number | null | undefined, digits = 1) => (value === null || value === undefined ? '–' : value.toFixed(digits));
const counts = (record: Record<string, number>) =>
  Object.entries(record)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([name, count]) => `${name}: ${count}`)
    .join(', ') || '–';

/** The results as a markdown report: headline, one table per scenario, the ceiling, the machine. */
export function renderMarkdown(results: BenchResults): string {
  const { machine } = results;
  const lines = [
    `# SagaPay benchmark, ${results.date}`,
    '',
    `**${show(results.paymentsPerSecond, 2)} payments/s** (best uniform level) · engine ceiling **${show(results.ceilingPerSecond, 2)} workflows/s** · ratio **${show(results.ratio, 3)}** · reconciliation **${results.reconciliation.ok ? 'ok' : 'FAILED'}**`,
    '',
    `${results.settings.durationS} s per level${results.settings.quick ? ' (--quick)' : ''}; ${results.settings.customers} customers, ${results.settings.merchants} merchants. ` +
      `Machine: ${machine.cores} × ${machine.cpuModel}, ${(machine.memoryBytes / 2 ** 30).toFixed(1)} GiB; node ${machine.node}; Temporal CLI ${machine.temporalCli ?? '?'} (server ${machine.temporalServer ?? '?'}); ${machine.database ?? '?'}; commit ${machine.gitCommit ?? '?'}.`,
    '',
  ];
  for (const scenario of results.scenarios) {
    const versus = results.versusUniform[scenario.name];
    lines.push(
      `## ${scenario.name} (${scenario.paymentsWorkers} payments worker${scenario.paymentsWorkers > 1 ? 's' : ''}, ${scenario.merchantsPaid} merchant${scenario.merchantsPaid > 1 ? 's' : ''} paid)`,
      '',
      `Best ${show(scenario.best?.paymentsPerSecond, 2)} payments/s at c=${scenario.best?.concurrency ?? '–'}${versus === undefined ? '' : ` (${show(versus, 3)} × uniform)`}; ` +
        `deadlocks ${scenario.locks?.deadlocks ?? 'n/a'}, lock-wait timeouts ${scenario.locks?.lockWaitTimeouts ?? 'n/a'}; 5xx answers ${scenario.http5xx}.`,
      '',
      '| concurrency | payments/s | ratio | API p50 / p95 / p99 ms | saga p50 / p95 / p99 ms | succeeded | failed | unfinished | answers |',
      '| ---: | ---: | ---: | ---: | ---: | ---: | --- | ---: | --- |',
    );
    for (const level of scenario.levels) {
      const api = level.apiLatencyMs;
      const saga = level.sagaLatencyMs;
      lines.push(
        `| ${level.concurrency} | ${show(level.paymentsPerSecond, 2)} | ${show(level.ratio, 3)} | ${show(api.p50)} / ${show(api.p95)} / ${show(api.p99)} | ${show(saga.p50)} / ${show(saga.p95)} / ${show(saga.p99)} | ${level.succeeded} | ${counts(level.failed)} | ${level.unfinished} | ${counts(level.responses)} |`,
      );
    }
    lines.push('');
  }
  if (results.ceiling) {
    lines.push('## Engine ceiling (no-op saga of the same shape)', '', '| concurrency | workflows/s | p50 / p95 / p99 ms | errors |', '| ---: | ---: | ---: | --- |');
    for (const level of results.ceiling.levels) {
      lines.push(`| ${level.concurrency} | ${show(level.workflowsPerSecond, 2)} | ${show(level.latencyMs.p50)} / ${show(level.latencyMs.p95)} / ${show(level.latencyMs.p99)} | ${counts(level.errors)} |`);
    }
    lines.push('');
  }
  return `${lines.join('\n')}\n`;
}
