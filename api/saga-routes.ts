import type { Context } from 'koa';
import { forwardStepsOf, type MoneySagaKind } from '../domain/money-sagas';
import { isAwaitingReview, isFinalStatus } from '../domain/payments';
import { validationError } from './errors';

const FIRST_POLL_MS = 20;
const MAX_POLL_MS = 50;

/** The fault drill's step of a money saga, when the server allows drills and the request asks for one. */
export function faultStepOf(ctx: Context, kind: MoneySagaKind, faultsEnabled: boolean): string | null {
  const header = ctx.get('X-Saga-Fault');
  if (!faultsEnabled || header === '') return null;
  const steps = forwardStepsOf(kind);
  if (!steps.includes(header)) throw validationError({ 'X-Saga-Fault': `must be one of ${steps.join(', ')}` });
  return header;
}

/** The `X-Saga-Fault` header's documentation for a money saga's POST route. */
export function faultHeaderDoc(kind: MoneySagaKind): string {
  return `fault drill, only when the server runs with SAGA_FAULTS=enabled: ${forwardStepsOf(kind).join(' | ')}`;
}

/**
 * Reads a saga's resource until its status is final, or it waits for an admin's review (nothing
 * will happen soon), or `waitMs` has passed; answers what it last read.
 */
export async function waitForFinal<Resource extends { status: string }>(read: () => Promise<Resource | null>, waitMs: number): Promise<Resource> {
  const deadline = Date.now() + waitMs;
  for (let pollMs = FIRST_POLL_MS; ; pollMs = Math.min(pollMs * 2, MAX_POLL_MS)) {
    const resource = await read();
    if (!resource) throw new Error('a saga’s resource vanished while its POST waited');
    const remainingMs = deadline - Date.now();
    if (isFinalStatus(resource.status) || isAwaitingReview(resource.status) || remainingMs <= 0) return resource;
    await new Promise((resolve) => setTimeout(resolve, Math.min(pollMs, remainingMs)));
  }
}

/** What the POST of a money saga answers with, once its row is stored and its saga started. */
export interface SagaAnswer<Resource extends { id: string; status: string }> {
  /** The resource as stored (or replayed). */
  stored: Resource;
  replayed: boolean;
  /** Reads the resource again. */
  read: () => Promise<Resource | null>;
  /** How long a synchronous request waits for the saga to end. */
  waitMs: number;
  /** The resource's path, for `Location`. */
  location: string;
}

/**
 * Answers a money saga's POST: with `Prefer: respond-async` at once, else once the saga is final
 * or the wait ends; 201 when final, 202 with `Location` otherwise; `Idempotent-Replayed` on a replay.
 */
export async function answerSaga<Resource extends { id: string; status: string }>(ctx: Context, answer: SagaAnswer<Resource>): Promise<void> {
  const respondAsync = /\brespond-async\b/i.test(ctx.get('Prefer'));
  const resource = respondAsync ? answer.stored : await waitForFinal(answer.read, answer.waitMs);
  if (answer.replayed) ctx.set('Idempotent-Replayed', 'true');
  if (isFinalStatus(resource.status)) {
    ctx.status = 201;
  } else {
    ctx.status = 202;
    ctx.set('Location', answer.location);
  }
  ctx.body = resource;
}

/**
 * Whether a POST must start the saga: a replay of an unfinished saga starts it too (the first
 * request may have died between its commit and the start); a finished one is answered from the
 * database and never starts a run (Temporal may have forgotten its workflow id after retention).
 */
export function mustStart(stored: { status: string }, replayed: boolean): boolean {
  return !(replayed && isFinalStatus(stored.status));
}
