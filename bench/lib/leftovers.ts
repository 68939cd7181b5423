import { readdirSync, readFileSync } from 'node:fs';

/**
 * The processes whose command line or environment names `path` (other than this one): a stack's
 * processes all do, as MariaDB's data dir, Temporal's file database or the workers' and the API's
 * WORKFLOW_BUNDLE_PATH in its temp folder. Read from /proc (Linux); elsewhere none are found.
 */
export function processesNaming(path: string, except: readonly number[] = []): number[] {
  const found = new Set<number>();
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return [];
  }
  for (const entry of entries) {
    const pid = Number(entry);
    if (!/^\d+$/.test(entry) || pid === process.pid || except.includes(pid)) continue;
    for (const file of ['cmdline', 'environ']) {
      try {
        if (readFileSync(`/proc/${entry}/${file}`, 'latin1').includes(path)) found.add(pid);
      } catch {
        // Gone meanwhile, or not ours to read.
      }
    }
  }
  return [...found];
}
