import type { Knex } from 'knex';

/**
 * Every authenticated request of a web session asks whether the session was revoked: is there a
 * row of its family with `revoked_at` set? A session that refreshes every few minutes for weeks
 * has thousands of rows, so (`family_id`, `revoked_at`) answers with one index probe instead of
 * reading the family. It leads with `family_id`, so it also serves what the old one-column index
 * served (revoking a family), and replaces it.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('refresh_tokens', (table) => {
    table.index(['family_id', 'revoked_at'], 'refresh_tokens_family_id_revoked_at_index');
  });
  await knex.schema.alterTable('refresh_tokens', (table) => {
    table.dropIndex(['family_id'], 'refresh_tokens_family_id_index');
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('refresh_tokens', (table) => {
    table.index(['family_id'], 'refresh_tokens_family_id_index');
  });
  await knex.schema.alterTable('refresh_tokens', (table) => {
    table.dropIndex(['family_id', 'revoked_at'], 'refresh_tokens_family_id_revoked_at_index');
  });
}
