import type { Knex } from 'knex';
import { newId } from '../domain/ids';

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
