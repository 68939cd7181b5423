import type { Knex } from 'knex';

/**
 * Web sessions: refresh tokens kept only as SHA-256 hashes, one row per token. Rotation chains a
 * login's tokens into one family; a token presented after it was rotated revokes its family.
 * `users.token_version` is carried by every access token and refresh token: bumping it (a new
 * password, a closed account) makes every older one stop working at once.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('users', (table) => {
    table.integer('token_version').unsigned().notNullable().defaultTo(0);
  });
  await knex.schema.createTable('refresh_tokens', (table) => {
    table.bigIncrements('seq').primary();
    table.string('id', 40).notNullable().unique();
    table.binary('token_hash', 32).notNullable().unique();
    table.string('family_id', 40).notNullable();
    table.string('user_id', 40).notNullable().references('id').inTable('users');
    table.integer('token_version').unsigned().notNullable();
    table.datetime('expires_at', { precision: 3 }).notNullable();
    table.datetime('rotated_at', { precision: 3 }).nullable();
    table.datetime('revoked_at', { precision: 3 }).nullable();
    table.datetime('created_at', { precision: 3 }).notNullable();
    table.index(['family_id']);
    table.index(['user_id', 'revoked_at']);
    table.index(['expires_at']);
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('refresh_tokens');
  await knex.schema.alterTable('users', (table) => {
    table.dropColumn('token_version');
  });
}
