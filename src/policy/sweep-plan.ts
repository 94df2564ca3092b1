/**
 * The sweep's decisions, pure: which messages block at once, which wait for a person (each in an approval
 * workflow of its own, so one outsider's message never holds a trusted advisory or the next sweep), what
 * becomes of each message, and where it is moved. The workflows only orchestrate what these functions decide.
 */
import { capString, PayloadLimits } from '../shared/limits';
import type {
  ApprovalInput,
  ApprovalState,
  ApprovalSummary,
  BlockCandidate,
  BlockResult,
  HeldMessage,
  MessageAnalysis,
  SweepInput,
  SweepMessageOutcome,
  SweepPolicy,
  SweepResult,
} from '../shared/types';
import type { SearchValues } from '../shared/search-attributes';
import { ttlForSender, type SourceTtl } from './source-ttl';
import { reportAddresses } from '../report/addresses';

/** Addresses listed per message in a result (the blocklist has them all); keeps results small. */
export const OUTCOME_INDICATORS = 50;

/** Reason code of a message whose analysis failed on every attempt (a poison message). */
export const ANALYSIS_FAILED = 'analysis-failed';

/** How the messages of one sweep divide. */
export interface SweepPlan {
  /** Passed the trust gate: their addresses block now (unless the run is over its guardrails). */
  trusted: MessageAnalysis[];
  /** Outside the trust gate, with a code a person may approve (HOLD_FOR_APPROVAL), and addresses to approve. */
  held: MessageAnalysis[];
  /** Quarantined for good: a trust-gate code nobody may approve, unreadable mail, a failed analysis. */
  quarantined: MessageAnalysis[];
  /** No longer in the mailbox. */
  gone: MessageAnalysis[];
}

export function planSweep(analyses: MessageAnalysis[], holdForApproval: readonly string[] | undefined): SweepPlan {
  const holdCodes = new Set(holdForApproval ?? []);
  const plan: SweepPlan = { trusted: [], held: [], quarantined: [], gone: [] };
  for (const a of analyses) {
    if (a.status === 'gone') plan.gone.push(a);
    else if (a.status === 'ok') plan.trusted.push(a);
    else if (a.reasonCode !== undefined && holdCodes.has(a.reasonCode) && a.indicators.length > 0) plan.held.push(a);
    else plan.quarantined.push(a);
  }
  return plan;
}

/** What an approval workflow carries of a message: identity, sender, why, and its addresses with places. */
export function heldMessageOf(a: MessageAnalysis): HeldMessage {
  const held: HeldMessage = {
    ref: a.ref,
    indicators: a.indicators.map((i) => ({ value: i.value, where: i.where })),
  };
  if (a.messageId !== undefined) held.messageId = a.messageId;
  if (a.from !== undefined) held.from = a.from;
  if (a.subject !== undefined) held.subject = a.subject;
  if (a.date !== undefined) held.date = a.date;
  if (a.reasonCode !== undefined) held.reasonCode = a.reasonCode;
  if (a.reason !== undefined) held.reason = a.reason;
  return held;
}

/** Block candidates of messages: each address with its message as source, and the sender's TTL if one is set. */
export function candidatesOf(
  messages: (HeldMessage | MessageAnalysis)[],
  now: string,
  sourceTtls: readonly SourceTtl[] | undefined,
): BlockCandidate[] {
  return messages.flatMap((m) => {
    const ttlMs = ttlForSender(m.from, sourceTtls);
    return m.indicators.map((ind) => ({
      value: ind.value,
      ...(ttlMs !== undefined ? { ttlMs } : {}),
      source: {
        kind: 'message' as const,
        ref: m.messageId ?? `${m.ref.mailbox}/${m.ref.uidValidity}/${m.ref.uid}`,
        subject: m.subject,
        from: m.from,
        detail: ind.where.join('; '),
        at: now,
        ...(m.date !== undefined ? { messageDate: m.date } : {}),
      },
    }));
  });
}

