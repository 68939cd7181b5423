import { request as httpRequest } from 'node:http';
import fc from 'fast-check';
import type { Knex } from 'knex';
import type { ResponseValidator } from '../../test/support/openapi';
import type { OwnSagas } from '../../test/support/own-sagas';
import { contractViolations, type Answer, type Secrets } from './checks';
import { ledgerDifferences, snapshotLedger, type LedgerScope } from './ledger';
import { operationsOf, requestPlans, resolvePlan, undocumentedPlans, type RequestPlan, type ResolvedRequest } from './requests';
import type { World } from './world';

/** What a fuzz campaign needs: the stack it drives and how many requests to make. */
export interface CampaignOptions {
  document: Record<string, unknown>;
  validator: ResponseValidator;
  world: World;
  db: Knex;
  own: OwnSagas;
  secrets: Secrets;
  requests: number;
  seed: number;
  /** fast-check's replay path of a failure, to run its counterexample again. */
  path?: string;
  ledgerScope: LedgerScope;
  /** Called every `progressEvery` requests. */
  progress?: (line: string) => void;
  progressEvery?: number;
  /** Longest wait for the sagas of earlier requests to end before a write is judged. */
  settleTimeoutMs?: number;
}

/** Requests made, by operation and by status. */
export type Tally = Map<string, Map<number, number>>;

/** The outcome of a campaign. */
export interface CampaignResult {
  requests: number;
  elapsedMs: number;
  tally: Tally;
  /** The shrunk counterexample and how to replay it, when a request broke a property. */
  failure?: string;
}

/** Time one request may take: a payment waits up to PAYMENT_SYNC_WAIT_MS for its saga. */
const REQUEST_TIMEOUT_MS = 30_000;

/**
 * The request target as it goes on the wire: what HTTP does not allow raw (spaces, controls,
 * non-ASCII, `#`) percent-encoded as UTF-8, and nothing else touched. Dot segments (`..`,
 * `%2e%2e`) stay, where fetch's URL parsing would resolve them and send another path.
 */
export function wireTarget(url: string): string {
  return url.replace(/[^\x21-\x22\x24-\x7e]/gu, (char) => [...Buffer.from(char, 'utf8')].map((byte) => `%${byte.toString(16).toUpperCase().padStart(2, '0')}`).join(''));
}

/** Sends one request with the path exactly as generated; the body is parsed when it is JSON. */
function send(baseUrl: string, request: ResolvedRequest): Promise<Answer> {
  const hasBody = request.body !== undefined && request.method !== 'GET' && request.method !== 'HEAD';
  const { hostname, port } = new URL(baseUrl);
  const named = (header: string) => Object.keys(request.headers).some((name) => name.toLowerCase() === header);
  // As fetch does: a body goes with its length, not chunked.
  const headers = hasBody && !named('content-length') && !named('transfer-encoding') ? { ...request.headers, 'Content-Length': String(Buffer.byteLength(request.body ?? '')) } : request.headers;
  return new Promise((resolve, reject) => {
    const outgoing = httpRequest(
      { hostname, port, path: wireTarget(request.url), method: request.method, headers, agent: false, signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) },
      (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('error', reject);
        response.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          const headers = new Headers();
          for (const [name, value] of Object.entries(response.headers)) {
            if (value !== undefined) headers.set(name, Array.isArray(value) ? value.join(', ') : value);
          }
          let body: unknown = text;
          if ((headers.get('content-type') ?? '').includes('json')) {
            try {
              body = JSON.parse(text) as unknown;
            } catch {
              body = text;
            }
          }
          resolve({ status: response.statusCode ?? 0, headers, text, body });
        });
      },
    );
    outgoing.on('error', reject);
    outgoing.end(hasBody ? request.body : undefined);
  });
}

/** Waits until no saga of the run is in flight, so that a write's effect on the ledger is its own. */
async function settle(own: OwnSagas, db: Knex, timeoutMs: number): Promise<void> {
  await own.settle(db, { timeoutMs, intervalMs: 20 });
}

/** What a request looked like, for a failure report. */
function describeRequest(request: ResolvedRequest, plan: RequestPlan): string {
  const headers = { ...request.headers };
  if (headers.Authorization) headers.Authorization = `${headers.Authorization.slice(0, 12)}… (as ${plan.actor}, ${plan.auth.kind})`;
  return `${request.method} ${request.url.slice(0, 300)}\n  headers: ${JSON.stringify(headers).slice(0, 500)}\n  body: ${(request.body ?? '(none)').slice(0, 500)}`;
}

function count(tally: Tally, operation: string, status: number): void {
  const byStatus = tally.get(operation) ?? new Map<number, number>();
  byStatus.set(status, (byStatus.get(status) ?? 0) + 1);
  tally.set(operation, byStatus);
}

/** Statuses over all operations. */
export function statusTotals(tally: Tally): Map<number, number> {
  const totals = new Map<number, number>();
  for (const byStatus of tally.values()) for (const [status, times] of byStatus) totals.set(status, (totals.get(status) ?? 0) + times);
  return new Map([...totals].sort(([a], [b]) => a - b));
}

/**
 * Runs `requests` generated requests one after another against the stack, each checked against the
 * contract, and each refused write against the ledger. Stops at the first broken property, shrinks
 * it, and reports the shrunk request with the seed and path that replay it.
 */
