import { EMAIL_RETRY_POLICY, nextAttemptAfterFailure, retryDelayMs, WEBHOOK_MIN_RETRY_WINDOW_MS, WEBHOOK_RETRY_POLICY } from './deliveries';

const HOUR_MS = 3_600_000;

describe('retryDelayMs', () => {
  it.each([
    [1, 5_000],
    [2, 10_000],
    [3, 20_000],
    [7, 320_000],
    [8, 600_000],
    [9, 600_000],
    [10_000, 600_000],
  ])('when an e-mail failed %i times, then the next try waits %i ms (doubling, capped at 10 minutes)', (attempts, delayMs) => {
    expect(retryDelayMs(EMAIL_RETRY_POLICY, attempts)).toBe(delayMs);
  });

  it.each([0, -1, 1.5, Number.NaN])('when attempts is %p, then it throws', (attempts) => {
    expect(() => retryDelayMs(EMAIL_RETRY_POLICY, attempts)).toThrow(RangeError);
  });
});

describe('nextAttemptAfterFailure', () => {
  const recordedAtMs = Date.UTC(2026, 11, 1);

  it('when the next try still starts inside the window, then it is retried at now + delay', () => {
    const nowMs = recordedAtMs + 1_000;
    expect(nextAttemptAfterFailure(WEBHOOK_RETRY_POLICY, { attempts: 1, firstRecordedAtMs: recordedAtMs, nowMs })).toEqual({ retry: true, atMs: nowMs + 30_000 });
  });

  it('when the next try would start exactly at the end of the window, then it is still retried; one ms later it is given up', () => {
    const windowEndMs = recordedAtMs + EMAIL_RETRY_POLICY.giveUpAfterMs;
    expect(nextAttemptAfterFailure(EMAIL_RETRY_POLICY, { attempts: 9, firstRecordedAtMs: recordedAtMs, nowMs: windowEndMs - 600_000 })).toEqual({ retry: true, atMs: windowEndMs });
    expect(nextAttemptAfterFailure(EMAIL_RETRY_POLICY, { attempts: 9, firstRecordedAtMs: recordedAtMs, nowMs: windowEndMs - 599_999 })).toEqual({ retry: false });
  });

  it('when a webhook policy has a window under 24 hours, then the minimum window still applies', () => {
    const short = { ...WEBHOOK_RETRY_POLICY, giveUpAfterMs: HOUR_MS };
    const nowMs = recordedAtMs + 23 * HOUR_MS;
    expect(nextAttemptAfterFailure(short, { attempts: 30, firstRecordedAtMs: recordedAtMs, nowMs })).toEqual({ retry: false });
    expect(nextAttemptAfterFailure(short, { attempts: 30, firstRecordedAtMs: recordedAtMs, nowMs, minimumWindowMs: WEBHOOK_MIN_RETRY_WINDOW_MS })).toEqual({ retry: true, atMs: nowMs + HOUR_MS });
  });
});
