import { seededRandom } from './random';
import { DEFAULT_SCHEDULE_SETTINGS, FAULTS, faultAt, minimumDurationS, planSchedule } from './schedule';

describe('planSchedule', () => {
  it('when faults are given, then they come in that order, evenly spaced after the warm-up, each slot reaching the next', () => {
    const schedule = planSchedule(['payments-worker-kill', 'api-kill', 'database-restart'], 100_000, { warmUpMs: 10_000, minimumSlotMs: 20_000 });

    expect(schedule).toEqual([
      { fault: 'payments-worker-kill', atMs: 10_000, slotMs: 30_000 },
      { fault: 'api-kill', atMs: 40_000, slotMs: 30_000 },
      { fault: 'database-restart', atMs: 70_000, slotMs: 30_000 },
    ]);
  });

  it('when the duration leaves a slot shorter than the minimum, then it is refused with the duration needed', () => {
    expect(() => planSchedule(['api-kill', 'row-lock'], 49_999, { warmUpMs: 10_000, minimumSlotMs: 20_000 })).toThrow('2 faults need a duration of at least 50 s');
    expect(planSchedule(['api-kill', 'row-lock'], 50_000, { warmUpMs: 10_000, minimumSlotMs: 20_000 })).toHaveLength(2);
  });

  it('when a fault is named twice, then the schedule is refused', () => {
    expect(() => planSchedule(['api-kill', 'api-kill'], 600_000)).toThrow(RangeError);
  });

  it('when no fault is given, then the plan is empty', () => {
    expect(planSchedule([], 1_000)).toEqual([]);
  });

  it('when every fault runs in the default duration, then each gets at least its minimum slot', () => {
    const schedule = planSchedule([...FAULTS], 330_000);
    expect(schedule.map((planned) => planned.fault)).toEqual([...FAULTS]);
    expect(schedule.every((planned) => planned.slotMs >= DEFAULT_SCHEDULE_SETTINGS.minimumSlotMs)).toBe(true);
    expect(minimumDurationS(FAULTS.length)).toBeLessThanOrEqual(330);
  });
});

describe('faultAt', () => {
  const schedule = planSchedule(['payments-worker-kill', 'api-kill'], 50_000, { warmUpMs: 10_000, minimumSlotMs: 20_000 });

  it.each([
    [0, null],
    [9_999, null],
    [10_000, 'payments-worker-kill'],
    [29_999, 'payments-worker-kill'],
    [30_000, 'api-kill'],
    [49_999, 'api-kill'],
    [50_000, null],
  ])('when %i ms have passed, then the slot is %s', (elapsedMs, fault) => {
    expect(faultAt(schedule, elapsedMs)).toBe(fault);
  });
});

describe('seededRandom', () => {
  it('when two sources share a seed, then they give the same sequence; another seed gives another', () => {
    const first = seededRandom(7);
    const second = seededRandom(7);
    const sequence = Array.from({ length: 5 }, () => first.next());
    expect(Array.from({ length: 5 }, () => second.next())).toEqual(sequence);
    expect(seededRandom(8).next()).not.toBe(sequence[0]);
  });

  it('when numbers are drawn, then they stay within their bounds', () => {
    const random = seededRandom(1);
    for (let draw = 0; draw < 1_000; draw += 1) {
      const value = random.between(3, 5);
      expect(value >= 3 && value <= 5 && Number.isInteger(value)).toBe(true);
      expect(random.int(4)).toBeLessThan(4);
    }
    expect(() => random.pick([])).toThrow(RangeError);
    expect(() => seededRandom(1.5)).toThrow(RangeError);
  });
});
