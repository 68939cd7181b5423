import { parseArgs } from 'node:util';

/** What one `npm run fuzz` does. */
export interface FuzzOptions {
  /** Generated requests to make (the setup's few requests are not counted). */
  requests: number;
  /** fast-check's seed: the same seed against a fresh stack makes the same requests. */
  seed: number;
  /** fast-check's replay path of a failure (printed with it), to run only its counterexample. */
  path?: string;
  /** Where the results file goes (gitignored). */
  outputDir: string;
  /** Print a progress line every this many requests. */
  progressEvery: number;
}

/** The usage text, printed for --help and with every refusal. */
export const USAGE = 'npm run fuzz -- [--requests 10000] [--seed <integer>] [--path <replay path>] [--progress 500] [--out .data/fuzz]';

const MAX_REQUESTS = 1_000_000;

function wholeNumber(raw: string, name: string, min: number, max: number): number {
  const value = Number(raw);
  if (!/^-?\d+$/.test(raw.trim()) || !Number.isSafeInteger(value) || value < min || value > max) {
    throw new RangeError(`--${name} must be a whole number from ${min} to ${max}, got "${raw}"`);
  }
  return value;
}

/** Reads the command line; throws a RangeError naming the bad flag. Without --seed, a fresh one (printed, to replay). */
export function parseFuzzOptions(argv: readonly string[], freshSeed: () => number = () => Math.floor(Math.random() * 2 ** 31)): FuzzOptions {
  const { values } = parseArgs({
    args: [...argv],
    strict: true,
    allowPositionals: false,
    options: {
      requests: { type: 'string', default: '10000' },
      seed: { type: 'string' },
      path: { type: 'string' },
      progress: { type: 'string', default: '500' },
      out: { type: 'string', default: '.data/fuzz' },
    },
  });
  if (values.path !== undefined && !/^\d+(:\d+)*$/.test(values.path)) throw new RangeError(`--path must be fast-check's replay path such as 42:0:3, got "${values.path}"`);
  return {
    requests: wholeNumber(values.requests, 'requests', 1, MAX_REQUESTS),
    seed: values.seed === undefined ? freshSeed() : wholeNumber(values.seed, 'seed', -(2 ** 31), 2 ** 31 - 1),
    path: values.path,
    outputDir: values.out,
    progressEvery: wholeNumber(values.progress, 'progress', 1, MAX_REQUESTS),
  };
}