/** Id of the approval workflow of one held message: stable, so a sweep that sees it again finds the same one. */
export function heldMessageApprovalId(ref: { mailbox: string; uidValidity: string; uid: number }): string {
  return `mail2waf-approval-${ref.mailbox}-${ref.uidValidity}-${ref.uid}`;
}

/** The approval input for one held message. */
export function heldMessageApproval(
  a: MessageAnalysis,
  base: Pick<ApprovalInput, 'sweepId' | 'targets' | 'timeoutMs' | 'sourceTtls'>,
): ApprovalInput {
  return {
    ...base,
    kind: 'held-message',
    heldBecause: {
      code: a.reasonCode ?? 'needs-approval',
      reason: capString(a.reason ?? 'outside the trust gate', PayloadLimits.reason),
    },
    messages: [heldMessageOf(a)],
  };
}

/** A message whose analysis failed on every attempt: quarantined with the failure, so the next sweep goes on. */
export function analysisFailed(ref: MessageAnalysis['ref'], failure: string): MessageAnalysis {
  return {
    ref,
    status: 'quarantine',
    reasonCode: ANALYSIS_FAILED,
    reason: capString(`analysis failed on every attempt: ${failure}`, PayloadLimits.reason),
    indicators: [],
    notes: [],
  };
}

/** One line of a sweep or approval result for a message. */
export function outcomeOf(
  a: MessageAnalysis | HeldMessage,
  o: Pick<SweepMessageOutcome, 'status' | 'reasonCode' | 'reason'>,
  notes: string[] = [],
): SweepMessageOutcome {
  const out: SweepMessageOutcome = {
    uid: a.ref.uid,
    ...o,
    indicators: a.indicators.slice(0, OUTCOME_INDICATORS).map((i) => i.value),
    indicatorCount: a.indicators.length,
    notes,
  };
  if (a.messageId !== undefined) out.messageId = a.messageId;
  if (a.subject !== undefined) out.subject = a.subject;
  if (a.from !== undefined) out.from = a.from;
  return out;
}

/** Approval ids of a sweep's held messages, by UID: those messages stay in the inbox, marked held. */
export type HeldBy = Record<number, string>;

/** What a sweep decided, as its result (pure): every message's outcome, the blocks, the held runs, the addresses. */
export function sweepResultOf(r: {
  sweepId: string;
  mailbox: string;
  dryRun: boolean;
  plan: SweepPlan;
  heldBy: HeldBy;
  held: NonNullable<SweepResult['held']>;
  blocks: Record<string, BlockResult>;
  targetNames: string[];
  now: string;
  sourceTtls: SourceTtl[];
  blockTtlMs?: number | null;
}): SweepResult {
  const { plan, blocks } = r;
  const messages = sweepOutcomes(plan, r.heldBy, r.dryRun);
  const result: SweepResult = {
    sweepId: r.sweepId,
    mailbox: r.mailbox,
    dryRun: r.dryRun,
    messages,
    block: blocks[r.targetNames[0]!],
  };
  if (r.targetNames.length > 1 && result.block) result.blocks = blocks;
  if (r.held.length > 0) result.held = r.held;
  // For the report: which message and place each address came from, and until when a block of it lasts.
  const blocking = Object.keys(blocks).length > 0 ? plan.trusted : [];
  const others = [...(blocking.length ? [] : plan.trusted), ...plan.held];
  const { addresses, leftOut } = reportAddresses(blocking, others, r.now, r.sourceTtls, r.blockTtlMs);
  if (addresses.length > 0) result.addresses = addresses;
  if (leftOut > 0) result.addressesLeftOut = leftOut;
  return result;
}

/**
 * Every message's outcome in a sweep. A held message (outside the trust gate, or a trusted one of a run over its
 * guardrails) is reported as held, with the approval workflow that decides it; a dry run says it would wait.
 */
