import type { Knex } from 'knex';

/** Each saga table's columns that named a wallet through a foreign key to `accounts`. */
const WALLET_COLUMNS: ReadonlyArray<readonly [table: string, columns: readonly string[]]> = [
  ['payments', ['source_wallet_id', 'merchant_wallet_id']],
  ['transfers', ['from_wallet_id', 'to_wallet_id']],
  ['refunds', ['source_wallet_id', 'merchant_wallet_id']],
];

/**
 * Saga rows stop checking their wallets through foreign keys. InnoDB checks a foreign key by
 * taking a shared lock on the parent row, so inserting a payment waited for every money step
 * that held the merchant's (or the payer's) wallet row, and a hot wallet turned a request into a
 * lock wait. The route reads both wallets before it inserts, wallets are never deleted, and the
 * ledger checks each account again under its lock when money moves. The columns keep their
 * indexes (the ones the foreign keys made), so `down` puts the keys back on them as they were.
 */
export async function up(knex: Knex): Promise<void> {
  for (const [table, columns] of WALLET_COLUMNS) {
    await knex.schema.alterTable(table, (builder) => {
      for (const column of columns) builder.dropForeign([column]);
    });
  }
}

export async function down(knex: Knex): Promise<void> {
  for (const [table, columns] of WALLET_COLUMNS) await restoreForeignKeys(knex, table, columns);
}

/** One index of a table as `SHOW INDEX` lists it, in the table's order. */
interface IndexShape {
  name: string;
  unique: boolean;
  columns: string[];
}

async function indexesOf(knex: Knex, table: string): Promise<IndexShape[]> {
  const [rows] = (await knex.raw('SHOW INDEX FROM ??', [table])) as [Array<{ Key_name: string; Non_unique: number; Column_name: string }>];
  const indexes: IndexShape[] = [];
  for (const row of rows) {
    const last = indexes[indexes.length - 1];
    if (last?.name === row.Key_name) last.columns.push(row.Column_name);
    else indexes.push({ name: row.Key_name, unique: Number(row.Non_unique) === 0, columns: [row.Column_name] });
  }
  return indexes;
}

/**
 * Puts the foreign keys back with the table's indexes in their order. MariaDB adds a foreign key
 * by rebuilding the key's own index at the end of the list, so the plain indexes from the first
 * wallet index on are dropped and made again, in their order, in the same statement.
 */
async function restoreForeignKeys(knex: Knex, table: string, columns: readonly string[]): Promise<void> {
  const plain = (await indexesOf(knex, table)).filter((index) => !index.unique);
  const walletIndexes = new Set(columns.map((column) => `${table}_${column}_foreign`));
  const first = plain.findIndex((index) => walletIndexes.has(index.name));
  if (first < 0) throw new Error(`${table} has lost the indexes of its wallet columns`);
  const rebuilt = plain.slice(first);
  const changes = [
    ...rebuilt.map((index) => `DROP INDEX \`${index.name}\``),
    ...rebuilt.map((index) => `ADD INDEX \`${index.name}\` (${index.columns.map((column) => `\`${column}\``).join(', ')})`),
    ...columns.map((column) => `ADD CONSTRAINT \`${table}_${column}_foreign\` FOREIGN KEY (\`${column}\`) REFERENCES \`accounts\` (\`id\`)`),
  ];
  await knex.raw(`ALTER TABLE \`${table}\` ${changes.join(', ')}`);
}
