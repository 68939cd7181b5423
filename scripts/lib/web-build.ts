import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { buildRouters } from '../../api/app';
import type { AppDependencies } from '../../api/dependencies';
import { buildOpenApiDocument } from '../../api/openapi/document';
import { loadConfig } from '../../config';
import { version } from '../../package.json';

const execFileAsync = promisify(execFile);

/** The project's root, where node_modules/.bin and web/ are. */
export const PROJECT_ROOT = resolve(__dirname, '..', '..');
/** The web wallet's sources. */
export const WEB_ROOT = join(PROJECT_ROOT, 'web');
/** The API client's types, generated from the OpenAPI document; not committed (see .gitignore). */
export const GENERATED_SCHEMA = join(WEB_ROOT, 'src', 'api', 'schema.gen.ts');

/** A build step's limit: generous for a cold 2-core machine, still an end. */
const STEP_TIMEOUT_MS = 300_000;

function bin(name: string): string {
  return join(PROJECT_ROOT, 'node_modules', '.bin', name);
}

async function run(command: string, args: string[], env: NodeJS.ProcessEnv = process.env): Promise<void> {
  try {
    await execFileAsync(command, args, { cwd: PROJECT_ROOT, env, timeout: STEP_TIMEOUT_MS, maxBuffer: 16 * 1024 * 1024 });
  } catch (error) {
    const { stdout = '', stderr = '' } = error as { stdout?: string; stderr?: string };
    throw new Error(`${[command, ...args].join(' ')} failed:\n${stdout}${stderr}`.trim(), { cause: error });
  }
}

/**
 * Writes the web client's TypeScript types from the OpenAPI document the API builds in this
 * process (the same one `/openapi.json` serves: no server, no database), with openapi-typescript.
 */
export async function generateApiTypes(): Promise<void> {
  const config = loadConfig({ NODE_ENV: 'test', DATABASE_URL: 'mysql://placeholder@127.0.0.1/sagapay' });
  const { docs } = buildRouters({ config } as unknown as AppDependencies);
  const directory = mkdtempSync(join(tmpdir(), 'sagapay-openapi-'));
  try {
    const documentPath = join(directory, 'openapi.json');
    writeFileSync(documentPath, JSON.stringify(buildOpenApiDocument(docs, version)));
    await run(bin('openapi-typescript'), [documentPath, '--output', GENERATED_SCHEMA, '--root-types', '--root-types-no-schema-prefix']);
  } finally {
    rmSync(directory, { recursive: true, force: true });
  }
}

/** Type-checks the web app against the generated types: a contract change that breaks a screen fails here. */
export function typecheckWebApp(): Promise<void> {
  return run(bin('tsc'), ['--noEmit', '-p', join(WEB_ROOT, 'tsconfig.json')]);
}

/** The environment variable web/vite.config.mts reads its cache folder (and so its lock's) from. */
export const VITE_CACHE_DIR_VARIABLE = 'SAGAPAY_VITE_CACHE_DIR';

/**
 * Bundles the app with Vite into `outDir` (hashed files under assets/, index.html at the top).
 * With `cacheDir`, Vite's cache and command lock live there instead of node_modules/.vite, so
 * this build runs beside another one of the checkout (the tests' beside `npm run dev`'s).
 */
export function bundleWebApp(outDir: string, cacheDir?: string): Promise<void> {
  const env = cacheDir === undefined ? process.env : { ...process.env, [VITE_CACHE_DIR_VARIABLE]: cacheDir };
  return run(bin('vite'), ['build', '--config', join(WEB_ROOT, 'vite.config.mts'), '--outDir', outDir, '--emptyOutDir', '--logLevel', 'warn'], env);
}

/** Types, type-check, bundle: what `npm run web:build`, `npm run dev` and the tests run. */
export async function buildWebApp(outDir: string, cacheDir?: string): Promise<void> {
  await generateApiTypes();
  await typecheckWebApp();
  await bundleWebApp(outDir, cacheDir);
}