export function sweepOutcomes(plan: SweepPlan, heldBy: HeldBy, dryRun: boolean): SweepMessageOutcome[] {
  const held = (a: MessageAnalysis, code: string | undefined, because: string) =>
    outcomeOf(
      a,
      {
        status: 'held',
        reasonCode: code,
        reason: dryRun
          ? `${because}; would wait for approval`
          : `${because}; waiting for approval in ${heldBy[a.ref.uid]}`,
      },
      a.notes,
    );
  return [
    ...plan.trusted.map((a) =>
      heldBy[a.ref.uid] !== undefined
        ? held(a, 'guardrails', 'a trusted advisory of a run over its guardrails')
        : outcomeOf(a, { status: 'processed' }, a.notes),
    ),
    ...plan.held.map((a) => held(a, a.reasonCode, a.reason ?? 'outside the trust gate')),
    ...plan.quarantined.map((a) =>
      outcomeOf(a, { status: 'quarantined', reasonCode: a.reasonCode, reason: a.reason }, a.notes),
    ),
    ...plan.gone.map((a) => outcomeOf(a, { status: 'gone', reason: a.reason })),
  ];
}

/** The approval input of a trusted message that the run's guardrails hold. */
export function guardrailApproval(
  a: MessageAnalysis,
  heldBecause: { code: string; reason: string },
  base: Pick<ApprovalInput, 'sweepId' | 'targets' | 'timeoutMs' | 'sourceTtls'>,
): ApprovalInput {
  return { ...base, kind: 'guardrails', heldBecause, messages: [heldMessageOf(a)] };
}

/** What `approvals` and the approval e-mail show: per address, the message and sender it came from and where. */
export function approvalSummaryOf(
  input: ApprovalInput,
  approvalId: string,
  approval: ApprovalState,
  preview: BlockResult | undefined,
): ApprovalSummary {
  const summary: ApprovalSummary = {
    approvalId,
    kind: input.kind,
    sweepId: input.sweepId,
    heldBecause: input.heldBecause,
    status: approval.status,
    addresses: input.messages.flatMap((m) =>
      m.indicators.map((i) => ({
        value: i.value,
        ...(m.from !== undefined ? { from: m.from } : {}),
        ...(m.subject !== undefined ? { subject: m.subject } : {}),
        ...(m.messageId !== undefined ? { messageId: m.messageId } : {}),
        where: i.where,
      })),
    ),
  };
  if (approval.deadline !== undefined) summary.deadline = approval.deadline;
  if (preview !== undefined) summary.preview = preview;
  return summary;
}

/** Where each message goes at the end of a sweep: held messages stay in the inbox until their approval decides. */
export function movesOf(
  outcomes: SweepMessageOutcome[],
): { uid: number; to: 'processed' | 'quarantine'; reasonCode?: string }[] {
  return outcomes
    .filter((m) => m.status === 'processed' || m.status === 'quarantined')
    .map((m) => ({
      uid: m.uid,
      to: m.status === 'processed' ? ('processed' as const) : ('quarantine' as const),
      ...(m.reasonCode !== undefined ? { reasonCode: m.reasonCode } : {}),
    }));
}

/** Why an approval ended without a yes: the code its messages carry into Quarantine, and a sentence. */
export function rejectionOf(approval: ApprovalState): { code: string; reason: string } | undefined {
  if (approval.status === 'approved' || approval.status === 'waiting' || approval.status === 'not-needed') {
    return undefined;
  }
  const because = `held for approval (${approval.heldBecause?.reason})`;
  return approval.status === 'timed-out'
    ? { code: 'approval-timeout', reason: `${because} and nobody answered before the deadline` }
    : {
        code: 'approval-rejected',
        reason:
          `${because} and rejected by ${approval.decidedBy}` +
          `${approval.decisionReason ? `: ${approval.decisionReason}` : ''}`,
      };
}

/** Outcomes of an approval's messages once decided: approved ones are processed, others quarantined. */
export function approvalOutcomes(input: ApprovalInput, approval: ApprovalState): SweepMessageOutcome[] {
  const rejected = rejectionOf(approval);
  return input.messages.map((m) =>
    rejected
      ? outcomeOf(m, {
          status: 'quarantined',
          reasonCode: rejected.code,
          reason: m.reason ? `${m.reason}; ${rejected.reason}` : rejected.reason,
        })
      : outcomeOf(m, {
          status: 'processed',
          reason: `${m.reason ? `${m.reason}; ` : ''}approved by ${approval.decidedBy}`,
        }),
  );
}

