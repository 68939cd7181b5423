import { AsyncLocalStorage } from 'node:async_hooks';
import { log } from '@temporalio/activity';

/**
 * A transactional outbox for deliveries. Recording a notification writes its
 * `email` row (and a webhook event) in the database and adds its id to the outbox
 * of the activity that is running; when that activity ends, the outbox starts one
 * delivery workflow per id. So every notification activity (welcome, payment,
 * transfer…) gets its e-mails and webhooks delivered without the sagas knowing:
 * their command sequences, and the histories recorded from them, stay as they are.
 */

/** Starts delivery workflows; each start is idempotent (the workflow id comes from the row id). */
export interface DeliveryStarter {
  startEmail(notificationId: string): Promise<void>;
  startWebhook(eventId: string): Promise<void>;
}

interface Outbox {
  emails: Set<string>;
  webhooks: Set<string>;
}

const currentOutbox = new AsyncLocalStorage<Outbox>();

/** Queues the delivery of an `email` notification row for when the running activity ends. */
export function enqueueEmail(notificationId: string): void {
  outbox().emails.add(notificationId);
}

/** Queues the delivery of a webhook event for when the running activity ends. */
export function enqueueWebhook(eventId: string): void {
  outbox().webhooks.add(eventId);
}

/**
 * The running activity's outbox. Outside `withDeliveryOutbox` (unit tests of an activity
 * factory) there is none: the rows stay pending and nothing is sent, which is what they want.
 */
function outbox(): Outbox {
  return currentOutbox.getStore() ?? { emails: new Set(), webhooks: new Set() };
}

async function flush(box: Outbox, starter: DeliveryStarter): Promise<void> {
  for (const notificationId of box.emails) await starter.startEmail(notificationId);
  for (const eventId of box.webhooks) await starter.startWebhook(eventId);
}

type Activity = (...args: never[]) => Promise<unknown>;

/**
 * Wraps every activity so the deliveries it recorded start when it ends, even when it
 * fails after recording some (a retry records nothing new and starts the same ids again,
 * which Temporal deduplicates by workflow id). A failing start fails the activity, so
 * Temporal retries it: a recorded notification is never left without its delivery.
 */
export function withDeliveryOutbox<Activities extends Record<string, Activity>>(activities: Activities, starter: DeliveryStarter): Activities {
  const wrap =
    (activity: Activity): Activity =>
    async (...args) => {
      const box: Outbox = { emails: new Set(), webhooks: new Set() };
      let result: unknown;
      try {
        result = await currentOutbox.run(box, () => activity(...args));
      } catch (error) {
        await flush(box, starter).catch((flushError: unknown) => {
          log.warn('deliveries of a failed activity did not start; its retry starts them', { error: String(flushError) });
        });
        throw error;
      }
      await flush(box, starter);
      return result;
    };
  return Object.fromEntries(Object.entries(activities).map(([name, activity]) => [name, wrap(activity)])) as Activities;
}
