import { log } from '@temporalio/activity';
import type { Knex } from 'knex';
import { DomainError, ErrorType } from '../domain/errors';
import { newId } from '../domain/ids';
import { formatAmount } from '../domain/money';
import { adoptUnqueued } from '../store/delivery-queue';
import { deliveryQueueOfRunningActivity, noteDeliveryRecorded } from './delivery-outbox';
import { renderEmail } from './email-templates';
import { withDomainFailures } from './failures';
import { findPayment, loadPaymentRecord } from '../store/payment-records';
import { recordStep } from '../store/saga-timeline';
import { findRefund, loadRefundRecord } from '../store/refund-records';
import { loadTransferRecord } from '../store/transfer-records';
import { recordWebhookEvent } from './webhooks';

/** Notification types as the API shows them. */
export type NotificationType =
  | 'welcome'
  | 'payment_succeeded'
  | 'payment_failed'
  | 'payment_received'
  | 'transfer_sent'
  | 'transfer_received'
  | 'transfer_failed'
  | 'refund_succeeded'
  | 'refund_failed';

/** What one in-app notification says; `dedupeKey` makes recording it idempotent. */
export interface NotificationMessage {
  userId: string;
  type: NotificationType;
  title: string;
  body: string;
  data: Record<string, unknown>;
  dedupeKey: string;
}

/**
 * Records an in-app notification and its e-mail (a `channel: 'email'` row, status
 * `pending`, rendered from the templates) in one transaction, once per dedupe key; the
 * e-mail is due at once on the delivery queue of the running activity (see
 * delivery-outbox.ts). Returns the in-app notification's id.
 */
export async function recordInAppNotification(db: Knex, message: NotificationMessage): Promise<string> {
  const now = new Date();
  const emailKey = `${message.dedupeKey}:email`;
  const queue = deliveryQueueOfRunningActivity();
  const common = { user_id: message.userId, type: message.type, data: JSON.stringify(message.data), created_at: now, updated_at: now };
  await db.transaction(async (trx) => {
    const recipient = await trx('users').select('name').where({ id: message.userId }).first();
    const email = renderEmail({ ...message, recipientName: recipient?.name ?? 'there' });
    await trx('notifications')
      .insert({ ...common, id: newId('ntf'), channel: 'in_app', title: message.title, body: message.body, status: 'delivered', attempts: 1, dedupe_key: message.dedupeKey })
      .onConflict('dedupe_key')
      .ignore();
    await trx('notifications')
      .insert({
        ...common,
        id: newId('ntf'),
        channel: 'email',
        title: email.subject,
        body: email.text,
        status: 'pending',
        attempts: 0,
        dedupe_key: emailKey,
        delivery_queue: queue,
        next_attempt_at: now,
      })
      .onConflict('dedupe_key')
      .ignore();
    if (queue !== null) await adoptUnqueued(trx, 'email', { dedupeKeys: [emailKey] }, queue, now);
  });
  const rows = await db('notifications').select('id', 'channel').whereIn('dedupe_key', [message.dedupeKey, emailKey]);
  const inApp = rows.find((row) => row.channel === 'in_app');
  const email = rows.find((row) => row.channel === 'email');
  if (!inApp || !email) throw new Error(`notification ${message.dedupeKey} was not recorded`);
  noteDeliveryRecorded();
  return inApp.id;
}

