import type { BenchResults } from './report';

/** One point of the chart. */
export interface ChartPoint {
  series: string;
  concurrency: number;
  throughputPerSecond: number;
  p99Ms: number | null;
}

/** The points: each scenario's payments/s and API p99, and the ceiling's workflows/s and p99, by concurrency. */
export function chartPoints(results: BenchResults): ChartPoint[] {
  const points: ChartPoint[] = [];
  for (const scenario of results.scenarios) {
    for (const level of scenario.levels) {
      points.push({ series: scenario.name, concurrency: level.concurrency, throughputPerSecond: level.paymentsPerSecond, p99Ms: level.apiLatencyMs.p99 });
    }
  }
  for (const level of results.ceiling?.levels ?? []) {
    points.push({ series: 'ceiling (no-op saga)', concurrency: level.concurrency, throughputPerSecond: level.workflowsPerSecond, p99Ms: level.latencyMs.p99 });
  }
  return points;
}

/** A vega-lite spec: throughput and p99 against concurrency (log scale), one line per scenario. */
export function chartSpec(results: BenchResults): Record<string, unknown> {
  const points = chartPoints(results);
  const levels = [...new Set(points.map((point) => point.concurrency))].sort((a, b) => a - b);
  // Ticks at the measured levels only: a log axis would otherwise label 1.5, 2.5…
  const x = { field: 'concurrency', type: 'quantitative', scale: { type: 'log', base: 2 }, axis: { values: levels, format: 'd' }, title: 'concurrency' };
  const color = { field: 'series', type: 'nominal', title: 'scenario', legend: { labelLimit: 240 } };
  const panel = (field: keyof ChartPoint, title: string) => ({
    width: 320,
    height: 220,
    mark: { type: 'line', point: true },
    encoding: { x, y: { field, type: 'quantitative', title }, color },
  });
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: `SagaPay bench ${results.date.slice(0, 16).replace('T', ' ')} UTC: ratio ${results.ratio ?? '–'}`,
    data: { values: points },
    hconcat: [panel('throughputPerSecond', 'completed per second'), { ...panel('p99Ms', 'p99 latency (ms)'), transform: [{ filter: 'datum.p99Ms !== null' }] }],
    config: { background: 'white' },
  };
}

/** Compiles the spec with vega-lite and renders it to SVG with vega (no canvas needed). */
export async function renderChartSvg(spec: Record<string, unknown>): Promise<string> {
  // Both packages are ES modules only: imported when a chart is drawn, not at load.
  const vegaLite = await import('vega-lite');
  const vega = await import('vega');
  const compiled = vegaLite.compile(spec).spec;
  const view = new vega.View(vega.parse(compiled), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}
