import type { Knex } from 'knex';

/**
 * `GET /v1/admin/audit` filters by actor, action, resource and time, newest first by `seq`. Each
 * index below leads with one filter and ends with `seq`, so a filtered page is a short index range
 * read in order; the resource filter uses the existing (`resource_type`, `resource_id`) index,
 * which InnoDB already suffixes with the primary key `seq`.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('audit_log', (table) => {
    table.index(['actor_id', 'seq'], 'audit_log_actor_seq_index');
    table.index(['action', 'seq'], 'audit_log_action_seq_index');
    table.index(['created_at'], 'audit_log_created_at_index');
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('audit_log', (table) => {
    table.dropIndex(['actor_id', 'seq'], 'audit_log_actor_seq_index');
    table.dropIndex(['action', 'seq'], 'audit_log_action_seq_index');
    table.dropIndex(['created_at'], 'audit_log_created_at_index');
  });
}
