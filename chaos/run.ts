/**
 * `npm run chaos`: starts a stack of its own, drives payments, transfers, refunds and top-ups
 * among many wallets while faults come one after another (workers, the API, Temporal and
 * MariaDB killed or restarted, a row lock, a slow database, the fault drill, duplicate keys),
 * samples the ledger invariants while it runs, checks every invariant at the end, and writes
 * docs/reliability.md. Exits non-zero on any violation, any answer 500 and any 503 without
 * Retry-After. Ctrl-C stops everything it started.
 *
 *   npm run chaos -- [--duration 330] [--seed 1] [--faults payments-worker-kill,api-kill,…] [--no-report]
 */
import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseChaosOptions, USAGE, type ChaosOptions } from './lib/options';
import { contractBreaches, passed, renderReport } from './lib/report';
import { runChaos } from './lib/runner';

let stopStack: (() => Promise<void>) | undefined;
let stopping = false;

function say(line: string): void {
  process.stdout.write(`${line}\n`);
}

async function main(): Promise<void> {
  let options: ChaosOptions;
  try {
    options = parseChaosOptions(process.argv.slice(2));
  } catch (error) {
    say(`${error instanceof Error ? error.message : String(error)}\n${USAGE}`);
    process.exitCode = 2;
    return;
  }
  const command = ['npm run chaos', ...(process.argv.length > 2 ? ['--', ...process.argv.slice(2)] : [])].join(' ');
  const result = await runChaos(options, command, say, (stop) => {
    stopStack = stop;
  });
  const markdown = renderReport(result);
  say(`\n${markdown}`);
  if (options.reportPath !== null) {
    writeFileSync(resolve(options.reportPath), markdown);
    say(`Wrote ${options.reportPath}`);
  }
  if (!passed(result)) {
    const breaches = contractBreaches(result);
    say(`${result.violations.length} invariant violations; ${breaches.http500} answers 500; ${breaches.http503WithoutRetryAfter} answers 503 without Retry-After`);
    process.exitCode = 1;
  }
}

function onSignal(signal: NodeJS.Signals): void {
  if (stopping) return;
  stopping = true;
  say(`\n${signal}: stopping the stack…`);
  void (stopStack?.() ?? Promise.resolve()).finally(() => process.exit(signal === 'SIGINT' ? 130 : 143));
}

process.on('SIGINT', onSignal);
process.on('SIGTERM', onSignal);
main()
  .catch((error: unknown) => {
    say(`npm run chaos failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    process.exitCode = 1;
  })
  .finally(() => {
    if (stopping) return;
    // The Temporal client and the fetch agent may keep handles open; the stack is already stopped.
    process.exit();
  });
