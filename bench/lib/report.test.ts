import { chartPoints, chartSpec } from './chart';
import type { CeilingLevel } from './ceiling';
import type { LoadLevel } from './load';
import type { MachineInfo } from './machine';
import type { SagaOutcomes } from './outcomes';
import { benchFailures, buildResults, ratioOf, renderMarkdown, type ResultsInput } from './report';
import { percentilesOf } from './stats';

const machine: MachineInfo = {
  cores: 2,
  cpuModel: 'Test CPU',
  memoryBytes: 4 * 2 ** 30,
  node: 'v20.0.0',
  temporalCli: '1.9.1',
  temporalServer: '1.32.0',
  database: '10.11.0-MariaDB',
  gitCommit: 'abc123',
};

function level(concurrency: number, paymentsPerSecond: number, extra: Partial<LoadLevel> = {}): { load: LoadLevel; outcomes: SagaOutcomes } {
  const startedAt = new Date('2026-12-01T10:00:00Z');
  return {
    load: {
      concurrency,
      startedAt,
      endedAt: new Date(startedAt.getTime() + 10_000),
      responses: { '201': paymentsPerSecond * 10 },
      sagaFailuresAnswered: {},
      apiLatencyMs: percentilesOf([10 * concurrency, 20 * concurrency]),
      http5xx: 0,
      answersPerSecond: paymentsPerSecond,
      ...extra,
    },
    outcomes: {
      created: paymentsPerSecond * 10,
      succeeded: paymentsPerSecond * 10,
      failed: {},
      unfinished: 0,
      paymentsPerSecond,
      sagaLatencyMs: percentilesOf([30]),
    },
  };
}

function ceilingLevel(concurrency: number, workflowsPerSecond: number): CeilingLevel {
  return { concurrency, completed: workflowsPerSecond * 10, workflowsPerSecond, latencyMs: percentilesOf([5]), errors: {} };
}

function input(overrides: Partial<ResultsInput> = {}): ResultsInput {
  return {
    date: new Date('2026-12-01T10:00:00Z'),
    machine,
    settings: { levels: [1, 8], durationS: 10, customers: 1_000, merchants: 10, scenarios: ['uniform', 'hot-merchant'], quick: false },
    scenarios: [
      { name: 'uniform', paymentsWorkers: 1, merchantsPaid: 10, levels: [level(1, 4), level(8, 12)], locks: { deadlocks: 0, lockWaitTimeouts: 0 } },
      { name: 'hot-merchant', paymentsWorkers: 1, merchantsPaid: 1, levels: [level(1, 3), level(8, 6, { http5xx: 2, responses: { '201': 58, '500 internal_error': 2 } })], locks: null },
    ],
    ceiling: [ceilingLevel(1, 8), ceilingLevel(8, 40)],
    reconciliation: { ok: true, report: {} },
    ...overrides,
  };
}

describe('ratioOf', () => {
  it.each([
    [12, 40, 0.3],
    [1, 3, 0.333],
    [5, 0, null],
    [5, null, null],
    [5, undefined, null],
  ])('when %p is divided by %p, then the ratio is %p', (a, b, expected) => {
    expect(ratioOf(a, b)).toBe(expected);
  });
});

describe('buildResults', () => {
  it('when scenarios and the ceiling ran, then the headline ratio compares the best of each and every level has its own ratio', () => {
    const results = buildResults(input());
    expect(results).toMatchObject({ paymentsPerSecond: 12, ceilingPerSecond: 40, ratio: 0.3, versusUniform: { 'hot-merchant': 0.5 } });
    expect(results.scenarios[0]?.levels.map((each) => each.ratio)).toEqual([0.5, 0.3]);
    expect(results.scenarios[0]?.best).toEqual({ concurrency: 8, paymentsPerSecond: 12 });
    expect(results.scenarios[1]).toMatchObject({ http5xx: 2, locks: null, best: { concurrency: 8, paymentsPerSecond: 6 } });
    expect(results.ceiling?.best).toEqual({ concurrency: 8, workflowsPerSecond: 40 });
    expect(results.scenarios[0]?.levels[0]).toMatchObject({ windowS: 10, apiLatencyMs: { p50: 10, p99: 20 } });
  });

  it('when the ceiling did not run, then every ratio is null and the payments numbers remain', () => {
    const results = buildResults(input({ ceiling: null }));
    expect(results).toMatchObject({ paymentsPerSecond: 12, ceilingPerSecond: null, ratio: null, ceiling: null });
    expect(results.scenarios.flatMap((scenario) => scenario.levels.map((each) => each.ratio))).toEqual([null, null, null, null]);
  });

  it('when uniform did not run, then the first scenario is the headline and nothing is compared with uniform', () => {
    const only = input().scenarios[1];
    const results = buildResults(input({ scenarios: only ? [only] : [] }));
    expect(results).toMatchObject({ paymentsPerSecond: 6, ratio: 0.15, versusUniform: {} });
  });
});

