import { describeError } from '../infra/logger';
import { createSmtpMailer } from '../infra/mailer';
import { buildNotificationsWorker } from './build';
import { runWorkerProcess } from './main';

/** Composition root of the notifications worker process: the mailer comes from SMTP_URL and MAIL_FROM, the dispatcher's pace from DELIVERY_*. */
runWorkerProcess('notifications', (config) => config.temporal.notificationsTaskQueue, (dependencies, config) =>
  buildNotificationsWorker({
    ...dependencies,
    notifications: {
      mailer: createSmtpMailer({ smtpUrl: config.smtpUrl, from: config.mailFrom }),
      allowPrivateWebhookAddresses: config.webhookAllowPrivate,
      delivery: config.delivery,
    },
  }),
).catch((error: unknown) => {
  console.error('notifications worker failed:', describeError(error));
  process.exit(1);
});
