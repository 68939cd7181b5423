import type { Knex } from 'knex';

/**
 * Two tabs refreshing one session at once: the token just rotated stays good for a short grace
 * window and answers the same successor. A rotated row names its successor (`successor_id`) and
 * keeps the successor token sealed (`successor_sealed`: AES-256-GCM, 12-byte nonce, 16-byte tag,
 * then the 43-byte token) under a key derived from the rotated token itself, which is never
 * stored: only someone presenting that token can open it, and the table alone opens nothing.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('refresh_tokens', (table) => {
    table.string('successor_id', 40).nullable();
    table.binary('successor_sealed', 96).nullable();
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('refresh_tokens', (table) => {
    table.dropColumn('successor_sealed');
    table.dropColumn('successor_id');
  });
}
