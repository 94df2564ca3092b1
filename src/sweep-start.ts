/**
 * Starting a mailbox's sweep under its one workflow id (mailboxSweepId), or finding the one that runs: the watch
 * and `mail2waf run` both start sweeps this way, so neither ever starts a second sweep of a mailbox.
 */
import type { Client, WorkflowHandle } from '@temporalio/client';
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import type { SweepInput } from './shared/types';
import type { mailboxSweepWorkflow } from './workflows/sweep';

export interface StartedSweep {
  handle: WorkflowHandle<typeof mailboxSweepWorkflow>;
  /** True when a sweep under this id was running already: nothing was started. */
  joined: boolean;
  /** The run this call started (absent when it joined one). */
  startedRunId?: string;
}

export async function startOrJoinSweep(
  client: Client,
  opts: { workflowId: string; taskQueue: string; input: SweepInput; staticSummary: string },
): Promise<StartedSweep> {
  const { workflowId } = opts;
  try {
    const handle = await client.workflow.start<typeof mailboxSweepWorkflow>('mailboxSweepWorkflow', {
      workflowId,
      taskQueue: opts.taskQueue,
      args: [opts.input],
      // FAIL rather than USE_EXISTING: the same exclusion, but we learn that we joined a running sweep.
      workflowIdConflictPolicy: 'FAIL',
      workflowIdReusePolicy: 'ALLOW_DUPLICATE',
      staticSummary: opts.staticSummary,
    });
    return { handle, joined: false, startedRunId: handle.firstExecutionRunId };
  } catch (err) {
    if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
    return { handle: client.workflow.getHandle<typeof mailboxSweepWorkflow>(workflowId), joined: true };
  }
}
