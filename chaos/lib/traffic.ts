import { setTimeout as sleep } from 'node:timers/promises';
import { forwardStepsOf, type MoneySagaKind } from '../../domain/money-sagas';
import type { BenchPopulation, BenchUser } from '../../bench/lib/seed';
import type { Random } from './random';
import type { FaultName } from './schedule';

/** The operations the run drives. */
export const OPERATION_KINDS = ['payment', 'transfer', 'refund', 'topup'] as const;
export type OperationKind = (typeof OPERATION_KINDS)[number];

/** What the client expects of an operation: accepted (whatever its saga's outcome), or a known refusal. */
export type Expectation = 'accepted' | 'insufficient_funds' | 'injected_fault' | 'bad_input' | 'unknown_recipient';

/** One answer the client got (2xx or 4xx: 5xx and broken connections are retried, not answers). */
export interface Answer {
  status: number;
  resourceId: string | null;
  resourceStatus: string | null;
  failureCode: string | null;
  errorCode: string | null;
  replayed: boolean;
}

/** One operation: a request the client sends (again, with the same key) until it is answered. */
export interface OperationRecord {
  seq: number;
  kind: OperationKind;
  expectation: Expectation;
  /** The fault whose slot it started in (null: before the first). */
  fault: FaultName | null;
  key: string;
  path: string;
  body: Record<string, unknown>;
  headers: Record<string, string>;
  token: string;
  answers: Answer[];
  /** Sends that met a broken connection, a timeout or a 5xx, and were sent again. */
  retries: number;
  http5xx: number;
  /** Answers 500: a bug by the contract, never an outage. */
  http500: number;
  /** Answers 503 (an outage the client may wait out), and those of them without `Retry-After`. */
  http503: number;
  http503WithoutRetryAfter: number;
  /** No answer before the client's deadline. */
  gaveUp: boolean;
}

/** How long the client keeps sending one request again before it gives up. */
const ANSWER_DEADLINE_MS = 180_000;
/** Longer than PAYMENT_SYNC_WAIT_MS plus the API's margin. */
const REQUEST_TIMEOUT_MS = 30_000;
const RETRY_PAUSE_MS = 300;
/** The longest `Retry-After` the client honours before sending again: the run's faults last seconds. */
const MAX_RETRY_AFTER_MS = 5_000;
/** An amount no customer has: the saga ends failed with insufficient_funds. */
export const UNAFFORDABLE_AMOUNT = 5_000_000_000;
const UNKNOWN_USER_ID = 'usr_01J0000000000000000000CHAOS';

/** What the run changes while it goes: the fault drill's share and duplicate sending. */
export interface TrafficMode {
  fault: FaultName | null;
  /** The share of money requests that carry X-Saga-Fault (a step failing for good). */
  drillShare: number;
  /** Send every request three times at once, then once more after its answer. */
  duplicates: boolean;
}

/** Reads an answer body: the resource's id, status and failure code, or the contract's error code. */
export function answerOf(status: number, text: string, replayedHeader: string | null): Answer {
  let parsed: Record<string, unknown> = {};
  try {
    const value: unknown = JSON.parse(text);
    if (value && typeof value === 'object') parsed = value as Record<string, unknown>;
  } catch {
    // Not JSON: the fields stay null.
  }
  const error = parsed.error as { code?: unknown } | undefined;
  const failure = parsed.failure as { code?: unknown } | null | undefined;
  return {
    status,
    resourceId: typeof parsed.id === 'string' ? parsed.id : null,
    resourceStatus: typeof parsed.status === 'string' ? parsed.status : null,
    failureCode: typeof failure?.code === 'string' ? failure.code : null,
    errorCode: typeof error?.code === 'string' ? error.code : null,
    replayed: replayedHeader === 'true',
  };
}

/** Counts a 5xx answer into its record: 500s apart (bugs), 503s apart, and 503s that do not say when to come back. */
export function countServerError(record: OperationRecord, status: number, retryAfter: string | null): void {
  if (status < 500) return;
  record.http5xx += 1;
  if (status === 500) record.http500 += 1;
  if (status === 503) {
    record.http503 += 1;
    if (retryAfterMs(retryAfter) === null) record.http503WithoutRetryAfter += 1;
  }
}

