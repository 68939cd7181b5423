/**
 * `npm run fuzz`: starts a private stack (MariaDB, Temporal dev server, the API and both workers
 * in this process, rate limits raised, the fault drill on), signs up the fuzz actors, then sends
 * generated requests for every operation of the OpenAPI document one after another, checking
 * each answer against the document and each refused write against the ledger. Prints progress,
 * a summary by operation and status, writes it under .data/fuzz/, and exits non-zero with the
 * shrunk counterexample and its replay command when a request broke a property.
 *
 *   npm run fuzz -- [--requests 10000] [--seed <integer>] [--path <replay path>]
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { statusTotals, summaryTable, type CampaignResult } from './lib/campaign';
import { parseFuzzOptions, USAGE, type FuzzOptions } from './lib/options';
import { PrivateFuzzStack } from './lib/private-stack';
import { fuzzStack } from './lib/session';

function say(line: string): void {
  process.stdout.write(`${line}\n`);
}

/** What the run started, stopped in reverse order (also on Ctrl-C). */
const servers = new PrivateFuzzStack(say);

function writeResults(options: FuzzOptions, result: CampaignResult): string {
  const directory = resolve(options.outputDir);
  mkdirSync(directory, { recursive: true });
  const file = join(directory, `fuzz-${options.seed}.json`);
  const byOperation = Object.fromEntries([...result.tally].map(([operation, byStatus]) => [operation, Object.fromEntries(byStatus)]));
  const results = { seed: options.seed, requests: result.requests, elapsedMs: result.elapsedMs, byStatus: Object.fromEntries(statusTotals(result.tally)), byOperation, failure: result.failure ?? null };
  writeFileSync(file, `${JSON.stringify(results, null, 2)}\n`);
  return file;
}

async function main(): Promise<number> {
  // Workers log only errors: the fuzzer's refused and failed sagas are expected, not news.
  Runtime.install({ logger: new DefaultLogger('ERROR') });
  let options: FuzzOptions;
  try {
    if (process.argv.includes('--help')) {
      say(USAGE);
      return 0;
    }
    options = parseFuzzOptions(process.argv.slice(2));
  } catch (error) {
    say(`${error instanceof Error ? error.message : String(error)}\n${USAGE}`);
    return 2;
  }
  say(`fuzzing with seed ${options.seed}, ${options.requests} requests${options.path ? `, replaying path ${options.path}` : ''}`);
  const stack = await servers.start();
  say(`API on ${stack.baseUrl}; signing up the fuzz actors`);
  const result = await fuzzStack(stack, { ...options, ledgerScope: 'everything', progress: say });
  say(`\n${summaryTable(result.tally)}`);
  say(`\n${result.requests} requests in ${(result.elapsedMs / 1000).toFixed(1)} s; results in ${writeResults(options, result)}`);
  if (result.failure) {
    say(`\nFAILED (seed ${options.seed}): ${result.failure}`);
    return 1;
  }
  say('no 5xx, every answer as the OpenAPI document declares, no money moved by a refused request');
  return 0;
}

servers.runToExit(main);
