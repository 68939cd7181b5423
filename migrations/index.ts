import type { Knex } from 'knex';
import * as createCoreTables from './20261122000100_create_core_tables';
import * as createSupportTables from './20261122000200_create_support_tables';
import * as createPayments from './20261122000300_create_payments';
import * as addAccountHolds from './20261122000400_add_account_holds';
import * as createTransfers from './20261122000500_create_transfers';
import * as createRateLimitCounters from './20261122000600_create_rate_limit_counters';
import * as createWebhooks from './20261122000700_create_webhooks';
import * as addSagaFencing from './20261201000001_add_saga_fencing';
import * as binaryIdempotencyKeys from './20261201000100_binary_idempotency_keys';
import * as indexPayerDailyTotal from './20261201000200_index_payer_daily_total';
import * as createRefunds from './20261201000300_create_refunds';
import * as shardSystemAccounts from './20261201100000_shard_system_accounts';
import * as addDeliveryLeases from './20261201110000_add_delivery_leases';
import * as createRefreshTokens from './20261201120000_create_refresh_tokens';
import * as addAccountClosing from './20261201120100_add_account_closing';
import * as indexAuditLogFilters from './20261201120200_index_audit_log_filters';
import * as createAliases from './20261201130000_create_aliases';
import * as addRiskChecks from './20261201140000_add_risk_checks';
import * as indexRefreshTokenSessions from './20261201150000_index_refresh_token_sessions';
import * as dropSagaWalletForeignKeys from './20261208010000_drop_saga_wallet_foreign_keys';
import * as addSagaFirstFailure from './20261208020000_add_saga_first_failure';
import * as addRefreshTokenSuccessors from './20261208040000_add_refresh_token_successors';

interface Migration {
  up(knex: Knex): Promise<void>;
  down(knex: Knex): Promise<void>;
}

/** Every migration in order. Listed statically so tsx, jest and compiled builds load them alike. */
const migrations: ReadonlyArray<readonly [name: string, migration: Migration]> = [
  ['20261122000100_create_core_tables', createCoreTables],
  ['20261122000200_create_support_tables', createSupportTables],
  ['20261122000300_create_payments', createPayments],
  ['20261122000400_add_account_holds', addAccountHolds],
  ['20261122000500_create_transfers', createTransfers],
  ['20261122000600_create_rate_limit_counters', createRateLimitCounters],
  ['20261122000700_create_webhooks', createWebhooks],
  ['20261201000001_add_saga_fencing', addSagaFencing],
  ['20261201000100_binary_idempotency_keys', binaryIdempotencyKeys],
  ['20261201000200_index_payer_daily_total', indexPayerDailyTotal],
  ['20261201000300_create_refunds', createRefunds],
  ['20261201100000_shard_system_accounts', shardSystemAccounts],
  ['20261201110000_add_delivery_leases', addDeliveryLeases],
  ['20261201120000_create_refresh_tokens', createRefreshTokens],
  ['20261201120100_add_account_closing', addAccountClosing],
  ['20261201120200_index_audit_log_filters', indexAuditLogFilters],
  ['20261201130000_create_aliases', createAliases],
  ['20261201140000_add_risk_checks', addRiskChecks],
  ['20261201150000_index_refresh_token_sessions', indexRefreshTokenSessions],
  ['20261208010000_drop_saga_wallet_foreign_keys', dropSagaWalletForeignKeys],
  ['20261208020000_add_saga_first_failure', addSagaFirstFailure],
  ['20261208040000_add_refresh_token_successors', addRefreshTokenSuccessors],
];

/** A knex migration source over the static list above. */
export const migrationSource: Knex.MigrationSource<string> = {
  getMigrations: () => Promise.resolve(migrations.map(([name]) => name)),
  getMigrationName: (name) => name,
  getMigration: (name) => {
    const found = migrations.find(([candidate]) => candidate === name);
    return found ? Promise.resolve(found[1]) : Promise.reject(new Error(`unknown migration ${name}`));
  },
};
