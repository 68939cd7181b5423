import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../config';
import { startMariaDb, type MariaDbServer } from '../../scripts/lib/mariadb';
import { prepareDatabase } from '../../scripts/lib/migrations';
import { startTemporalDevServer, type TemporalDevServer } from '../../scripts/lib/temporal-server';
import { startStackWith, type TestStack } from '../../test/support/stack';

/**
 * A fuzzing run's own stack: a private MariaDB and Temporal dev server in a temporary folder, and
 * the API with both workers in this process (the test stack: rate limits raised, the fault drill
 * on). `npm run fuzz` and `npm run fuzz:schemathesis` start it; `stop` undoes it, once.
 */
export class PrivateFuzzStack {
  private root?: string;
  private database?: MariaDbServer;
  private temporal?: TemporalDevServer;
  /** The API and workers, once started. */
  stack?: TestStack;
  private stopping?: Promise<void>;

  constructor(private readonly say: (line: string) => void) {}

  /** Starts the servers, puts their addresses where loadConfig reads them, migrates, starts the API. */
  async start(): Promise<TestStack> {
    const root = mkdtempSync(join(tmpdir(), 'sagapay-fuzz-'));
    this.root = root;
    this.database = await startMariaDb({ dataDir: join(root, 'mariadb'), ephemeral: true });
    this.say(`MariaDB on 127.0.0.1:${this.database.port}`);
    this.temporal = await startTemporalDevServer({ headless: true, logDir: root });
    this.say(`Temporal dev server on ${this.temporal.address}`);
    Object.assign(process.env, {
      DATABASE_URL: this.database.databaseUrl,
      TEMPORAL_ADDRESS: this.temporal.address,
      TEMPORAL_NAMESPACE: 'default',
      NODE_ENV: 'test',
      LOG_LEVEL: 'silent',
      SAGA_RECOVERY: 'false',
    });
    const config = loadConfig();
    await prepareDatabase(config.databaseUrl, config.money.currencies, config.ledgerSystemShards);
    // The fault drill is on so generated X-Saga-Fault headers run the compensations too.
    this.stack = await startStackWith({ SAGA_FAULTS: 'enabled' });
    return this.stack;
  }

  /** Stops what was started, in reverse order, and removes the folder; later calls wait for the first. */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      await this.stack?.stop().catch((error: unknown) => this.say(`stopping the stack: ${error instanceof Error ? error.message : String(error)}`));
      await this.temporal?.stop();
      await this.database?.stop();
      if (this.root) rmSync(this.root, { recursive: true, force: true });
    })();
    return this.stopping;
  }

  /**
   * Runs a fuzzing script's `main` and exits with its code, stopping the stack first whatever
   * happens: on success, on an error (printed) and on SIGINT or SIGTERM (exit 130).
   */
  runToExit(main: () => Promise<number>): void {
    for (const signal of ['SIGINT', 'SIGTERM'] as const) {
      process.once(signal, () => {
        this.say(`\n${signal}: stopping the fuzz stack`);
        void this.stop().finally(() => process.exit(130));
      });
    }
    void main()
      .catch((error: unknown) => {
        this.say(error instanceof Error ? (error.stack ?? error.message) : String(error));
        return 1;
      })
      .then(async (code) => {
        await this.stop();
        process.exit(code);
      });
  }
}
