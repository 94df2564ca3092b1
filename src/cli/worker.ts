/**
 * `mail2waf worker`: the worker process from the package's bin, the way production runs it. Compiled (lib/), it
 * loads the workflow bundle `npm run build` made (lib/workflow-bundle.js) and needs no devDependency; from the
 * sources (a checkout without a build) it bundles the workflows at start, as `npm run worker` does.
 * Settings come from the environment only (plus MAIL2WAF_CONFIG): never from a checkout's .stack/env.
 */
import type { Command } from 'commander';
import { UserError } from './output';
import { lazy } from './lazy';

export function registerWorker(program: Command): void {
  program
    .command('worker')
    .description('run the worker: sweeps, the blocklists and their AWS WAF writes (settings from the environment)')
    .action(async () => {
      // The worker pulls in the Temporal worker runtime, the AWS SDK and the mail libraries: only this command loads it.
      const worker = lazy.worker();
      const bundle = worker.prebuiltWorkflowBundle();
      process.stderr.write(
        `mail2waf worker: workflows from ${bundle ? bundle.workflowBundle.codePath : 'the sources, bundled at start (no prebuilt bundle: npm run build)'}\n`,
      );
      try {
        await worker.main();
      } catch (err) {
        const e = err as Error;
        // The same two answers as `node lib/worker.js`; anything else is printed as a failure (exit 2).
        if (e?.name === 'ConfigError') throw new UserError(`worker cannot start: ${e.message}`);
        if (e?.name === 'GracefulShutdownPeriodExpiredError') {
          throw new Error(
            'in-flight activities did not stop within SHUTDOWN_GRACE; Temporal retries them on another worker after their timeout',
          );
        }
        throw err;
      }
    });
}
