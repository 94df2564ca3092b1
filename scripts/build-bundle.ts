/**
 * `npm run build`, second step: bundles the compiled workflows (lib/workflows, from tsc) into lib/workflow-bundle.js,
 * which the compiled worker loads at start (src/worker.ts prebuiltWorkflowBundle) instead of running webpack at
 * every start. Bundling lib/, not src/, means the bundle holds exactly the code that was compiled with it.
 */
import { bundleWorkflowCode, DefaultLogger } from '@temporalio/worker';
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';

async function main() {
  const lib = join(__dirname, '..', 'lib');
  const entry = join(lib, 'workflows', 'index.js');
  if (!existsSync(entry)) throw new Error(`${entry} is missing: compile first (tsc -p tsconfig.build.json)`);
  const started = Date.now();
  const { code } = await bundleWorkflowCode({ workflowsPath: entry, logger: new DefaultLogger('WARN') });
  const out = join(lib, 'workflow-bundle.js');
  await writeFile(out, code);
  console.error(
    `build-bundle: ${out} (${(code.length / 1024).toFixed(0)} KiB) in ${((Date.now() - started) / 1000).toFixed(1)} s`,
  );
}

main().catch((err) => {
  console.error(`build-bundle failed: ${(err as Error).message}`);
  process.exit(2);
});
