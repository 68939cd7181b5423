import { DefaultLogger } from '@temporalio/worker';
import type { Knex } from 'knex';
import { insertUser } from '../api/users';
import { EMAIL_RETRY_POLICY, WEBHOOK_RETRY_POLICY } from '../domain/deliveries';
import { newId } from '../domain/ids';
import { createDatabase } from '../infra/database';
import { MailRejected, type Mailer, type OutgoingMail } from '../infra/mailer';
import { claimDueDeliveries, deliveryBacklog, recordRetry } from '../store/delivery-queue';
import { registerWebhookEndpoint } from '../store/webhook-endpoints';
import { uniqueEmail } from '../test/support/fixtures';
import { testConfig, waitFor } from '../test/support/stack';
import { WebhookReceiver } from '../test/support/webhook-receiver';
import { DeliveryDispatcher, type DispatcherSettings } from './delivery-dispatcher';

/**
 * The delivery dispatcher against the real database: leases, concurrent dispatchers, backoff and
 * giving up. Each test has a delivery queue of its own, so no other dispatcher of the run (other
 * test files' workers) ever claims its rows; the clock is the test's, so hours pass at once.
 */
let db: Knex;

beforeAll(() => {
  db = createDatabase(testConfig().databaseUrl, 10);
});

afterAll(async () => {
  await db.destroy();
});

const HOUR_MS = 3_600_000;
const LEASE_MS = 60_000;
const T0 = new Date('2026-12-01T12:00:00.000Z');

/** A clock the test moves. */
function testClock(start = T0) {
  let nowMs = start.getTime();
  return { now: () => new Date(nowMs), set: (at: number) => (nowMs = at), advance: (byMs: number) => (nowMs += byMs) };
}

/** A mailer that records what it sends and fails the way the test says. */
function recordingMailer(behaviour: { fail?: 'transient' | 'permanent'; delayMs?: number } = {}) {
  const sent: OutgoingMail[] = [];
  const mailer: Mailer & { sent: OutgoingMail[]; fail: typeof behaviour.fail } = {
    sent,
    fail: behaviour.fail,
    async send(mail) {
      if (behaviour.delayMs) await new Promise((resolve) => setTimeout(resolve, behaviour.delayMs));
      if (mailer.fail === 'permanent') throw new MailRejected('550 mailbox unavailable', 550);
      if (mailer.fail === 'transient') throw Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNECTION' });
      sent.push(mail);
    },
    close: () => undefined,
  };
  return mailer;
}

const SETTINGS: DispatcherSettings = { concurrency: 10, pollIntervalMs: 20, leaseMs: LEASE_MS, backlogIntervalMs: 0 };

function dispatcherOf(queue: string, options: { mailer?: Mailer; now?: () => Date; settings?: Partial<DispatcherSettings>; db?: Knex } = {}) {
  return new DeliveryDispatcher({
    db: options.db ?? db,
    queue,
    mailer: options.mailer ?? recordingMailer(),
    allowPrivateWebhookAddresses: true,
    webhookRequestTimeoutMs: 2_000,
    emailRetry: EMAIL_RETRY_POLICY,
    webhookRetry: WEBHOOK_RETRY_POLICY,
    settings: { ...SETTINGS, ...options.settings },
    logger: new DefaultLogger('ERROR'),
    now: options.now,
  });
}

const uniqueQueue = () => `dispatch-${newId('req').slice(4).toLowerCase()}`;

/** `count` pending e-mails of one user on `queue`, recorded (and due) at `at`; returns their ids. */
async function pendingEmails(queue: string, count: number, at = T0): Promise<string[]> {
  const user = await insertUser(db, { email: uniqueEmail('dispatch'), passwordHash: 'fixture', name: 'Dispatch', phone: null, role: 'customer', currency: 'USD' });
  const rows = Array.from({ length: count }, () => ({
    id: newId('ntf'),
    user_id: user.id,
    type: 'payment_succeeded',
    channel: 'email' as const,
    title: 'Receipt',
    body: 'You paid.',
    data: '{}',
    status: 'pending',
    attempts: 0,
    dedupe_key: `${newId('req')}:email`,
    delivery_queue: queue,
    next_attempt_at: at,
    created_at: at,
    updated_at: at,
  }));
  await db('notifications').insert(rows);
  return rows.map((row) => row.id);
}