export async function runCampaign(options: CampaignOptions): Promise<CampaignResult> {
  const { document, validator, world, db, own, secrets, ledgerScope } = options;
  const operations = operationsOf(document);
  const components = (document.components ?? {}) as Record<string, unknown>;
  const plans = fc.oneof(
    ...operations.map((operation) => ({ weight: 10, arbitrary: requestPlans(operation, components) })),
    { weight: 5, arbitrary: undocumentedPlans(operations) },
  );
  const tally: Tally = new Map();
  const started = Date.now();
  let made = 0;
  const every = options.progressEvery ?? 500;
  const settleTimeoutMs = options.settleTimeoutMs ?? 60_000;

  /**
   * Sends an accepted write with an Idempotency-Key again, once its saga is final: the answer must
   * be a replay (2xx, `Idempotent-Replayed: true`, the same id) and the ledger must not move.
   */
  const replayViolations = async (request: ResolvedRequest, first: Answer): Promise<string[]> => {
    await settle(own, db, settleTimeoutMs);
    const before = await snapshotLedger(db, scopeNow(ledgerScope));
    const again = await send(world.baseUrl, request);
    made += 1;
    count(tally, 'replayed writes', again.status);
    const problems = contractViolations(request.method, request.url, again, validator, secrets).map((problem) => `the replay: ${problem}`);
    const idOf = (answer: Answer) => (answer.body as { id?: unknown } | null)?.id;
    if (again.status >= 300) problems.push(`the replay answered ${again.status}, not a 2xx`);
    if (again.headers.get('idempotent-replayed') !== 'true') problems.push('the replay has no Idempotent-Replayed: true');
    if (idOf(again) !== idOf(first)) problems.push(`the replay answered id ${JSON.stringify(idOf(again))}, the first ${JSON.stringify(idOf(first))}`);
    await settle(own, db, settleTimeoutMs);
    const moved = ledgerDifferences(before, await snapshotLedger(db, scopeNow(ledgerScope)));
    if (moved.length > 0) problems.push(`the replay changed the ledger: ${moved.join(', ')}`);
    return problems;
  };

  const property = fc.asyncProperty(plans, async (plan) => {
    const isWrite = plan.method !== 'GET' && plan.method !== 'HEAD' && plan.method !== 'OPTIONS';
    if (isWrite) await settle(own, db, settleTimeoutMs);
    const request = resolvePlan(plan, world);
    const before = isWrite ? await snapshotLedger(db, scopeNow(ledgerScope)) : undefined;
    const answer = await send(world.baseUrl, request);
    made += 1;
    count(tally, plan.operation === 'undocumented' ? `undocumented ${plan.method}` : plan.operation, answer.status);
    if (options.progress && made % every === 0) options.progress(progressLine(made, options.requests, started, tally));
    const problems = contractViolations(request.method, request.url, answer, validator, secrets);
    if (before && answer.status >= 400) {
      const moved = ledgerDifferences(before, await snapshotLedger(db, scopeNow(ledgerScope)));
      if (moved.length > 0) problems.push(`a refused request (${answer.status}) changed the ledger: ${moved.join(', ')}`);
    }
    if (problems.length === 0 && plan.replay && request.headers['Idempotency-Key'] !== undefined && answer.status < 300) {
      problems.push(...(await replayViolations(request, answer)));
    }
    if (problems.length > 0) {
      throw new Error(`${describeRequest(request, plan)}\n  → ${answer.status} ${answer.text.slice(0, 400)}\n  problems:\n    - ${problems.join('\n    - ')}`);
    }
    await world.learn({ method: request.method, path: request.url, authorization: request.headers.Authorization, status: answer.status, body: answer.body, sentBody: request.json });
  });

  const details = await fc.check(property, { numRuns: options.requests, seed: options.seed, path: options.path, endOnFailure: false, verbose: 0 });
  const result: CampaignResult = { requests: made, elapsedMs: Date.now() - started, tally };
  if (details.failed) {
    const replay = `npm run fuzz -- --seed ${details.seed} --path ${details.counterexamplePath ?? ''} --requests ${options.requests}`;
    const cause = details.errorInstance instanceof Error ? details.errorInstance.message : String(details.errorInstance);
    result.failure = `after ${details.numRuns} request(s), shrunk ${details.numShrinks} time(s):\n${cause}\nreplay: ${replay}`;
  }
  return result;
}

/** The scope as of now: the set of the run's users grows as requests register more. */
function scopeNow(scope: LedgerScope): LedgerScope {
  return scope === 'everything' ? scope : new Set(scope);
}

function progressLine(made: number, total: number, started: number, tally: Tally): string {
  const seconds = (Date.now() - started) / 1000;
  const statuses = [...statusTotals(tally)].map(([status, times]) => `${status}:${times}`).join(' ');
  return `${made}/${total} requests, ${seconds.toFixed(0)} s (${(made / seconds).toFixed(1)}/s) ${statuses}`;
}

/** The tally as a table: one row per operation, its statuses and their counts. */
export function summaryTable(tally: Tally): string {
  const rows = [...tally].sort(([a], [b]) => a.localeCompare(b));
  const width = Math.max(...rows.map(([operation]) => operation.length), 9);
  const lines = rows.map(([operation, byStatus]) => {
    const total = [...byStatus.values()].reduce((sum, times) => sum + times, 0);
    const statuses = [...byStatus].sort(([a], [b]) => a - b).map(([status, times]) => `${status}×${times}`).join(' ');
    return `${operation.padEnd(width)}  ${String(total).padStart(5)}  ${statuses}`;
  });
  const totals = [...statusTotals(tally)].map(([status, times]) => `${status}×${times}`).join(' ');
  return [`${'operation'.padEnd(width)}  total  statuses`, ...lines, `${'all'.padEnd(width)}  ${String([...tally.values()].reduce((sum, byStatus) => sum + [...byStatus.values()].reduce((a, b) => a + b, 0), 0)).padStart(5)}  ${totals}`].join('\n');
}
