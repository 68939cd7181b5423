import type { Knex } from 'knex';

const STATUSES_BEFORE = "'pending','processing','succeeded','failed'";
const STATUSES_AFTER = "'pending','processing','in_review','succeeded','failed'";

/**
 * Risk checks: payments gain the status `in_review` (waiting for an admin's decision); payments
 * and transfers keep the rule that declined them (`failure_rule`). `risk_checks` records each
 * saga's verdict once, keyed by saga and step, so a retried check answers the same, and a
 * review's deadline and decision. `risk_blocklist` is the admin-kept list of users, e-mail
 * addresses and merchants whose sagas are declined.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`ALTER TABLE payments MODIFY status ENUM(${STATUSES_AFTER}) NOT NULL`);
  for (const table of ['payments', 'transfers']) {
    await knex.schema.alterTable(table, (builder) => {
      builder.string('failure_rule', 40).nullable().after('failure_message');
    });
  }
  await knex.schema.createTable('risk_checks', (table) => {
    table.string('saga_id', 40).notNullable();
    table.string('step', 32).notNullable();
    table.string('saga_kind', 16).notNullable();
    table.enum('outcome', ['allow', 'review', 'decline']).notNullable();
    table.string('rule', 40).nullable();
    table.datetime('review_expires_at', { precision: 3 }).nullable();
    table.enum('decision', ['approve', 'decline', 'timeout']).nullable();
    table.string('decided_by', 40).nullable();
    table.datetime('decided_at', { precision: 3 }).nullable();
    table.datetime('created_at', { precision: 3 }).notNullable();
    table.primary(['saga_id', 'step']);
  });
  await knex.schema.createTable('risk_blocklist', (table) => {
    table.bigIncrements('seq').primary();
    table.string('id', 40).notNullable().unique();
    table.enum('kind', ['user', 'email', 'merchant']).notNullable();
    table.string('value', 320).notNullable();
    table.string('reason', 200).nullable();
    table.string('created_by', 40).notNullable();
    table.datetime('created_at', { precision: 3 }).notNullable();
    table.unique(['kind', 'value']);
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('risk_blocklist');
  await knex.schema.dropTable('risk_checks');
  for (const table of ['transfers', 'payments']) {
    await knex.schema.alterTable(table, (builder) => {
      builder.dropColumn('failure_rule');
    });
  }
  await knex.raw(`ALTER TABLE payments MODIFY status ENUM(${STATUSES_BEFORE}) NOT NULL`);
}
