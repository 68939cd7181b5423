/**
 * A stack's reaper, started by `startReaper` as a detached process with an IPC channel to the
 * stack's owner (the bench or the chaos run): `node --import tsx bench/lib/reaper-process.ts ROOT`.
 * The owner names each process group it starts and each that ends. When the channel closes (the
 * owner stopped its stack and let go, or died: SIGKILL, a crash), the reaper stops every group
 * still named and every process that names ROOT, SIGTERM first and SIGKILL after a grace period,
 * removes ROOT and exits. After a clean stop there is nothing left to do and it exits at once.
 */
import { rmSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { processesNaming } from './leftovers';

/** A message from the owner: a process group started, or one whose leader exited. */
export type ReaperMessage = { started: number } | { exited: number };

const GRACE_MS = 5_000;
const KILL_WAIT_MS = 5_000;
const POLL_MS = 100;

/** Sends a signal to a process (or, with a negative pid, a group); false when it no longer exists. */
function signal(pid: number, name: NodeJS.Signals | 0): boolean {
  try {
    process.kill(pid, name);
    return true;
  } catch {
    return false;
  }
}

/** The groups still alive and the stray processes naming the root, as signal targets (groups negative). */
function targets(root: string, groups: ReadonlySet<number>): number[] {
  const alive = [...groups].filter((group) => signal(-group, 0)).map((group) => -group);
  return [...alive, ...processesNaming(root)];
}

/** Signals every target until none is left or the time is up; answers whether none is left. */
async function signalUntilGone(root: string, groups: ReadonlySet<number>, name: NodeJS.Signals, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const left = targets(root, groups);
    if (left.length === 0) return true;
    if (Date.now() >= deadline) return false;
    for (const target of left) signal(target, name);
    await sleep(POLL_MS);
  }
}

async function reap(root: string, groups: ReadonlySet<number>): Promise<void> {
  if (!(await signalUntilGone(root, groups, 'SIGTERM', GRACE_MS))) await signalUntilGone(root, groups, 'SIGKILL', KILL_WAIT_MS);
  rmSync(root, { recursive: true, force: true });
}

function main(): void {
  const root = process.argv[2];
  if (!root || !process.send) {
    process.stderr.write('the reaper needs a folder and an IPC channel to its owner\n');
    process.exit(2);
  }
  const groups = new Set<number>();
  process.on('message', (message: ReaperMessage) => {
    if ('started' in message) groups.add(message.started);
    else groups.delete(message.exited);
  });
  process.once('disconnect', () => {
    reap(root, groups)
      .catch((error: unknown) => process.stderr.write(`the reaper could not clean ${root}: ${error instanceof Error ? error.message : String(error)}\n`))
      .finally(() => process.exit());
  });
  process.send({ ready: true });
}

main();
