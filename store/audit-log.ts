import type { Knex } from 'knex';
import { newId } from '../domain/ids';
import type { AuditLogRow } from '../infra/tables';

/** One audited change: who did what to which resource, with the details worth keeping. */
export interface AuditEntry {
  /** The user who acted; null when the system acted on its own. */
  actorId: string | null;
  /** A dotted verb such as `wallet.frozen` or `user.password_changed`. */
  action: string;
  resourceType: string;
  resourceId: string;
  data: Record<string, unknown>;
}

/**
 * Appends one entry to the audit log inside the caller's transaction, so the record commits or
 * rolls back with the change it describes. The log is append-only: nothing updates or deletes it.
 */
export async function recordAudit(trx: Knex | Knex.Transaction, entry: AuditEntry, at: Date = new Date()): Promise<void> {
  await trx('audit_log').insert({
    id: newId('aud'),
    actor_id: entry.actorId,
    action: entry.action,
    resource_type: entry.resourceType,
    resource_id: entry.resourceId,
    data: JSON.stringify(entry.data),
    created_at: at,
  });
}

/** An audit log entry as the admin API shows it. */
export interface AuditRecord {
  id: string;
  actorId: string | null;
  action: string;
  resourceType: string;
  resourceId: string;
  data: Record<string, unknown>;
  createdAt: string;
}

/** What `GET /v1/admin/audit` narrows the log by; every given filter must hold. */
export interface AuditFilters {
  actor?: string | undefined;
  action?: string | undefined;
  resourceType?: string | undefined;
  resourceId?: string | undefined;
  /** Inclusive lower bound on `created_at`. */
  since?: Date | undefined;
  /** Exclusive upper bound on `created_at`. */
  until?: Date | undefined;
}

/** The audit log rows matching `filters`, as a query to paginate (each filter has an index; see the audit filter migration). */
export function auditLogQuery(db: Knex, filters: AuditFilters): Knex.QueryBuilder {
  const query = db('audit_log');
  if (filters.actor !== undefined) void query.where('actor_id', filters.actor);
  if (filters.action !== undefined) void query.where('action', filters.action);
  if (filters.resourceType !== undefined) void query.where('resource_type', filters.resourceType);
  if (filters.resourceId !== undefined) void query.where('resource_id', filters.resourceId);
  if (filters.since !== undefined) void query.where('created_at', '>=', filters.since);
  if (filters.until !== undefined) void query.where('created_at', '<', filters.until);
  return query;
}

/** Maps an `audit_log` row to its API form. */
export function toAuditRecord(row: AuditLogRow): AuditRecord {
  return {
    id: row.id,
    actorId: row.actor_id,
    action: row.action,
    resourceType: row.resource_type,
    resourceId: row.resource_id,
    data: JSON.parse(row.data) as Record<string, unknown>,
    createdAt: row.created_at.toISOString(),
  };
}
