/**
 * The e-mail that asks a person to decide one held message: what would be blocked, and for every address the
 * message, sender and place it came from, so nobody approves an outsider's addresses along with a report they
 * trust. Pure rendering; mail-controlled text is put on one line and cut, so it cannot forge lines.
 */
import { oneLine } from '../shared/text';
import type { ApprovalSummary } from '../shared/types';

/** Mail-controlled text on one line (shared/text oneLine); an absent value is said so. */
function show(s: string | undefined, max = 200): string {
  return s === undefined || s === '' ? '(none)' : oneLine(s, max);
}

/** Addresses listed in the e-mail; `mail2waf approvals --json` has them all. */
const LISTED = 500;

export function renderHeldApproval(summary: ApprovalSummary): { subject: string; text: string } {
  const { approvalId, preview } = summary;
  const isNew = new Set(preview?.added ?? []);
  const already = new Set(preview?.alreadyPresent ?? []);
  const refused = new Map((preview?.refused ?? []).map((r) => [r.value, r]));
  const senders = [...new Set(summary.addresses.map((a) => a.from ?? 'unknown sender'))];
  const subject =
    `mail2waf: approval needed — ${isNew.size} new address(es) from ${show(senders.join(', '), 80)} ` +
    `(${summary.heldBecause.code})`;
  const state = (v: string) =>
    isNew.has(v)
      ? 'would block'
      : already.has(v)
        ? 'already blocked'
        : refused.has(v)
          ? `refused (${refused.get(v)!.code}: ${show(refused.get(v)!.reason)})`
          : 'no change';
  const byMessage = new Map<string, ApprovalSummary['addresses']>();
  for (const a of summary.addresses) {
    const key = `${a.messageId ?? ''}\n${a.from ?? ''}\n${a.subject ?? ''}`;
    byMessage.set(key, [...(byMessage.get(key) ?? []), a]);
  }
  const lines = [
    `${approvalId} is held: ${summary.heldBecause.code}: ${show(summary.heldBecause.reason, 600)}.`,
    `Found by sweep ${summary.sweepId}. Decide before ${summary.deadline}; no answer means REJECT.`,
    '',
    `  approve: mail2waf approve ${approvalId} --reason "<why>"`,
    `  reject:  mail2waf reject ${approvalId} --reason "<why>"`,
    '  (or send the signal "approve" / "reject" with {"actor": "...", "reason": "..."} from the Temporal Web UI)',
    '',
  ];
  let listed = 0;
  for (const addresses of byMessage.values()) {
    const m = addresses[0]!;
    lines.push(
      `Message ${show(m.messageId)}`,
      `  from:    ${show(m.from)}`,
      `  subject: ${show(m.subject)}`,
      `  addresses (${addresses.length}):`,
    );
    for (const a of addresses) {
      if (listed++ >= LISTED) break;
      lines.push(
        `    ${a.value} — ${state(a.value)}${a.where.length ? ` — found in ${show(a.where.join('; '))}` : ''}`,
      );
    }
    lines.push('');
  }
  if (listed > LISTED) lines.push(`…and ${summary.addresses.length - LISTED} more: mail2waf approvals --json`);
  return { subject, text: lines.join('\n') };
}
