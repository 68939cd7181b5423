import { MockActivityEnvironment } from '@temporalio/testing';
import { DefaultLogger } from '@temporalio/worker';
import { deliveryQueueOfRunningActivity, noteDeliveryRecorded, withDeliveryLane, type DeliveryLane } from './delivery-outbox';

/** The lane says which delivery queue an activity records onto, and wakes the dispatcher once, after the activity. */
function recordingLane(queue = 'notifications-test') {
  const events: string[] = [];
  const lane: DeliveryLane = { queue, wake: () => events.push('wake') };
  return { events, lane };
}

const environment = () => new MockActivityEnvironment(undefined, { logger: new DefaultLogger('ERROR') });

describe('withDeliveryLane', () => {
  it('when an activity records deliveries, then its rows name the lane’s queue and the dispatcher is woken once, after the activity has run', async () => {
    const { events, lane } = recordingLane();
    const activities = withDeliveryLane(
      {
        notify: async (count: number) => {
          for (let index = 0; index < count; index += 1) {
            events.push(`recorded on ${deliveryQueueOfRunningActivity()}`);
            noteDeliveryRecorded();
          }
          return Promise.resolve(count);
        },
      },
      lane,
    );

    await expect(environment().run(activities.notify, 2)).resolves.toBe(2);

    expect(events).toEqual(['recorded on notifications-test', 'recorded on notifications-test', 'wake']);
  });

  it('when an activity fails after recording, then the dispatcher is still woken and the activity’s error is what fails it', async () => {
    const { events, lane } = recordingLane();
    const activities = withDeliveryLane(
      {
        notify: async () => {
          noteDeliveryRecorded();
          return Promise.reject(new Error('database went away'));
        },
      },
      lane,
    );

    await expect(environment().run(activities.notify)).rejects.toThrow('database went away');
    expect(events).toEqual(['wake']);
  });

  it('when an activity records nothing, then no one is woken', async () => {
    const { events, lane } = recordingLane();
    const activities = withDeliveryLane({ read: async () => Promise.resolve('nothing recorded') }, lane);

    await environment().run(activities.read);

    expect(events).toEqual([]);
  });

  it('when no lane runs (a unit test of an activity factory, a script), then rows get no queue and recording wakes no one', () => {
    expect(deliveryQueueOfRunningActivity()).toBeNull();
    expect(() => noteDeliveryRecorded()).not.toThrow();
  });

  it('when two activities of two lanes run at once, then each records onto its own queue and wakes only its own dispatcher', async () => {
    const first = recordingLane('queue-a');
    const second = recordingLane('queue-b');
    let aRecorded!: () => void;
    const recordedA = new Promise<void>((resolve) => (aRecorded = resolve));
    let releaseA!: () => void;
    const gateA = new Promise<void>((resolve) => (releaseA = resolve));
    const notify = async (events: string[], hold: boolean) => {
      events.push(`recorded on ${deliveryQueueOfRunningActivity()}`);
      noteDeliveryRecorded();
      if (!hold) return;
      aRecorded();
      await gateA;
    };
    const a = withDeliveryLane({ notify: () => notify(first.events, true) }, first.lane);
    const b = withDeliveryLane({ notify: () => notify(second.events, false) }, second.lane);

    // A has recorded and is still running while B records and ends.
    const runA = environment().run(a.notify);
    await recordedA;
    await environment().run(b.notify);
    expect({ a: first.events, b: second.events }).toEqual({ a: ['recorded on queue-a'], b: ['recorded on queue-b', 'wake'] });

    releaseA();
    await runA;
    expect(first.events).toEqual(['recorded on queue-a', 'wake']);
  });
});
