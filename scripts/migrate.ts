/**
 * `npm run migrate`: applies pending migrations to DATABASE_URL (else to the database of the running
 * `npm run dev`), then makes sure the platform's system accounts exist for every configured
 * currency. Safe to run any number of times.
 */
import { ConfigError, loadConfig } from '../config';
import { loadLocalEnv, noStackMessage } from './lib/local-env';
import { prepareDatabase } from './lib/migrations';

async function main(): Promise<void> {
  loadLocalEnv();
  if (!process.env.DATABASE_URL) throw new Error(noStackMessage());
  const config = loadConfig();
  const { applied } = await prepareDatabase(config.databaseUrl, config.money.currencies, config.ledgerSystemShards);
  if (applied.length === 0) console.log('migrations: already up to date');
  for (const name of applied) console.log(`migrations: applied ${name}`);
  console.log(`system accounts: present for ${config.money.currencies.join(', ')} (${config.ledgerSystemShards} clearing and fee shards each)`);
}

main().catch((error: unknown) => {
  // A bad environment is the operator's to fix: print the list of problems, not a stack trace.
  console.error(error instanceof ConfigError || error instanceof Error ? error.message : error);
  process.exitCode = 1;
});
