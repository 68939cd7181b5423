import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { processesNaming } from '../bench/lib/leftovers';
import { parseChaosOptions, type ChaosOptions } from '../chaos/lib/options';
import { renderReport } from '../chaos/lib/report';
import { runChaos, type ChaosPace } from '../chaos/lib/runner';

/**
 * The short version of `npm run chaos`, on a stack of its own (its own MariaDB, Temporal dev
 * server, API and worker processes): a payments worker killed under load, permanent step failures
 * through the fault drill, duplicate keys and a slow database, one after another, for 40 s of
 * traffic. Every invariant must hold; every process it started must be gone afterwards. It writes
 * no report: docs/reliability.md comes from the full run only.
 */
const SMOKE_PACE: ChaosPace = { warmUpMs: 4_000, minimumSlotMs: 9_000, steeringMs: 5_000 };

it('when a worker is killed, steps fail for good, keys are replayed and the database slows down under load, then no invariant is violated and nothing is left running', async () => {
  const reportBefore = existsSync(join(__dirname, '..', 'docs', 'reliability.md')) ? readFileSync(join(__dirname, '..', 'docs', 'reliability.md'), 'utf8') : null;
  const options: ChaosOptions = {
    ...parseChaosOptions([]),
    durationS: 40,
    faults: ['payments-worker-kill', 'step-failures', 'duplicate-requests', 'slow-database'],
    customers: 12,
    merchants: 4,
    concurrency: 4,
    paymentsWorkers: 1,
    reportPath: null,
  };
  const lines: string[] = [];
  const result = await runChaos(options, 'chaos smoke test', (line) => {
    lines.push(line);
  }, undefined, SMOKE_PACE).catch((error: unknown) => {
    throw new Error(`the chaos run failed: ${error instanceof Error ? error.message : String(error)}\n${lines.join('\n')}`);
  });
  const root = lines.map((line) => /logs in (\S+)/.exec(line)?.[1]).find((path) => path !== undefined);
  expect(root).toBeDefined();
  expect(existsSync(root ?? '')).toBe(false);
  expect(processesNaming(root ?? '')).toEqual([]);

  expect(result.violations).toEqual([]);
  expect(result.faults.map((fault) => fault.fault)).toEqual(['payments-worker-kill', 'step-failures', 'duplicate-requests', 'slow-database']);
  const operations = [result.warmUp.traffic, ...result.faults.map((fault) => fault.traffic)].reduce((sum, traffic) => sum + traffic.operations.payment + traffic.operations.transfer, 0);
  expect(operations).toBeGreaterThan(20);
  expect(result.faults.find((fault) => fault.fault === 'step-failures')?.traffic.drilled).toBeGreaterThan(0);
  expect(result.faults.every((fault) => fault.apiRecoveryMs !== null && fault.backlogRecoveryMs !== null)).toBe(true);
  expect(result.samples.taken).toBeGreaterThan(3);
  expect(result.replayed).toBeGreaterThan(0);
  expect(renderReport(result)).toContain('No invariant was violated. No answer was 500.');
  const reportAfter = existsSync(join(__dirname, '..', 'docs', 'reliability.md')) ? readFileSync(join(__dirname, '..', 'docs', 'reliability.md'), 'utf8') : null;
  expect(reportAfter).toBe(reportBefore);
}, 300_000);