async function emailRows(ids: string[]) {
  return db('notifications').select('id', 'status', 'attempts', 'next_attempt_at', 'locked_until', 'last_error').whereIn('id', ids).orderBy('seq');
}

describe('leases', () => {
  it('when a dispatcher claimed rows and died before sending, then no one sends them until the lease ends, and then another dispatcher does, once', async () => {
    const queue = uniqueQueue();
    const ids = await pendingEmails(queue, 3);
    const dead = await claimDueDeliveries(db, { kind: 'email', queue, limit: 10, leaseMs: LEASE_MS, now: T0 });
    expect(dead.map((claim) => claim.id).sort()).toEqual([...ids].sort());
    const clock = testClock();
    const mailer = recordingMailer();
    const survivor = dispatcherOf(queue, { mailer, now: clock.now });

    clock.set(T0.getTime() + LEASE_MS - 1);
    expect(await survivor.dispatchOnce()).toBe(0);
    expect(mailer.sent).toEqual([]);

    clock.set(T0.getTime() + LEASE_MS);
    expect(await survivor.dispatchOnce()).toBe(3);

    expect(mailer.sent.map((mail) => mail.messageId).sort()).toEqual(ids.map((id) => `<${id}@notifications.sagapay>`).sort());
    expect((await emailRows(ids)).map((row) => [row.status, row.attempts, row.locked_until, row.next_attempt_at])).toEqual(ids.map(() => ['sent', 2, null, null]));
    expect(await survivor.dispatchOnce()).toBe(0);
  });

  it('when a dispatcher’s lease ended and another claimed the row, then the first one’s late outcome is refused and changes nothing', async () => {
    const queue = uniqueQueue();
    const [id = ''] = await pendingEmails(queue, 1);
    const [slow] = await claimDueDeliveries(db, { kind: 'email', queue, limit: 1, leaseMs: LEASE_MS, now: T0 });
    const clock = testClock(new Date(T0.getTime() + LEASE_MS));
    await dispatcherOf(queue, { now: clock.now }).dispatchOnce();
    if (!slow) throw new Error('nothing claimed');

    const accepted = await recordRetry(db, slow, { nextAttemptAt: new Date(T0.getTime() + 5_000), error: 'late timeout', now: clock.now() });

    expect(accepted).toBe(false);
    expect(await emailRows([id])).toEqual([expect.objectContaining({ status: 'sent', attempts: 2, last_error: null })]);
  });
});

describe('recording an outcome', () => {
  it('when the sent row is locked past the lock wait timeout while its outcome is recorded, then the recording is retried and the e-mail is sent once, without waiting for its lease', async () => {
    const impatient = createDatabase(testConfig().databaseUrl, 4, { lockWaitTimeoutS: 1, acquireTimeoutMs: 2_000 });
    const queue = uniqueQueue();
    const [id = ''] = await pendingEmails(queue, 1);
    const mailer = recordingMailer();
    const send = mailer.send.bind(mailer);
    let held: Promise<void> = Promise.resolve();
    mailer.send = async (mail) => {
      await send(mail);
      // Another transaction holds the row for 1.5 s, longer than the dispatcher's 1 s lock wait.
      await new Promise<void>((locked) => {
        held = db.transaction(async (trx) => {
          await trx('notifications').select('id').where({ id }).forUpdate();
          locked();
          await new Promise((resolve) => setTimeout(resolve, 1_500));
        });
      });
    };
    try {
      expect(await dispatcherOf(queue, { mailer, now: testClock().now, db: impatient }).dispatchOnce()).toBe(1);
      await held;

      expect(mailer.sent).toHaveLength(1);
      expect(await emailRows([id])).toEqual([expect.objectContaining({ status: 'sent', attempts: 1, locked_until: null })]);
    } finally {
      await held;
      await impatient.destroy();
    }
  });
});

