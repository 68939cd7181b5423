import { fork } from 'node:child_process';
import { resolve } from 'node:path';
import { onManagedSpawn } from '../../scripts/lib/processes';
import type { ReaperMessage } from './reaper-process';

const PROJECT_ROOT = resolve(__dirname, '..', '..');
const READY_TIMEOUT_MS = 30_000;

/** The guard of a stack's leftovers: whatever becomes of its owner, its processes and folder go. */
export interface Reaper {
  /** Lets go once the stack is stopped: the reaper checks nothing is left, then exits; answers once it has. */
  close(): Promise<void>;
}

/**
 * Starts the reaper of a stack whose processes and files live in `root` (bench/lib/reaper-process.ts):
 * a detached process that outlives this one. From now on every process group `spawnManaged` starts
 * here is named to it; when this process lets go or dies, even by SIGKILL, the reaper stops what is
 * left and removes `root`.
 */
export async function startReaper(root: string): Promise<Reaper> {
  const child = fork(resolve(__dirname, 'reaper-process.ts'), [root], {
    cwd: PROJECT_ROOT,
    execArgv: ['--import', 'tsx'],
    detached: true,
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the reaper did not start within ${READY_TIMEOUT_MS} ms`)), READY_TIMEOUT_MS);
    child.once('message', () => {
      clearTimeout(timer);
      resolve();
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`the reaper exited (${code}) before it was ready`));
    });
  });
  const tell = (message: ReaperMessage) => {
    if (child.connected) child.send(message);
  };
  const stopListening = onManagedSpawn((managed) => {
    tell({ started: managed.pid });
    void managed.exited.then(() => tell({ exited: managed.pid }));
  });
  // Neither the reaper nor its channel keeps this process alive.
  child.unref();
  child.channel?.unref();
  let closing: Promise<void> | undefined;
  return {
    close: () =>
      (closing ??= (async () => {
        stopListening();
        child.ref();
        if (child.connected) child.disconnect();
        await exited;
      })()),
  };
}
