import type { Knex } from 'knex';

/**
 * `held`: money credited to a wallet by a saga that has not finished. It cannot be
 * spent until the saga finishes, so the saga's compensation can always take it back.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('accounts', (table) => {
    table.bigInteger('held').notNullable().defaultTo(0).after('balance');
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('accounts', (table) => {
    table.dropColumn('held');
  });
}
