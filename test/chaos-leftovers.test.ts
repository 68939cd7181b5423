import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { processesNaming } from '../bench/lib/leftovers';
import { waitFor } from '../scripts/lib/processes';

/**
 * `npm run chaos` killed in the middle of its traffic, by SIGKILL (nothing of it runs after) and by
 * SIGTERM (its own stop runs): afterwards no process of its stack (MariaDB, Temporal, the API, the
 * workers, the reaper) and no temp folder may be left. Its SMTP sink, webhook receiver and proxy
 * live in its own process and die with it.
 */
const PROJECT_ROOT = join(__dirname, '..');
/** Long enough that the kill always lands in the traffic, before any fault. */
const ARGUMENTS = ['--duration', '120', '--faults', 'payments-worker-kill', '--customers', '6', '--merchants', '2', '--concurrency', '2', '--payments-workers', '1', '--no-report'];
const STARTED_TIMEOUT_MS = 150_000;
const LEFTOVERS_TIMEOUT_MS = 60_000;

it.each(['SIGKILL', 'SIGTERM'] as const)('when the chaos run gets %s mid-traffic, then no process of its stack and no temp folder is left', async (signal) => {
  const run = spawn(process.execPath, ['--import', 'tsx', 'chaos/run.ts', ...ARGUMENTS], { cwd: PROJECT_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  run.stdout.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  run.stderr.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  const exited = new Promise<void>((resolve) => run.once('exit', () => resolve()));
  let root: string | undefined;
  try {
    // The first progress line comes 5 s into the traffic: the whole stack runs by then.
    await waitFor(() => /^ {2}\d+ s \[warm-up\]/m.test(output), {
      timeoutMs: STARTED_TIMEOUT_MS,
      what: 'the chaos run to drive traffic',
      failIf: () => (run.exitCode !== null ? `it exited (${run.exitCode}):\n${output}` : undefined),
    });
    root = /logs in (\S+)/.exec(output)?.[1];
    expect(root).toBeDefined();
    const stackProcesses = processesNaming(root ?? '');
    // MariaDB, Temporal, the notifications and the payments worker and the API at least (and the reaper).
    expect(stackProcesses.length).toBeGreaterThanOrEqual(5);
  } finally {
    run.kill(signal);
    await exited;
  }
  const where = root ?? '';
  await waitFor(() => processesNaming(where).length === 0 && !existsSync(where), {
    timeoutMs: LEFTOVERS_TIMEOUT_MS,
    intervalMs: 200,
    what: `the stack in ${where} to be gone`,
  }).catch(() => undefined);
  expect(processesNaming(where)).toEqual([]);
  expect(existsSync(where)).toBe(false);
}, STARTED_TIMEOUT_MS + LEFTOVERS_TIMEOUT_MS + 60_000);