/** Appends one chunk's answer to the merged answer of a request sent in chunks. */
export function mergeBlockResult(into: BlockResult, part: BlockResult): BlockResult {
  into.sizeBefore ??= part.sizeBefore;
  into.added.push(...part.added);
  into.alreadyPresent.push(...part.alreadyPresent);
  into.refused.push(...part.refused);
  into.synced &&= part.synced;
  if (part.expired?.length) into.expired = [...(into.expired ?? []), ...part.expired];
  if (part.evicted?.length) into.evicted = [...(into.evicted ?? []), ...part.evicted];
  into.capacityWarning = part.capacityWarning ?? into.capacityWarning;
  return into;
}

export function emptyBlockResult(): BlockResult {
  return { added: [], alreadyPresent: [], refused: [], synced: true };
}

/** What a sweep is findable by: the addresses it blocked, refused or holds, and its messages and senders. */
export function sweepSearchValues(result: SweepResult): SearchValues {
  const blocks = Object.values(result.blocks ?? (result.block ? { first: result.block } : {}));
  return {
    addresses: [
      ...blocks.flatMap((b) => [...b.added, ...b.refused.map((r) => r.value)]),
      ...result.messages.filter((m) => m.status === 'held').flatMap((m) => m.indicators),
    ],
    messageIds: result.messages.flatMap((m) => (m.messageId ? [m.messageId] : [])),
    senders: result.messages.flatMap((m) => (m.from ? [m.from] : [])),
  };
}

/** One word for how a sweep ended, for the Mail2wafOutcome search attribute. */
export function sweepOutcomeWord(result: SweepResult): string {
  if (result.held?.length) return 'held';
  if (result.block?.added.length) return 'blocked';
  if (result.messages.some((m) => m.status === 'quarantined')) return 'quarantined';
  return result.messages.length === 0 ? 'empty' : 'nothing-new';
}

/** The line the Web UI shows for a sweep: "3 messages, 12 blocked, 1 quarantined, 1 held". */
export function sweepDetails(result: SweepResult): string {
  const count = (status: SweepMessageOutcome['status']) => result.messages.filter((m) => m.status === status).length;
  const parts = [
    `${result.messages.length} message${result.messages.length === 1 ? '' : 's'}`,
    `${result.block?.added.length ?? 0} ${result.dryRun ? 'would be blocked' : 'blocked'}`,
    `${result.block?.refused.length ?? 0} refused`,
    `${count('quarantined')} quarantined`,
    `${count('held')} held`,
  ];
  return parts.join(', ');
}

/** What an approval is findable by: its addresses, message and sender. */
export function approvalSearchValues(input: ApprovalInput): SearchValues {
  return {
    addresses: input.messages.flatMap((m) => m.indicators.map((i) => i.value)),
    messageIds: input.messages.flatMap((m) => (m.messageId ? [m.messageId] : [])),
    senders: input.messages.flatMap((m) => (m.from ? [m.from] : [])),
  };
}

/**
 * The settings a sweep runs with: the worker's policy, with the fields its input sets on top (a person's
 * `run --dry-run`, a test's own limits, or a sweep started by an older CLI that still sends everything).
 */
export function effectiveSweepPolicy(worker: SweepPolicy, input: SweepInput): SweepPolicy {
  return {
    targets: input.targets?.length ? input.targets : worker.targets.length ? worker.targets : [input.target],
    maxMessages: input.maxMessages ?? worker.maxMessages,
    dryRun: input.dryRun ?? worker.dryRun,
    guardrails: input.guardrails ?? worker.guardrails,
    holdForApproval: input.holdForApproval ?? worker.holdForApproval,
    sourceTtls: input.sourceTtls ?? worker.sourceTtls,
    searchAttributes: input.searchAttributes ?? worker.searchAttributes,
  };
}
