/**
 * Pure rendering of the sweep report e-mail: an HTML document (html.ts) and this plain-text alternative, which a
 * security engineer can read at a glance in any client.
 */
import { oneLine } from '../shared/text';
import type { ApprovalState, BlockResult, Refusal, SweepResult } from '../shared/types';
import { renderReportHtml } from './html';
import { addressRows, expiryWords, refusalWords, type IpSetFill } from './model';

export interface RenderedReport {
  subject: string;
  text: string;
  html: string;
}

export interface ReportOptions {
  /** The sweep in the Temporal Web UI. */
  webUiUrl?: string;
  /** The blocklists' fill and health when the report was sent (from their status query). */
  fill?: IpSetFill[];
  /** "now" for expiry words (tests pin it). */
  now?: number;
}

function addressLines(result: SweepResult, now: number): string[] {
  return addressRows(result).map((r) => {
    const why =
      r.why || r.code
        ? `: ${r.fate === 'refused' && r.code ? `${refusalWords({ code: r.code })} — ` : ''}${oneLine(r.why ?? r.code, 500)}`
        : '';
    const expires = ['blocked', 'would block', 'renewed', 'already there'].includes(r.fate)
      ? ` — expires ${expiryWords(r.expiresAt, now)}`
      : '';
    const target = r.target !== undefined ? ` [${oneLine(r.target, 64)}]` : '';
    const from = r.message
      ? ` — from "${r.message.subject === undefined ? '(no subject)' : oneLine(r.message.subject, 200)}" ` +
        `<${oneLine(r.message.from ?? 'unknown', 200)}> (uid ${r.message.uid})`
      : '';
    const where = r.where ? ` — found in ${oneLine(r.where, 320)}` : '';
    return `${oneLine(r.value, 60)}${target} — ${r.fate}${why}${expires}${from}${where}`;
  });
}

function fillLines(fill: IpSetFill[] | undefined): string[] {
  const pct = (n: number, c: number) => `${n}/${c} (${c > 0 ? Math.round((n / c) * 100) : 0} %)`;
  return (fill ?? []).map(
    (f) =>
      `${oneLine(f.target, 64)}: IPv4 ${pct(f.v4, f.ceiling)}, IPv6 ${pct(f.v6, f.ceiling)}` +
      `${f.pendingChanges ? `, ${f.pendingChanges} change(s) waiting` : ''}` +
      `${f.lastSyncError ? ` — last write FAILED: ${oneLine(f.lastSyncError, 500)}` : ''}` +
      `${f.blocklistUrl ? ` — ${f.blocklistUrl}` : ''}`,
  );
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

export function renderReport(result: SweepResult, opts: ReportOptions = {}): RenderedReport {
  const now = opts.now ?? Date.now();
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
    ...list('Addresses: what happened, where from, until when', addressLines(result, now)),
    result.addressesLeftOut ? `…and ${result.addressesLeftOut} more address(es): mail2waf why <ip>\n` : '',
    ...list('IP sets (entries of ours / ceiling per set)', fillLines(opts.fill)),
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
    html: renderReportHtml(result, { subject, sweepUrl: opts.webUiUrl, fill: opts.fill, now }),
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
