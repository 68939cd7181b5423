import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Client } from '@temporalio/client';
import type { Knex } from 'knex';
import { SMTPServer } from 'smtp-server';
import type { DeliveryStarter } from '../../activities/delivery-starter';
import { recordInAppNotification } from '../../activities/notify';
import { recordWebhookEvent } from '../../activities/webhooks';
import { registerWebhookEndpoint } from '../../store/webhook-endpoints';
import { insertUser } from '../../api/users';
import { emailWorkflowId, webhookWorkflowId } from '../../domain/workflow-ids';
import { newId } from '../../domain/ids';

/**
 * What the delivery recordings talk to: an SMTP server and a merchant's HTTP endpoint,
 * both on 127.0.0.1, that can be told to fail the next few attempts (transiently) or to
 * refuse a recipient for good, so the retry and give-up paths get recorded.
 */
export interface DeliveryRecordingKit {
  smtpUrl: string;
  webhookUrl: string;
  failNextMails(count: number): void;
  refuseRecipients(pattern: RegExp): void;
  failNextWebhooks(count: number): void;
  stop(): Promise<void>;
}

/** Starts the kit's SMTP server and HTTP endpoint on free ports. */
export async function startDeliveryRecordingKit(): Promise<DeliveryRecordingKit> {
  const state = { failMails: 0, refused: undefined as RegExp | undefined, failWebhooks: 0 };
  const smtp = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS', 'AUTH'],
    logger: false,
    onRcptTo: (address, _session, callback) => {
      if (state.refused?.test(address.address)) return callback(Object.assign(new Error('mailbox unavailable'), { responseCode: 550 }));
      if (state.failMails > 0) {
        state.failMails -= 1;
        return callback(Object.assign(new Error('try again later'), { responseCode: 451 }));
      }
      return callback();
    },
    onData: (stream, _session, callback) => {
      stream.on('end', () => callback());
      stream.resume();
    },
  });
  const http = createServer((request, response) => {
    request.resume();
    request.on('end', () => {
      const status = state.failWebhooks > 0 ? 500 : 200;
      if (state.failWebhooks > 0) state.failWebhooks -= 1;
      response.writeHead(status).end();
    });
  });
  await new Promise<void>((resolve) => smtp.listen(0, '127.0.0.1', resolve));
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  return {
    smtpUrl: `smtp://127.0.0.1:${(smtp.server.address() as AddressInfo).port}`,
    webhookUrl: `http://127.0.0.1:${(http.address() as AddressInfo).port}/hooks`,
    failNextMails: (count) => {
      state.failMails = count;
    },
    refuseRecipients: (pattern) => {
      state.refused = pattern;
    },
    failNextWebhooks: (count) => {
      state.failWebhooks = count;
    },
    stop: async () => {
      await new Promise<void>((resolve) => smtp.close(() => resolve()));
      await new Promise<void>((resolve) => http.close(() => resolve()));
    },
  };
}

/** Waits until no e-mail is pending. */
async function waitForMailsSent(db: Knex, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while ((await db('notifications').where({ channel: 'email', status: 'pending' }).first()) !== undefined) {
    if (Date.now() > deadline) throw new Error('e-mails still pending after 30 s');
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** Records one in-app notification and returns the id of its e-mail row (its delivery not started). */
async function emailOf(db: Knex, userId: string, label: string): Promise<string> {
  const dedupeKey = `recorded:${label}:${newId('req')}`;
  await recordInAppNotification(db, {
    userId,
    type: 'payment_succeeded',
    title: 'Payment sent',
    body: 'You paid 12.34 USD to Acme.',
    data: { paymentId: 'pay_recorded', amount: 1_234, currency: 'USD', merchantName: 'Acme' },
    dedupeKey,
  });
  const row = await db('notifications').select('id').where({ dedupe_key: `${dedupeKey}:email` }).first();
  if (!row) throw new Error(`the e-mail of ${dedupeKey} was not recorded`);
  return row.id;
}

/**
 * Records the delivery workflows: an e-mail sent on its third try, an e-mail refused for
 * good (the give-up path), a webhook event delivered on its third POST, and a webhook event
 * given up on (its merchant's endpoint was removed before the delivery ran).
 */
export async function recordDeliveryHistories(context: {
  db: Knex;
  client: Client;
  deliveries: DeliveryStarter;
  kit: DeliveryRecordingKit;
  customerId: string;
  merchantId: string;
  record: (workflowId: string, file: string) => Promise<void>;
}): Promise<void> {
  const { db, deliveries, kit, record } = context;
  // The sagas recorded before sent e-mails of their own: let them finish, so the failures below hit ours.
  await waitForMailsSent(db);

  const retried = await emailOf(db, context.customerId, 'email-retried');
  kit.failNextMails(2);
  await deliveries.startEmail(retried);
  await record(emailWorkflowId(retried), 'email-delivery-retried.json');

  const bounced = await insertUser(db, { email: `bounce.${newId('req').slice(4).toLowerCase()}@example.test`, passwordHash: 'recorded', name: 'Bounce', phone: null, role: 'customer', currency: 'USD' });
  kit.refuseRecipients(/^bounce\./);
  const refused = await emailOf(db, bounced.id, 'email-refused');
  await deliveries.startEmail(refused);
  await record(emailWorkflowId(refused), 'email-delivery-refused.json');

  await registerWebhookEndpoint(db, context.merchantId, kit.webhookUrl);
  const eventId = await recordWebhookEvent(db, {
    merchantId: context.merchantId,
    type: 'payment.succeeded',
    data: { id: 'pay_recorded', status: 'succeeded', amount: 1_234, currency: 'USD' },
    dedupeKey: `recorded:webhook:${newId('req')}`,
  });
  if (!eventId) throw new Error('the webhook event was not recorded');
  kit.failNextWebhooks(2);
  await deliveries.startWebhook(eventId);
  await record(webhookWorkflowId(eventId), 'webhook-delivery-retried.json');

  // Giving up after the retry window takes at least 24 hours; an endpoint gone is the other way
  // a delivery gives up (non-retryable WebhookEndpointMissing), and it takes no time.
  const departing = await insertUser(db, { email: `departing.${newId('req').slice(4).toLowerCase()}@example.test`, passwordHash: 'recorded', name: 'Departing', phone: null, role: 'merchant', currency: 'USD' });
  await registerWebhookEndpoint(db, departing.id, kit.webhookUrl);
  const orphanId = await recordWebhookEvent(db, {
    merchantId: departing.id,
    type: 'payment.succeeded',
    data: { id: 'pay_recorded', status: 'succeeded', amount: 1_234, currency: 'USD' },
    dedupeKey: `recorded:webhook:${newId('req')}`,
  });
  if (!orphanId) throw new Error('the webhook event of the departing merchant was not recorded');
  await db('webhook_endpoints').where({ merchant_id: departing.id }).delete();
  await deliveries.startWebhook(orphanId);
  await record(webhookWorkflowId(orphanId), 'webhook-delivery-gave-up.json');
}