/** The merchant's webhook event of a finished payment (`payment.succeeded` or `payment.failed`), when they have an endpoint. */
async function recordPaymentEvent(db: Knex, paymentId: string): Promise<void> {
  const payment = await findPayment(db, paymentId);
  if (!payment || (payment.status !== 'succeeded' && payment.status !== 'failed')) return;
  await recordWebhookEvent(db, { merchantId: payment.merchantId, type: `payment.${payment.status}`, data: payment, dedupeKey: `${paymentId}:webhook` });
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
      const row = await db('payments').select('failure_code', 'failure_message', 'description').where({ id: paymentId }).first();
      const merchant = await db('users').select('name').where({ id: payment.merchantId }).first();
      const money = `${formatAmount(payment.amount, payment.currency)} ${payment.currency}`;
      const merchantName = merchant?.name ?? 'the merchant';
      const data = { paymentId, amount: payment.amount, currency: payment.currency, merchantName, description: row?.description ?? null };
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
      await recordPaymentEvent(db, paymentId);
      await recordStep(db, paymentId, 'notify', 'completed');
      log.info('payment notifications recorded', { paymentId, count: notificationIds.length });
      return { notificationIds };
    }),

    /**
     * Step notify of the transfer saga: on success the sender hears `transfer_sent` and the
     * recipient `transfer_received`; on failure only the sender hears, by `transfer_failed`.
     */
    notifyTransfer: withDomainFailures(async ({ transferId }: { transferId: string }): Promise<{ notificationIds: string[] }> => {
      const transfer = await loadTransferRecord(db, transferId);
      if (transfer.faultStep === 'notify') throw new DomainError(ErrorType.InjectedFault, `fault drill: step notify of ${transferId} failed on purpose`);
      const people = await db('users').select('id', 'name').whereIn('id', [transfer.senderId, transfer.recipientId]);
      const nameOf = (userId: string, fallback: string) => people.find((person) => person.id === userId)?.name ?? fallback;
      const money = `${formatAmount(transfer.amount, transfer.currency)} ${transfer.currency}`;
      const data = { transferId, amount: transfer.amount, currency: transfer.currency };
      const messages: NotificationMessage[] =
        transfer.status === 'succeeded'
          ? [
              {
                userId: transfer.senderId,
                type: 'transfer_sent',
                title: 'Transfer sent',
                body: `You sent ${money} to ${nameOf(transfer.recipientId, 'the recipient')}.`,
                data: { ...data, recipientId: transfer.recipientId },
                dedupeKey: `${transferId}:transfer_sent`,
              },
              {
                userId: transfer.recipientId,
                type: 'transfer_received',
                title: 'Money received',
                body: `${nameOf(transfer.senderId, 'Someone')} sent you ${money}.${transfer.note ? ` Note: ${transfer.note}` : ''}`,
                data: { ...data, senderId: transfer.senderId, senderName: nameOf(transfer.senderId, 'Someone'), note: transfer.note },
                dedupeKey: `${transferId}:transfer_received`,
              },
            ]
          : [
              {
                userId: transfer.senderId,
                type: 'transfer_failed',
                title: 'Transfer failed',
                body: `Your transfer of ${money} to ${nameOf(transfer.recipientId, 'the recipient')} failed; your balance is unchanged.`,
                data: { ...data, recipientId: transfer.recipientId, failureCode: transfer.failureCode },
                dedupeKey: `${transferId}:transfer_failed`,
              },
            ];
      const notificationIds: string[] = [];
      for (const message of messages) notificationIds.push(await recordInAppNotification(db, message));
      await recordStep(db, transferId, 'notify', 'completed');
      log.info('transfer notifications recorded', { transferId, count: notificationIds.length });
      return { notificationIds };
    }),

    /**
     * Step notify of the refund saga: the payer hears `refund_succeeded` or `refund_failed`
     * (in-app and e-mail); the merchant's endpoint gets `refund.succeeded` or `refund.failed`.
     */
    notifyRefund: withDomainFailures(async ({ refundId }: { refundId: string }): Promise<{ notificationIds: string[] }> => {
      const refund = await loadRefundRecord(db, refundId);
      if (refund.faultStep === 'notify') throw new DomainError(ErrorType.InjectedFault, `fault drill: step notify of ${refundId} failed on purpose`);
      const merchant = await db('users').select('name').where({ id: refund.merchantId }).first();
      const money = `${formatAmount(refund.amount, refund.currency)} ${refund.currency}`;
      const merchantName = merchant?.name ?? 'the merchant';
      const data = { refundId, paymentId: refund.paymentId, amount: refund.amount, currency: refund.currency, merchantName };
      const message: NotificationMessage =
        refund.status === 'succeeded'
          ? {
              userId: refund.payerId,
              type: 'refund_succeeded',
              title: 'Refund received',
              body: `${merchantName} refunded ${money} of your payment ${refund.paymentId}.`,
              data,
              dedupeKey: `${refundId}:refund_succeeded`,
            }
          : {
              userId: refund.payerId,
              type: 'refund_failed',
              title: 'Refund failed',
              body: `A refund of ${money} from ${merchantName} could not be completed; your balance is unchanged.`,
              data: { ...data, failureCode: refund.failureCode },
              dedupeKey: `${refundId}:refund_failed`,
            };
      const notificationIds = [await recordInAppNotification(db, message)];
      const shown = await findRefund(db, refundId);
      if (shown && (shown.status === 'succeeded' || shown.status === 'failed')) {
        await recordWebhookEvent(db, { merchantId: refund.merchantId, type: `refund.${shown.status}`, data: shown, dedupeKey: `${refundId}:webhook` });
      }
      await recordStep(db, refundId, 'notify', 'completed');
      log.info('refund notifications recorded', { refundId, count: notificationIds.length });
      return { notificationIds };
    }),
  };
}
