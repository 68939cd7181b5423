/**
 * `npx tsx scripts/provision.ts [--with-redis]`: puts on this machine what `npm run dev` and
 * `npm test` need from outside npm, with the same code they use themselves (they would do it on
 * their first run anyway; `.ci/run` calls this first so provisioning and testing fail separately):
 * the MariaDB server binaries (unless TEST_DATABASE_URL is set), the Temporal CLI, Chromium for
 * the web wallet's browser tests and, with `--with-redis`, redis-server for the Redis rate-limit store test.
 */
import { parseArgs } from 'node:util';
import { ensureChromium } from './lib/chromium';
import { ensureServerBinary } from './lib/mariadb';
import { ensureComponent, findOnPath, REDIS_SERVER } from './lib/provision';
import { ensureTemporalCli } from './lib/temporal-cli';

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { 'with-redis': { type: 'boolean', default: false } } });
  if (process.env.TEST_DATABASE_URL) say('TEST_DATABASE_URL is set: the tests use that database, no server binary needed');
  else say(`Database server: ${await ensureServerBinary()}`);
  say(`Temporal CLI: ${await ensureTemporalCli()}`);
  say(`Chromium: ${await ensureChromium()}`);
  if (values['with-redis']) {
    // On PATH, as the test looks for it.
    const present = () => findOnPath('redis-server') !== undefined;
    // Asked for, so required: a failed install fails provisioning (CI asks, and its Redis tests fail without it).
    await ensureComponent(REDIS_SERVER, present).catch((error: unknown) => {
      throw new Error(`redis-server could not be installed: ${error instanceof Error ? error.message : String(error)}`);
    });
    say('redis-server: present');
  }
}

function say(message: string): void {
  process.stdout.write(`${message}\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`provisioning failed: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
});
