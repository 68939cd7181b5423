import type { Knex } from 'knex';

/**
 * Fixed-window request counters of the rate limits, shared by every API replica.
 * One row per key and window: `hits` grows with an atomic upsert, and rows whose
 * window has passed are deleted in small batches (`expires_at` is indexed for that).
 * `bucket` holds the limit's name and a hash of the key, never an e-mail or IP in clear.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('rate_limit_counters', (table) => {
    table.string('bucket', 100).notNullable();
    table.bigInteger('window_start_ms').notNullable();
    table.integer('hits').unsigned().notNullable();
    table.datetime('expires_at', { precision: 3 }).notNullable();
    table.primary(['bucket', 'window_start_ms']);
    table.index(['expires_at']);
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('rate_limit_counters');
}
