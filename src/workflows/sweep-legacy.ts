/**
 * The sweep as it ran before held messages got approval workflows of their own (patch `sweep-v2`): one approval
 * held the whole run. Kept verbatim so that sweeps started by older builds still replay and finish; delete it
 * once no such sweep can be running (the longest wait was APPROVAL_TIMEOUT, 24 h by default).
 */
import { condition, patched, proxyActivities, setHandler, workflowInfo } from '@temporalio/workflow';
import type { Activities } from '../activities';
import { applyBlock, emptyBlocklistState } from '../policy/blocklist';
import { checkGuardrails } from '../policy/guardrails';
import { ttlForSender } from '../policy/source-ttl';
import { approvalQuery, approveSignal, rejectSignal } from '../shared/messages';
import type {
  TargetRef,
  ApprovalDecision,
  ApprovalState,
  BlockCandidate,
  BlockResult,
  MessageAnalysis,
  SweepInput,
  SweepMessageOutcome,
  SweepResult,
} from '../shared/types';

const imap = proxyActivities<Activities>({
  startToCloseTimeout: '2 minutes',
  retry: { initialInterval: '2 seconds', backoffCoefficient: 2, maximumInterval: '1 minute', maximumAttempts: 10 },
});

// recordBlocks waits for the blocklist workflow to write WAF (up to its own SYNC_WAIT), so it gets longer.
const blocklist = proxyActivities<Activities>({
  startToCloseTimeout: '5 minutes',
  retry: { initialInterval: '2 seconds', backoffCoefficient: 2, maximumInterval: '1 minute', maximumAttempts: 20 },
});

const smtp = proxyActivities<Activities>({
  startToCloseTimeout: '1 minute',
  retry: { initialInterval: '5 seconds', backoffCoefficient: 2, maximumInterval: '2 minutes', maximumAttempts: 10 },
});

/** Messages analysed at once: enough to hide IMAP latency, few enough to be gentle with the mail server. */
const ANALYZE_CONCURRENCY = 4;
/** Addresses listed per message in the sweep result (the blocklist has them all); keeps the result small. */
const OUTCOME_INDICATORS = 50;
/** Would-be blocks listed in the result of a rejected run (the approval e-mail had them all). */
const NOT_BLOCKED_LISTED = 200;
/** How long held messages wait for a person when the sweep input carries no guardrails. */
const DEFAULT_APPROVAL_TIMEOUT_MS = 24 * 3_600_000;
/** Sweeps recorded before the preview/guardrail step replay down the old path. */
const GUARDRAILS_PATCH = 'preview-guardrails-approval';
/** Candidates per recordBlocks call, so that no single payload grows large. */
const BLOCK_CHUNK = 500;

