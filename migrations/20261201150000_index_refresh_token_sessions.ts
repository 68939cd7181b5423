import type { Knex } from 'knex';

/**
 * Every authenticated request of a web session asks whether the session was revoked: is there a
 * row of its family with `revoked_at` set? A session that refreshes every few minutes for weeks
 * has thousands of rows, so (`family_id`, `revoked_at`) answers with one index probe instead of
 * reading the family. The one-column `family_id` index stays: dropping it here could not be undone
 * exactly (a re-created index lists after the others), and `down` must give back the same table.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('refresh_tokens', (table) => {
    table.index(['family_id', 'revoked_at'], 'refresh_tokens_family_id_revoked_at_index');
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('refresh_tokens', (table) => {
    table.dropIndex(['family_id', 'revoked_at'], 'refresh_tokens_family_id_revoked_at_index');
  });
}
