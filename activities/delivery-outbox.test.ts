import { MockActivityEnvironment } from '@temporalio/testing';
import { DefaultLogger } from '@temporalio/worker';
import { enqueueEmail, enqueueWebhook, withDeliveryOutbox, type DeliveryStarter } from './delivery-outbox';

/** The outbox starts the deliveries an activity recorded, once it ends; never before, never lost. */
function recordingStarter(options: { failEmails?: boolean } = {}) {
  const started: string[] = [];
  const starter: DeliveryStarter = {
    startEmail: (id) => {
      if (options.failEmails) return Promise.reject(new Error('Temporal is unavailable'));
      started.push(`email:${id}`);
      return Promise.resolve();
    },
    startWebhook: (id) => {
      started.push(`webhook:${id}`);
      return Promise.resolve();
    },
  };
  return { started, starter };
}

const environment = () => new MockActivityEnvironment(undefined, { logger: new DefaultLogger('ERROR') });

describe('withDeliveryOutbox', () => {
  it('when an activity records e-mails and an event, then each delivery starts once, after the activity has run', async () => {
    const { started, starter } = recordingStarter();
    const activities = withDeliveryOutbox(
      {
        notify: async (input: { ids: string[] }) => {
          for (const id of input.ids) enqueueEmail(id);
          enqueueEmail(input.ids[0] ?? '');
          enqueueWebhook('evt_1');
          expect(started).toEqual([]);
          return Promise.resolve(input.ids.length);
        },
      },
      starter,
    );

    await expect(environment().run(activities.notify, { ids: ['ntf_1', 'ntf_2'] })).resolves.toBe(2);

    expect(started).toEqual(['email:ntf_1', 'email:ntf_2', 'webhook:evt_1']);
  });

  it('when an activity fails after recording, then what it recorded still starts and its error is what fails it', async () => {
    const { started, starter } = recordingStarter();
    const activities = withDeliveryOutbox(
      {
        notify: async () => {
          enqueueEmail('ntf_1');
          return Promise.reject(new Error('database went away'));
        },
      },
      starter,
    );

    await expect(environment().run(activities.notify)).rejects.toThrow('database went away');
    expect(started).toEqual(['email:ntf_1']);
  });

  it('when a delivery cannot be started, then the activity fails so Temporal retries it', async () => {
    const { starter } = recordingStarter({ failEmails: true });
    const activities = withDeliveryOutbox({ notify: async () => Promise.resolve(enqueueEmail('ntf_1')) }, starter);

    await expect(environment().run(activities.notify)).rejects.toThrow('Temporal is unavailable');
  });

  it('when two activities run at once, then each starts only what it recorded', async () => {
    const { started, starter } = recordingStarter();
    let aRecorded!: () => void;
    const recordedA = new Promise<void>((resolve) => (aRecorded = resolve));
    let releaseA!: () => void;
    const gateA = new Promise<void>((resolve) => (releaseA = resolve));
    const activities = withDeliveryOutbox(
      {
        notify: async (id: string) => {
          enqueueEmail(id);
          if (id !== 'ntf_a') return;
          aRecorded();
          await gateA;
        },
      },
      starter,
    );

    // A has recorded ntf_a and is still running while B records ntf_b and ends.
    const runA = environment().run(activities.notify, 'ntf_a');
    await recordedA;
    await environment().run(activities.notify, 'ntf_b');
    expect(started).toEqual(['email:ntf_b']);

    releaseA();
    await runA;
    expect(started).toEqual(['email:ntf_b', 'email:ntf_a']);
  });
});