describe('renderMarkdown', () => {
  it('when results are rendered, then the headline, a table row per level, the 5xx count and the machine are in it', () => {
    const markdown = renderMarkdown(buildResults(input()));
    expect(markdown).toContain('**12.00 payments/s** (best uniform level) · engine ceiling **40.00 workflows/s** · ratio **0.300** · reconciliation **ok**');
    expect(markdown).toContain('| 8 | 12.00 | 0.300 | 80.0 / 160.0 / 160.0 | 30.0 / 30.0 / 30.0 | 120 | – | 0 | 201: 120 |');
    expect(markdown).toContain('deadlocks n/a, lock-wait timeouts n/a; 5xx answers 2.');
    expect(markdown).toContain('500 internal_error: 2');
    expect(markdown).toContain('2 × Test CPU, 4.0 GiB');
    expect(markdown).toContain('| 8 | 40.00 | 5.0 / 5.0 / 5.0 | – |');
  });

  it('when the ledger did not reconcile, then the headline says so', () => {
    expect(renderMarkdown(buildResults(input({ reconciliation: { ok: false, report: {} } })))).toContain('reconciliation **FAILED**');
  });
});

describe('benchFailures', () => {
  const clean = (responses: Record<string, number>, http5xx: number) =>
    input({ scenarios: [{ name: 'uniform', paymentsWorkers: 1, merchantsPaid: 10, levels: [level(1, 4), level(8, 12, { http5xx, responses })], locks: null }] });

  it('when every answer is 2xx or 4xx and the ledger reconciles, then the bench passes', () => {
    expect(benchFailures(buildResults(clean({ '201': 100, '422 insufficient_funds': 3 }, 0)))).toEqual([]);
  });

  it('when any answer is 500, then the bench fails and says how many 500s reached a client', () => {
    expect(benchFailures(buildResults(input()))).toEqual(['2 answers were 500: a server error (a bug by the contract) reached a client']);
    expect(benchFailures(buildResults(clean({ '201': 99, '500 unparseable': 1 }, 1)))).toEqual(['1 answers were 500: a server error (a bug by the contract) reached a client']);
  });

  it('when answers are 503 or the ledger does not reconcile, then each is a failure of its own', () => {
    const results = buildResults({ ...clean({ '201': 97, '503 service_unavailable': 3 }, 3), reconciliation: { ok: false, report: {} } });
    expect(benchFailures(results)).toEqual(['the ledger does not reconcile', "3 answers were 5xx other than 500 (e.g. 503) under the bench's load, which injects no outage"]);
  });
});

describe('chartSpec', () => {
  it('when results are charted, then each scenario and the ceiling is a series of throughput and p99 by concurrency', () => {
    const results = buildResults(input());
    const points = chartPoints(results);
    expect(points).toHaveLength(6);
    expect(points).toContainEqual({ series: 'uniform', concurrency: 8, throughputPerSecond: 12, p99Ms: 160 });
    expect(points).toContainEqual({ series: 'ceiling (no-op saga)', concurrency: 8, throughputPerSecond: 40, p99Ms: 5 });
    const spec = chartSpec(results) as { data: { values: unknown[] }; hconcat: Array<{ encoding: { x: { field: string }; y: { field: string } } }> };
    expect(spec.data.values).toEqual(points);
    expect(spec.hconcat.map((panel) => [panel.encoding.x.field, panel.encoding.y.field])).toEqual([
      ['concurrency', 'throughputPerSecond'],
      ['concurrency', 'p99Ms'],
    ]);
  });
});
