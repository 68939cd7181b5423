/**
 * `npm run fuzz:schemathesis`: the API as an outside fuzzer sees it. Installs schemathesis (PyPI,
 * pinned) into a virtual environment under ~/.cache/sagapay, starts a private stack (MariaDB,
 * Temporal dev server, the API and both workers in this process), signs up a customer for a bearer
 * token, then runs schemathesis against `/openapi.json` with every check, at least 50 examples per
 * operation. Its report (JUnit and NDJSON) goes under .data/fuzz/; the exit code is schemathesis's.
 *
 *   npm run fuzz:schemathesis -- [--examples 50] [--seed <integer>]
 */
import { execFile, spawn } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs, promisify } from 'node:util';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { actorsOf } from '../test/support/actors';
import { PrivateFuzzStack } from './lib/private-stack';

const execFileAsync = promisify(execFile);

/** The schemathesis release the results in docs/reliability.md were measured with. */
export const SCHEMATHESIS_VERSION = '4.32.5';
/** Its virtual environment: outside the work tree, kept between runs. */
const VIRTUAL_ENV = join(process.env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'sagapay', `schemathesis-${SCHEMATHESIS_VERSION}`);
const SCHEMATHESIS = join(VIRTUAL_ENV, 'bin', 'schemathesis');
const PROJECT_ROOT = resolve(__dirname, '..');
const SETTINGS = join(__dirname, 'schemathesis.toml');
/** The fewest examples per operation the project's results stand on. */
const MIN_EXAMPLES = 50;

/**
 * Operations left out: `DELETE /v1/me` would close the fuzzer's own account once a generated
 * payment emptied its wallet, and every later request would only meet 401.
 */
const EXCLUDED_OPERATIONS = ['deleteV1Me'];

function say(line: string): void {
  process.stdout.write(`${line}\n`);
}

/** Runs a command with its output shown; resolves with its exit code. */
function runShown(command: string, args: string[], cwd = PROJECT_ROOT): Promise<number> {
  return new Promise((done, fail) => {
    const child = spawn(command, args, { cwd, stdio: 'inherit' });
    child.once('error', fail);
    child.once('exit', (code, signal) => done(code ?? (signal ? 128 : 1)));
  });
}

/** schemathesis at the pinned version, installed into its virtual environment when missing. */
async function ensureSchemathesis(): Promise<string> {
  const installed = existsSync(SCHEMATHESIS) ? await execFileAsync(SCHEMATHESIS, ['--version']).then(({ stdout }) => stdout, () => '') : '';
  if (installed.includes(SCHEMATHESIS_VERSION)) return SCHEMATHESIS;
  say(`installing schemathesis ${SCHEMATHESIS_VERSION} into ${VIRTUAL_ENV}`);
  mkdirSync(VIRTUAL_ENV, { recursive: true });
  if ((await runShown('python3', ['-m', 'venv', VIRTUAL_ENV])) !== 0) throw new Error('python3 -m venv failed: Python 3.10 or later with venv is needed');
  if ((await runShown(join(VIRTUAL_ENV, 'bin', 'pip'), ['install', '--quiet', `schemathesis==${SCHEMATHESIS_VERSION}`])) !== 0) {
    throw new Error(`pip install schemathesis==${SCHEMATHESIS_VERSION} failed`);
  }
  return SCHEMATHESIS;
}

function parseOptions(argv: string[]): { examples: number; seed: number } {
  const { values } = parseArgs({ args: argv, options: { examples: { type: 'string', default: String(MIN_EXAMPLES) }, seed: { type: 'string', default: '1' } } });
  const examples = Number(values.examples);
  const seed = Number(values.seed);
  if (!Number.isSafeInteger(examples) || examples < MIN_EXAMPLES) throw new Error(`--examples must be a whole number of at least ${MIN_EXAMPLES}`);
  if (!Number.isSafeInteger(seed) || seed < 0) throw new Error('--seed must be a whole number');
  return { examples, seed };
}

const servers = new PrivateFuzzStack(say);

async function main(): Promise<number> {
  // Workers log only errors: refused and failed sagas are what a fuzzer makes, not news.
  Runtime.install({ logger: new DefaultLogger('ERROR') });
  const { examples, seed } = parseOptions(process.argv.slice(2));
  const schemathesis = await ensureSchemathesis();
  const stack = await servers.start();
  const actors = actorsOf(stack);
  // A merchant to pay and a customer (with the promotional credit) whose token the fuzzer uses.
  await actors.signUp({ role: 'merchant', name: 'Fuzz Shop' });
  const customer = await actors.signUp({ name: 'Fuzz Customer' });
  // schemathesis keeps its crash store (for `st replay <id>`) in .schemathesis/ of its working folder: .data/fuzz, gitignored.
  const workDir = join(PROJECT_ROOT, '.data', 'fuzz');
  const reportDir = join(workDir, `schemathesis-${seed}`);
  mkdirSync(reportDir, { recursive: true });
  say(`API on ${stack.baseUrl}; schemathesis ${SCHEMATHESIS_VERSION}, every check, ${examples} examples per operation, seed ${seed}`);
  const code = await runShown(schemathesis, [
    '--config-file',
    SETTINGS,
    'run',
    `${stack.baseUrl}/openapi.json`,
    '--checks',
    'all',
    '--max-examples',
    String(examples),
    '--seed',
    String(seed),
    '--workers',
    '1',
    '--request-timeout',
    '30',
    '--header',
    `Authorization: Bearer ${customer.token}`,
    ...EXCLUDED_OPERATIONS.flatMap((operationId) => ['--exclude-operation-id', operationId]),
    '--report',
    'junit,ndjson',
    '--report-dir',
    reportDir,
    '--no-color',
  ], workDir);
  say(`\nschemathesis exited with ${code}; its reports are in ${reportDir}; replay a failure with: cd ${workDir} && ${join(VIRTUAL_ENV, 'bin', 'st')} replay <id>`);
  return code;
}

servers.runToExit(main);
