/**
 * What a sweep report says, address by address, independent of its form: the HTML part (html.ts) and the text
 * part (render.ts) are both drawn from this. Pure; every string here may come from mail and is escaped where
 * it is printed (escapeHtml for HTML, oneLine for text), never here.
 */
import type { BlockResult, Refusal, ReportAddress, SweepMessageOutcome, SweepResult } from '../shared/types';

/** What happened to one address, in words a person reads. */
export type AddressFate =
  'blocked' | 'would block' | 'renewed' | 'already there' | 'refused' | 'held for approval' | 'not blocked';

export interface AddressRow {
  value: string;
  fate: AddressFate;
  /** The reason in words (refusals, holds), with the policy's code for people who grep. */
  why?: string;
  code?: string;
  /** The target (protected resource) when the sweep blocks into more than one. */
  target?: string;
  message?: Pick<SweepMessageOutcome, 'uid' | 'subject' | 'from' | 'messageId'>;
  where?: string;
  /** ISO expiry; null = permanent; undefined = not applicable or unknown. */
  expiresAt?: string | null;
  approvalId?: string;
}

/** Fill of one target's IP sets, from the blocklist's status when the report was sent. */
export interface IpSetFill {
  target: string;
  v4: number;
  v6: number;
  /** Entries per IP set allowed (IPSET_MAX_ENTRIES, at most 10,000). */
  ceiling: number;
  pendingChanges?: number;
  lastSyncError?: string;
  blocklistUrl?: string;
}

export interface ReportLinks {
  /** The sweep (or approval) in the Temporal Web UI. */
  sweepUrl?: string;
}

/** Refusal codes of the safety policy, in words (the reason text says the specifics). */
const REFUSAL_WORDS: Record<string, string> = {
  private: 'a private network',
  loopback: 'loopback',
  'link-local': 'link-local',
  multicast: 'multicast',
  documentation: 'a documentation range',
  reserved: 'a reserved range',
  'never-block': 'on the never-block list (our own or a partner network)',
  'too-broad': 'too broad a network',
  'default-route': 'the whole internet',
  invalid: 'not a valid address',
  'ipset-full': 'the IP set is full',
  'unblocked-later': 'a person unblocked it after this advisory was written',
  'bad-ttl': 'an invalid time to live',
  'approval-rejected': 'approval rejected',
  'approval-timeout': 'no approval before the deadline',
};

export function refusalWords(r: Pick<Refusal, 'code'>): string {
  return REFUSAL_WORDS[r.code] ?? r.code.replace(/-/g, ' ');
}

/** Every address the report mentions, one row per (target, address), in the order people act on them. */
export function addressRows(result: SweepResult): AddressRow[] {
  const byValue = new Map<string, ReportAddress>((result.addresses ?? []).map((a) => [a.value, a]));
  const byUid = new Map(result.messages.map((m) => [m.uid, m]));
  const messageOf = (value: string) => {
    const uid = byValue.get(value)?.uid;
    const m = uid !== undefined ? byUid.get(uid) : result.messages.find((x) => x.indicators.includes(value));
    return m ? { uid: m.uid, subject: m.subject, from: m.from, messageId: m.messageId } : undefined;
  };
  const rows: AddressRow[] = [];
  const row = (value: string, r: Omit<AddressRow, 'value' | 'message' | 'where'>) => {
    const a = byValue.get(value);
    const out: AddressRow = { value, ...r };
    const message = messageOf(value);
    if (message) out.message = message;
    if (a?.where) out.where = a.where;
    rows.push(out);
  };
  const targets: [string, BlockResult][] = result.blocks
    ? Object.entries(result.blocks)
    : result.block
      ? [['', result.block]]
      : [];
  const several = targets.length > 1;
  for (const [name, b] of targets) {
    const target = several ? { target: name } : {};
    for (const v of b.added)
      row(v, { fate: result.dryRun ? 'would block' : 'blocked', expiresAt: byValue.get(v)?.expiresAt, ...target });
    for (const v of b.alreadyPresent) {
      const expiresAt = byValue.get(v)?.expiresAt;
      // A new sighting renews a time-limited entry (never shortens it); a permanent one stays as it is.
      const renews = typeof expiresAt === 'string' && !result.dryRun;
      row(v, { fate: renews ? 'renewed' : 'already there', expiresAt, ...target });
    }
    for (const r of b.refused) row(r.value, { fate: 'refused', why: r.reason, code: r.code, ...target });
  }
  for (const m of result.messages.filter((x) => x.status === 'held')) {
    const approvalId = result.held?.find((h) => h.uids.includes(m.uid))?.approvalId;
    for (const v of m.indicators) {
      const r: Omit<AddressRow, 'value' | 'message' | 'where'> = {
        fate: 'held for approval',
        why: m.reason ?? m.reasonCode,
        code: m.reasonCode,
      };
      if (approvalId) r.approvalId = approvalId;
      row(v, r);
    }
  }
  const notBlockedWhy = result.approval?.status === 'timed-out' ? 'approval-timeout' : 'approval-rejected';
  for (const v of result.notBlocked ?? [])
    row(v, { fate: 'not blocked', why: refusalWords({ code: notBlockedWhy }), code: notBlockedWhy });
  return rows;
}

/** The report's headline counts (the subject and the summary line say them). */
export function headline(rows: AddressRow[]) {
  const count = (...f: AddressFate[]) => rows.filter((r) => f.includes(r.fate)).length;
  return {
    blocked: count('blocked', 'would block'),
    renewed: count('renewed'),
    already: count('already there'),
    refused: count('refused'),
    held: count('held for approval'),
    notBlocked: count('not blocked'),
  };
}

/** "2026-12-06 14:03 UTC (in 30 days)"; permanent and unknown said so. */
export function expiryWords(expiresAt: string | null | undefined, now = Date.now()): string {
  if (expiresAt === null) return 'permanent';
  if (expiresAt === undefined) return '—';
  const ms = Date.parse(expiresAt);
  if (Number.isNaN(ms)) return '—';
  const days = Math.round((ms - now) / 86_400_000);
  const when = `${new Date(ms).toISOString().slice(0, 16).replace('T', ' ')} UTC`;
  return days >= 1 ? `${when} (in ${days} day${days === 1 ? '' : 's'})` : when;
}

/** Per-day thread of a mailbox's reports: every report of the day answers this Message-ID. */
export function reportThreadId(mailbox: string, at: Date): string {
  const box = mailbox.replace(/[^A-Za-z0-9._-]/g, '_').slice(0, 100);
  return `<mail2waf-reports.${box}.${at.toISOString().slice(0, 10)}@mail2waf>`;
}
