import type { Knex } from 'knex';

/**
 * Aliases (`@handle`) and the directory's index. An alias row exists while it is held: releasing it
 * deletes the row, so the unique key frees the handle, and the audit log keeps who held it when.
 * Handles are stored lower-cased. `users (role, seq)` lets the merchant directory walk merchants
 * newest first and stop after one page, instead of sorting every user.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('aliases', (table) => {
    table.bigIncrements('seq').primary();
    table.string('alias', 30).notNullable().unique().comment('lower-case handle without its @');
    table.string('user_id', 40).notNullable().references('id').inTable('users');
    table.datetime('created_at', { precision: 3 }).notNullable();
    table.index(['user_id', 'seq']);
  });
  await knex.schema.alterTable('users', (table) => {
    table.index(['role', 'seq'], 'users_role_seq_index');
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('users', (table) => {
    table.dropIndex(['role', 'seq'], 'users_role_seq_index');
  });
  await knex.schema.dropTable('aliases');
}
