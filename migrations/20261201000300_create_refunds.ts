import type { Knex } from 'knex';

/**
 * Refunds of succeeded payments, each one a money saga `refund-<id>`. A refund keeps the
 * payment's parties and wallets, so its steps never read the payment again, and its share of
 * the payment's fee (`fee_refunded`), fixed under the payment row's lock when it was created.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('refunds', (table) => {
    table.bigIncrements('seq').primary();
    table.string('id', 40).notNullable().unique();
    table.string('payment_id', 40).notNullable().references('id').inTable('payments');
    table.string('payer_id', 40).notNullable().references('id').inTable('users');
    table.string('source_wallet_id', 40).notNullable().references('id').inTable('accounts');
    table.string('merchant_id', 40).notNullable().references('id').inTable('users');
    table.string('merchant_wallet_id', 40).notNullable().references('id').inTable('accounts');
    table.bigInteger('amount').notNullable();
    table.bigInteger('fee_refunded').notNullable();
    table.bigInteger('net_amount').notNullable();
    table.string('currency', 3).notNullable();
    table.string('reason', 200).nullable();
    table.enum('status', ['pending', 'processing', 'succeeded', 'failed']).notNullable();
    table.string('failure_code', 32).nullable();
    table.string('failure_message', 255).nullable();
    table.string('fault_step', 32).nullable().comment('fault drill: the step made to fail (SAGA_FAULTS=enabled only)');
    table.string('workflow_id', 64).notNullable();
    table.datetime('compensation_started_at', { precision: 3 }).nullable();
    table.datetime('created_at', { precision: 3 }).notNullable();
    table.datetime('updated_at', { precision: 3 }).notNullable();
    table.index(['payment_id', 'status']);
    table.index(['status', 'created_at']);
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('refunds');
}
