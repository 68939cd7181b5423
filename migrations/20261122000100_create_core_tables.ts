import type { Knex } from 'knex';

/** Users, accounts (wallets and the platform's system accounts), the journal and its entries. */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('users', (table) => {
    table.bigIncrements('seq').primary();
    table.string('id', 40).notNullable().unique();
    table.string('email', 254).notNullable().unique();
    table.string('password_hash', 255).notNullable();
    table.string('name', 100).notNullable();
    table.string('phone', 16).nullable();
    table.enum('role', ['customer', 'merchant', 'admin']).notNullable();
    table.string('currency', 3).notNullable().comment('currency of the wallet onboarding creates');
    table.enum('onboarding_status', ['pending', 'completed']).notNullable().defaultTo('pending');
    table.datetime('created_at', { precision: 3 }).notNullable();
    table.datetime('updated_at', { precision: 3 }).notNullable();
    table.index(['onboarding_status', 'created_at']);
  });

  await knex.schema.createTable('accounts', (table) => {
    table.bigIncrements('seq').primary();
    table.string('id', 40).notNullable().unique();
    table.enum('kind', ['wallet', 'external', 'promotions', 'fees', 'clearing']).notNullable();
    table.string('user_id', 40).nullable().references('id').inTable('users');
    table.string('system_key', 40).nullable().unique();
    table.string('currency', 3).notNullable();
    table.bigInteger('balance').notNullable().defaultTo(0);
    table.enum('status', ['active', 'frozen']).notNullable().defaultTo('active');
    table.datetime('created_at', { precision: 3 }).notNullable();
    table.datetime('updated_at', { precision: 3 }).notNullable();
    table.unique(['user_id', 'currency']);
  });

  await knex.schema.createTable('journals', (table) => {
    table.bigIncrements('seq').primary();
    table.string('id', 40).notNullable().unique();
    table.string('journal_key', 191).notNullable().unique();
    table.string('type', 32).notNullable();
    table.string('reference_id', 64).notNullable();
    table.datetime('created_at', { precision: 3 }).notNullable();
  });

  await knex.schema.createTable('entries', (table) => {
    table.bigIncrements('seq').primary();
    table.string('id', 40).notNullable().unique();
    table.string('journal_id', 40).notNullable().references('id').inTable('journals');
    table.string('account_id', 40).notNullable().references('id').inTable('accounts');
    table.bigInteger('amount').notNullable();
    table.bigInteger('balance_after').notNullable();
    table.string('type', 32).notNullable();
    table.string('reference_id', 64).notNullable();
    table.datetime('created_at', { precision: 3 }).notNullable();
    table.index(['account_id', 'seq']);
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('entries');
  await knex.schema.dropTable('journals');
  await knex.schema.dropTable('accounts');
  await knex.schema.dropTable('users');
}
