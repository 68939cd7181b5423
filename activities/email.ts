import { ApplicationFailure, log } from '@temporalio/activity';
import type { Knex } from 'knex';
import type { DeliveryOutcome } from '../domain/deliveries';
import { ErrorType } from '../domain/errors';
import type { Mailer } from '../infra/mailer';
import { attemptEmail } from './delivery-attempts';

/** What the e-mail activities need. */
export interface EmailDependencies {
  db: Knex;
  mailer: Mailer;
}

/**
 * The activities of `emailDeliveryWorkflow`, on the notifications task queue. No new workflow
 * is started (the dispatcher sends e-mails now); they stay registered for the ones still running.
 */
export function createEmailActivities({ db, mailer }: EmailDependencies) {
  /** The `email` row of a notification; a missing row is a bug no retry fixes. */
  async function emailRow(notificationId: string) {
    const row = await db('notifications').where({ id: notificationId, channel: 'email' }).first();
    if (!row) throw ApplicationFailure.nonRetryable(`no e-mail notification ${notificationId}`, 'EmailNotificationMissing');
    return row;
  }

  return {
    /**
     * Sends one e-mail notification. Each try counts in `attempts` before it talks to SMTP;
     * a server that is down fails the try and Temporal retries with backoff; a permanent
     * refusal (5xx) is not retried. Once sent, a retry or a second workflow does nothing.
     */
    sendNotificationEmail: async ({ notificationId }: { notificationId: string }): Promise<DeliveryOutcome> => {
      const row = await emailRow(notificationId);
      if (row.status === 'sent') return { status: 'sent', attempts: row.attempts };
      const recipient = await db('users').select('id').where({ id: row.user_id }).first();
      if (!recipient) throw ApplicationFailure.nonRetryable(`the recipient of ${notificationId} does not exist`, 'EmailNotificationMissing');
      await db('notifications')
        .where({ id: notificationId })
        .update({ updated_at: new Date() })
        .increment('attempts', 1);
      const attempts = row.attempts + 1;
      const result = await attemptEmail({ db, mailer }, notificationId, attempts);
      if (!result.delivered) {
        if (result.permanent) throw ApplicationFailure.nonRetryable(result.reason, ErrorType.EmailRejected);
        log.warn('e-mail not sent; Temporal retries it', { notificationId, attempts, reason: result.reason });
        throw ApplicationFailure.retryable(result.reason, 'SmtpUnavailable');
      }
      await db('notifications').where({ id: notificationId }).update({ status: 'sent', updated_at: new Date() });
      log.info('e-mail sent', { notificationId, attempts });
      return { status: 'sent', attempts };
    },

    /** Marks an e-mail failed once its workflow gave up on it (refused, or out of retry time). */
    recordEmailFailed: async ({ notificationId }: { notificationId: string }): Promise<DeliveryOutcome> => {
      await db('notifications').where({ id: notificationId, channel: 'email' }).whereNot({ status: 'sent' }).update({ status: 'failed', updated_at: new Date() });
      const row = await emailRow(notificationId);
      return { status: row.status === 'sent' ? 'sent' : 'failed', attempts: row.attempts };
    },
  };
}

export type EmailActivities = ReturnType<typeof createEmailActivities>;
