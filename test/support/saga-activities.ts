import { ApplicationFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { DefaultLogger } from '@temporalio/worker';
import type { Knex } from 'knex';
import type { ErrorTypeName } from '../../domain/errors';
import { shardOfSaga } from '../../domain/ledger-shards';
import { systemAccountId } from '../../domain/types';
import { createDatabase } from '../../infra/database';
import { listSteps } from '../../store/saga-timeline';
import { balanceOf, sumOfEntries } from './fixtures';
import { testConfig } from './stack';

/** LEDGER_SYSTEM_SHARDS of the test run: the global setup made that many clearing and fee accounts per currency. */
export const LEDGER_SHARDS = testConfig().ledgerSystemShards;

/** The clearing account a money saga moves through: the one of its shard (a hash of its id). */
export function clearingOf(sagaId: string, currency = 'USD'): string {
  return systemAccountId('clearing', currency, shardOfSaga(sagaId, LEDGER_SHARDS));
}

/** Every shard's account of a sharded system account kind in a currency. */
export function allShardsOf(kind: 'clearing' | 'fees', currency = 'USD'): string[] {
  return Array.from({ length: LEDGER_SHARDS }, (_, shard) => systemAccountId(kind, currency, shard));
}

/** The platform's fee account a money saga posts its fee to: the one of its shard. */
export function feesOf(sagaId: string, currency = 'USD'): string {
  return systemAccountId('fees', currency, shardOfSaga(sagaId, LEDGER_SHARDS));
}

/**
 * What the activity tests of every money saga kind share: a real migrated database, the mock
 * activity context, and probes of the ledger and the timeline. `useSagaActivityHarness` opens
 * both before the file's tests and runs `beforeClose` (ending the sagas a test left in flight)
 * before it closes the database.
 */
export interface SagaActivityHarness {
  db(): Knex;
  run<A extends unknown[], R>(activity: (...args: A) => Promise<R>, ...args: A): Promise<R>;
  expectRefusal(outcome: Promise<unknown>, type: ErrorTypeName): Promise<void>;
  journalCount(sagaId: string, step: string): Promise<number>;
  movedBy(sagaId: string, accountId: string): Promise<number>;
  heldOn(walletId: string): Promise<number>;
  stepsOf(sagaId: string): Promise<string[]>;
  freeze(walletId: string): Promise<void>;
  expectLedgerInBalance(accountIds: string[]): Promise<void>;
}

/** Registers the file's beforeAll/afterAll and returns the shared probes. */
export function useSagaActivityHarness(beforeClose: () => Promise<void>): SagaActivityHarness {
  let database: Knex | undefined;
  let environment: MockActivityEnvironment | undefined;
  const db = (): Knex => {
    if (!database) throw new Error('the database is open only inside tests');
    return database;
  };

  beforeAll(() => {
    database = createDatabase(testConfig().databaseUrl, 5);
    // Refusals are expected here; the activity logger would print each one.
    environment = new MockActivityEnvironment(undefined, { logger: new DefaultLogger('ERROR') });
  });
  afterAll(async () => {
    await beforeClose();
    await db().destroy();
  });

  return {
    db,
    run<A extends unknown[], R>(activity: (...args: A) => Promise<R>, ...args: A): Promise<R> {
      if (!environment) throw new Error('the activity environment exists only inside tests');
      return environment.run<A, R, typeof activity>(activity, ...args);
    },
    async expectRefusal(outcome, type) {
      const error = await outcome.then(
        () => null,
        (reason: unknown) => reason,
      );
      expect(error).toBeInstanceOf(ApplicationFailure);
      expect(error).toMatchObject({ type, nonRetryable: true });
    },
    async journalCount(sagaId, step) {
      const row = (await db()('journals').count({ n: '*' }).where({ journal_key: `${sagaId}:${step}` }).first()) as { n: number | string } | undefined;
      return Number(row?.n ?? 0);
    },
    // Shared system accounts move for other tests too: only this saga's entries count.
    async movedBy(sagaId, accountId) {
      const row = (await db()('entries').sum({ total: 'amount' }).where({ account_id: accountId, reference_id: sagaId }).first()) as
        | { total: string | number | null }
        | undefined;
      return Number(row?.total ?? 0);
    },
    async heldOn(walletId) {
      const row = await db()('accounts').select('held').where({ id: walletId }).first();
      return Number(row?.held);
    },
    async stepsOf(sagaId) {
      return (await listSteps(db(), sagaId)).map((step) => `${step.name}:${step.status}`);
    },
    async freeze(walletId) {
      await db()('accounts').where({ id: walletId }).update({ status: 'frozen' });
    },
    // Each account's entries sum to its balance, read in one snapshot (other tests post concurrently).
    async expectLedgerInBalance(accountIds) {
      const readings = await db().transaction(
        async (trx) => {
          const rows: Array<{ accountId: string; balance: number; sumOfEntries: number }> = [];
          for (const accountId of accountIds) {
            rows.push({ accountId, balance: await balanceOf(trx, accountId), sumOfEntries: await sumOfEntries(trx, accountId) });
          }
          return rows;
        },
        { isolationLevel: 'repeatable read' },
      );
      expect(readings.map(({ accountId, sumOfEntries: sum }) => [accountId, sum])).toEqual(readings.map(({ accountId, balance }) => [accountId, balance]));
    },
  };
}