export async function legacySweep(input: SweepInput): Promise<SweepResult> {
  const info = workflowInfo();
  const sweepId = info.workflowId;
  const dryRun = input.dryRun ?? false;

  // Registered before the first await, so that an early approve/reject is never lost.
  let approval: ApprovalState | undefined;
  const decide = (status: 'approved' | 'rejected') => (d: ApprovalDecision) => {
    if (approval?.status !== 'waiting') return; // nothing to decide, or already decided: the first answer wins
    approval.status = status;
    approval.decidedBy = d?.actor || 'unknown';
    approval.decisionReason = d?.reason;
  };
  setHandler(approveSignal, decide('approved'));
  setHandler(rejectSignal, decide('rejected'));
  setHandler(approvalQuery, () => approval ?? { status: 'not-needed' });

  const pending = await imap.listPending({ mailbox: input.mailbox, limit: input.maxMessages ?? 50 });

  const analyses: MessageAnalysis[] = [];
  for (let i = 0; i < pending.uids.length; i += ANALYZE_CONCURRENCY) {
    const batch = pending.uids.slice(i, i + ANALYZE_CONCURRENCY);
    analyses.push(
      ...(await Promise.all(
        batch.map((uid) => imap.analyzeMessage({ mailbox: input.mailbox, uidValidity: pending.uidValidity, uid })),
      )),
    );
  }

  const now = new Date().toISOString();
  // Messages the trust gate would quarantine but the config says a person may approve (a reported phish by
  // default): their addresses wait for a decision with the rest of the run instead of being dropped.
  const holdCodes = new Set(input.holdForApproval ?? []);
  const isHeld = (a: MessageAnalysis) =>
    a.status === 'quarantine' && a.reasonCode !== undefined && holdCodes.has(a.reasonCode) && a.indicators.length > 0;
  const held = analyses.filter(isHeld);
  const toCandidates = (list: MessageAnalysis[]): BlockCandidate[] =>
    list.flatMap((a) => {
      const ttlMs = ttlForSender(a.from, input.sourceTtls);
      return a.indicators.map((ind) => ({
        value: ind.value,
        ...(ttlMs !== undefined ? { ttlMs } : {}),
        source: {
          kind: 'message' as const,
          ref: a.messageId ?? `${a.ref.mailbox}/${a.ref.uidValidity}/${a.ref.uid}`,
          subject: a.subject,
          from: a.from,
          detail: ind.where.join('; '),
          at: now,
        },
      }));
    });
  const trustedCandidates = toCandidates(analyses.filter((a) => a.status === 'ok'));
  const candidates = [...trustedCandidates, ...toCandidates(held)];

  // Sends candidates to the blocklist in bounded chunks; `preview` asks what would happen without changing it.
  const submitTo = async (
    target: TargetRef,
    preview: boolean,
    list: BlockCandidate[],
    tag: string,
  ): Promise<BlockResult> => {
    const merged: BlockResult = { added: [], alreadyPresent: [], refused: [], synced: true };
    for (let i = 0; i < list.length; i += BLOCK_CHUNK) {
      const part = await blocklist.recordBlocks({
        target,
        request: {
          requestId: `${sweepId}:${info.runId}:${preview ? 'preview:' : ''}${tag}${i / BLOCK_CHUNK}`,
          candidates: list.slice(i, i + BLOCK_CHUNK),
          ...(preview ? { preview: true } : {}),
        },
      });
      merged.sizeBefore ??= part.sizeBefore;
      merged.added.push(...part.added);
      merged.alreadyPresent.push(...part.alreadyPresent);
      merged.refused.push(...part.refused);
      merged.synced &&= part.synced;
      if (part.expired?.length) merged.expired = [...(merged.expired ?? []), ...part.expired];
      if (part.evicted?.length) merged.evicted = [...(merged.evicted ?? []), ...part.evicted];
      merged.capacityWarning = part.capacityWarning ?? merged.capacityWarning;
    }
    return merged;
  };
  // Every target gets the same candidates; each blocklist judges them under its own policy and capacity.
  const targets = input.targets?.length ? input.targets : [input.target];
  const blocks: Record<string, BlockResult> = {};
  const submit = async (preview: boolean, list = candidates, tag = ''): Promise<BlockResult> => {
    for (const target of targets) blocks[target.name] = await submitTo(target, preview, list, tag);
    return blocks[targets[0]!.name]!;
  };
  let heldRejected = false;

  let block: BlockResult | undefined;
  let notBlocked: string[] | undefined;
  if (candidates.length > 0) {
    if (patched(GUARDRAILS_PATCH)) {
      // The preview asks the blocklist itself, so "new", "already blocked" and "refused" are exact, and a dry
      // run shows the same report a real run would.
      const preview = await submit(true);
      if (dryRun) {
        block = preview;
      } else {
        // The run is held when it would go over the limits of any target.
        const verdict = input.guardrails
          ? (targets
              .map((t) => blocks[t.name]!)
              .map((b) => checkGuardrails(b.added.length, b.sizeBefore ?? 0, input.guardrails!))
              .find((v) => v.hold) ?? ({ hold: false } as const))
          : ({ hold: false } as const);
        const heldBecause = verdict.hold
          ? { code: verdict.code, reason: verdict.reason }
          : held.length > 0
            ? {
                code: 'needs-approval',
                reason:
                  `${held.length} message(s) from outside the trust gate may be approved ` +
                  `(${[...new Set(held.map((a) => a.reasonCode))].join(', ')})`,
              }
            : undefined;
        if (heldBecause) {
          const timeoutMs = input.guardrails?.approvalTimeoutMs ?? DEFAULT_APPROVAL_TIMEOUT_MS;
          approval = { status: 'waiting', heldBecause };
          approval.deadline = new Date(Date.now() + timeoutMs).toISOString();
          await smtp.sendApprovalRequest({ sweepId, runId: info.runId, preview, approval });
          const answered = await condition(() => approval?.status !== 'waiting', timeoutMs);
          if (!answered) approval.status = 'timed-out';
        }
        if (!approval || approval.status === 'approved') {
          block = await submit(false);
        } else if (!verdict.hold) {
          // Only the held messages needed a person, and no one said yes: the trusted ones still block.
          heldRejected = true;
          block = trustedCandidates.length > 0 ? await submit(false, trustedCandidates, 'trusted:') : undefined;
          const blocked = new Set(block?.added ?? []);
          notBlocked = preview.added.filter((v) => !blocked.has(v)).slice(0, NOT_BLOCKED_LISTED);
        } else {
          // Rejected or no answer: nothing is blocked, and the messages go to Quarantine with the reason.
          block = { ...preview, added: [], synced: true };
          notBlocked = preview.added.slice(0, NOT_BLOCKED_LISTED);
        }
      }
    } else if (dryRun) {
      block = applyBlock(emptyBlocklistState(), { requestId: 'dry-run', candidates }, now);
    } else {
      block = await submit(false);
    }
  }

  const rejected =
    approval && approval.status !== 'approved' && approval.status !== 'waiting'
      ? {
          code: approval.status === 'timed-out' ? 'approval-timeout' : 'approval-rejected',
          reason:
            approval.status === 'timed-out'
              ? `held for approval (${approval.heldBecause?.reason}) and nobody answered before the deadline`
              : `held for approval (${approval.heldBecause?.reason}) and rejected by ${approval.decidedBy}` +
                `${approval.decisionReason ? `: ${approval.decisionReason}` : ''}`,
        }
      : undefined;

  // A rejection quarantines what it covered: the whole run (guardrails), or only the held messages.
  const outcome = (a: MessageAnalysis): Pick<SweepMessageOutcome, 'status' | 'reasonCode' | 'reason'> => {
    if (a.status === 'gone') return { status: 'gone', reason: a.reason };
    if (isHeld(a)) {
      if (dryRun || !approval) return { status: 'quarantined', reasonCode: a.reasonCode, reason: a.reason };
      if (rejected)
        return { status: 'quarantined', reasonCode: rejected.code, reason: `${a.reason}; ${rejected.reason}` };
      return { status: 'processed', reason: `${a.reason}; approved by ${approval.decidedBy}` };
    }
    if (a.status !== 'ok') return { status: 'quarantined', reasonCode: a.reasonCode, reason: a.reason };
    if (rejected && !heldRejected) return { status: 'quarantined', reasonCode: rejected.code, reason: rejected.reason };
    return { status: 'processed' };
  };
  const messages: SweepMessageOutcome[] = analyses.map((a) => ({
    uid: a.ref.uid,
    messageId: a.messageId,
    subject: a.subject,
    from: a.from,
    ...outcome(a),
    indicators: a.indicators.slice(0, OUTCOME_INDICATORS).map((i) => i.value),
    indicatorCount: a.indicators.length,
    notes: a.notes,
  }));

  const result: SweepResult = { sweepId, mailbox: input.mailbox, dryRun, messages, block, approval, notBlocked };
  if (targets.length > 1 && block) result.blocks = blocks;
  if (messages.length === 0) return result;

  const sent = await smtp.sendReport({ sweepId, runId: info.runId, result });
  result.reportMessageId = sent.messageId;
  result.reportSentTo = sent.to.join(', ');

  if (!dryRun) {
    await imap.moveMessages({
      mailbox: input.mailbox,
      uidValidity: pending.uidValidity,
      moves: messages
        .filter((m) => m.status !== 'gone')
        .map((m) => ({
          uid: m.uid,
          to: m.status === 'processed' ? ('processed' as const) : ('quarantine' as const),
          reasonCode: m.reasonCode,
        })),
    });
  }
  return result;
}
