import type { Client } from '@temporalio/client';
import type { Context } from 'koa';
import { startAndAwaitFinal, startMoneySaga, type MoneySagaLaunch } from '../infra/sagas';
import { forwardStepsOf, type MoneySagaKind } from '../domain/money-sagas';
import { isFinalStatus } from '../domain/payments';
import { validationError } from './errors';
import type { RequestHeaderDoc } from './openapi/registry';
import type { ErrorReporter } from './middleware/errors';

/** The fault drill's step of a money saga, when the server allows drills and the request asks for one. */
export function faultStepOf(ctx: Context, kind: MoneySagaKind, faultsEnabled: boolean): string | null {
  const header = ctx.get('X-Saga-Fault');
  if (!faultsEnabled || header === '') return null;
  const steps = forwardStepsOf(kind);
  if (!steps.includes(header)) throw validationError({ 'X-Saga-Fault': `must be one of ${steps.join(', ')}` });
  return header;
}

/** The `X-Saga-Fault` header's documentation for a money saga's POST route: a forward step, or empty for none. */
export function faultHeaderDoc(kind: MoneySagaKind): RequestHeaderDoc {
  return {
    description: `fault drill, only when the server runs with SAGA_FAULTS=enabled (otherwise ignored): ${forwardStepsOf(kind).join(' | ')}`,
    schema: { type: 'string', enum: ['', ...forwardStepsOf(kind)] },
  };
}

/** What a money POST's 202 also covers: a saga that could not be started yet. */
export const NOT_STARTED_NOTE = 'also when the saga could not be started (Temporal out of reach): the resource is stored `pending` and the saga-recovery schedule starts it';

/** What the POST of a money saga answers with, once its row is stored. */
export interface SagaAnswer<Resource extends { id: string; status: string }> {
  /** The resource as stored (or replayed). */
  stored: Resource;
  replayed: boolean;
  /** Reads the resource again. */
  read: () => Promise<Resource | null>;
  /** Where its saga runs. */
  temporal: Client;
  /** Where a failed start goes (the log): the client is answered 202 all the same. */
  report: ErrorReporter;
  /** How to start its saga (the workflow type, id and start options). */
  launch: () => MoneySagaLaunch;
  /** How long a synchronous request waits for the saga to end. */
  waitMs: number;
  /** The resource's path, for `Location`. */
  location: string;
}

/**
 * Starts a money saga's workflow unless `mustStart` says no, and answers its POST: with
 * `Prefer: respond-async` once started; else once Temporal says the saga is final (one
 * Update-with-Start, no polling of the database) or the wait ends, then reads the resource once.
 * 201 when final, 202 with `Location` otherwise; `Idempotent-Replayed` on a replay. When the start
 * fails (Temporal out of reach, each call bounded), the row is committed all the same: the answer
 * is the stored resource, 202, and the saga-recovery schedule starts it once Temporal is back.
 */
export async function answerSaga<Resource extends { id: string; status: string }>(ctx: Context, answer: SagaAnswer<Resource>): Promise<void> {
  const respondAsync = /\brespond-async\b/i.test(ctx.get('Prefer'));
  let resource = answer.stored;
  if (mustStart(answer.stored, answer.replayed) && (await started(ctx, answer, respondAsync)) && !respondAsync) {
    const current = await answer.read();
    if (!current) throw new Error('a saga’s resource vanished while its POST waited');
    resource = current;
  }
  if (answer.replayed) ctx.set('Idempotent-Replayed', 'true');
  if (isFinalStatus(resource.status)) {
    ctx.status = 201;
  } else {
    ctx.status = 202;
    ctx.set('Location', answer.location);
  }
  ctx.body = resource;
}

/** Starts the saga (and, unless `respondAsync`, waits for it); false when it could not be started, after reporting why. */
async function started<Resource extends { id: string; status: string }>(ctx: Context, answer: SagaAnswer<Resource>, respondAsync: boolean): Promise<boolean> {
  const launch = answer.launch();
  try {
    if (respondAsync) await startMoneySaga(answer.temporal, launch);
    else await startAndAwaitFinal(answer.temporal, launch, answer.waitMs);
    return true;
  } catch (error) {
    answer.report(error, String(ctx.state.requestId ?? ''));
    return false;
  }
}

/**
 * Whether a POST must start the saga: a replay of an unfinished saga starts it too (the first
 * request may have died between its commit and the start); a finished one is answered from the
 * database and never starts a run (Temporal may have forgotten its workflow id after retention).
 */
export function mustStart(stored: { status: string }, replayed: boolean): boolean {
  return !(replayed && isFinalStatus(stored.status));
}
