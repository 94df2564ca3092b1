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
  /**
   * ISO time the message says it was written (its verified DKIM signature time, else its Date header). A manual
   * unblock newer than this is never undone by this source: an old advisory replayed cannot re-block it.
   */
  messageDate?: string;
}

export interface BlockCandidate {
  /** Canonical display value: bare address for a host, network/prefix otherwise. */
  value: string;
  source: Source;
  /** Time to live in ms; null = permanent; absent = the policy's default for its kind of source. */
  ttlMs?: number | null;
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
  /** Default time to live of entries that come from messages (manual blocks are permanent by default). */
  ttlMs?: number;
  /** How often the blocklist re-reads its IP sets and restores drift even when nothing changed. */
  reconcileMs?: number;
  /** Ceiling of entries per IP set (AWS allows 10,000) and what to do when a block would pass it. */
  maxEntriesPerSet?: number;
  whenFull?: 'refuse' | 'evict';
  /** ALERT_SYNC_FAILING_AFTER: a sync failing for this long raises the `sync-failing:<target>` alert. */
  syncAlertAfterMs?: number;
}

/** Per-run limits: a sweep that would add more than this waits for a person. */
export interface Guardrails {
  maxNewPerRun: number;
  /** Share of the current set (0..1); checked once the set holds at least maxNewPerRun entries. */
  maxNewShare: number;
  /**
   * Addresses a run may add without approval (MAX_NEW_ADDRESSES_PER_RUN): IPv4 in addresses, IPv6 in /64
   * networks, each version on its own. Absent in sweeps started before it existed: no size check.
   */
  maxNewAddressesPerRun?: number;
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
  /** Entries that expired since the last answered block request (so the next report lists them). */
  expired?: string[];
  /** Entries taken out to make room when an IP set was full (policy whenFull = evict). */
  evicted?: string[];
  /** Set when an IP set is at 80% of its ceiling or more after this request. */
  capacityWarning?: string;
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
  /** ISO time at which the entry leaves WAF; absent = permanent. Renewed (never shortened) by new sightings. */
  expiresAt?: string;
  manual: boolean;
  /** The first sources (bounded, see MAX_SOURCES_PER_ENTRY); later sightings only renew and are counted. */
  sources: Source[];
  moreSightings?: number;
}

/** Input of the sync activity: display values; the activity turns them into WAF CIDR strings. */
export interface SyncPlan {
  v4: SyncPlanSide;
  v6: SyncPlanSide;
}

/**
 * One IP set's part of a sync plan. The optional fields keep entries that someone else put in the set from
 * being removed with ours (plans built before they existed lack them; the activity then behaves as before).
 */
export interface SyncPlanSide {
  ours: string[];
  remove: string[];
  /** Values of ours that were in the set before mail2waf first wrote them: someone else's too, never removed. */
  shared?: string[];
  /** Values of ours that no earlier sync wrote: found in the set already, they are someone else's too. */
  fresh?: string[];
  /** Values of `remove` that may be someone else's (seen in the set as not ours): left in the set. */
  keep?: string[];
  /**
   * Why values of `remove` left the blocklist, for mail2waf_addresses_total: the activity counts one when its
   * write ends our blocking of it. Values without a reason (covers merged differently, states from before) are
   * removed all the same, uncounted.
   */
  reasons?: Record<string, RemovalReason>;
}

/**
 * Why a value left the blocklist: its time to live ended, a person unblocked it through the unblock Update
 * (`mail2waf unblock`) or the unblock Signal (the Web UI), a new policy forbids it, or it made room in a full set.
 */
export type RemovalReason = 'expired' | 'update' | 'signal' | 'policy' | 'evicted';

export interface SyncSide {
  /** Entries of ours that were missing from the set and were written (new ones, or drift repaired). */
  added: number;
  removed: number;
  foreign: number;
  total: number;
  wrote: boolean;
  /** Values of ours that AWS would reject; never sent (should never happen: a bug or a hand-edited state). */
  invalid?: string[];
}

export interface SyncReport {
  at: string;
  v4: SyncSide;
  v6: SyncSide;
  /** Entries in the IP sets that mail2waf did not add: never removed, shown by `status`. */
  foreign: { v4: string[]; v6: string[] };
  /**
   * Values of ours that were already in the set when mail2waf first wanted them (display form). They stay when
   * our entry ends. Carried from one sync to the next through the blocklist state's `lastSync`.
   */
  shared?: { v4: string[]; v6: string[] };
}

export interface BlocklistStatus {
  target: TargetRef;
  entries: { v4: number; v6: number };
  pendingChanges: number;
  lastSync?: SyncReport;
  lastSyncError?: string;
  foreign: { v4: string[]; v6: string[] };
  historyLength: number;
  policy?: BlockPolicy;
  /** When the next entry leaves WAF, if any expires. */
  nextExpiry?: string;
}

