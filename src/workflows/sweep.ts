/**
 * One sweep of the advisory mailbox: list → analyse each message → block what trusted senders sent → hand each
 * held message to an approval workflow of its own → one report → move the decided messages out of the inbox.
 * The sweep never waits for a person, so one outsider's message cannot hold trusted advisories or later
 * sweeps. The move is last: a crash before it resumes this workflow, and a message leaves the inbox only after
 * its addresses are durably recorded (held ones stay, marked, until their approval decides).
 */
import {
  ActivityFailure,
  ApplicationFailure,
  isCancellation,
  ParentClosePolicy,
  patched,
  proxyActivities,
  setHandler,
  setWorkflowOptions,
  startChild,
  TimeoutFailure,
  workflowInfo,
} from '@temporalio/workflow';
import { versionedAs } from './versioning-behavior';
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import type { Activities } from '../activities';
import { ErrorTypes } from '../shared/constants';
import { checkRunGuardrails } from '../policy/guardrails';
import {
  analysisFailed,
  candidatesOf,
  effectiveSweepPolicy,
  guardrailApproval,
  heldMessageApproval,
  heldMessageApprovalId,
  movesOf,
  planSweep,
  sweepDetails,
  sweepOutcomeWord,
  sweepResultOf,
  sweepSearchValues,
  type HeldBy,
} from '../policy/sweep-plan';
import { markFindable } from './findable';
import { approvalQuery } from '../shared/messages';
import type { ApprovalInput, BlockResult, Guardrails, MessageAnalysis, SweepInput, SweepResult } from '../shared/types';
import { approvalWorkflow } from './approval';
import { legacySweep } from './sweep-legacy';
import { submitBlocks } from './submit-blocks';
import { failureText, tellAlerts } from './alerts';

const imap = proxyActivities<Activities>({
  startToCloseTimeout: '2 minutes',
  retry: { initialInterval: '2 seconds', backoffCoefficient: 2, maximumInterval: '1 minute', maximumAttempts: 10 },
});

// Analysis gets few attempts: a message that fails three times will fail the fourth, and it must not hold the
// sweep for long (it is quarantined as analysis-failed). IMAP trouble is retried inside each attempt's budget.
const analysis = proxyActivities<Activities>({
  startToCloseTimeout: '2 minutes',
  retry: { initialInterval: '2 seconds', backoffCoefficient: 2, maximumInterval: '30 seconds', maximumAttempts: 3 },
});

const smtp = proxyActivities<Activities>({
  startToCloseTimeout: '1 minute',
  retry: { initialInterval: '5 seconds', backoffCoefficient: 2, maximumInterval: '2 minutes', maximumAttempts: 10 },
});

/** Messages analysed at once: enough to hide IMAP latency, few enough to be gentle with the mail server. */
const ANALYZE_CONCURRENCY = 4;
/** Sweeps recorded before held messages got approval workflows of their own replay down the legacy path. */
const SWEEP_V2_PATCH = 'sweep-v2-approval-workflows';

export async function mailboxSweepWorkflow(input: SweepInput): Promise<SweepResult> {
  if (!patched(SWEEP_V2_PATCH)) return legacySweep(input);
  setHandler(approvalQuery, () => ({ status: 'not-needed' })); // `approve <sweep>` of an old CLI gets an answer
  const condition = `sweep-failed:${input.mailbox}`;
  let result: SweepResult;
  try {
    result = await sweep(input);
  } catch (err) {
    // The team hears of it once (the alerts workflow rate-limits per condition); the run still fails visibly.
    if (!isCancellation(err)) await raiseSweepFailed(condition, input.mailbox, err);
    throw err;
  }
  await tellAlerts({ condition, action: 'clear', detail: `Sweep ${workflowInfo().workflowId} succeeded.` });
  return result;
}

// A sweep is minutes long: it finishes on the build that started it, so new code never meets its history.
setWorkflowOptions(versionedAs('PINNED'), mailboxSweepWorkflow);

async function raiseSweepFailed(condition: string, mailbox: string, err: unknown): Promise<void> {
  const { workflowId } = workflowInfo();
  await tellAlerts({
    condition,
    action: 'raise',
    title: `sweeps of mailbox ${mailbox} are failing`,
    detail: [
      `Sweep ${workflowId} failed: ${failureText(err)}`,
      'Advisories in this mailbox are not being blocked until this is fixed.',
      'Next: read the failure in the Web UI, fix the setting it names, and the next sweep clears this alert.',
    ].join('\n'),
    workflowId,
  });
}