/** A `Retry-After` header's delay in ms (delta-seconds or an HTTP date), or null when absent or unreadable. */
export function retryAfterMs(header: string | null, nowMs = Date.now()): number | null {
  if (header === null || header.trim() === '') return null;
  if (/^\d+$/.test(header.trim())) return Number(header.trim()) * 1_000;
  const at = Date.parse(header);
  return Number.isNaN(at) ? null : Math.max(0, at - nowMs);
}

/** How long to wait before sending again: what `Retry-After` asks (within reason), at least the usual pause. */
function retryPauseMs(retryAfter: string | null): number {
  return Math.min(MAX_RETRY_AFTER_MS, Math.max(RETRY_PAUSE_MS, retryAfterMs(retryAfter) ?? 0));
}

/** A payment the merchant may refund (half of it, once). */
interface Refundable {
  paymentId: string;
  amount: number;
  merchant: BenchUser;
}

/** Drives the mix of money requests against the API and keeps a record of every one. */
export class Traffic {
  readonly records: OperationRecord[] = [];
  readonly mode: TrafficMode = { fault: null, drillShare: 0, duplicates: false };
  private readonly refundable: Refundable[] = [];
  private seq = 0;

  constructor(
    private readonly apiUrl: string,
    private readonly population: BenchPopulation,
    private readonly random: Random,
    private readonly runTag: string,
  ) {}

  /** Runs `concurrency` client loops until `signal` aborts; answers once every loop has finished its operation. */
  async run(concurrency: number, signal: AbortSignal): Promise<void> {
    const loops = Array.from({ length: concurrency }, async () => {
      while (!signal.aborted) await this.execute(this.nextOperation());
    });
    await Promise.all(loops);
  }

  /** Sends `count` payments at once, each with the given extra headers, and waits for their answers. */
  async burst(count: number, headers: Record<string, string>, expectation: Expectation): Promise<OperationRecord[]> {
    const records = Array.from({ length: count }, () => {
      const record = this.payment();
      record.headers = { ...record.headers, ...headers };
      record.expectation = expectation;
      return record;
    });
    await Promise.all(records.map((record) => this.execute(record)));
    return records;
  }

  /** Sends a record's request once more with its key (after the fact); answers the new answer. */
  async replay(record: OperationRecord): Promise<Answer | null> {
    return this.sendUntilAnswered(record);
  }

  private async execute(record: OperationRecord): Promise<void> {
    this.records.push(record);
    if (this.mode.duplicates) {
      await Promise.all([this.sendUntilAnswered(record), this.sendUntilAnswered(record), this.sendUntilAnswered(record)]);
      await this.sendUntilAnswered(record);
    } else {
      await this.sendUntilAnswered(record);
    }
    const answer = record.answers[0];
    if (record.kind === 'payment' && record.expectation === 'accepted' && answer?.resourceStatus === 'succeeded' && answer.resourceId) {
      const merchant = this.population.merchants.find((candidate) => candidate.id === record.body.merchantId);
      if (merchant) this.refundable.push({ paymentId: answer.resourceId, amount: Number(record.body.amount), merchant });
    }
  }

