import type { Knex } from 'knex';

/**
 * `accounts.shard`: the number of a platform system account among its kind and currency (clearing
 * and fee accounts come in several shards per currency, so sagas do not all queue on one row's
 * lock). NULL for user wallets, which MySQL's unique key lets repeat; the system accounts that
 * exist already are shard 0, and (kind, currency, shard) names at most one account.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('accounts', (table) => {
    table.smallint('shard').unsigned().nullable().after('kind');
  });
  await knex('accounts').whereNot({ kind: 'wallet' }).update({ shard: 0 });
  await knex.schema.alterTable('accounts', (table) => {
    table.unique(['kind', 'currency', 'shard'], { indexName: 'accounts_kind_currency_shard_unique' });
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('accounts', (table) => {
    table.dropUnique(['kind', 'currency', 'shard'], 'accounts_kind_currency_shard_unique');
  });
  await knex.schema.alterTable('accounts', (table) => {
    table.dropColumn('shard');
  });
}
