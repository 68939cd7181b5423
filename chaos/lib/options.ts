import { parseArgs } from 'node:util';
import { FAULTS, minimumDurationS, type FaultName } from './schedule';

/** What one `npm run chaos` does. */
export interface ChaosOptions {
  /** How long the traffic runs, in seconds (the faults are spread over it). */
  durationS: number;
  /** Seeds the traffic mix and every random choice. */
  seed: number;
  faults: FaultName[];
  /** Customers (payers and transfer parties) and merchants. */
  customers: number;
  merchants: number;
  /** Concurrent client loops. */
  concurrency: number;
  /** Payments worker processes (one of them is killed by the worker faults). */
  paymentsWorkers: number;
  /** Where the report goes; null: no report file. */
  reportPath: string | null;
}

const DEFAULT_DURATION_S = 330;
const MAX_DURATION_S = 3_600;

/** The usage text, printed for --help and with every refusal. */
export const USAGE = `npm run chaos -- [--duration ${DEFAULT_DURATION_S}] [--seed 1] [--faults ${FAULTS.join(',')}]
                 [--customers 40] [--merchants 8] [--concurrency 8] [--payments-workers 2] [--report docs/reliability.md | --no-report]`;

function wholeNumber(raw: string, name: string, min: number, max: number): number {
  const value = Number(raw);
  if (!/^\d+$/.test(raw.trim()) || !Number.isSafeInteger(value) || value < min || value > max) {
    throw new RangeError(`--${name} must be a whole number from ${min} to ${max}, got "${raw}"`);
  }
  return value;
}

/** The faults named by a comma-separated list, in the default schedule's order. */
export function parseFaults(raw: string): FaultName[] {
  const named = raw
    .split(',')
    .map((name) => name.trim())
    .filter((name) => name !== '');
  for (const name of named) {
    if (!(FAULTS as readonly string[]).includes(name)) throw new RangeError(`--faults must list some of ${FAULTS.join(', ')}, got "${name}"`);
  }
  return FAULTS.filter((fault) => named.includes(fault));
}

/** Reads the command line; throws a RangeError naming the bad flag. */
export function parseChaosOptions(argv: readonly string[]): ChaosOptions {
  const { values } = parseArgs({
    args: [...argv],
    strict: true,
    allowPositionals: false,
    options: {
      duration: { type: 'string', default: String(DEFAULT_DURATION_S) },
      seed: { type: 'string', default: '1' },
      faults: { type: 'string', default: FAULTS.join(',') },
      customers: { type: 'string', default: '40' },
      merchants: { type: 'string', default: '8' },
      concurrency: { type: 'string', default: '8' },
      'payments-workers': { type: 'string', default: '2' },
      report: { type: 'string', default: 'docs/reliability.md' },
      'no-report': { type: 'boolean', default: false },
    },
  });
  const faults = parseFaults(values.faults ?? '');
  const durationS = wholeNumber(values.duration ?? '', 'duration', 10, MAX_DURATION_S);
  if (durationS < minimumDurationS(faults.length)) throw new RangeError(`--duration must be at least ${minimumDurationS(faults.length)} s for ${faults.length} faults`);
  return {
    durationS,
    seed: wholeNumber(values.seed ?? '', 'seed', 0, 2 ** 31),
    faults,
    customers: wholeNumber(values.customers ?? '', 'customers', 4, 10_000),
    merchants: wholeNumber(values.merchants ?? '', 'merchants', 2, 1_000),
    concurrency: wholeNumber(values.concurrency ?? '', 'concurrency', 1, 256),
    paymentsWorkers: wholeNumber(values['payments-workers'] ?? '', 'payments-workers', 1, 8),
    reportPath: values['no-report'] ? null : (values.report ?? 'docs/reliability.md'),
  };
}
