import { log } from '@temporalio/activity';
import type { Knex } from 'knex';
import { newId } from '../domain/ids';
import { formatAmount } from '../domain/money';

/** Notification types as the API shows them. */
export type NotificationType =
  | 'welcome'
  | 'payment_succeeded'
  | 'payment_failed'
  | 'payment_received'
  | 'transfer_sent'
  | 'transfer_received';

/** What one in-app notification says; `dedupeKey` makes recording it idempotent. */
export interface NotificationMessage {
  userId: string;
  type: NotificationType;
  title: string;
  body: string;
  data: Record<string, unknown>;
  dedupeKey: string;
}

/** Records an in-app notification once per dedupe key; returns its id. */
export async function recordInAppNotification(db: Knex, message: NotificationMessage): Promise<string> {
  const now = new Date();
  await db('notifications')
    .insert({
      id: newId('ntf'),
      user_id: message.userId,
      type: message.type,
      channel: 'in_app',
      title: message.title,
      body: message.body,
      data: JSON.stringify(message.data),
      status: 'delivered',
      attempts: 1,
      dedupe_key: message.dedupeKey,
      created_at: now,
      updated_at: now,
    })
    .onConflict('dedupe_key')
    .ignore();
  const row = await db('notifications').select('id').where({ dedupe_key: message.dedupeKey }).first();
  if (!row) throw new Error(`notification ${message.dedupeKey} was not recorded`);
  return String(row.id);
}

/** The activities of the notifications task queue. */
export function createNotificationActivities({ db }: { db: Knex }) {
  return {
    /** Step welcome: the welcome notification of a new user. */
    sendWelcome: async (input: { userId: string; walletId: string; currency: string; promoCredit: number }): Promise<{ notificationId: string }> => {
      const credit = input.promoCredit > 0 ? ` We added ${formatAmount(input.promoCredit, input.currency)} ${input.currency} to get you started.` : '';
      const notificationId = await recordInAppNotification(db, {
        userId: input.userId,
        type: 'welcome',
        title: 'Welcome to SagaPay',
        body: `Your ${input.currency} wallet is ready.${credit}`,
        data: { walletId: input.walletId, currency: input.currency, promoCredit: input.promoCredit },
        dedupeKey: `welcome:${input.userId}`,
      });
      log.info('welcome notification recorded', { userId: input.userId, notificationId });
      return { notificationId };
    },
  };
}
