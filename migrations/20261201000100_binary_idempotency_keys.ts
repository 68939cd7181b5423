import type { Knex } from 'knex';

/**
 * Idempotency keys compare byte for byte. The column was a VARCHAR in the table's default
 * collation: case-insensitive on both servers, and PAD SPACE on MariaDB, so `Order-1` found
 * the row of `order-1` and `k ` the row of `k`, and the second request replayed the first.
 * VARBINARY compares bytes with every trailing space significant on MariaDB and MySQL 8
 * alike (the `_bin` collations pad on MariaDB, and their NO PAD names differ between the two).
 * Keys are printable ASCII (`api/idempotency.ts` refuses anything else), so no text is lost.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw('ALTER TABLE idempotency_keys MODIFY idempotency_key VARBINARY(255) NOT NULL');
}

/** Back to the table's default character set and collation; fails if two keys now differ only by case or trailing spaces. */
export async function down(knex: Knex): Promise<void> {
  await knex.raw('ALTER TABLE idempotency_keys MODIFY idempotency_key VARCHAR(255) NOT NULL');
}
