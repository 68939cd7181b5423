import type { Knex } from 'knex';

/**
 * The payer's 24-hour total in one currency, summed by the payment saga's validate step
 * (`payer_id`, `currency`, `created_at` > a day ago): without this index it read every payment
 * of the payer. Transfers have had the same index on their sender since they were created.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('payments', (table) => {
    table.index(['payer_id', 'currency', 'created_at'], 'payments_payer_currency_created_at_index');
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('payments', (table) => {
    table.dropIndex(['payer_id', 'currency', 'created_at'], 'payments_payer_currency_created_at_index');
  });
}
