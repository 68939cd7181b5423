import type { Knex } from 'knex';

/**
 * E-mail notifications and webhook events become their own delivery queue: the dispatcher of
 * each notifications worker claims due rows of its task queue (`delivery_queue`) with
 * `SELECT … FOR UPDATE SKIP LOCKED`, leases them (`next_attempt_at` moves to the end of the
 * lease, `locked_until` says so, `attempts` counts the claim), sends outside the transaction and
 * records the outcome. Rows of before (no `delivery_queue`) stay with their delivery workflows.
 */
const QUEUE_INDEX = { notifications: 'notifications_delivery_due_index', webhook_events: 'webhook_events_delivery_due_index' } as const;

export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('notifications', (table) => {
    table.string('delivery_queue', 64).nullable().comment('the notifications task queue whose dispatchers send this e-mail; null: in-app, or a delivery workflow sends it');
    table.datetime('next_attempt_at', { precision: 3 }).nullable().comment('when a dispatcher may claim it next (while leased: the end of the lease)');
    table.datetime('locked_until', { precision: 3 }).nullable().comment('set while a dispatcher sends it: the end of its lease');
    table.string('last_error', 255).nullable().comment('why the last attempt failed, for operators');
    table.index(['delivery_queue', 'status', 'next_attempt_at'], QUEUE_INDEX.notifications);
  });
  await knex.schema.alterTable('webhook_events', (table) => {
    table.string('delivery_queue', 64).nullable().comment('the notifications task queue whose dispatchers deliver this event; null: a delivery workflow does');
    table.integer('attempts').notNullable().defaultTo(0).comment('claims by a dispatcher (each one POST)');
    table.datetime('next_attempt_at', { precision: 3 }).nullable().comment('when a dispatcher may claim it next (while leased: the end of the lease)');
    table.datetime('locked_until', { precision: 3 }).nullable().comment('set while a dispatcher delivers it: the end of its lease');
    table.string('last_error', 255).nullable().comment('why the last attempt failed, for operators');
    table.index(['delivery_queue', 'status', 'next_attempt_at'], QUEUE_INDEX.webhook_events);
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('webhook_events', (table) => {
    table.dropIndex(['delivery_queue', 'status', 'next_attempt_at'], QUEUE_INDEX.webhook_events);
    table.dropColumns('delivery_queue', 'attempts', 'next_attempt_at', 'locked_until', 'last_error');
  });
  await knex.schema.alterTable('notifications', (table) => {
    table.dropIndex(['delivery_queue', 'status', 'next_attempt_at'], QUEUE_INDEX.notifications);
    table.dropColumns('delivery_queue', 'next_attempt_at', 'locked_until', 'last_error');
  });
}
