/**
 * `npm run bench`: brings up the whole stack from scratch (private MariaDB, Temporal dev server,
 * API, payments and notifications workers as separate processes), seeds customers and
 * merchants, drives POST /v1/payments with autocannon at several concurrency levels per
 * scenario, measures the engine's ceiling with a no-op saga of the same shape, reconciles the
 * ledger, writes bench/results/latest.{json,md,svg}, and tears everything down (Ctrl-C too).
 * Exits non-zero, saying why, when the ledger does not reconcile or a 5xx (a 500 above all) reached a client.
 *
 *   npm run bench -- [--quick] [--levels 1,8,32,64] [--duration 15] [--scenarios uniform,hot-merchant,two-workers]
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { newId } from '../domain/ids';
import { reconcile } from '../store/reconciliation';
import { startCeiling } from './lib/ceiling';
import type { CeilingLevel } from './lib/ceiling';
import { chartSpec, renderChartSvg } from './lib/chart';
import { hotMerchant, PaymentLoad, uniformMerchants, type MerchantChoice } from './lib/load';
import { describeMachine } from './lib/machine';
import { parseBenchOptions, USAGE, type BenchOptions, type Scenario } from './lib/options';
import { drain, lockCounters, lockCountersDelta, sagaOutcomes } from './lib/outcomes';
import { benchFailures, buildResults, renderMarkdown, type ScenarioMeasurement } from './lib/report';
import { seedPopulation, type BenchPopulation } from './lib/seed';
import { openBenchStack, type BenchStack } from './lib/stack';

/** How long the sagas of a level may take to finish after its load stops. */
const DRAIN_TIMEOUT_MS = 90_000;
/** Unmeasured load before the first level: JIT, pools and caches warm up. */
const WARM_UP = { concurrency: 4, durationS: 3 };
const STOP_GRACE_MS = 30_000;

let stack: BenchStack | undefined;
/** Stops the stack while it is still starting (set before `stack` is). */
let stopStarting: (() => Promise<void>) | undefined;
let stopping = false;

function say(line: string): void {
  process.stdout.write(`${line}\n`);
}

const SCENARIO_SETUP: Record<Scenario, { merchants: MerchantChoice; extraPaymentsWorkers: number }> = {
  uniform: { merchants: uniformMerchants, extraPaymentsWorkers: 0 },
  'hot-merchant': { merchants: hotMerchant, extraPaymentsWorkers: 0 },
  'two-workers': { merchants: uniformMerchants, extraPaymentsWorkers: 1 },
};

/** Runs every level of one scenario; each level's sagas are drained before the next starts. */
async function runScenario(running: BenchStack, load: PaymentLoad, population: BenchPopulation, scenario: Scenario, options: BenchOptions): Promise<ScenarioMeasurement> {
  const setup = SCENARIO_SETUP[scenario];
  const extraWorkers = [];
  for (let count = 0; count < setup.extraPaymentsWorkers; count += 1) extraWorkers.push(await running.addPaymentsWorker());
  const paymentsWorkers = 1 + extraWorkers.length;
  say(`\n== scenario ${scenario}: ${paymentsWorkers} payments worker(s), levels ${options.levels.join(', ')}, ${options.durationS} s each`);
  const before = await lockCounters(running.db);
  const levels: ScenarioMeasurement['levels'] = [];
  try {
    for (const concurrency of options.levels) {
      const measured = await load.run(scenario, concurrency, options.durationS, setup.merchants, say);
      const unfinished = await drain(running.db, measured.startedAt, DRAIN_TIMEOUT_MS);
      const outcomes = await sagaOutcomes(running.db, measured.startedAt, measured.endedAt);
      say(
        `  => ${outcomes.paymentsPerSecond} payments/s; API p50/p95/p99 ${measured.apiLatencyMs.p50}/${measured.apiLatencyMs.p95}/${measured.apiLatencyMs.p99} ms; ` +
          `saga p99 ${outcomes.sagaLatencyMs.p99} ms; answers ${JSON.stringify(measured.responses)}${unfinished > 0 ? `; ${unfinished} still unfinished` : ''}`,
      );
      levels.push({ load: measured, outcomes });
    }
  } finally {
    await Promise.all(extraWorkers.map((worker) => worker.stop(STOP_GRACE_MS)));
  }
  const merchantsPaid = setup.merchants === hotMerchant ? 1 : population.merchants.length;
  return { name: scenario, paymentsWorkers, merchantsPaid, levels, locks: lockCountersDelta(before, await lockCounters(running.db)) };
}

