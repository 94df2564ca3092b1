/**
 * One held message waits here for a person, on its own: the sweep that found it has finished, trusted
 * advisories of the same sweep are blocked already, and later sweeps run (they skip the message, which stays
 * in the inbox marked held). Approved, its addresses block and it goes to Processed; rejected or unanswered by
 * the deadline, it goes to Quarantine and nothing of it is blocked.
 */
import {
  ApplicationFailure,
  condition,
  proxyActivities,
  setHandler,
  setWorkflowOptions,
  workflowInfo,
} from '@temporalio/workflow';
import type { Activities } from '../activities';
import { approvalOutcomes, approvalSearchValues, approvalSummaryOf, candidatesOf, movesOf } from '../policy/sweep-plan';
import { markDecided, markFindable } from './findable';
import {
  approvalQuery,
  approvalSummaryQuery,
  approveSignal,
  approveUpdate,
  rejectSignal,
  rejectUpdate,
} from '../shared/messages';
import type {
  ApprovalAnswer,
  ApprovalDecision,
  ApprovalInput,
  ApprovalResult,
  ApprovalState,
  BlockResult,
  SweepResult,
} from '../shared/types';
import { submitBlocks } from './submit-blocks';
import { tellAlerts } from './alerts';
import { oneLine } from '../shared/text';
import { reportAddresses } from '../report/addresses';

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
  const approval: ApprovalState = {
    status: 'waiting',
    heldBecause: input.heldBecause,
    deadline: new Date(Date.now() + input.timeoutMs).toISOString(),
  };
  const warned = { raised: false };
  const seen: { preview?: BlockResult } = {}; // what the summary query shows once the preview is in
  // Registered before the first await, so an early answer is never lost. The first answer wins.
  const decide =
    (status: 'approved' | 'rejected') =>
    (d: ApprovalDecision): ApprovalAnswer => {
      if (approval.status === 'waiting') {
        Object.assign(approval, { status, decidedBy: d?.actor || 'unknown', decisionReason: d?.reason });
      }
      return { approvalId, status: approval.status, decidedBy: approval.decidedBy };
    };
  const validator = (_d: ApprovalDecision) => {
    if (approval.status !== 'waiting') {
      throw ApplicationFailure.nonRetryable(
        `${approvalId} is not waiting: it was ${approval.status}${approval.decidedBy ? ` by ${approval.decidedBy}` : ''}`,
        'NotWaiting',
      );
    }
  };
  setHandler(approveSignal, (d) => void decide('approved')(d));
  setHandler(rejectSignal, (d) => void decide('rejected')(d));
  setHandler(approveUpdate, decide('approved'), { validator });
  setHandler(rejectUpdate, decide('rejected'), { validator });
  setHandler(approvalQuery, () => approval);
  setHandler(approvalSummaryQuery, () => approvalSummaryOf(input, approvalId, approval, seen.preview));

  const waiting = `waiting for a person: ${input.heldBecause.code}, decide before ${approval.deadline}`;
  await markFindable(input.searchAttributes, approvalSearchValues(input), 'held', true, waiting);
  const candidates = candidatesOf(input.messages, new Date().toISOString(), input.sourceTtls);
  const first = input.targets[0]!.name;
  const preview = (await submitBlocks(input.targets, candidates, `${approvalId}:${runId}:preview:`, true))[first]!;
  seen.preview = preview;
  await io.sendHeldApproval({ approvalId, runId, summary: approvalSummaryOf(input, approvalId, approval, preview) });
  if (!(await waitForPerson(approvalId, approval, input, warned))) approval.status = 'timed-out';

  const approved = approval.status === 'approved';
  const blocks = approved ? await submitBlocks(input.targets, candidates, `${approvalId}:${runId}:`, false) : {};
  const messages = approvalOutcomes(input, approval);
  const added = Object.values(blocks)[0]?.added.length ?? 0;
  markDecided(input.searchAttributes, approval.status, `${approval.status}: ${added} blocked`);
  const { mailbox, uidValidity } = input.messages[0]!.ref;
  const notBlocked = approved ? undefined : preview.added;
  const result: SweepResult = {
    sweepId: approvalId,
    mailbox,
    dryRun: false,
    messages,
    block: blocks[first],
    approval,
    notBlocked,
  };
  // The report says per address where it came from and, once approved, until when it is blocked.
  const now = new Date().toISOString();
  const [blocking, others] = approved ? [input.messages, []] : [[], input.messages];
  const listed = reportAddresses(blocking, others, now, input.sourceTtls, input.blockTtlMs);
  if (listed.addresses.length > 0) result.addresses = listed.addresses;
  if (listed.leftOut > 0) result.addressesLeftOut = listed.leftOut;
  const report = await io.sendReport({ sweepId: approvalId, runId, result });
  await io.moveMessages({ mailbox, uidValidity, moves: movesOf(messages) });
  if (warned.raised) {
    const who = approval.decidedBy ? ` by ${approval.decidedBy}` : '';
    await tellAlerts({
      condition: expiringCondition(approvalId),
      action: 'clear',
      detail: `Approval ${approval.status}${who}.`,
    });
  }
  return { approvalId, approval, blocks, messages, reportMessageId: report.messageId };
}

// An approval waits up to APPROVAL_TIMEOUT (days): pinning it would keep an old worker up as long.
setWorkflowOptions({ versioningBehavior: 'AUTO_UPGRADE' }, approvalWorkflow);

/**
 * Waits for a decision until the deadline; shortly before it (approvalWarningLeadMs) the team is alerted once,
 * because no answer means reject and an advisory's addresses would then stay unblocked. True when decided.
 */
async function waitForPerson(
  approvalId: string,
  approval: ApprovalState,
  input: ApprovalInput,
  warned: { raised: boolean },
): Promise<boolean> {
  const decided = () => approval.status !== 'waiting';
  const lead = approvalWarningLeadMs(input.timeoutMs);
  if (await condition(decided, input.timeoutMs - lead)) return true;
  const m = input.messages[0]!;
  await tellAlerts({
    condition: expiringCondition(approvalId),
    action: 'raise',
    title: `approval ${approvalId} times out at ${approval.deadline}`,
    detail: [
      `A message from ${oneLine(m.from ?? 'an unknown sender', 200)} (${oneLine(m.subject ?? 'no subject', 200)}) ` +
        `is held (${input.heldBecause.code}) with ${m.indicators.length} address(es).`,
      `No answer by ${approval.deadline} means REJECT: nothing of it is blocked.`,
      `Decide: mail2waf approve ${approvalId} --reason "<why>"   or   mail2waf reject ${approvalId} --reason "<why>"`,
    ].join('\n'),
    workflowId: approvalId,
  });
  warned.raised = true;
  return condition(decided, lead);
}
