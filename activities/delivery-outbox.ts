import { AsyncLocalStorage } from 'node:async_hooks';

/**
 * The rows a notification activity records are the outbox: its `email` notification rows and
 * webhook events are inserted pending, due at once, on the delivery queue of the activity's
 * notifications worker, in the same statements that record them. The dispatchers of that queue
 * (workers/delivery-dispatcher.ts) send them; this module only says which queue the running
 * activity records onto, and wakes the local dispatcher once the activity has recorded some, so
 * a delivery starts right away instead of at the next poll. So every notification activity
 * (welcome, payment, transfer…) gets its e-mails and webhooks delivered without the sagas knowing.
 */

/** Where an activity's deliveries go: the queue stamped on its rows, and the local dispatcher's wake-up. */
export interface DeliveryLane {
  queue: string;
  wake(): void;
}

interface RunningLane {
  lane: DeliveryLane;
  recorded: boolean;
}

const currentLane = new AsyncLocalStorage<RunningLane>();

/**
 * The delivery queue of the running activity. Outside `withDeliveryLane` (unit tests of an
 * activity factory, scripts) it is null: the rows stay pending and no dispatcher sends them.
 */
export function deliveryQueueOfRunningActivity(): string | null {
  return currentLane.getStore()?.lane.queue ?? null;
}

/** Says that the running activity recorded a delivery: its dispatcher is woken when the activity ends. */
export function noteDeliveryRecorded(): void {
  const running = currentLane.getStore();
  if (running) running.recorded = true;
}

type Activity = (...args: never[]) => Promise<unknown>;

/**
 * Runs every activity on a delivery lane: what it records goes onto `lane.queue`, and once it
 * ends, even by failing after recording some, the dispatcher is woken. The rows are already in
 * the database by then, so nothing is lost if the process dies first: any dispatcher of the
 * queue finds them at its next poll.
 */
export function withDeliveryLane<Activities extends Record<string, Activity>>(activities: Activities, lane: DeliveryLane): Activities {
  const wrap =
    (activity: Activity): Activity =>
    async (...args) => {
      const running: RunningLane = { lane, recorded: false };
      try {
        return await currentLane.run(running, () => activity(...args));
      } finally {
        if (running.recorded) lane.wake();
      }
    };
  return Object.fromEntries(Object.entries(activities).map(([name, activity]) => [name, wrap(activity)])) as Activities;
}
