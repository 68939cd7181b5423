import type { Knex } from 'knex';

const SAGA_TABLES = ['payments', 'transfers', 'refunds'] as const;

/**
 * A money saga's first failure: the step that failed and why, written in the transaction that
 * sets `compensation_started_at`, once. A worker killed before its workflow task completed leaves
 * the next worker to run that task's steps again after the mark, and one of them may then fail
 * for another reason (the fence refuses it); the saga still ends `failed` with this first failure.
 */
export async function up(knex: Knex): Promise<void> {
  for (const table of SAGA_TABLES) {
    await knex.schema.alterTable(table, (builder) => {
      builder.string('first_failure_step', 32).nullable().after('compensation_started_at');
      builder.string('first_failure_code', 32).nullable().after('first_failure_step');
      builder.string('first_failure_message', 255).nullable().after('first_failure_code');
      builder.string('first_failure_rule', 40).nullable().after('first_failure_message');
    });
  }
}

export async function down(knex: Knex): Promise<void> {
  for (const table of [...SAGA_TABLES].reverse()) {
    await knex.schema.alterTable(table, (builder) => {
      builder.dropColumn('first_failure_rule');
      builder.dropColumn('first_failure_message');
      builder.dropColumn('first_failure_code');
      builder.dropColumn('first_failure_step');
    });
  }
}
