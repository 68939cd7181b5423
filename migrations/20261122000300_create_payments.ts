import type { Knex } from 'knex';

/** Payments to merchants and the step timeline of every saga (payments now, transfers later). */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('payments', (table) => {
    table.bigIncrements('seq').primary();
    table.string('id', 40).notNullable().unique();
    table.string('payer_id', 40).notNullable().references('id').inTable('users');
    table.string('source_wallet_id', 40).notNullable().references('id').inTable('accounts');
    table.string('merchant_id', 40).notNullable().references('id').inTable('users');
    table.string('merchant_wallet_id', 40).notNullable().references('id').inTable('accounts');
    table.bigInteger('amount').notNullable();
    table.bigInteger('fee').notNullable();
    table.bigInteger('net_amount').notNullable();
    table.string('currency', 3).notNullable();
    table.string('description', 200).nullable();
    table.enum('status', ['pending', 'processing', 'succeeded', 'failed']).notNullable();
    table.string('failure_code', 32).nullable();
    table.string('failure_message', 255).nullable();
    table.string('fault_step', 32).nullable().comment('fault drill: the step made to fail (SAGA_FAULTS=enabled only)');
    table.string('workflow_id', 64).notNullable();
    table.datetime('created_at', { precision: 3 }).notNullable();
    table.datetime('updated_at', { precision: 3 }).notNullable();
    table.index(['payer_id', 'seq']);
    table.index(['merchant_id', 'seq']);
    table.index(['status', 'created_at']);
  });

  await knex.schema.createTable('saga_steps', (table) => {
    table.bigIncrements('seq').primary();
    table.string('saga_id', 40).notNullable().comment('the payment or transfer id');
    table.string('name', 32).notNullable();
    table.enum('status', ['completed', 'failed', 'compensated']).notNullable();
    table.datetime('at', { precision: 3 }).notNullable();
    table.unique(['saga_id', 'name']);
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('saga_steps');
  await knex.schema.dropTable('payments');
}
