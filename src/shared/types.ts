/**
 * JSON-safe types that cross the workflow boundary. No Map, Set, BigInt, Buffer or raw mail:
 * every value here ends up in Temporal history, so keep them small and plain.
 */

export type IpVersion = 4 | 6;

/** A protected target: the IPv4 and IPv6 IP sets that mail2waf keeps. Names only; no credentials. */
export interface TargetRef {
  name: string;
  scope: 'REGIONAL' | 'CLOUDFRONT';
  region: string;
  ipSetV4Name: string;
  ipSetV6Name: string;
}

/** Identity of one message: (mailbox, UIDVALIDITY, UID). UIDVALIDITY is a string because imapflow gives a BigInt. */
export interface MessageRef {
  mailbox: string;
  uidValidity: string;
  uid: number;
}

/** Where an address came from: a message (automatic) or a person (manual). */
export interface Source {
  kind: 'message' | 'manual';
  /** Message-ID header, or the actor for manual changes. */
  ref: string;
  subject?: string;
  from?: string;
  /** Free text: the operator's reason, or where in the message the address was seen. */
  detail?: string;
  /** ISO time at which mail2waf recorded it. */
  at: string;
}

export interface BlockCandidate {
  /** Canonical display value: bare address for a host, network/prefix otherwise. */
  value: string;
  source: Source;
}

export interface BlockRequest {
  candidates: BlockCandidate[];
  /** Idempotency key: the same request id is answered from memory, not applied twice. */
  requestId: string;
  /** Answer what would happen, change nothing (dry runs and guardrail checks). */
  preview?: boolean;
}

/** A network that must never be blocked (own ranges, partners), with where it came from. */
export interface NeverBlockRange {
  cidr: string;
  label: string;
}

/** The safety rules the blocklist workflow applies to every block, whoever asks. Not secret: CIDRs only. */
export interface BlockPolicy {
  neverBlock: NeverBlockRange[];
  /** CIDRs broader than these prefix lengths are refused ('too-broad'). /0 is always refused. */
  minPrefixV4: number;
  minPrefixV6: number;
}

/** Per-run limits: a sweep that would add more than this waits for a person. */
export interface Guardrails {
  maxNewPerRun: number;
  /** Share of the current set (0..1); checked once the set holds at least maxNewPerRun entries. */
  maxNewShare: number;
  /** How long a held sweep waits for approve/reject, in milliseconds; no answer means reject. */
  approvalTimeoutMs: number;
}

export interface ApprovalDecision {
  actor: string;
  reason?: string;
}

export type ApprovalStatus = 'not-needed' | 'waiting' | 'approved' | 'rejected' | 'timed-out';

export interface ApprovalState {
  status: ApprovalStatus;
  /** Why the run was held (guardrail code and sentence). */
  heldBecause?: { code: string; reason: string };
  decidedBy?: string;
  decisionReason?: string;
  /** ISO time after which no answer means reject. */
  deadline?: string;
}

export interface Refusal {
  value: string;
  code: string;
  reason: string;
}

export interface BlockResult {
  added: string[];
  alreadyPresent: string[];
  refused: Refusal[];
  /** True once the change has been written to (or found already in) the WAF IP sets. */
  synced: boolean;
  /** Entries of ours in the target before this request (for guardrails on the share of the set). */
  sizeBefore?: number;
}

export interface UnblockRequest {
  value: string;
  actor: string;
  reason: string;
}

export interface UnblockResult {
  removed: string[];
  notFound: string[];
  refused: Refusal[];
  synced: boolean;
}

/** One entry mail2waf added to an IP set, with every source that asked for it. */
export interface BlocklistEntry {
  value: string;
  version: IpVersion;
  addedAt: string;
  manual: boolean;
  sources: Source[];
}

/** Input of the sync activity: display values; the activity turns them into WAF CIDR strings. */
export interface SyncPlan {
  v4: { ours: string[]; remove: string[] };
  v6: { ours: string[]; remove: string[] };
}

export interface SyncReport {
  at: string;
  v4: { added: number; removed: number; foreign: number; total: number; wrote: boolean };
  v6: { added: number; removed: number; foreign: number; total: number; wrote: boolean };
  /** Entries in the IP sets that mail2waf did not add: never removed, shown by `status`. */
  foreign: { v4: string[]; v6: string[] };
}

export interface BlocklistStatus {
  target: TargetRef;
  entries: { v4: number; v6: number };
  pendingChanges: number;
  lastSync?: SyncReport;
  lastSyncError?: string;
  foreign: { v4: string[]; v6: string[] };
  historyLength: number;
}

/** Removed entries are kept briefly so that `status` can say what happened; bounded in size. */
export interface RemovedEntry {
  value: string;
  removedAt: string;
  actor: string;
  reason: string;
}

/** Everything a blocklist workflow carries into its next run. */
export interface BlocklistState {
  entries: Record<string, BlocklistEntry>;
  /** Values we added and must now remove from WAF (only ours: foreign entries are never touched). */
  pendingRemovals: string[];
  recentlyRemoved: RemovedEntry[];
  /** Request ids already answered (bounded), so that a retried update does not apply twice. */
  answered: Record<string, BlockResult>;
  lastSync?: SyncReport;
  /** Safety rules in force; absent in blocklists started before policies existed (built-in checks only). */
  policy?: BlockPolicy;
}

export interface BlocklistInput {
  target: TargetRef;
  /** Safety rules for a new blocklist; a running one takes changes through the `configure` update. */
  policy?: BlockPolicy;
  state?: BlocklistState;
  /** Continue as new once history reaches this many events (tests lower it). */
  continueAsNewAfterEvents?: number;
}

/** What the analyse activity returns for one message: compact, never the raw mail. */
export interface MessageAnalysis {
  ref: MessageRef;
  status: 'ok' | 'quarantine' | 'gone';
  reasonCode?: string;
  reason?: string;
  messageId?: string;
  from?: string;
  subject?: string;
  date?: string;
  indicators: { value: string; version: IpVersion; where: string[] }[];
  notes: string[];
}

export interface SweepInput {
  target: TargetRef;
  mailbox: string;
  /** Upper bound on messages per sweep; the rest wait for the next one. */
  maxMessages?: number;
  dryRun?: boolean;
  /** Absent: no approval step (sweeps started before guardrails existed). */
  guardrails?: Guardrails;
}

export interface SweepMessageOutcome {
  uid: number;
  messageId?: string;
  subject?: string;
  from?: string;
  status: 'processed' | 'quarantined' | 'held' | 'gone';
  reasonCode?: string;
  reason?: string;
  /** The first addresses found (bounded, to keep the sweep result small); indicatorCount has them all. */
  indicators: string[];
  indicatorCount: number;
  notes: string[];
}

export interface SweepResult {
  sweepId: string;
  mailbox: string;
  dryRun: boolean;
  messages: SweepMessageOutcome[];
  block?: BlockResult;
  approval?: ApprovalState;
  /** What a rejected or timed-out approval kept out of WAF (bounded list). */
  notBlocked?: string[];
  reportMessageId?: string;
  reportSentTo?: string;
}

/** Answer of the `configure` update: entries taken out because the new policy forbids them. */
export interface ConfigureResult {
  unblocked: Refusal[];
  synced: boolean;
}
