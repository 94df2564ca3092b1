/** Pure rendering of the sweep report e-mail: one plain-text message a security engineer can read at a glance. */
import { oneLine } from '../shared/text';
import type { ApprovalState, BlockResult, Refusal, SweepResult } from '../shared/types';

export interface RenderedReport {
  subject: string;
  text: string;
}

/**
 * A titled list. Every item is one line: values and fields that come from mail (subjects, senders, notes,
 * reasons) pass through oneLine where the item is built, and the item itself once more here, so that no text in
 * an advisory can add a line to the report (a forged "Blocked" entry) or carry terminal escapes.
 */
function list(title: string, items: (string | string[])[]): string[] {
  if (items.length === 0) return [];
  return [
    `${title} (${items.length})`,
    ...items.flatMap((item) => {
      const [first, ...more] = typeof item === 'string' ? [item] : item;
      return [`  ${oneLine(first, 2000)}`, ...more.map((l) => `    ${oneLine(l, 2000)}`)];
    }),
    '',
  ];
}

function refusalLine(r: Refusal): string {
  return `${oneLine(r.value)} — ${oneLine(r.code)}: ${oneLine(r.reason, 1000)}`;
}

export function renderReport(result: SweepResult, opts: { webUiUrl?: string } = {}): RenderedReport {
  const block = result.block ?? { added: [], alreadyPresent: [], refused: [], synced: true };
  const processed = result.messages.filter((m) => m.status === 'processed');
  const quarantined = result.messages.filter((m) => m.status === 'quarantined');
  const held = result.messages.filter((m) => m.status === 'held');
  const verb = result.dryRun ? 'would block' : 'blocked';
  const subject =
    `${result.dryRun ? '[DRY RUN] ' : ''}mail2waf: ${block.added.length} ${verb}, ${block.refused.length} refused, ` +
    `${quarantined.length} quarantined${held.length ? `, ${held.length} held for approval` : ''} (${result.messages.length} message${result.messages.length === 1 ? '' : 's'})`;

  const lines: string[] = [
    `mail2waf sweep ${result.sweepId} of mailbox ${result.mailbox}`,
    result.dryRun ? 'DRY RUN: nothing was written to AWS WAF and no message was moved.' : '',
    !result.dryRun && !block.synced
      ? 'WARNING: some changes are recorded but not yet confirmed in AWS WAF; run `mail2waf status` to follow them.'
      : '',
    '',
    ...(result.approval && result.approval.status !== 'not-needed'
      ? [
          `Approval: ${result.approval.status}${result.approval.decidedBy ? ` by ${oneLine(result.approval.decidedBy)}` : ''}` +
            `${result.approval.decisionReason ? ` (${oneLine(result.approval.decisionReason)})` : ''} — held because ` +
            `${oneLine(result.approval.heldBecause?.code)}: ${oneLine(result.approval.heldBecause?.reason, 1000)}`,
          '',
        ]
      : []),
    ...list('Not blocked (approval not given)', result.notBlocked ?? []),
    ...list(result.dryRun ? 'Would block' : 'Blocked (new in AWS WAF)', block.added),
    ...list('Already blocked', block.alreadyPresent),
    ...list('Expired since the last report (removed from AWS WAF)', block.expired ?? []),
    ...list('Evicted to make room (IP set full)', block.evicted ?? []),
    block.capacityWarning ? `CAPACITY WARNING: ${block.capacityWarning}.\n` : '',
    ...list('Refused', block.refused.map(refusalLine)),
    ...Object.entries(result.blocks ?? {})
      .slice(1)
      .flatMap(([name, b]) => [
        `Target ${oneLine(name)}: ${b.added.length} ${verb}, ${b.alreadyPresent.length} already blocked, ${b.refused.length} refused`,
        ...b.added.map((v) => `  ${oneLine(v)}`),
        ...b.refused.map((r) => `  refused ${refusalLine(r)}`),
        '',
      ]),
    ...list(
      'Messages processed',
      processed.map((m) => [
        `${m.subject === undefined ? '(no subject)' : oneLine(m.subject)} — from ${oneLine(m.from ?? 'unknown')} — ` +
          `${m.indicatorCount} address(es)${m.messageId ? ` — ${oneLine(m.messageId)}` : ''}`,
        ...(m.notes.length ? [`notes: ${m.notes.map((n) => oneLine(n)).join('; ')}`] : []),
      ]),
    ),
    ...list(
      'Messages quarantined',
      quarantined.map(
        (m) =>
          `${m.subject === undefined ? '(no subject)' : oneLine(m.subject)} (uid ${m.uid}) — ` +
          `${oneLine(m.reasonCode)}: ${oneLine(m.reason, 1000)}`,
      ),
    ),
    ...list(
      'Messages held for approval (each waits on its own; decide with mail2waf approve|reject <id>)',
      held.map((m) => {
        const approvalId = result.held?.find((h) => h.uids.includes(m.uid))?.approvalId;
        return [
          `${m.subject === undefined ? '(no subject)' : oneLine(m.subject)} — from ${oneLine(m.from ?? 'unknown')} — ` +
            `${m.indicatorCount} address(es) — ${oneLine(m.reasonCode)}`,
          approvalId ? `id: ${approvalId}` : 'not started (dry run)',
        ];
      }),
    ),
    opts.webUiUrl ? `Workflow: ${opts.webUiUrl}` : '',
    'Unblock with: mail2waf unblock <ip|cidr> --reason "<why>"',
  ];
  return {
    subject,
    text:
      lines
        .filter((l, i, all) => !(l === '' && all[i - 1] === ''))
        .join('\n')
        .trim() + '\n',
  };
}

/** The e-mail that asks a person to approve or reject a sweep held by its guardrails. */
export function renderApprovalRequest(input: { sweepId: string; preview: BlockResult; approval: ApprovalState }) {
  const { preview, approval, sweepId } = input;
  const subject = `mail2waf: approval needed — sweep would block ${preview.added.length} new address(es)`;
  const text = [
    `Sweep ${oneLine(sweepId)} is held: ${oneLine(approval.heldBecause?.code)}: ${oneLine(approval.heldBecause?.reason, 1000)}.`,
    `Decide before ${approval.deadline}; no answer means REJECT.`,
    '',
    `  approve: mail2waf approve ${sweepId} --reason "<why>"`,
    `  reject:  mail2waf reject ${sweepId} --reason "<why>"`,
    '  (or send the signal "approve" / "reject" with {"actor": "...", "reason": "..."} from the Temporal Web UI)',
    '',
    ...list('Would block (new)', preview.added),
    ...list('Already blocked', preview.alreadyPresent),
    ...list('Refused', preview.refused.map(refusalLine)),
  ].join('\n');
  return { subject, text };
}