describe('several dispatchers on one queue', () => {
  it('when two dispatchers run side by side on 40 due e-mails, then each e-mail is sent exactly once and both take a share', async () => {
    const queue = uniqueQueue();
    const ids = await pendingEmails(queue, 40, new Date(Date.now() - 1_000));
    const mailers = [recordingMailer({ delayMs: 10 }), recordingMailer({ delayMs: 10 })];
    const dispatchers = mailers.map((mailer) => dispatcherOf(queue, { mailer, settings: { concurrency: 5 } }));

    const running = dispatchers.map((dispatcher) => dispatcher.run());
    try {
      await waitFor(async () => (await db('notifications').whereIn('id', ids).andWhere({ status: 'sent' })).length === ids.length, { what: 'every e-mail to be sent' });
    } finally {
      for (const dispatcher of dispatchers) dispatcher.stop();
      await Promise.all(running);
    }

    const sentIds = mailers.flatMap((mailer) => mailer.sent.map((mail) => mail.messageId));
    expect(sentIds).toHaveLength(ids.length);
    expect(new Set(sentIds).size).toBe(ids.length);
    expect(mailers.map((mailer) => mailer.sent.length > 0)).toEqual([true, true]);
    expect((await emailRows(ids)).every((row) => row.attempts === 1)).toBe(true);
  });

  it('when a dispatcher is stopped while sending, then it finishes and records the sends in flight before run() resolves', async () => {
    const queue = uniqueQueue();
    const ids = await pendingEmails(queue, 3, new Date(Date.now() - 1_000));
    const mailer = recordingMailer({ delayMs: 300 });
    const dispatcher = dispatcherOf(queue, { mailer });
    const running = dispatcher.run();
    await waitFor(async () => (await db('notifications').whereIn('id', ids).whereNotNull('locked_until')).length === 3, { what: 'the e-mails to be claimed' });

    dispatcher.stop();
    await running;

    expect(mailer.sent).toHaveLength(3);
    expect((await emailRows(ids)).map((row) => row.status)).toEqual(['sent', 'sent', 'sent']);
  });
});

