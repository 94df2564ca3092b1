/**
 * `mail2waf worker`: the worker process from the package's bin, the way production runs it. Compiled (lib/), it
 * loads the workflow bundle `npm run build` made (lib/workflow-bundle.js) and needs no devDependency; from the
 * sources (a checkout without a build) it bundles the workflows at start, as `npm run worker` does.
 * Settings come from the environment only (plus MAIL2WAF_CONFIG): never from a checkout's .stack/env.
 */
import type { Command } from 'commander';
import { lazy } from './lazy';

export function registerWorker(program: Command): void {
  program
    .command('worker')
    .description('run the worker: sweeps, the blocklists and their AWS WAF writes (settings from the environment)')
    .action(async () => {
      // The worker pulls in the Temporal worker runtime, the AWS SDK and the mail libraries: only this command loads it.
      const worker = lazy.worker();
      const { reportWorkerExit, startupNote } = lazy.startupFailure();
      const bundle = worker.prebuiltWorkflowBundle();
      startupNote(
        `mail2waf worker: workflows from ${bundle ? bundle.workflowBundle.codePath : 'the sources, bundled at start (no prebuilt bundle: npm run build)'}`,
      );
      try {
        await worker.main();
      } catch (err) {
        // Not through the CLI's printer (`mail2waf: …`, text or --json): the worker's end is a log line like the
        // others, in the logs' format, with the same exit codes as `node lib/worker.js`.
        process.exit(reportWorkerExit(err));
      }
    });
}
