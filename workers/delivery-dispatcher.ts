import type { Logger, MetricMeter } from '@temporalio/common';
import type { Knex } from 'knex';
import { attemptEmail, attemptWebhook, type AttemptResult } from '../activities/delivery-attempts';
import { nextAttemptAfterFailure, WEBHOOK_MIN_RETRY_WINDOW_MS, type DeliveryRetryPolicy } from '../domain/deliveries';
import type { Mailer } from '../infra/mailer';
import {
  claimDueDeliveries,
  deliveryBacklog,
  DELIVERY_KINDS,
  recordDelivered,
  recordGivenUp,
  recordRetry,
  type ClaimedDelivery,
  type DeliveryKind,
} from '../store/delivery-queue';

/** How a dispatcher claims and paces its work. */
export interface DispatcherSettings {
  /** Most deliveries this dispatcher sends at once; a claim takes at most the free slots. */
  concurrency: number;
  /** How long it sleeps when nothing is due and nobody wakes it. */
  pollIntervalMs: number;
  /** How long a claim lasts: a dispatcher that died mid-send leaves its rows to others after it. Longer than any send. */
  leaseMs: number;
  /** How often the backlog gauges are read from the database (at most). */
  backlogIntervalMs: number;
}

/** What a dispatcher works with. */
export interface DispatcherDependencies {
  db: Knex;
  /** The delivery queue it serves: the notifications task queue of its worker. */
  queue: string;
  mailer: Mailer;
  allowPrivateWebhookAddresses: boolean;
  webhookRequestTimeoutMs: number;
  emailRetry: DeliveryRetryPolicy;
  webhookRetry: DeliveryRetryPolicy;
  settings: DispatcherSettings;
  logger: Logger;
  /** Where sent/failed counters and backlog gauges go (the worker's Prometheus endpoint). */
  metricMeter?: MetricMeter;
  /** The clock of claims, leases and backoff; tests move it. */
  now?: () => Date;
}

/** The limits a dispatcher accepts. */
export function assertDispatcherSettings(settings: DispatcherSettings): void {
  const within = (value: number, min: number, max: number) => Number.isSafeInteger(value) && value >= min && value <= max;
  if (!within(settings.concurrency, 1, 500)) throw new RangeError('concurrency must be 1..500');
  if (!within(settings.pollIntervalMs, 10, 3_600_000)) throw new RangeError('pollIntervalMs must be 10..3600000');
  if (!within(settings.leaseMs, 1_000, 86_400_000)) throw new RangeError('leaseMs must be 1000..86400000');
  if (!within(settings.backlogIntervalMs, 0, 3_600_000)) throw new RangeError('backlogIntervalMs must be 0..3600000');
}

/**
 * Sends the e-mails and webhook events of one delivery queue, without a workflow per delivery.
 * Loop: claim due rows (store/delivery-queue.ts) for its free slots (`concurrency` sends at most),
 * send each outside any transaction, record each outcome: delivered, another attempt after the
 * policy's backoff, or given up (refused for good, or out of its give-up window). A slow
 * endpoint holds one slot, never the loop. When the claim filled every free slot it claims again
 * at once; otherwise it sleeps `pollIntervalMs`, unless `wake()` (a notify step just recorded rows
 * here, or a send ended) or `stop()` cuts the sleep short. `stop()` claims nothing more and lets
 * `run()` resolve once the sends in flight are recorded. Several dispatchers share a queue safely.
 */
export class DeliveryDispatcher {
  private readonly now: () => Date;
  private stopping = false;
  private woken = false;
  private interruptSleep: (() => void) | undefined;
  private backlogReadAtMs = Number.NEGATIVE_INFINITY;
  private round = 0;

  constructor(private readonly deps: DispatcherDependencies) {
    assertDispatcherSettings(deps.settings);
    this.now = deps.now ?? (() => new Date());
  }

  /** Something was recorded on this queue: dispatch now rather than at the next poll. */
  wake(): void {
    this.woken = true;
    this.interruptSleep?.();
  }

  /** Claims nothing more; `run()` resolves once the sends in flight are recorded. */
  stop(): void {
    this.stopping = true;
    this.interruptSleep?.();
  }

  /** Dispatches until `stop()`, then waits for the sends in flight. A failing claim (the database away) is logged and tried again after a poll interval. */
  async run(): Promise<void> {
    const { logger, queue, settings } = this.deps;
    logger.info('delivery dispatcher started', { queue, ...settings });
    const inFlight = new Set<Promise<void>>();
    while (!this.stopping) {
      this.woken = false;
      const free = settings.concurrency - inFlight.size;
      let claimed: ClaimedDelivery[] = [];
      if (free > 0) {
        try {
          claimed = await this.claim(free);
          await this.reportBacklog();
        } catch (error) {
          logger.warn('claiming deliveries failed; trying again after the poll interval', { queue, reason: error instanceof Error ? error.message : String(error) });
        }
      }
      for (const delivery of claimed) {
        const sending: Promise<void> = this.deliver(delivery).finally(() => {
          inFlight.delete(sending);
          // A free slot: claim more at once rather than after the poll interval.
          this.wake();
        });
        inFlight.add(sending);
      }
      if (free > 0 && claimed.length === free) continue;
      await this.sleep();
    }
    await Promise.all(inFlight);
    logger.info('delivery dispatcher stopped: in-flight deliveries recorded', { queue });
  }

