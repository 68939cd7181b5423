import type { Knex } from 'knex';

/**
 * Closing an account: the user row stays (the ledger and the history still name it) and turns
 * `closed`. The closing check finds a user's sagas through the indexes their party columns already
 * have (each is a foreign key to users), so its locked reads cover only that user's rows.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('users', (table) => {
    table.enum('status', ['active', 'closed']).notNullable().defaultTo('active');
    table.datetime('closed_at', { precision: 3 }).nullable();
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('users', (table) => {
    table.dropColumn('closed_at');
    table.dropColumn('status');
  });
}
