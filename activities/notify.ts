import { log } from '@temporalio/activity';
import type { Knex } from 'knex';
import { DomainError, ErrorType } from '../domain/errors';
import { newId } from '../domain/ids';
import { formatAmount } from '../domain/money';
import { withDomainFailures } from './failures';
import { loadPaymentRecord, recordStep } from './payment-records';

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

    /** Step notify of the payment saga: the payer hears the outcome; on success the merchant hears of the money. */
    notifyPayment: withDomainFailures(async ({ paymentId }: { paymentId: string }): Promise<{ notificationIds: string[] }> => {
      const payment = await loadPaymentRecord(db, paymentId);
      if (payment.faultStep === 'notify') throw new DomainError(ErrorType.InjectedFault, `fault drill: step notify of ${paymentId} failed on purpose`);
      const row = await db('payments').select('failure_code', 'failure_message').where({ id: paymentId }).first();
      const merchant = await db('users').select('name').where({ id: payment.merchantId }).first();
      const money = `${formatAmount(payment.amount, payment.currency)} ${payment.currency}`;
      const merchantName = merchant?.name ?? 'the merchant';
      const data = { paymentId, amount: payment.amount, currency: payment.currency };
      const messages: NotificationMessage[] =
        payment.status === 'succeeded'
          ? [
              {
                userId: payment.payerId,
                type: 'payment_succeeded',
                title: 'Payment sent',
                body: `You paid ${money} to ${merchantName}.`,
                data,
                dedupeKey: `${paymentId}:payment_succeeded`,
              },
              {
                userId: payment.merchantId,
                type: 'payment_received',
                title: 'Payment received',
                body: `You received ${money} (fee ${formatAmount(payment.fee, payment.currency)} ${payment.currency}, net ${formatAmount(payment.netAmount, payment.currency)} ${payment.currency}).`,
                data: { ...data, fee: payment.fee, netAmount: payment.netAmount },
                dedupeKey: `${paymentId}:payment_received`,
              },
            ]
          : [
              {
                userId: payment.payerId,
                type: 'payment_failed',
                title: 'Payment failed',
                body: `Your payment of ${money} to ${merchantName} failed; no money left your wallet.`,
                data: { ...data, failureCode: row?.failure_code ?? null },
                dedupeKey: `${paymentId}:payment_failed`,
              },
            ];
      const notificationIds: string[] = [];
      for (const message of messages) notificationIds.push(await recordInAppNotification(db, message));
      await recordStep(db, paymentId, 'notify', 'completed');
      log.info('payment notifications recorded', { paymentId, count: notificationIds.length });
      return { notificationIds };
    }),
  };
}
