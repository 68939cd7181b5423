import { parseArgs } from 'node:util';

/** The scenarios `npm run bench` knows. */
export const SCENARIOS = ['uniform', 'hot-merchant', 'two-workers'] as const;
/** One scenario: payments spread over the merchants, all to one merchant, or spread with two payments workers. */
export type Scenario = (typeof SCENARIOS)[number];

/** What one `npm run bench` does. */
export interface BenchOptions {
  /** Concurrent requests (and concurrent no-op workflows) of each level. */
  levels: number[];
  /** How long each level runs, in seconds. */
  durationS: number;
  scenarios: Scenario[];
  customers: number;
  merchants: number;
  /** Skip the engine ceiling (the no-op saga); the ratio is then null. */
  ceiling: boolean;
  /** Where latest.json, latest.md and latest.svg go. */
  outputDir: string;
  quick: boolean;
}

const DEFAULT_LEVELS = [1, 8, 32, 64];
const QUICK_LEVELS = [1, 8];
const DEFAULT_DURATION_S = 15;
const QUICK_DURATION_S = 4;
const MAX_LEVEL = 512;
const MAX_DURATION_S = 600;

/** The usage text, printed for --help and with every refusal. */
export const USAGE = `npm run bench -- [--quick] [--levels 1,8,32,64] [--duration 15] [--scenarios ${SCENARIOS.join(',')}]
                 [--customers 1000] [--merchants 10] [--no-ceiling] [--out bench/results]`;

function wholeNumber(raw: string, name: string, min: number, max: number): number {
  const value = Number(raw);
  if (!/^\d+$/.test(raw.trim()) || !Number.isSafeInteger(value) || value < min || value > max) {
    throw new RangeError(`--${name} must be a whole number from ${min} to ${max}, got "${raw}"`);
  }
  return value;
}

/** Reads the command line; throws a RangeError naming the bad flag. `--quick` changes the defaults, not explicit flags. */
export function parseBenchOptions(argv: readonly string[]): BenchOptions {
  const { values } = parseArgs({
    args: [...argv],
    strict: true,
    allowPositionals: false,
    options: {
      quick: { type: 'boolean', default: false },
      levels: { type: 'string' },
      duration: { type: 'string' },
      scenarios: { type: 'string' },
      customers: { type: 'string', default: '1000' },
      merchants: { type: 'string', default: '10' },
      'no-ceiling': { type: 'boolean', default: false },
      out: { type: 'string', default: 'bench/results' },
    },
  });
  const quick = values.quick ?? false;
  const levels = values.levels === undefined ? (quick ? QUICK_LEVELS : DEFAULT_LEVELS) : values.levels.split(',').map((raw) => wholeNumber(raw, 'levels', 1, MAX_LEVEL));
  if (new Set(levels).size !== levels.length) throw new RangeError('--levels must not repeat a level');
  const scenarios = (values.scenarios ?? SCENARIOS.join(',')).split(',').map((raw) => {
    const name = raw.trim();
    if (!(SCENARIOS as readonly string[]).includes(name)) throw new RangeError(`--scenarios must list some of ${SCENARIOS.join(', ')}, got "${name}"`);
    return name as Scenario;
  });
  return {
    levels: [...levels].sort((a, b) => a - b),
    durationS: values.duration === undefined ? (quick ? QUICK_DURATION_S : DEFAULT_DURATION_S) : wholeNumber(values.duration, 'duration', 1, MAX_DURATION_S),
    scenarios: SCENARIOS.filter((scenario) => scenarios.includes(scenario)),
    customers: wholeNumber(values.customers ?? '1000', 'customers', 1_000, 100_000),
    merchants: wholeNumber(values.merchants ?? '10', 'merchants', 10, 1_000),
    ceiling: !(values['no-ceiling'] ?? false),
    outputDir: values.out ?? 'bench/results',
    quick,
  };
}