/** Removed entries are kept briefly so that `status` can say what happened; bounded in size. */
export interface RemovedEntry {
  value: string;
  removedAt: string;
  actor: string;
  reason: string;
}

/** A person's unblock of a value (the unblock update or signal), kept apart from expiry and policy removals. */
export interface ManualUnblock {
  value: string;
  actor: string;
  /** ISO time of the unblock. */
  at: string;
}

/** Everything a blocklist workflow carries into its next run. */
export interface BlocklistState {
  entries: Record<string, BlocklistEntry>;
  /** Values we added and must now remove from WAF (only ours: foreign entries are never touched). */
  pendingRemovals: string[];
  /** Why each of `pendingRemovals` left (absent in states from before it existed: their removals go uncounted). */
  removedBecause?: Record<string, RemovalReason>;
  recentlyRemoved: RemovedEntry[];
  /** Epoch ms of the last UpdateIPSet, so that a continued run keeps the one-write-per-second pace. */
  lastWriteAtMs?: number;
  /** The cover last written to WAF: covers of ours that a later cover drops must be taken out. */
  written?: { v4: string[]; v6: string[] };
  /** Recent refusals (bounded), so that `why` can say why an address was not blocked. */
  recentlyRefused?: RefusedEntry[];
  /**
   * Manual unblocks (bounded, newest last; one per value): an advisory written before one of them cannot
   * re-block that value ('unblocked-later'). Absent in blocklists started before it existed.
   */
  manualUnblocks?: ManualUnblock[];
  /** Expired entries not yet reported by a sweep. */
  expiredUnreported?: string[];
  /** Request ids already answered (bounded), so that a retried update does not apply twice (within a run). */
  answered: Record<string, BlockResult>;
  lastSync?: SyncReport;
  /** Safety rules in force; absent in blocklists started before policies existed (built-in checks only). */
  policy?: BlockPolicy;
}

export interface BlocklistInput {
  target: TargetRef;
  /** The state carried over by continue-as-new, packed (see src/policy/state-pack.ts); preferred over `state`. */
  packedState?: string;
  /** Safety rules for a new blocklist; a running one takes changes through the `configure` update. */
  policy?: BlockPolicy;
  state?: BlocklistState;
  /** Continue as new once history reaches this many events (tests lower it). */
  continueAsNewAfterEvents?: number;
  /** Since when the sync has been failing (carried over, so a continued run does not restart the clock). */
  syncFailingSince?: string;
  /** The `sync-failing:<target>` alert is raised (carried over, so the next good sync clears it). */
  syncAlertRaised?: boolean;
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
  /** The primary target (its result is `block` in the sweep result). */
  target: TargetRef;
  /** All targets to block into, primary first; absent means just `target`. */
  targets?: TargetRef[];
  mailbox: string;
  /** Upper bound on messages per sweep; the rest wait for the next one. */
  maxMessages?: number;
  dryRun?: boolean;
  /** Absent: no approval step (sweeps started before guardrails existed). */
  guardrails?: Guardrails;
  /** Quarantine reason codes whose messages are held for approval instead (e.g. 'reported-phish'). */
  holdForApproval?: string[];
  /** Time to live by sender address or domain, overriding the blocklist's default for their indicators. */
  sourceTtls?: { match: string; ttlMs: number | null }[];
  /** Set the Mail2waf* search attributes (they must be registered on the namespace; see SEARCH_ATTRIBUTES). */
  searchAttributes?: boolean;
}

/**
 * The sweep settings the worker owns (its configuration, handed over by the sweepPolicy activity), so a Schedule
 * created from one shell does not freeze that shell's guardrails. A sweep input's own fields, where set, win.
 */
export interface SweepPolicy {
  targets: TargetRef[];
  maxMessages: number;
  dryRun: boolean;
  guardrails: Guardrails;
  holdForApproval: string[];
  sourceTtls: { match: string; ttlMs: number | null }[];
  searchAttributes: boolean;
  /** BLOCK_TTL of the worker's blocklists (null: permanent), for the expiry the report shows. */
  blockTtlMs?: number | null;
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
  /** Per target, when a sweep blocks into more than one. */
  blocks?: Record<string, BlockResult>;
  approval?: ApprovalState;
  /** What a rejected or timed-out approval kept out of WAF (bounded list). */
  notBlocked?: string[];
  reportMessageId?: string;
  reportSentTo?: string;
  /** Approval workflows this sweep started for held messages (they wait on their own; the sweep does not). */
  held?: { approvalId: string; kind: ApprovalInput['kind']; uids: number[]; reason: string }[];
  /** Per address, for the report: which message and place it came from and until when (the first few hundred). */
  addresses?: ReportAddress[];
  /** Addresses found beyond those in `addresses` (the report says how many it leaves out). */
  addressesLeftOut?: number;
}