describe('backoff and giving up', () => {
  it('when SMTP keeps failing, then each e-mail waits 5 s, 10 s, … between tries, and is given up once the next try would fall past 24 hours', async () => {
    const queue = uniqueQueue();
    const [id = ''] = await pendingEmails(queue, 1);
    const clock = testClock();
    const dispatcher = dispatcherOf(queue, { mailer: recordingMailer({ fail: 'transient' }), now: clock.now });

    expect(await dispatcher.dispatchOnce()).toBe(1);
    let [row] = await emailRows([id]);
    expect(row).toMatchObject({ status: 'pending', attempts: 1, locked_until: null, next_attempt_at: new Date(T0.getTime() + 5_000) });
    expect(row?.last_error).toMatch(/^SMTP send failed: ECONNECTION: connect ECONNREFUSED/);

    clock.advance(4_999);
    expect(await dispatcher.dispatchOnce()).toBe(0);
    clock.advance(1);
    expect(await dispatcher.dispatchOnce()).toBe(1);
    [row] = await emailRows([id]);
    expect(row).toMatchObject({ status: 'pending', attempts: 2, next_attempt_at: new Date(T0.getTime() + 5_000 + 10_000) });

    // The 9th failure waits the 10-minute cap; here that would fall past the 24-hour window.
    await db('notifications').where({ id }).update({ attempts: 8, next_attempt_at: new Date(T0.getTime() + 24 * HOUR_MS - 5 * 60_000) });
    clock.set(T0.getTime() + 24 * HOUR_MS - 5 * 60_000);
    expect(await dispatcher.dispatchOnce()).toBe(1);
    [row] = await emailRows([id]);
    expect(row).toMatchObject({ status: 'failed', attempts: 9, next_attempt_at: null, locked_until: null });
    clock.advance(HOUR_MS);
    expect(await dispatcher.dispatchOnce()).toBe(0);
  });

  it('when the SMTP server refuses the recipient for good, then the e-mail ends failed after one attempt', async () => {
    const queue = uniqueQueue();
    const [id = ''] = await pendingEmails(queue, 1);
    const dispatcher = dispatcherOf(queue, { mailer: recordingMailer({ fail: 'permanent' }), now: testClock().now });

    expect(await dispatcher.dispatchOnce()).toBe(1);

    const [row] = await emailRows([id]);
    expect(row).toMatchObject({ status: 'failed', attempts: 1 });
    expect(row?.last_error).toMatch(/^the SMTP server refused the e-mail: 550 mailbox unavailable/);
  });

  describe('webhooks', () => {
    let receiver: WebhookReceiver;

    beforeAll(async () => {
      receiver = await WebhookReceiver.open();
    });

    afterAll(async () => {
      await receiver.close();
    });

    /** A merchant whose endpoint is the receiver, and one pending event on `queue`. */
    async function pendingEvent(queue: string): Promise<string> {
      const merchant = await insertUser(db, { email: uniqueEmail('hooked'), passwordHash: 'fixture', name: 'Hooked', phone: null, role: 'merchant', currency: 'USD' });
      const registration = await registerWebhookEndpoint(db, merchant.id, receiver.url);
      receiver.secret = registration.secret;
      const id = newId('evt');
      const payload = JSON.stringify({ id, type: 'payment.succeeded', createdAt: T0.toISOString(), data: { id: 'pay_fixture' } });
      await db('webhook_events').insert({
        id,
        merchant_id: merchant.id,
        type: 'payment.succeeded',
        payload,
        dedupe_key: `${newId('req')}:webhook`,
        status: 'pending',
        delivery_queue: queue,
        next_attempt_at: T0,
        created_at: T0,
        updated_at: T0,
      });
      return id;
    }

    const eventRow = (id: string) => db('webhook_events').select('status', 'attempts', 'next_attempt_at', 'last_error').where({ id }).first();
    const attemptsLogged = (id: string) => db('webhook_deliveries').select('attempt', 'status', 'response_status').where({ event_id: id }).orderBy('attempt');

    it('when the endpoint answers 500, then the event is retried after 30 s, 60 s, … with an attempt logged each time, and delivered on its first 2xx', async () => {
      const queue = uniqueQueue();
      const id = await pendingEvent(queue);
      const clock = testClock();
      const dispatcher = dispatcherOf(queue, { now: clock.now });
      receiver.plannedStatuses = [500, 500];

      await dispatcher.dispatchOnce();
      expect(await eventRow(id)).toMatchObject({ status: 'pending', attempts: 1, next_attempt_at: new Date(T0.getTime() + 30_000), last_error: 'webhook attempt 1 answered 500' });
      clock.advance(30_000);
      await dispatcher.dispatchOnce();
      expect(await eventRow(id)).toMatchObject({ status: 'pending', attempts: 2, next_attempt_at: new Date(T0.getTime() + 30_000 + 60_000) });
      clock.advance(60_000);
      await dispatcher.dispatchOnce();

      expect(await eventRow(id)).toMatchObject({ status: 'delivered', attempts: 3, next_attempt_at: null, last_error: null });
      expect(await attemptsLogged(id)).toEqual([
        { attempt: 1, status: 'failed', response_status: 500 },
        { attempt: 2, status: 'failed', response_status: 500 },
        { attempt: 3, status: 'succeeded', response_status: 200 },
      ]);
      expect(receiver.accepted().filter((request) => request.event.id === id)).toHaveLength(1);
    });

    it('when the endpoint keeps failing, then the event is still retried after 24 hours, and given up only past its 72-hour window', async () => {
      const queue = uniqueQueue();
      const id = await pendingEvent(queue);
      const clock = testClock(new Date(T0.getTime() + 25 * HOUR_MS));
      const dispatcher = dispatcherOf(queue, { now: clock.now });
      await db('webhook_events').where({ id }).update({ attempts: 20 });
      receiver.plannedStatuses = [500, 500];

      await dispatcher.dispatchOnce();
      expect(await eventRow(id)).toMatchObject({ status: 'pending', attempts: 21, next_attempt_at: new Date(clock.now().getTime() + HOUR_MS) });

      clock.set(T0.getTime() + 71.5 * HOUR_MS);
      await db('webhook_events').where({ id }).update({ next_attempt_at: clock.now() });
      await dispatcher.dispatchOnce();

      expect(await eventRow(id)).toMatchObject({ status: 'failed', attempts: 22, next_attempt_at: null, last_error: 'webhook attempt 2 answered 500' });
      expect(await attemptsLogged(id)).toEqual([
        { attempt: 1, status: 'failed', response_status: 500 },
        { attempt: 2, status: 'failed', response_status: 500 },
      ]);
    });
  });
});

describe('the backlog', () => {
  it('when rows wait on a queue, then the backlog counts pending and due rows and the age of the longest-due one', async () => {
    const queue = uniqueQueue();
    await pendingEmails(queue, 2, T0);
    await pendingEmails(queue, 1, new Date(T0.getTime() + 60_000));

    const backlog = await deliveryBacklog(db, queue, new Date(T0.getTime() + 30_000));

    expect(backlog).toEqual([
      { kind: 'email', pending: 3, due: 2, oldestDueAgeMs: 30_000 },
      { kind: 'webhook', pending: 0, due: 0, oldestDueAgeMs: 0 },
    ]);
  });
});
