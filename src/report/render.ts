/** Pure rendering of the sweep report e-mail: one plain-text message a security engineer can read at a glance. */
import type { ApprovalState, BlockResult, SweepResult } from '../shared/types';

export interface RenderedReport {
  subject: string;
  text: string;
}

function list(title: string, lines: string[]): string[] {
  if (lines.length === 0) return [];
  return [`${title} (${lines.length})`, ...lines.map((l) => `  ${l}`), ''];
}

export function renderReport(result: SweepResult, opts: { webUiUrl?: string } = {}): RenderedReport {
  const block = result.block ?? { added: [], alreadyPresent: [], refused: [], synced: true };
  const processed = result.messages.filter((m) => m.status === 'processed');
  const quarantined = result.messages.filter((m) => m.status === 'quarantined');
  const verb = result.dryRun ? 'would block' : 'blocked';
  const subject =
    `${result.dryRun ? '[DRY RUN] ' : ''}mail2waf: ${block.added.length} ${verb}, ${block.refused.length} refused, ` +
    `${quarantined.length} quarantined (${result.messages.length} message${result.messages.length === 1 ? '' : 's'})`;

  const lines: string[] = [
    `mail2waf sweep ${result.sweepId} of mailbox ${result.mailbox}`,
    result.dryRun ? 'DRY RUN: nothing was written to AWS WAF and no message was moved.' : '',
    !result.dryRun && !block.synced
      ? 'WARNING: some changes are recorded but not yet confirmed in AWS WAF; run `mail2waf status` to follow them.'
      : '',
    '',
    ...(result.approval && result.approval.status !== 'not-needed'
      ? [
          `Approval: ${result.approval.status}${result.approval.decidedBy ? ` by ${result.approval.decidedBy}` : ''}` +
            `${result.approval.decisionReason ? ` (${result.approval.decisionReason})` : ''} — held because ` +
            `${result.approval.heldBecause?.code}: ${result.approval.heldBecause?.reason}`,
          '',
        ]
      : []),
    ...list('Not blocked (approval not given)', result.notBlocked ?? []),
    ...list(result.dryRun ? 'Would block' : 'Blocked (new in AWS WAF)', block.added),
    ...list('Already blocked', block.alreadyPresent),
    ...list('Expired since the last report (removed from AWS WAF)', block.expired ?? []),
    ...list('Evicted to make room (IP set full)', block.evicted ?? []),
    block.capacityWarning ? `CAPACITY WARNING: ${block.capacityWarning}.\n` : '',
    ...list(
      'Refused',
      block.refused.map((r) => `${r.value} — ${r.code}: ${r.reason}`),
    ),
    ...Object.entries(result.blocks ?? {})
      .slice(1)
      .flatMap(([name, b]) => [
        `Target ${name}: ${b.added.length} ${verb}, ${b.alreadyPresent.length} already blocked, ${b.refused.length} refused`,
        ...b.added.map((v) => `  ${v}`),
        ...b.refused.map((r) => `  refused ${r.value} — ${r.code}: ${r.reason}`),
        '',
      ]),
    ...list(
      'Messages processed',
      processed.map(
        (m) =>
          `${m.subject ?? '(no subject)'} — from ${m.from ?? 'unknown'} — ${m.indicatorCount} address(es)` +
          `${m.messageId ? ` — ${m.messageId}` : ''}${m.notes.length ? `\n    notes: ${m.notes.join('; ')}` : ''}`,
      ),
    ),
    ...list(
      'Messages quarantined',
      quarantined.map((m) => `${m.subject ?? '(no subject)'} (uid ${m.uid}) — ${m.reasonCode}: ${m.reason}`),
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
    `Sweep ${sweepId} is held: ${approval.heldBecause?.code}: ${approval.heldBecause?.reason}.`,
    `Decide before ${approval.deadline}; no answer means REJECT.`,
    '',
    `  approve: mail2waf approve ${sweepId} --reason "<why>"`,
    `  reject:  mail2waf reject ${sweepId} --reason "<why>"`,
    '  (or send the signal "approve" / "reject" with {"actor": "...", "reason": "..."} from the Temporal Web UI)',
    '',
    ...list('Would block (new)', preview.added),
    ...list('Already blocked', preview.alreadyPresent),
    ...list(
      'Refused',
      preview.refused.map((r) => `${r.value} — ${r.code}: ${r.reason}`),
    ),
  ].join('\n');
  return { subject, text };
}
