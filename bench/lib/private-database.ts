import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Knex } from 'knex';
import { createDatabase } from '../../infra/database';
import { startMariaDb } from '../../scripts/lib/mariadb';
import { prepareDatabase } from '../../scripts/lib/migrations';

/** What a database benchmark needs of its private server. */
export interface PrivateDatabaseOptions {
  /** Connections in the benchmark's pool. */
  poolSize: number;
  /** The currencies whose system accounts exist before the benchmark starts. */
  currencies: readonly string[];
  /** Clearing and fee accounts per currency, when the benchmark needs more than the default. */
  shards?: number;
}

/**
 * Runs `work` against a private, migrated MariaDB in a temporary folder (no stack needed), then
 * stops the server and removes the folder, whether the work succeeded or not.
 */
export async function withPrivateDatabase(options: PrivateDatabaseOptions, work: (db: Knex) => Promise<void>): Promise<void> {
  const root = mkdtempSync(join(tmpdir(), 'sagapay-bench-'));
  const server = await startMariaDb({ dataDir: join(root, 'mariadb'), ephemeral: true });
  const db = createDatabase(server.databaseUrl, options.poolSize);
  try {
    await prepareDatabase(server.databaseUrl, options.currencies, options.shards);
    await work(db);
  } finally {
    await db.destroy();
    await server.stop();
    rmSync(root, { recursive: true, force: true });
  }
}

/** Runs a benchmark's `main`, printing what stopped it and exiting non-zero. */
export function runBenchmark(main: () => Promise<void>): void {
  main().catch((error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  });
}
