/** An in-process mail2waf worker on the real stack, with the workflow bundle built once per test file. */
import type { Client } from '@temporalio/client';
import { bundleWorkflowCode, DefaultLogger, type Worker } from '@temporalio/worker';
import { createWorker, type CreateWorkerOptions } from '../../src/worker';
import { connectClient } from '../../src/temporal-connection';
import type { TestSetup } from './stack';

let bundle: Promise<{ code: string }> | undefined;

export function workflowBundle() {
  bundle ??= bundleWorkflowCode({
    workflowsPath: require.resolve('../../src/workflows'),
    logger: new DefaultLogger('WARN'),
  });
  return bundle;
}

export interface RunningWorker {
  worker: Worker;
  client: Client;
  stop(): Promise<void>;
}

export async function startWorker(
  setup: TestSetup,
  opts: Pick<CreateWorkerOptions, 'wrapActivities'> = {},
): Promise<RunningWorker> {
  const { worker, connection } = await createWorker(setup.config, { ...opts, workflowBundle: await workflowBundle() });
  const running = worker.run();
  const client = await connectClient();
  return {
    worker,
    client,
    async stop() {
      worker.shutdown();
      await running;
      await connection.close();
      await client.connection.close();
    },
  };
}
