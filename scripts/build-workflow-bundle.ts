/**
 * Bundles the workflow code once, ahead of time, so a payments worker can start from the file
 * (WORKFLOW_BUNDLE_PATH) instead of running webpack at every start. The Docker image runs it.
 *
 *   tsx scripts/build-workflow-bundle.ts [output path]   (default: dist/workflow-bundle.js)
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { bundleWorkflowCode } from '@temporalio/worker';

const DEFAULT_OUTPUT = 'dist/workflow-bundle.js';

async function main(): Promise<void> {
  const outputPath = resolve(process.argv[2] ?? DEFAULT_OUTPUT);
  // The same workflowsPath the worker bundles from when no prebuilt bundle is given.
  const { code } = await bundleWorkflowCode({ workflowsPath: require.resolve('../workflows') });
  await mkdir(dirname(outputPath), { recursive: true });
  await writeFile(outputPath, code);
  console.log(`workflow bundle: wrote ${outputPath} (${Math.round(Buffer.byteLength(code) / 1024)} KiB)`);
}

main().catch((error: unknown) => {
  console.error('workflow bundle failed:', error);
  process.exitCode = 1;
});
