import type { Knex } from 'knex';

/** Idempotency keys, top-ups, notifications and the audit log. */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('idempotency_keys', (table) => {
    table.bigIncrements('seq').primary();
    table.string('user_id', 40).notNullable();
    table.string('idempotency_key', 255).notNullable();
    table.string('request_hash', 64).notNullable();
    table.string('resource_type', 32).notNullable();
    table.string('resource_id', 40).notNullable();
    table.datetime('created_at', { precision: 3 }).notNullable();
    table.unique(['user_id', 'idempotency_key']);
  });

  await knex.schema.createTable('topups', (table) => {
    table.bigIncrements('seq').primary();
    table.string('id', 40).notNullable().unique();
    table.string('wallet_id', 40).notNullable().references('id').inTable('accounts');
    table.string('user_id', 40).notNullable().references('id').inTable('users');
    table.bigInteger('amount').notNullable();
    table.string('currency', 3).notNullable();
    table.enum('status', ['succeeded']).notNullable();
    table.string('journal_id', 40).notNullable().references('id').inTable('journals');
    table.datetime('created_at', { precision: 3 }).notNullable();
  });

  await knex.schema.createTable('notifications', (table) => {
    table.bigIncrements('seq').primary();
    table.string('id', 40).notNullable().unique();
    table.string('user_id', 40).notNullable().references('id').inTable('users');
    table.string('type', 32).notNullable();
    table.enum('channel', ['in_app', 'email']).notNullable();
    table.string('title', 200).notNullable();
    table.text('body').notNullable();
    table.text('data').notNullable();
    table.string('status', 16).notNullable();
    table.integer('attempts').notNullable().defaultTo(0);
    table.string('dedupe_key', 191).notNullable().unique();
    table.datetime('created_at', { precision: 3 }).notNullable();
    table.datetime('updated_at', { precision: 3 }).notNullable();
    table.index(['user_id', 'seq']);
  });

  await knex.schema.createTable('audit_log', (table) => {
    table.bigIncrements('seq').primary();
    table.string('id', 40).notNullable().unique();
    table.string('actor_id', 40).nullable();
    table.string('action', 64).notNullable();
    table.string('resource_type', 32).notNullable();
    table.string('resource_id', 64).notNullable();
    table.text('data').notNullable();
    table.datetime('created_at', { precision: 3 }).notNullable();
    table.index(['resource_type', 'resource_id']);
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('audit_log');
  await knex.schema.dropTable('notifications');
  await knex.schema.dropTable('topups');
  await knex.schema.dropTable('idempotency_keys');
}
