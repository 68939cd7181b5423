import { nearestRank, percentilesOf, perSecond } from './stats';

const oneToHundred = Array.from({ length: 100 }, (_, index) => index + 1);

describe('nearestRank', () => {
  it.each([
    [[1, 2, 3, 4], 0.5, 2],
    [[1, 2, 3, 4], 1, 4],
    [[7], 0.99, 7],
    [oneToHundred, 0.5, 50],
    [oneToHundred, 0.95, 95],
    [oneToHundred, 0.99, 99],
    [oneToHundred, 0.001, 1],
  ])('when the values are %j and the fraction %p, then the percentile is %p', (values, fraction, expected) => {
    expect(nearestRank(values, fraction)).toBe(expected);
  });

  it('when there are no values, then there is no percentile', () => {
    expect(nearestRank([], 0.5)).toBeNull();
  });

  it.each([0, -0.5, 1.01, Number.NaN])('when the fraction is %p, then it is refused', (fraction) => {
    expect(() => nearestRank([1], fraction)).toThrow(RangeError);
  });
});

describe('percentilesOf', () => {
  it('when latencies come unsorted, then p50, p95, p99 and max are read from them sorted, to 0.1 ms', () => {
    const shuffled = [...oneToHundred].reverse().map((value) => value + 0.04);
    expect(percentilesOf(shuffled)).toEqual({ count: 100, p50: 50, p95: 95, p99: 99, max: 100 });
  });

  it('when nothing was measured, then every percentile is null', () => {
    expect(percentilesOf([])).toEqual({ count: 0, p50: null, p95: null, p99: null, max: null });
  });

  it.each([-1, Number.NaN, Number.POSITIVE_INFINITY])('when a latency is %p, then it is refused', (bad) => {
    expect(() => percentilesOf([1, bad])).toThrow(RangeError);
  });
});

describe('perSecond', () => {
  it.each([
    [30, 15_000, 2],
    [1, 3_000, 0.33],
    [0, 1_000, 0],
    [5, 0, 0],
  ])('when %p events happen in %p ms, then the rate is %p per second', (count, windowMs, expected) => {
    expect(perSecond(count, windowMs)).toBe(expected);
  });

  it('when the count is not a whole number, then it is refused', () => {
    expect(() => perSecond(1.5, 1_000)).toThrow(RangeError);
  });
});
