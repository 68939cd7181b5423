/**
 * The faults `npm run chaos` injects, and when: one after another, each followed by a recovery
 * window in which nothing else is broken. Pure: the runner executes what this plans.
 */

/** Every fault the run knows, in the order the default schedule injects them. */
export const FAULTS = [
  'payments-worker-kill',
  'step-failures',
  'duplicate-requests',
  'compensation-worker-kill',
  'notifications-worker-kill',
  'slow-database',
  'row-lock',
  'api-kill',
  'temporal-restart',
  'database-restart',
] as const;

/** One kind of fault. */
export type FaultName = (typeof FAULTS)[number];

/** What each fault does, for the report. */
export const FAULT_DESCRIPTIONS: Record<FaultName, string> = {
  'payments-worker-kill': 'SIGKILL of a payments worker under load, restarted 2 s later',
  'step-failures': 'permanent step failures: the X-Saga-Fault drill on a share of the money requests',
  'duplicate-requests': 'every request sent three times at once with one Idempotency-Key, then once more after its answer',
  'compensation-worker-kill': 'SIGKILL of every payments worker while sagas of the fault drill compensate (the slow database stretching their compensations), restarted 2 s later',
  'notifications-worker-kill': 'SIGKILL of the notifications worker, restarted 2 s later',
  'slow-database': 'the TCP proxy in front of MariaDB delays every packet from the server',
  'row-lock': 'a separate connection holds the hot merchant wallet and a clearing row (SELECT … FOR UPDATE) past the activity attempt timeout',
  'api-kill': 'SIGKILL of the API while requests wait on their sagas; restarted, clients retry with the same key',
  'temporal-restart': 'the Temporal dev server stopped, left down 5 s, and started again on its file database',
  'database-restart': 'the MariaDB server stopped, left down 5 s, and started again on its data',
};

/** One fault of the plan: which, and when it starts (ms after the traffic started). */
export interface ScheduledFault {
  fault: FaultName;
  atMs: number;
  /** The time until the next fault (or the end of the traffic): the fault plus its recovery window. */
  slotMs: number;
}

/** How the plan is laid out. */
export interface ScheduleSettings {
  /** Traffic without faults before the first one. */
  warmUpMs: number;
  /** Each fault with its recovery window needs at least this much. */
  minimumSlotMs: number;
}

export const DEFAULT_SCHEDULE_SETTINGS: ScheduleSettings = { warmUpMs: 10_000, minimumSlotMs: 20_000 };

/** The seconds a run needs for `faultCount` faults. */
export function minimumDurationS(faultCount: number, settings: ScheduleSettings = DEFAULT_SCHEDULE_SETTINGS): number {
  return Math.ceil((settings.warmUpMs + faultCount * settings.minimumSlotMs) / 1_000);
}

/**
 * Spreads `faults` evenly over the traffic after the warm-up, in the order given; throws a
 * RangeError when the duration leaves a fault less than its minimum slot.
 */
export function planSchedule(faults: readonly FaultName[], durationMs: number, settings: ScheduleSettings = DEFAULT_SCHEDULE_SETTINGS): ScheduledFault[] {
  if (faults.length === 0) return [];
  if (new Set(faults).size !== faults.length) throw new RangeError('a fault may appear once in a schedule');
  const slotMs = Math.floor((durationMs - settings.warmUpMs) / faults.length);
  if (slotMs < settings.minimumSlotMs) {
    throw new RangeError(`${faults.length} faults need a duration of at least ${minimumDurationS(faults.length, settings)} s`);
  }
  return faults.map((fault, index) => ({ fault, atMs: settings.warmUpMs + index * slotMs, slotMs }));
}

/** The fault whose slot holds `elapsedMs`, or null before the first and outside every slot. */
export function faultAt(schedule: readonly ScheduledFault[], elapsedMs: number): FaultName | null {
  const slot = schedule.find((planned) => elapsedMs >= planned.atMs && elapsedMs < planned.atMs + planned.slotMs);
  return slot?.fault ?? null;
}
