import type { Knex } from 'knex';

const SAGA_TABLES = ['payments', 'transfers'] as const;

/**
 * `compensation_started_at`: set, under the saga row's lock, when the saga starts compensating.
 * A forward money step locks the same row and moves money only while it is null, so an attempt
 * that Temporal gave up on cannot commit money after the saga has turned back.
 * The journal's `reference_id` is indexed so reconciliation can sum one account's entries per saga.
 */
export async function up(knex: Knex): Promise<void> {
  for (const table of SAGA_TABLES) {
    await knex.schema.alterTable(table, (builder) => {
      builder.datetime('compensation_started_at', { precision: 3 }).nullable().after('workflow_id');
    });
  }
  await knex.schema.alterTable('entries', (builder) => {
    builder.index(['account_id', 'reference_id'], 'entries_account_id_reference_id_index');
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('entries', (builder) => {
    builder.dropIndex(['account_id', 'reference_id'], 'entries_account_id_reference_id_index');
  });
  for (const table of [...SAGA_TABLES].reverse()) {
    await knex.schema.alterTable(table, (builder) => {
      builder.dropColumn('compensation_started_at');
    });
  }
}