async function sweep(input: SweepInput): Promise<SweepResult> {
  const { workflowId: sweepId, runId } = workflowInfo();
  const { mailbox } = input;
  const workerPolicy = await imap.sweepPolicy();
  const policy = effectiveSweepPolicy(workerPolicy, input);
  const { dryRun, targets } = policy;

  const pending = await imap.listPending({ mailbox, limit: policy.maxMessages });
  const plan = planSweep(await analyzeAll(mailbox, pending.uidValidity, pending.uids), policy.holdForApproval);
  const now = new Date().toISOString();
  const candidates = candidatesOf(plan.trusted, now, policy.sourceTtls);
  const base = {
    sweepId,
    targets,
    timeoutMs: policy.guardrails.approvalTimeoutMs,
    searchAttributes: policy.searchAttributes,
    sourceTtls: policy.sourceTtls,
    ...(workerPolicy.blockTtlMs !== undefined ? { blockTtlMs: workerPolicy.blockTtlMs } : {}),
  };
  const approvals: ApprovalInput[] = [];
  let blocks: Record<string, BlockResult> = {};
  if (candidates.length > 0) {
    // The preview asks the blocklists themselves, so "new", "already blocked" and "refused" are exact.
    const preview = await submitBlocks(targets, candidates, `${sweepId}:${runId}:preview:`, true);
    const hold = dryRun ? undefined : overGuardrails(Object.values(preview), policy.guardrails);
    if (dryRun) blocks = preview;
    else if (hold) {
      const withAddresses = plan.trusted.filter((a) => a.indicators.length > 0);
      approvals.push(...withAddresses.map((a) => guardrailApproval(a, hold, base)));
    } else blocks = await submitBlocks(targets, candidates, `${sweepId}:${runId}:`, false);
  }
  approvals.push(...plan.held.map((a) => heldMessageApproval(a, base)));

  const heldBy: HeldBy = {};
  const held: SweepResult['held'] = [];
  for (const a of approvals) {
    const approvalId = heldMessageApprovalId(a.messages[0]!.ref);
    if (!dryRun) await startApproval(approvalId, a, pending.uidValidity);
    heldBy[a.messages[0]!.ref.uid] = approvalId;
    held.push({ approvalId, kind: a.kind, uids: [a.messages[0]!.ref.uid], reason: a.heldBecause.reason });
  }
  const result = sweepResultOf({
    ...{ sweepId, mailbox, dryRun, plan, heldBy, held, blocks, now, sourceTtls: policy.sourceTtls },
    targetNames: targets.map((t) => t.name),
    blockTtlMs: workerPolicy.blockTtlMs,
  });
  await markFindable(
    policy.searchAttributes,
    sweepSearchValues(result),
    sweepOutcomeWord(result),
    false,
    sweepDetails(result),
  );
  if (result.messages.length === 0) return result;

  const sent = await smtp.sendReport({ sweepId, runId, result });
  Object.assign(result, { reportMessageId: sent.messageId, reportSentTo: sent.to.join(', ') });
  if (!dryRun) await imap.moveMessages({ mailbox, uidValidity: pending.uidValidity, moves: movesOf(result.messages) });
  return result;
}

/** Analyses every listed message; one whose analysis fails on every attempt is quarantined, not the sweep. */
async function analyzeAll(mailbox: string, uidValidity: string, uids: number[]): Promise<MessageAnalysis[]> {
  const analyses: MessageAnalysis[] = [];
  for (let i = 0; i < uids.length; i += ANALYZE_CONCURRENCY) {
    const batch = uids.slice(i, i + ANALYZE_CONCURRENCY).map(async (uid) => {
      const ref = { mailbox, uidValidity, uid };
      try {
        // The summary names the message by UID only: what it says stays behind the payload codec.
        return await analysis.analyzeMessage.executeWithOptions({ summary: `analyse message UID ${uid}` }, [ref]);
      } catch (err) {
        const failure = poisonFailure(err);
        if (failure === undefined) throw err; // the mailbox or the settings are at fault, not this message
        return analysisFailed(ref, failure);
      }
    });
    analyses.push(...(await Promise.all(batch)));
  }
  return analyses;
}

/**
 * Failures of the mailbox, the settings or DNS, not of one message: the sweep fails with them (and the next one
 * tries again) instead of quarantining a message that did nothing wrong.
 */
const NOT_THE_MESSAGE = new Set<string>([
  ErrorTypes.ImapAuthFailed,
  ErrorTypes.ConfigError,
  ErrorTypes.UidValidityChanged,
  ErrorTypes.ImapError,
  ErrorTypes.DnsTemporaryError,
  ErrorTypes.OAuth2Refused,
]);

/** The failure text when the message itself is to blame (analysis threw or ran out of time), else undefined. */
function poisonFailure(err: unknown): string | undefined {
  if (isCancellation(err) || !(err instanceof ActivityFailure)) return undefined;
  const cause = err.cause;
  if (cause instanceof TimeoutFailure) return `the analysis ran out of time (${cause.timeoutType})`;
  if (cause instanceof ApplicationFailure && !NOT_THE_MESSAGE.has(cause.type ?? '')) return cause.message;
  return undefined;
}

/** The guardrail verdict of the first target whose limits the run would pass, as an approval reason. */
function overGuardrails(previews: BlockResult[], limits: Guardrails) {
  for (const p of previews) {
    const verdict = checkRunGuardrails(p.added, p.sizeBefore ?? 0, limits);
    if (verdict.hold) return { code: verdict.code, reason: verdict.reason };
  }
  return undefined;
}

/** Starts (or finds, after a crash) the message's approval workflow, then marks the message held in the inbox. */
async function startApproval(approvalId: string, input: ApprovalInput, uidValidity: string): Promise<void> {
  try {
    const m = input.messages[0]!;
    await startChild(approvalWorkflow, {
      workflowId: approvalId,
      args: [input],
      parentClosePolicy: ParentClosePolicy.ABANDON,
      staticSummary: `approval (${input.heldBecause.code}): ${m.indicators.length} address(es) from ${m.from ?? 'unknown sender'}`,
    });
  } catch (err) {
    if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
  }
  const ref = input.messages[0]!.ref;
  await imap.markHeld({ mailbox: ref.mailbox, uidValidity, uids: [ref.uid], approvalId });
}