  /** Sends until an answer that is not a 5xx arrives (broken connections and 5xx are sent again with the same key, after any `Retry-After`). */
  private async sendUntilAnswered(record: OperationRecord): Promise<Answer | null> {
    const deadline = Date.now() + ANSWER_DEADLINE_MS;
    while (Date.now() < deadline) {
      let pauseMs = RETRY_PAUSE_MS;
      try {
        const response = await fetch(`${this.apiUrl}${record.path}`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${record.token}`, 'idempotency-key': record.key, ...record.headers },
          body: JSON.stringify(record.body),
          signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
        });
        const text = await response.text();
        if (response.status < 500 && response.status !== 429) {
          const answer = answerOf(response.status, text, response.headers.get('idempotent-replayed'));
          record.answers.push(answer);
          return answer;
        }
        countServerError(record, response.status, response.headers.get('retry-after'));
        record.retries += 1;
        pauseMs = retryPauseMs(response.headers.get('retry-after'));
      } catch {
        record.retries += 1;
      }
      await sleep(pauseMs);
    }
    record.gaveUp = true;
    return null;
  }

  private nextOperation(): OperationRecord {
    const roll = this.random.next();
    if (roll < 0.45) return this.withDrill(this.payment(), 'payment');
    if (roll < 0.7) return this.withDrill(this.transfer(), 'transfer');
    if (roll < 0.8 && this.refundable.length > 0) return this.withDrill(this.refund(), 'refund');
    if (roll < 0.9) return this.topup();
    return this.refusal();
  }

  private record(kind: OperationKind, token: string, path: string, body: Record<string, unknown>, expectation: Expectation = 'accepted'): OperationRecord {
    this.seq += 1;
    // A third of the requests do not wait for their saga.
    const headers: Record<string, string> = this.random.chance(0.3) ? { prefer: 'respond-async' } : {};
    return { seq: this.seq, kind, expectation, fault: this.mode.fault, key: `chaos-${this.runTag}-${this.seq}`, path, body, headers, token, answers: [], retries: 0, http5xx: 0, http500: 0, http503: 0, http503WithoutRetryAfter: 0, gaveUp: false };
  }

  private customer(): BenchUser {
    return this.random.pick(this.population.customers);
  }

  private payment(amount = this.random.between(100, 5_000)): OperationRecord {
    const { merchants, currency } = this.population;
    // A third of the payments go to the first merchant: one hot wallet row.
    const merchant = this.random.chance(0.3) ? (merchants[0] as BenchUser) : this.random.pick(merchants);
    return this.record('payment', this.customer().token, '/v1/payments', { merchantId: merchant.id, amount, currency });
  }

  private transfer(toUserId?: string): OperationRecord {
    const { customers, currency } = this.population;
    const from = this.customer();
    const others = customers.filter((candidate) => candidate.id !== from.id);
    return this.record('transfer', from.token, '/v1/transfers', { toUserId: toUserId ?? this.random.pick(others).id, amount: this.random.between(100, 3_000), currency });
  }

  private refund(): OperationRecord {
    const chosen = this.refundable.splice(this.random.int(this.refundable.length), 1)[0] as Refundable;
    return this.record('refund', chosen.merchant.token, `/v1/payments/${chosen.paymentId}/refunds`, { amount: Math.max(1, Math.floor(chosen.amount / 2)) });
  }

  private topup(): OperationRecord {
    const customer = this.customer();
    return this.record('topup', customer.token, `/v1/wallets/${customer.walletId}/topups`, { amount: this.random.between(1_000, 50_000), currency: this.population.currency });
  }

  /** Requests the API or the saga must refuse: too little money, bad input, an unknown recipient. */
  private refusal(): OperationRecord {
    const roll = this.random.int(3);
    if (roll === 0) {
      const record = this.payment(UNAFFORDABLE_AMOUNT);
      record.expectation = 'insufficient_funds';
      return record;
    }
    if (roll === 1) {
      const record = this.random.chance(0.5) ? this.payment() : this.transfer();
      record.body = { ...record.body, amount: -this.random.between(1, 500) };
      record.expectation = 'bad_input';
      return record;
    }
    const record = this.transfer(UNKNOWN_USER_ID);
    record.expectation = 'unknown_recipient';
    return record;
  }

  /** During the step-failures fault: a share of the money requests fail one forward step for good. */
  private withDrill(record: OperationRecord, kind: MoneySagaKind): OperationRecord {
    if (this.mode.drillShare > 0 && this.random.chance(this.mode.drillShare)) {
      // `notify` failing leaves the money where it is (the saga still succeeds): not a money fault.
      const steps = forwardStepsOf(kind).filter((step) => step !== 'notify');
      record.headers = { ...record.headers, 'x-saga-fault': this.random.pick(steps) };
      record.expectation = 'injected_fault';
    }
    return record;
  }
}
