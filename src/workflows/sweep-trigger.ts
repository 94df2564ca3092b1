/**
 * The Schedule's action. A Schedule names each run it starts itself (id plus time), so a sweep started by it
 * directly could overlap one the mailbox watch or `mail2waf run` started. This tiny workflow starts the mailbox's
 * sweep under the mailbox's one id instead, and leaves it to the running one when there is one.
 */
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import { ParentClosePolicy, setWorkflowOptions, startChild } from '@temporalio/workflow';
import type { SweepInput } from '../shared/types';
import { mailboxSweepWorkflow } from './sweep';
import { versionedAs } from './versioning-behavior';

export interface SweepTriggerInput {
  /** mailboxSweepId(scheduleId, mailbox): the id every starter of this mailbox's sweeps uses. */
  sweepWorkflowId: string;
  sweep: SweepInput;
}

export interface SweepTriggerResult {
  sweepWorkflowId: string;
  /** True when a sweep of the mailbox was running already: this tick left the mailbox to it. */
  joined: boolean;
}

export async function scheduledSweepWorkflow(input: SweepTriggerInput): Promise<SweepTriggerResult> {
  const { sweepWorkflowId } = input;
  try {
    // Abandoned: the sweep outlives this trigger, which ends as soon as the sweep runs (a Schedule's overlap
    // policy then sees the trigger, not the sweep; the id is what keeps sweeps apart).
    await startChild(mailboxSweepWorkflow, {
      workflowId: sweepWorkflowId,
      args: [input.sweep],
      parentClosePolicy: ParentClosePolicy.ABANDON,
      staticSummary: `sweep of mailbox ${input.sweep.mailbox}: started by the Schedule`,
    });
    return { sweepWorkflowId, joined: false };
  } catch (err) {
    if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
    return { sweepWorkflowId, joined: true };
  }
}

setWorkflowOptions(versionedAs('PINNED'), scheduledSweepWorkflow);
