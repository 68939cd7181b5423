import autocannon from 'autocannon';
import type { BenchPopulation, BenchUser } from './seed';
import { countInto, percentilesOf, perSecond, type Percentiles } from './stats';

/** The amount of every bench payment, in minor units: small, so no balance runs out. */
export const PAYMENT_AMOUNT = 100;
/** A synchronous POST waits up to PAYMENT_SYNC_WAIT_MS (10 s by default); the client waits longer. */
const REQUEST_TIMEOUT_S = 30;

/** What the load generator saw during one level. */
export interface LoadLevel {
  concurrency: number;
  startedAt: Date;
  endedAt: Date;
  /** Answers by HTTP status and, for errors, the contract's error code ("201", "202", "409 conflict"…); `request_error` for sockets and timeouts. */
  responses: Record<string, number>;
  /** Payments answered 201 that ended failed, by `failure.code`. */
  sagaFailuresAnswered: Record<string, number>;
  /** Latency of the 2xx answers of POST /v1/payments. */
  apiLatencyMs: Percentiles;
  /** Answers with a 5xx status: none may reach a client. */
  http5xx: number;
  /** 2xx answers per second of the window. */
  answersPerSecond: number;
}

/** Which merchant the n-th payment of a scenario goes to. */
export type MerchantChoice = (merchants: readonly BenchUser[], index: number) => BenchUser;

/** Spread over every merchant in turn. */
export const uniformMerchants: MerchantChoice = (merchants, index) => merchants[index % merchants.length] as BenchUser;
/** Always the first merchant: every payment credits the same wallet row. */
export const hotMerchant: MerchantChoice = (merchants) => merchants[0] as BenchUser;

/** The contract's error code of an error body, or `unknown` when it has none. */
export function errorCodeOf(body: string): string {
  try {
    const parsed = JSON.parse(body) as { error?: { code?: unknown } };
    return typeof parsed.error?.code === 'string' ? parsed.error.code : 'unknown';
  } catch {
    return 'unparseable';
  }
}

/** A payment answer's status and failure code, or undefined when the body is not a payment. */
function paymentOutcomeOf(body: string): { status: string; failureCode: string | null } | undefined {
  try {
    const parsed = JSON.parse(body) as { status?: unknown; failure?: { code?: unknown } | null };
    if (typeof parsed.status !== 'string') return undefined;
    return { status: parsed.status, failureCode: typeof parsed.failure?.code === 'string' ? parsed.failure.code : null };
  } catch {
    return undefined;
  }
}

/** Drives POST /v1/payments: each request from the next customer in turn, with its own token and a unique Idempotency-Key. */
export class PaymentLoad {
  private nextPayer = 0;
  private nextKey = 0;

  constructor(
    private readonly apiUrl: string,
    private readonly population: BenchPopulation,
    private readonly runId: string,
  ) {}

  /** Runs one level for `durationS` seconds at `concurrency` connections, printing a line per second. */
  async run(label: string, concurrency: number, durationS: number, chooseMerchant: MerchantChoice, say: (line: string) => void): Promise<LoadLevel> {
    const responses: Record<string, number> = {};
    const sagaFailuresAnswered: Record<string, number> = {};
    const latenciesMs: number[] = [];
    let http5xx = 0;
    let answered = 0;
    let paymentIndex = 0;
    const { customers, merchants, currency } = this.population;
    const setupRequest = (request: autocannon.Request): autocannon.Request => {
      const payer = customers[this.nextPayer % customers.length] as BenchUser;
      this.nextPayer += 1;
      this.nextKey += 1;
      const merchant = chooseMerchant(merchants, paymentIndex);
      paymentIndex += 1;
      return {
        ...request,
        headers: {
          'content-type': 'application/json',
          authorization: `Bearer ${payer.token}`,
          'idempotency-key': `bench-${this.runId}-${this.nextKey}`,
        },
        body: JSON.stringify({ merchantId: merchant.id, amount: PAYMENT_AMOUNT, currency }),
      };
    };
    const onResponse = (status: number, body: string) => {
      if (status >= 200 && status < 300) {
        countInto(responses, String(status));
        const outcome = paymentOutcomeOf(body);
        if (outcome?.status === 'failed') countInto(sagaFailuresAnswered, outcome.failureCode ?? 'unknown');
        return;
      }
      if (status >= 500) http5xx += 1;
      countInto(responses, `${status} ${errorCodeOf(body)}`);
    };

    const startedAt = new Date();
    let finish: (error: unknown) => void = () => undefined;
    const finished = new Promise<void>((resolve, reject) => {
      finish = (error) => (error ? reject(error instanceof Error ? error : new Error('the load generator failed', { cause: error })) : resolve());
    });
    const options = {
      url: this.apiUrl,
      connections: concurrency,
      pipelining: 1,
      duration: durationS,
      timeout: REQUEST_TIMEOUT_S,
      requests: [{ method: 'POST' as const, path: '/v1/payments', setupRequest, onResponse }],
    };
    const instance = autocannon(options, (error: unknown) => finish(error));
    // The tracker passes the client first, then the status and the response time (the typings omit the client).
    (instance as unknown as NodeJS.EventEmitter).on('response', (_client: unknown, statusCode: number, _bytes: number, responseTimeMs: number) => {
      if (statusCode >= 200 && statusCode < 300) {
        latenciesMs.push(responseTimeMs);
        answered += 1;
      }
    });
    instance.on('reqError', () => countInto(responses, 'request_error'));
    let lastAnswered = 0;
    let second = 0;
    const progress = setInterval(() => {
      second += 1;
      const errors = Object.entries(responses).filter(([key]) => !/^2\d\d$/.test(key)).reduce((sum, [, count]) => sum + count, 0);
      say(`  [${label} c=${concurrency}] ${second}s  answered ${answered} (+${answered - lastAnswered}/s)  errors ${errors}`);
      lastAnswered = answered;
    }, 1_000);
    try {
      await finished;
    } finally {
      clearInterval(progress);
    }
    const endedAt = new Date();
    return {
      concurrency,
      startedAt,
      endedAt,
      responses,
      sagaFailuresAnswered,
      apiLatencyMs: percentilesOf(latenciesMs),
      http5xx,
      answersPerSecond: perSecond(answered, endedAt.getTime() - startedAt.getTime()),
    };
  }
}