  /** One round for tests and tools: claims up to `concurrency` due rows, sends them, records the outcomes; returns how many it claimed. */
  async dispatchOnce(): Promise<number> {
    const claimed = await this.claim(this.deps.settings.concurrency);
    await Promise.all(claimed.map((delivery) => this.deliver(delivery)));
    return claimed.length;
  }

  /** Claims up to `limit` due rows, taking turns at which kind goes first so neither starves the other. */
  private async claim(limit: number): Promise<ClaimedDelivery[]> {
    this.round += 1;
    const kinds = this.round % 2 === 0 ? DELIVERY_KINDS : [...DELIVERY_KINDS].reverse();
    const claimed: ClaimedDelivery[] = [];
    for (const kind of kinds) {
      const left = limit - claimed.length;
      if (left <= 0) break;
      claimed.push(...(await claimDueDeliveries(this.deps.db, { kind, queue: this.deps.queue, limit: left, leaseMs: this.deps.settings.leaseMs, now: this.now() })));
    }
    return claimed;
  }

  private async deliver(claimed: ClaimedDelivery): Promise<void> {
    try {
      const result = await this.attempt(claimed);
      await this.record(claimed, result);
    } catch (error) {
      // The lease ends and another round (here or elsewhere) tries again: nothing is lost.
      this.deps.logger.warn('delivery attempt not recorded; it is tried again when its lease ends', {
        kind: claimed.kind,
        id: claimed.id,
        attempts: claimed.attempts,
        reason: error instanceof Error ? error.message : String(error),
      });
    }
  }

  private attempt(claimed: ClaimedDelivery): Promise<AttemptResult> {
    const { db } = this.deps;
    return claimed.kind === 'email'
      ? attemptEmail({ db, mailer: this.deps.mailer }, claimed.id, claimed.attempts)
      : attemptWebhook({ db, allowPrivateAddresses: this.deps.allowPrivateWebhookAddresses, requestTimeoutMs: this.deps.webhookRequestTimeoutMs }, claimed.id);
  }

  private async record(claimed: ClaimedDelivery, result: AttemptResult): Promise<void> {
    const { db, logger } = this.deps;
    const now = this.now();
    const context = { kind: claimed.kind, id: claimed.id, attempts: claimed.attempts };
    if (result.delivered) {
      const owned = await recordDelivered(db, claimed, now);
      this.count('sagapay_deliveries_sent', claimed.kind, 'Deliveries sent (e-mails accepted by SMTP, webhook events answered 2xx)');
      logger.info(owned ? 'delivery sent' : 'delivery sent after its lease ended (another claim may send it too)', context);
      return;
    }
    this.count('sagapay_deliveries_failed_attempts', claimed.kind, 'Delivery attempts that failed (each is retried or given up)');
    const decision = result.permanent ? ({ retry: false } as const) : this.nextAttempt(claimed, now);
    if (decision.retry) {
      await recordRetry(db, claimed, { nextAttemptAt: new Date(decision.atMs), error: result.reason, now });
      logger.warn('delivery attempt failed; retried with backoff', { ...context, reason: result.reason, nextAttemptAt: new Date(decision.atMs).toISOString() });
      return;
    }
    await recordGivenUp(db, claimed, { error: result.reason, now });
    this.count('sagapay_deliveries_given_up', claimed.kind, 'Deliveries given up: refused for good or out of their retry window');
    logger.warn('delivery given up', { ...context, reason: result.reason, permanent: result.permanent });
  }

  private nextAttempt(claimed: ClaimedDelivery, now: Date) {
    const webhook = claimed.kind === 'webhook';
    return nextAttemptAfterFailure(webhook ? this.deps.webhookRetry : this.deps.emailRetry, {
      attempts: claimed.attempts,
      firstRecordedAtMs: claimed.recordedAt.getTime(),
      nowMs: now.getTime(),
      minimumWindowMs: webhook ? WEBHOOK_MIN_RETRY_WINDOW_MS : 0,
    });
  }

  private count(name: string, kind: DeliveryKind, description: string): void {
    this.deps.metricMeter?.withTags({ kind, queue: this.deps.queue }).createCounter(name, '1', description).add(1);
  }

  /** Sets the backlog gauges, read from the database at most every `backlogIntervalMs`. */
  private async reportBacklog(): Promise<void> {
    const meter = this.deps.metricMeter;
    const now = this.now();
    if (!meter || now.getTime() - this.backlogReadAtMs < this.deps.settings.backlogIntervalMs) return;
    this.backlogReadAtMs = now.getTime();
    for (const backlog of await deliveryBacklog(this.deps.db, this.deps.queue, now)) {
      const tagged = meter.withTags({ kind: backlog.kind, queue: this.deps.queue });
      tagged.createGauge('sagapay_delivery_queue_pending', 'int', '1', 'Deliveries not yet sent nor given up').set(backlog.pending);
      tagged.createGauge('sagapay_delivery_queue_due', 'int', '1', 'Deliveries due now and not leased by a dispatcher').set(backlog.due);
      tagged.createGauge('sagapay_delivery_oldest_due_age', 'float', 's', 'Seconds the longest-waiting due delivery has been due').set(backlog.oldestDueAgeMs / 1000);
    }
  }

  private sleep(): Promise<void> {
    if (this.woken || this.stopping) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const timer = setTimeout(done, this.deps.settings.pollIntervalMs);
      const interrupt = () => done();
      this.interruptSleep = interrupt;
      function done() {
        clearTimeout(timer);
        resolve();
      }
    }).finally(() => {
      this.interruptSleep = undefined;
    });
  }
}