/** One address of a sweep as the report shows it. Bounded: see REPORT_ADDRESSES in src/report/addresses.ts. */
export interface ReportAddress {
  value: string;
  /** The message (uid in the swept mailbox) it came from; the first one when several carried it. */
  uid: number;
  /** Where in the message it was found (part, attachment, line), capped. */
  where?: string;
  /** When a block of it would end: ISO time; null = permanent; absent = not blocked by this sweep. */
  expiresAt?: string | null;
}

/** Answer of the `configure` update: entries taken out because the new policy forbids them. */
export interface ConfigureResult {
  unblocked: Refusal[];
  synced: boolean;
}

export interface RefusedEntry extends Refusal {
  at: string;
  /** Who or what asked: the message id or the actor. */
  ref: string;
}

/** Answer of the `why` query: is this address blocked, by which entries, and what happened to it. */
export interface WhyAnswer {
  value: string;
  blocked: boolean;
  /** Our entries equal to or containing the address (a host inside a blocked CIDR counts). */
  entries: BlocklistEntry[];
  /** Recent removals of entries equal to or containing it: when, by whom, why. */
  removed: RemovedEntry[];
  /** Foreign entries in the IP sets (not ours) that contain it. */
  foreign: string[];
  /** Recent refusals of this address or of a network that overlaps it, with the reason. */
  refused: RefusedEntry[];
}

/** Answer of the `sync` update: the round it forced, with drift found and repaired. */
export interface SyncAnswer {
  report?: SyncReport;
  error?: string;
}

/** One message held for a person's decision, with its addresses and where each was found (all capped). */
export interface HeldMessage {
  ref: MessageRef;
  messageId?: string;
  from?: string;
  subject?: string;
  /** ISO time the message was written (Date header), carried into Source.messageDate. */
  date?: string;
  /** Why it is held: the trust gate's code and sentence (or the run's guardrail). */
  reasonCode?: string;
  reason?: string;
  indicators: { value: string; where: string[] }[];
}

/** Input of an approval workflow: one held message (outside the trust gate) or a batch (a run over its guardrails). */
export interface ApprovalInput {
  /** The sweep that found the messages (for links and the report). */
  sweepId: string;
  kind: 'held-message' | 'guardrails';
  heldBecause: { code: string; reason: string };
  messages: HeldMessage[];
  targets: TargetRef[];
  timeoutMs: number;
  sourceTtls?: { match: string; ttlMs: number | null }[];
  /** Set the Mail2waf* search attributes (as the sweep that started it). */
  searchAttributes?: boolean;
  /** The worker's BLOCK_TTL (null: permanent), for the expiry its report shows. */
  blockTtlMs?: number | null;
}

/** What an approval workflow did. */
export interface ApprovalResult {
  approvalId: string;
  approval: ApprovalState;
  /** Per target, what the approved blocks did (absent when nothing was approved). */
  blocks?: Record<string, BlockResult>;
  messages: SweepMessageOutcome[];
  reportMessageId?: string;
}

/** Answer of the approve / reject Updates (the validator refuses when there is nothing to decide). */
export interface ApprovalAnswer {
  approvalId: string;
  status: ApprovalStatus;
  decidedBy?: string;
}

/** One held run, as `mail2waf approvals` lists it: what would be blocked, from which message, until when. */
export interface ApprovalSummary {
  approvalId: string;
  kind: ApprovalInput['kind'];
  sweepId: string;
  heldBecause: { code: string; reason: string };
  deadline?: string;
  status: ApprovalStatus;
  /** Per address: the message it came from (sender, subject, Message-ID) and where in it. */
  addresses: { value: string; from?: string; subject?: string; messageId?: string; where: string[] }[];
  /** Preview of the first target: new, already blocked, refused. */
  preview?: BlockResult;
}

/** A condition worth an alert: `sweep-failed:<mailbox>`, `sync-failing:<target>`, `approval-expiring:<id>`. */
export interface AlertEvent {
  condition: string;
  /** raise: the condition holds (one alert until it clears); clear: it no longer holds (one "resolved" mail). */
  action: 'raise' | 'clear';
  /** One line for people (the mail subject and the webhook text); mail-controlled parts already cut. */
  title?: string;
  /** What happened and what to do next (a few lines). */
  detail?: string;
  /** Temporal workflow the condition is about, for a Web UI link. */
  workflowId?: string;
}

/** One raised condition as the alerts workflow keeps it (JSON-safe, carried over continue-as-new). */
export interface AlertCondition {
  raisedAt: string;
  lastSentAt?: string;
  title: string;
  detail: string;
  workflowId?: string;
}

/** The alerts workflow's state: raised conditions, and how many resolved since it started (for the query). */
export interface AlertsState {
  raised: Record<string, AlertCondition>;
  resolvedCount: number;
}

/** What the sendAlert activities deliver: a raised or resolved alert, with its deterministic key. */
export interface AlertNotice {
  condition: string;
  kind: 'raised' | 'resolved';
  title: string;
  detail: string;
  raisedAt: string;
  at: string;
  workflowId?: string;
}
