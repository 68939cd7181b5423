/**
 * `npm run web:build`: builds the web wallet into dist/web (or the folder given with --out-dir;
 * `--cache-dir` gives Vite its own cache and lock folder, so the build can run beside `npm run dev`'s):
 * the API client's types from the OpenAPI document, a type-check, then the Vite bundle.
 * `--types-only` stops after the type-check (`npm run typecheck` runs it); `--generate-only` after
 * the types are written (`npm run lint` runs it first, since the app's code is linted against them).
 */
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { buildWebApp, generateApiTypes, PROJECT_ROOT, typecheckWebApp } from './lib/web-build';

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      'types-only': { type: 'boolean', default: false },
      'generate-only': { type: 'boolean', default: false },
      'out-dir': { type: 'string', default: join(PROJECT_ROOT, 'dist', 'web') },
      'cache-dir': { type: 'string' },
    },
  });
  const startedAt = Date.now();
  if (values['generate-only']) {
    await generateApiTypes();
    process.stdout.write(`web app: API types generated in ${Date.now() - startedAt} ms\n`);
    return;
  }
  if (values['types-only']) {
    await generateApiTypes();
    await typecheckWebApp();
    process.stdout.write(`web app: types generated and checked in ${Date.now() - startedAt} ms\n`);
    return;
  }
  await buildWebApp(values['out-dir'], values['cache-dir']);
  process.stdout.write(`web app: built into ${values['out-dir']} in ${Date.now() - startedAt} ms\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
});
