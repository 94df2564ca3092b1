/**
 * One held message waits here for a person, on its own: the sweep that found it has finished, trusted
 * advisories of the same sweep are blocked already, and later sweeps run (they skip the message, which stays
 * in the inbox marked held). Approved, its addresses block and it goes to Processed; rejected or unanswered by
 * the deadline, it goes to Quarantine and nothing of it is blocked.
 */
import { condition, proxyActivities, setHandler, setWorkflowOptions, workflowInfo } from '@temporalio/workflow';
import { versionedAs } from './versioning-behavior';
import type { Activities } from '../activities';
import { approvalSearchValues, candidatesOf, movesOf } from '../policy/sweep-plan';
import { markDecided, markFindable } from './findable';
import {
  approvalQuery,
  approvalSummaryQuery,
  approveSignal,
  approveUpdate,
  rejectSignal,
  rejectUpdate,
} from '../shared/messages';
import type { ApprovalDecision, ApprovalInput, ApprovalResult } from '../shared/types';
import { PendingApproval } from './approval-state';
import { submitBlocks } from './submit-blocks';
import { tellAlerts } from './alerts';
import { oneLine } from '../shared/text';

/** The warning comes this long before the deadline: an hour, or a quarter of a shorter timeout. */
export function approvalWarningLeadMs(timeoutMs: number): number {
  return Math.min(60 * 60 * 1000, Math.floor(timeoutMs / 4));
}

const expiringCondition = (approvalId: string) => `approval-expiring:${approvalId}`;

const io = proxyActivities<Activities>({
  startToCloseTimeout: '2 minutes',
  retry: { initialInterval: '5 seconds', backoffCoefficient: 2, maximumInterval: '2 minutes', maximumAttempts: 10 },
});

export async function approvalWorkflow(input: ApprovalInput): Promise<ApprovalResult> {
  const { workflowId: approvalId, runId } = workflowInfo();
  const p = new PendingApproval(approvalId, input, Date.now());
  // Registered before the first await, so an early answer is never lost. The first answer wins.
  setHandler(approveSignal, (d) => void p.decide('approved', d));
  setHandler(rejectSignal, (d) => void p.decide('rejected', d));
  setHandler(approveUpdate, (d) => p.decide('approved', d), { validator: (_d: ApprovalDecision) => p.mustBeWaiting() });
  setHandler(rejectUpdate, (d) => p.decide('rejected', d), { validator: (_d: ApprovalDecision) => p.mustBeWaiting() });
  setHandler(approvalQuery, () => p.state);
  setHandler(approvalSummaryQuery, () => p.summary());

  await markFindable(input.searchAttributes, approvalSearchValues(input), 'held', true, p.waitingText());
  const candidates = candidatesOf(input.messages, new Date().toISOString(), input.sourceTtls);
  const previews = await submitBlocks(input.targets, candidates, `${approvalId}:${runId}:preview:`, true);
  p.preview = previews[input.targets[0]!.name]!;
  await io.sendHeldApproval({ approvalId, runId, summary: p.summary() });
  if (!(await waitForPerson(p))) p.timedOut();

  const approved = p.state.status === 'approved';
  const blocks = approved ? await submitBlocks(input.targets, candidates, `${approvalId}:${runId}:`, false) : {};
  const result = p.resultOf(blocks, new Date().toISOString());
  const added = Object.values(blocks)[0]?.added.length ?? 0;
  markDecided(input.searchAttributes, p.state.status, `${p.state.status}: ${added} blocked`);
  const report = await io.sendReport({ sweepId: approvalId, runId, result });
  const { mailbox, uidValidity } = input.messages[0]!.ref;
  await io.moveMessages({ mailbox, uidValidity, moves: movesOf(result.messages) });
  if (p.warned) {
    const who = p.state.decidedBy ? ` by ${p.state.decidedBy}` : '';
    await tellAlerts({
      condition: expiringCondition(approvalId),
      action: 'clear',
      detail: `Approval ${p.state.status}${who}.`,
    });
  }
  return { approvalId, approval: p.state, blocks, messages: result.messages, reportMessageId: report.messageId };
}

// An approval waits up to APPROVAL_TIMEOUT (days): pinning it would keep an old worker up as long.
setWorkflowOptions(versionedAs('AUTO_UPGRADE'), approvalWorkflow);

/**
 * Waits for a decision until the deadline; shortly before it (approvalWarningLeadMs) the team is alerted once,
 * because no answer means reject and an advisory's addresses would then stay unblocked. True when decided.
 */
async function waitForPerson(p: PendingApproval): Promise<boolean> {
  const { approvalId, input, state } = p;
  const lead = approvalWarningLeadMs(input.timeoutMs);
  if (await condition(() => p.decided, input.timeoutMs - lead)) return true;
  const m = input.messages[0]!;
  await tellAlerts({
    condition: expiringCondition(approvalId),
    action: 'raise',
    title: `approval ${approvalId} times out at ${state.deadline}`,
    detail: [
      `A message from ${oneLine(m.from ?? 'an unknown sender', 200)} (${oneLine(m.subject ?? 'no subject', 200)}) ` +
        `is held (${input.heldBecause.code}) with ${m.indicators.length} address(es).`,
      `No answer by ${state.deadline} means REJECT: nothing of it is blocked.`,
      `Decide: mail2waf approve ${approvalId} --reason "<why>"   or   mail2waf reject ${approvalId} --reason "<why>"`,
    ].join('\n'),
    workflowId: approvalId,
  });
  p.warned = true;
  return condition(() => p.decided, lead);
}
