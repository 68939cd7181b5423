/** Latency percentiles in milliseconds; null when nothing was measured. */
export interface Percentiles {
  count: number;
  p50: number | null;
  p95: number | null;
  p99: number | null;
  max: number | null;
}

/**
 * The nearest-rank percentile of sorted values: the smallest value with at least `fraction` of
 * the values at or below it (p50 of [1, 2, 3, 4] is 2, p99 of 100 values is the 99th).
 */
export function nearestRank(sortedValues: readonly number[], fraction: number): number | null {
  if (!(fraction > 0 && fraction <= 1)) throw new RangeError(`a percentile fraction is in (0, 1], got ${fraction}`);
  if (sortedValues.length === 0) return null;
  const rank = Math.ceil(fraction * sortedValues.length);
  return sortedValues[Math.min(sortedValues.length, rank) - 1] ?? null;
}

/** p50, p95, p99 and max of latencies in milliseconds, rounded to 0.1 ms. */
export function percentilesOf(valuesMs: readonly number[]): Percentiles {
  for (const value of valuesMs) if (!Number.isFinite(value) || value < 0) throw new RangeError(`a latency is a finite number ≥ 0, got ${value}`);
  const sorted = [...valuesMs].sort((a, b) => a - b);
  const round = (value: number | null) => (value === null ? null : Math.round(value * 10) / 10);
  return {
    count: sorted.length,
    p50: round(nearestRank(sorted, 0.5)),
    p95: round(nearestRank(sorted, 0.95)),
    p99: round(nearestRank(sorted, 0.99)),
    max: round(sorted[sorted.length - 1] ?? null),
  };
}

/** Events per second over a window, rounded to 0.01; 0 for an empty window. */
export function perSecond(count: number, windowMs: number): number {
  if (!Number.isSafeInteger(count) || count < 0) throw new RangeError(`a count is a whole number ≥ 0, got ${count}`);
  if (!(windowMs > 0)) return 0;
  return Math.round((count / (windowMs / 1_000)) * 100) / 100;
}

/** Adds one to a named counter. */
export function countInto(counts: Record<string, number>, name: string, by = 1): void {
  counts[name] = (counts[name] ?? 0) + by;
}