async function runCeiling(running: BenchStack, population: BenchPopulation, options: BenchOptions): Promise<CeilingLevel[]> {
  say(`\n== engine ceiling: the no-op saga of the payment's shape, levels ${options.levels.join(', ')}, ${options.durationS} s each`);
  const ceiling = await startCeiling(running, population);
  const levels: CeilingLevel[] = [];
  try {
    for (const concurrency of options.levels) {
      const level = await ceiling.runLevel(concurrency, options.durationS, say);
      say(`  => ${level.workflowsPerSecond} workflows/s; p50/p95/p99 ${level.latencyMs.p50}/${level.latencyMs.p95}/${level.latencyMs.p99} ms`);
      levels.push(level);
    }
  } finally {
    await ceiling.stop();
  }
  return levels;
}

async function main(): Promise<void> {
  let options: BenchOptions;
  try {
    options = parseBenchOptions(process.argv.slice(2));
  } catch (error) {
    say(`${error instanceof Error ? error.message : String(error)}\n${USAGE}`);
    process.exitCode = 2;
    return;
  }
  const startedAt = new Date();
  stack = await openBenchStack(say, (stop) => {
    stopStarting = stop;
  });
  const running = stack;
  const population = await seedPopulation(running.db, running.config.jwt, {
    customers: options.customers,
    merchants: options.merchants,
    currency: running.config.money.defaultCurrency,
  });
  say(`Seeded ${population.customers.length} customers and ${population.merchants.length} merchants in the database`);
  const load = new PaymentLoad(running.apiUrl, population, newId('req').slice(4).toLowerCase());

  say(`\n== warm-up (not measured): c=${WARM_UP.concurrency}, ${WARM_UP.durationS} s`);
  const warmUp = await load.run('warm-up', WARM_UP.concurrency, WARM_UP.durationS, uniformMerchants, () => undefined);
  await drain(running.db, warmUp.startedAt, DRAIN_TIMEOUT_MS);

  const scenarios: ScenarioMeasurement[] = [];
  let ceiling: CeilingLevel[] | null = null;
  for (const scenario of options.scenarios) {
    scenarios.push(await runScenario(running, load, population, scenario, options));
    // Right after the reference scenario: the ratio compares two runs on the same Temporal database size.
    if (scenario === options.scenarios[0] && options.ceiling) ceiling = await runCeiling(running, population, options);
  }

  const report = await reconcile(running.db, { stuckAfterMs: running.config.stuckAfterMs });
  say(`\nReconciliation: ${report.ok ? 'ok' : `NOT OK ${JSON.stringify(report)}`}`);
  const results = buildResults({
    date: startedAt,
    machine: await describeMachine(running.db, running.config.temporal.address),
    settings: { levels: options.levels, durationS: options.durationS, customers: options.customers, merchants: options.merchants, scenarios: options.scenarios, quick: options.quick },
    scenarios,
    ceiling,
    reconciliation: { ok: report.ok, report },
  });
  const outputDir = resolve(options.outputDir);
  mkdirSync(outputDir, { recursive: true });
  const markdown = renderMarkdown(results);
  writeFileSync(join(outputDir, 'latest.json'), `${JSON.stringify(results, null, 2)}\n`);
  writeFileSync(join(outputDir, 'latest.md'), markdown);
  writeFileSync(join(outputDir, 'latest.svg'), await renderChartSvg(chartSpec(results)));
  say(`\n${markdown}\nWrote ${join(outputDir, 'latest.json')}, latest.md and latest.svg`);

  const failures = benchFailures(results);
  for (const failure of failures) say(`FAILED: ${failure}`);
  if (failures.length > 0) process.exitCode = 1;
}

async function stopStack(): Promise<void> {
  const running = stack;
  const starting = stopStarting;
  stack = undefined;
  stopStarting = undefined;
  if (running) {
    say('Stopping the stack…');
    await running.stop();
  } else if (starting) {
    await starting();
  }
}

function onSignal(signal: NodeJS.Signals): void {
  if (stopping) return;
  stopping = true;
  say(`\n${signal}: stopping the stack…`);
  void stopStack().finally(() => process.exit(signal === 'SIGINT' ? 130 : 143));
}

process.on('SIGINT', onSignal);
process.on('SIGTERM', onSignal);
main()
  .catch((error: unknown) => {
    say(`npm run bench failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    process.exitCode = 1;
  })
  .finally(async () => {
    if (stopping) return;
    await stopStack();
    // autocannon and the Temporal client may keep handles open; nothing is left to wait for.
    process.exit();
  });
