import { setTimeout as sleep } from 'node:timers/promises';
import { createConnection } from 'mysql2/promise';
import type { BenchPopulation, BenchUser } from '../../bench/lib/seed';
import { systemAccountId } from '../../domain/types';
import { waitFor } from '../../scripts/lib/processes';
import type { FaultName } from './schedule';
import type { ChaosStack } from './stack';
import type { Traffic } from './traffic';

/** What a fault needs: the stack to break, the traffic to steer, and a way to print. */
export interface FaultContext {
  stack: ChaosStack;
  traffic: Traffic;
  population: BenchPopulation;
  /** How long the steering faults (drill, duplicates, slow database) last. */
  steeringMs: number;
  say: (line: string) => void;
}

/** What happened while a fault was injected, for the report. */
export interface Injection {
  /** What the fault did, in numbers ("2 sagas mid-compensation at the kill"). */
  note: string;
}

/** How long a killed process stays dead before it is started again. */
const DEAD_FOR_MS = 2_000;
/** How long Temporal or MariaDB stays stopped before it starts again. */
const SERVER_DOWN_MS = 5_000;
/** Longer than a money step's attempt timeout (10 s): the locked steps' attempts time out and are retried. */
const ROW_LOCK_HELD_MS = 13_000;
/** The delay the slow database adds to every packet from the server. */
const SLOW_DATABASE_LATENCY_MS = 150;

/** SIGKILL of one or every payments worker, then as many new ones once DEAD_FOR_MS has passed; answers how many. */
async function killAndRestartPaymentsWorkers(context: FaultContext, count: 'one' | 'all', afterKill: () => void = () => undefined): Promise<number> {
  const workers = context.stack.paymentsWorkers();
  const victims = count === 'one' ? workers.slice(0, 1) : workers;
  await Promise.all(victims.map((worker) => context.stack.kill(worker)));
  afterKill();
  await sleep(DEAD_FOR_MS);
  for (let index = 0; index < victims.length; index += 1) await context.stack.startPaymentsWorker();
  return victims.length;
}

/** Payments of the fault drill whose compensation has begun but whose saga is not final. */
async function compensatingNow(context: FaultContext): Promise<number> {
  const row = (await context.stack.db('payments').count({ count: '*' }).whereNotNull('compensation_started_at').whereIn('status', ['pending', 'processing']).first()) as
    | { count: number | string }
    | undefined;
  return Number(row?.count ?? 0);
}

/**
 * Kills every payments worker while sagas of the fault drill compensate: the slow database
 * stretches each compensation so the kill finds some mid-way.
 */
async function killMidCompensation(context: FaultContext): Promise<Injection> {
  context.stack.proxy.latencyMs = SLOW_DATABASE_LATENCY_MS;
  const burst = context.traffic.burst(8, { 'x-saga-fault': 'write_ledger', prefer: 'respond-async' }, 'injected_fault');
  let compensating = 0;
  try {
    await waitFor(async () => (compensating = await compensatingNow(context)) > 0, { timeoutMs: 20_000, intervalMs: 50, what: 'a saga to begin compensating' });
  } catch {
    compensating = 0;
  }
  const killed = await killAndRestartPaymentsWorkers(context, 'all', () => {
    context.stack.proxy.latencyMs = 0;
  });
  await burst;
  return { note: `${killed} payments worker(s) killed with ${compensating} saga(s) mid-compensation` };
}

/** Holds the hot merchant's wallet and the clearing row its sagas use, on a connection of its own. */
async function holdRowLock(context: FaultContext): Promise<Injection> {
  const hot = context.population.merchants[0] as BenchUser;
  const clearing = systemAccountId('clearing', context.population.currency, 0);
  const connection = await createConnection(context.stack.directDatabaseUrl);
  try {
    await connection.query('SET SESSION innodb_lock_wait_timeout = 30');
    await connection.beginTransaction();
    await connection.query('SELECT id FROM accounts WHERE id IN (?, ?) FOR UPDATE', [hot.walletId, clearing]);
    await sleep(ROW_LOCK_HELD_MS);
    await connection.commit();
  } finally {
    await connection.end();
  }
  return { note: `${hot.walletId} and ${clearing} locked for ${ROW_LOCK_HELD_MS / 1_000} s` };
}

/** Kills the API while synchronous payments wait on their sagas, starts it again; the clients retry with their keys. */
async function killApi(context: FaultContext): Promise<Injection> {
  const burst = context.traffic.burst(8, {}, 'accepted');
  await sleep(400);
  await context.stack.kill(context.stack.api().process);
  await sleep(DEAD_FOR_MS / 2);
  await context.stack.startApi();
  const records = await burst;
  const retried = records.filter((record) => record.retries > 0).length;
  return { note: `${records.length} payments in flight at the kill, ${retried} retried with their key` };
}

async function steer(context: FaultContext, apply: () => void, undo: () => void): Promise<void> {
  apply();
  try {
    await sleep(context.steeringMs);
  } finally {
    undo();
  }
}

/** Injects one fault and answers once it is over (the broken part restarted, the steering undone). */
export async function injectFault(fault: FaultName, context: FaultContext): Promise<Injection> {
  const { stack, traffic } = context;
  switch (fault) {
    case 'payments-worker-kill':
      return { note: `${await killAndRestartPaymentsWorkers(context, 'one')} of ${stack.paymentsWorkers().length} payments workers killed` };
    case 'compensation-worker-kill':
      return killMidCompensation(context);
    case 'notifications-worker-kill':
      await stack.kill(stack.notificationsWorker());
      await sleep(DEAD_FOR_MS);
      await stack.startNotificationsWorker();
      return { note: 'the notifications worker killed' };
    case 'step-failures': {
      const before = traffic.records.length;
      await steer(
        context,
        () => (traffic.mode.drillShare = 0.3),
        () => (traffic.mode.drillShare = 0),
      );
      const drilled = traffic.records.slice(before).filter((record) => record.expectation === 'injected_fault').length;
      return { note: `${drilled} requests with X-Saga-Fault over ${context.steeringMs / 1_000} s` };
    }
    case 'duplicate-requests': {
      const before = traffic.records.length;
      await steer(
        context,
        () => (traffic.mode.duplicates = true),
        () => (traffic.mode.duplicates = false),
      );
      return { note: `${traffic.records.length - before} requests sent 3 times at once and once after` };
    }
    case 'slow-database':
      await steer(
        context,
        () => (stack.proxy.latencyMs = SLOW_DATABASE_LATENCY_MS),
        () => (stack.proxy.latencyMs = 0),
      );
      return { note: `+${SLOW_DATABASE_LATENCY_MS} ms on every packet from MariaDB for ${context.steeringMs / 1_000} s` };
    case 'row-lock':
      return holdRowLock(context);
    case 'api-kill':
      return killApi(context);
    case 'temporal-restart': {
      const startedAt = Date.now();
      await stack.restartTemporal(SERVER_DOWN_MS);
      return { note: `Temporal down ${((Date.now() - startedAt) / 1_000).toFixed(1)} s` };
    }
    case 'database-restart': {
      const startedAt = Date.now();
      await stack.restartDatabase(SERVER_DOWN_MS);
      return { note: `MariaDB down ${((Date.now() - startedAt) / 1_000).toFixed(1)} s` };
    }
  }
}
