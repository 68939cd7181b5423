import type { Knex } from 'knex';

/**
 * Merchant webhooks: one endpoint per merchant (its URL and signing secret), the
 * events to deliver (the exact JSON body, so every attempt sends the same bytes),
 * and one row per delivery attempt. E-mails need no table of their own: they are
 * `notifications` rows of channel `email`.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('webhook_endpoints', (table) => {
    table.bigIncrements('seq').primary();
    table.string('id', 40).notNullable().unique();
    table.string('merchant_id', 40).notNullable().unique().references('id').inTable('users');
    table.string('url', 2048).notNullable();
    table.string('secret', 100).notNullable().comment('HMAC key the events are signed with; shown to the merchant only when set');
    table.datetime('created_at', { precision: 3 }).notNullable();
    table.datetime('updated_at', { precision: 3 }).notNullable();
  });

  await knex.schema.createTable('webhook_events', (table) => {
    table.bigIncrements('seq').primary();
    table.string('id', 40).notNullable().unique();
    table.string('merchant_id', 40).notNullable().references('id').inTable('users');
    table.string('type', 64).notNullable();
    table.text('payload').notNullable().comment('the JSON body POSTed on every attempt');
    table.string('dedupe_key', 191).notNullable().unique();
    table.enum('status', ['pending', 'delivered', 'failed']).notNullable();
    table.datetime('created_at', { precision: 3 }).notNullable();
    table.datetime('updated_at', { precision: 3 }).notNullable();
    table.index(['merchant_id', 'seq']);
  });

  await knex.schema.createTable('webhook_deliveries', (table) => {
    table.bigIncrements('seq').primary();
    table.string('id', 40).notNullable().unique();
    table.string('event_id', 40).notNullable().references('id').inTable('webhook_events');
    table.string('merchant_id', 40).notNullable().references('id').inTable('users');
    table.string('event_type', 64).notNullable();
    table.string('url', 2048).notNullable();
    table.integer('attempt').unsigned().notNullable();
    table.enum('status', ['pending', 'succeeded', 'failed']).notNullable();
    table.integer('response_status').nullable();
    table.string('error', 255).nullable().comment('why an attempt got no answer (refused, timed out); for operators');
    table.datetime('created_at', { precision: 3 }).notNullable();
    table.datetime('updated_at', { precision: 3 }).notNullable();
    table.unique(['event_id', 'attempt']);
    table.index(['merchant_id', 'seq']);
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('webhook_deliveries');
  await knex.schema.dropTable('webhook_events');
  await knex.schema.dropTable('webhook_endpoints');
}
