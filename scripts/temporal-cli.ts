/**
 * Prints the path of the pinned Temporal CLI, building it first if needed:
 * `npm run temporal:path`, or `"$(npx tsx scripts/temporal-cli.ts)" workflow list`.
 */
import { ensureTemporalCli } from './lib/temporal-cli';

ensureTemporalCli().then(
  (path) => {
    process.stdout.write(`${path}\n`);
  },
  (error: unknown) => {
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 1;
  },
);
