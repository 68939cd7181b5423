import { chmodSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { parseEnv } from 'node:util';

/**
 * `npm run dev` writes the settings of the stack it started (database URL, Temporal address, the
 * API and inbox URLs) to `.data/.env.local`, and operator scripts (`admin:create`, `migrate`,
 * `demo`) read it, so they work against the running stack with nothing set by hand.
 * The file holds the database password: it is written with mode 0600, and removed when the stack stops.
 */

const PROJECT_ROOT = resolve(__dirname, '..', '..');
const DEV_HEADER = '# Written by `npm run dev` for the stack it is running; removed when it stops. Do not edit.';

/** The settings file: `$SAGAPAY_LOCAL_ENV` when set (tests), else `<project>/.data/.env.local`. */
export function localEnvPath(env: NodeJS.ProcessEnv = process.env): string {
  return env.SAGAPAY_LOCAL_ENV || join(PROJECT_ROOT, '.data', '.env.local');
}

/** Writes `KEY=value` lines under a header comment, readable by the owner only. */
export function writeLocalEnv(path: string, values: Readonly<Record<string, string>>, header = DEV_HEADER): void {
  const lines = Object.entries(values).map(([key, value]) => {
    if (!/^[A-Z][A-Z0-9_]*$/.test(key) || /[\r\n"]/.test(value)) throw new Error(`cannot write ${key} to ${path}`);
    return `${key}="${value}"`;
  });
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, `${[header, ...lines].join('\n')}\n`, { mode: 0o600 });
  chmodSync(path, 0o600);
}

/** Removes the settings file, if it is there. */
export function removeLocalEnv(path: string): void {
  rmSync(path, { force: true });
}

/**
 * Fills `env` (process.env by default) from the settings file for every variable it does not set
 * already: what the user exports wins. Returns the names it filled, empty when there is no file.
 */
export function loadLocalEnv(env: NodeJS.ProcessEnv = process.env): string[] {
  const path = localEnvPath(env);
  if (!existsSync(path)) return [];
  const values = parseEnv(readFileSync(path, 'utf8'));
  const filled: string[] = [];
  for (const [key, value] of Object.entries(values)) {
    if (env[key] !== undefined && env[key] !== '') continue;
    env[key] = value;
    filled.push(key);
  }
  return filled;
}

/** The error text when a script needs the running stack and finds neither DATABASE_URL nor the settings file. */
export function noStackMessage(env: NodeJS.ProcessEnv = process.env): string {
  return `DATABASE_URL is not set and ${localEnvPath(env)} does not exist: start the stack with \`npm run dev\` (in another terminal), or set DATABASE_URL.`;
}
