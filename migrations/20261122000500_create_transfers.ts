import type { Knex } from 'knex';

/** Transfers between people; their step timelines live in `saga_steps` like every saga's. */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('transfers', (table) => {
    table.bigIncrements('seq').primary();
    table.string('id', 40).notNullable().unique();
    table.string('sender_id', 40).notNullable().references('id').inTable('users');
    table.string('from_wallet_id', 40).notNullable().references('id').inTable('accounts');
    table.string('recipient_id', 40).notNullable().references('id').inTable('users');
    table.string('to_wallet_id', 40).notNullable().references('id').inTable('accounts');
    table.bigInteger('amount').notNullable();
    table.string('currency', 3).notNullable();
    table.string('note', 200).nullable();
    table.enum('status', ['pending', 'processing', 'succeeded', 'failed']).notNullable();
    table.string('failure_code', 32).nullable();
    table.string('failure_message', 255).nullable();
    table.string('fault_step', 32).nullable().comment('fault drill: the step made to fail (SAGA_FAULTS=enabled only)');
    table.string('workflow_id', 64).notNullable();
    table.datetime('created_at', { precision: 3 }).notNullable();
    table.datetime('updated_at', { precision: 3 }).notNullable();
    table.index(['sender_id', 'seq']);
    table.index(['recipient_id', 'seq']);
    // The sender's 24-hour total in one currency, summed by validate.
    table.index(['sender_id', 'currency', 'created_at']);
    table.index(['status', 'created_at']);
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('transfers');
}
