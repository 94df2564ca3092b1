/**
 * The blocklist of one target as an entity: its state, the rules every request goes through (pure, in
 * src/policy/blocklist.ts) and the bookkeeping of what is durable in WAF. The workflow registers one-line
 * handlers on it and runs a short loop; this class decides.
 *
 * Each change bumps `generation`; a sync that started at generation g makes everything up to g durable in WAF,
 * and callers that asked for a change wait (up to SYNC_WAIT) until a sync covers it.
 */
import { ApplicationFailure, condition, log, workflowInfo } from '@temporalio/workflow';
import {
  applyBlock,
  applyPolicy,
  applyUnblock,
  desiredIpSets,
  emptyBlocklistState,
  expireDue,
  msUntilNextExpiry,
  recordRemovals,
  rememberAnswer,
  settleRemovals,
  validatePolicy,
  why,
} from '../policy/blocklist';
import { packState, unpackState } from '../policy/state-pack';
import { LIST_PAGE_DEFAULT } from '../shared/messages';
import { failureText } from './alerts';
import type {
  AlertEvent,
  BlockPolicy,
  BlockRequest,
  BlockResult,
  BlocklistEntry,
  BlocklistInput,
  BlocklistState,
  BlocklistStatus,
  ConfigureResult,
  RemovalReason,
  SyncAnswer,
  SyncPlan,
  SyncReport,
  UnblockRequest,
  UnblockResult,
  WhyAnswer,
} from '../shared/types';

/** Callers waiting for "in WAF" stop waiting after this; the change stays queued and is written later. */
const SYNC_WAIT = '3 minutes';
const DEFAULT_CONTINUE_AS_NEW_AFTER = 10_000;
const DEFAULT_SYNC_ALERT_AFTER_MS = 15 * 60 * 1000;

export class BlocklistEntity {
  readonly state: BlocklistState;
  private generation: number;
  private syncedGeneration = 0;
  private lastSyncError: string | undefined;
  // A new run counts from its start, so a continued-as-new blocklist reconciles one interval later at most.
  private lastSyncAtMs = Date.now();
  private lastWriteAtMs: number | undefined;
  private readonly limit: number;
  /** When the current streak of failed syncs began (ms; undefined while syncs succeed). */
  private syncFailingSinceMs: number | undefined;
  private lastSyncCause: string | undefined;
  /** The `sync-failing:<target>` alert is raised and waits for a good sync to clear it. */
  syncAlertRaised: boolean;

  constructor(private readonly input: BlocklistInput) {
    this.state = input.packedState ? unpackState(input.packedState) : (input.state ?? emptyBlocklistState());
    this.state.policy ??= input.policy;
    this.limit = input.continueAsNewAfterEvents ?? DEFAULT_CONTINUE_AS_NEW_AFTER;
    // A run that carries state starts with one sync: idempotent when WAF already matches, and it re-asserts
    // our entries if someone removed them by hand while we were continuing as new.
    this.generation = input.state || input.packedState ? 1 : 0;
    this.lastWriteAtMs = this.state.lastWriteAtMs;
    this.syncFailingSinceMs = input.syncFailingSince === undefined ? undefined : Date.parse(input.syncFailingSince);
    this.syncAlertRaised = input.syncAlertRaised ?? false;
  }

  // --- handlers ---------------------------------------------------------------------------------------------

  async block(req: BlockRequest): Promise<BlockResult> {
    const earlier = this.state.answered[req.requestId];
    if (earlier) return earlier;
    const result = applyBlock(this.state, req, new Date().toISOString());
    if (req.preview) return { ...result, synced: false };
    recordRemovals(this.state, result.evicted ?? [], 'evicted');
    if (result.added.length > 0) this.generation++;
    log.info('block', { requestId: req.requestId, added: result.added.length, refused: result.refused });
    result.synced = await this.waitForSync(this.generation);
    rememberAnswer(this.state, req.requestId, result);
    return result;
  }

  /** The Update form: answers once the removal is in WAF (or SYNC_WAIT passed). */
  async unblockAndWait(req: UnblockRequest): Promise<UnblockResult> {
    const result = this.unblock(req, 'update');
    result.synced = await this.waitForSync(this.generation);
    return result;
  }

  /** The Signal form, for the Web UI: a malformed one is logged and ignored (a signal cannot answer). */
  unblockFromSignal(req: UnblockRequest): void {
    if (!req || typeof req.value !== 'string') {
      log.warn('ignored malformed unblock signal', { req });
      return;
    }
    this.unblock(req, 'signal');
  }

  async configure(policy: BlockPolicy): Promise<ConfigureResult> {
    const unblocked = applyPolicy(this.state, policy, new Date().toISOString());
    recordRemovals(
      this.state,
      unblocked.map((u) => u.value),
      'policy',
    );
    if (unblocked.length > 0) this.generation++;
    log.info('policy installed', { neverBlock: policy.neverBlock.length, unblocked });
    return { unblocked, synced: await this.waitForSync(this.generation) };
  }

  /** Forces a read-compare-write round now (drift repair). */
  async forceSync(): Promise<SyncAnswer> {
    this.generation++;
    await this.waitForSync(this.generation);
    return { report: this.state.lastSync, error: this.lastSyncError };
  }

  list(page?: { offset?: number; limit?: number }): BlocklistEntry[] {
    const offset = Math.max(0, page?.offset ?? 0);
    const limit = Math.max(1, Math.min(page?.limit ?? LIST_PAGE_DEFAULT, LIST_PAGE_DEFAULT));
    return Object.values(this.state.entries)
      .sort((a, b) => a.value.localeCompare(b.value))
      .slice(offset, offset + limit);
  }

  why(value: string): WhyAnswer {
    return why(this.state, value);
  }

  status(): BlocklistStatus {
    const entries = Object.values(this.state.entries);
    const ms = msUntilNextExpiry(this.state, new Date().toISOString());
    return {
      target: this.input.target,
      entries: { v4: entries.filter((e) => e.version === 4).length, v6: entries.filter((e) => e.version === 6).length },
      pendingChanges: this.generation - this.syncedGeneration,
      lastSync: this.state.lastSync,
      lastSyncError: this.lastSyncError,
      foreign: this.state.lastSync?.foreign ?? { v4: [], v6: [] },
      historyLength: workflowInfo().historyLength,
      policy: this.state.policy,
      nextExpiry: ms === undefined ? undefined : new Date(Date.now() + ms).toISOString(),
    };
  }

  // --- the loop's questions and bookkeeping -----------------------------------------------------------------

  hasPendingChanges(): boolean {
    return this.generation > this.syncedGeneration;
  }

  shouldContinueAsNew(): boolean {
    return workflowInfo().continueAsNewSuggested || workflowInfo().historyLength >= this.limit;
  }

  /**
   * Sleeps until there is work, an entry is due to expire, or a reconcile is due: durable timers, no poller.
   * Blocklists without expiring entries and without a reconcile interval wait on the condition alone.
   */
  async waitForWork(): Promise<void> {
    const wake = this.nextWakeMs();
    const pending = () => this.hasPendingChanges() || this.shouldContinueAsNew();
    if (wake === undefined) await condition(pending);
    else await condition(pending, Math.max(wake, 1));
  }

  /** On waking: expired entries leave, and a due reconcile becomes a (read-compare) change. */
  onWake(): void {
    const expired = expireDue(this.state, new Date().toISOString());
    if (expired.length > 0) {
      recordRemovals(this.state, expired, 'expired');
      log.info('entries expired', { expired });
      this.generation++;
    }
    const reconcileMs = this.state.policy?.reconcileMs;
    const due = reconcileMs !== undefined && Date.now() - this.lastSyncAtMs >= reconcileMs;
    if (due && this.generation === this.syncedGeneration) this.generation++; // writes only if WAF drifted
  }

  /**
   * How long a continued run must wait before its first write, to keep its predecessor's pace of one write per
   * second (packed state only: runs recorded before packing replay without this timer).
   */
  paceMs(): number | undefined {
    const since = this.lastWriteAtMs === undefined ? undefined : Date.now() - this.lastWriteAtMs;
    return this.input.packedState !== undefined && since !== undefined && since < 1000 ? 1000 - since : undefined;
  }

  /** What the next sync must make true, and the generation it will cover. */
  startSync(): { covers: number; plan: SyncPlan } {
    return { covers: this.generation, plan: desiredIpSets(this.state) };
  }

  syncDone(covers: number, plan: SyncPlan, report: SyncReport): void {
    settleRemovals(this.state, plan);
    this.state.written = { v4: plan.v4.ours, v6: plan.v6.ours };
    if (report.v4.wrote || report.v6.wrote) this.lastWriteAtMs = Date.now();
    this.state.lastSync = report;
    this.lastSyncAtMs = Date.now();
    this.syncedGeneration = covers;
    this.lastSyncError = undefined;
    this.syncFailingSinceMs = undefined;
  }

  syncFailed(err: unknown): void {
    this.lastSyncError = err instanceof Error ? err.message : String(err);
    this.lastSyncCause = failureText(err);
    this.syncFailingSinceMs ??= Date.now();
    log.error('IP set sync failed; will retry', { error: this.lastSyncError });
  }

  // --- alerts -------------------------------------------------------------------------------------------------

  syncAlertCondition(): string {
    return `sync-failing:${this.input.target.name}`;
  }

  /** Failing for longer than the policy's syncAlertAfterMs (ALERT_SYNC_FAILING_AFTER, default 15 min), not raised. */
  syncAlertDue(): boolean {
    const after = this.state.policy?.syncAlertAfterMs ?? DEFAULT_SYNC_ALERT_AFTER_MS;
    return (
      !this.syncAlertRaised && this.syncFailingSinceMs !== undefined && Date.now() - this.syncFailingSinceMs >= after
    );
  }

  syncAlertEvent(): AlertEvent {
    const since = new Date(this.syncFailingSinceMs ?? Date.now()).toISOString();
    const { target } = this.input;
    return {
      condition: this.syncAlertCondition(),
      action: 'raise',
      title: `blocklist ${target.name}: writes to AWS WAF failing since ${since}`,
      detail: [
        `The IP sets ${target.ipSetV4Name} and ${target.ipSetV6Name} (${target.region}) have not been written since ${since}.`,
        `Last error: ${this.lastSyncCause ?? 'unknown'}`,
        'New blocks and unblocks are recorded and wait; they reach WAF at the first sync that succeeds.',
        'Next: fix what the error names (IP set deleted or renamed, AWS credentials, permissions); run `mail2waf status`.',
      ].join('\n'),
      workflowId: workflowInfo().workflowId,
    };
  }

  /** The next run's input: packed, because plain JSON of 10,000 entries would pass the 2 MB payload limit. */
  continueAsNewInput(): BlocklistInput {
    log.info('continuing as new', {
      historyLength: workflowInfo().historyLength,
      entries: Object.keys(this.state.entries).length,
    });
    if (this.lastWriteAtMs !== undefined) this.state.lastWriteAtMs = this.lastWriteAtMs;
    return {
      target: this.input.target,
      policy: this.input.policy,
      continueAsNewAfterEvents: this.input.continueAsNewAfterEvents,
      packedState: packState(this.state),
      ...(this.syncFailingSinceMs !== undefined
        ? { syncFailingSince: new Date(this.syncFailingSinceMs).toISOString() }
        : {}),
      ...(this.syncAlertRaised ? { syncAlertRaised: true } : {}),
    };
  }

  // --- internals --------------------------------------------------------------------------------------------

  /** `via`: the Update (CLI, API) or the Signal (Web UI), kept as the reason the removal is counted under. */
  private unblock(req: UnblockRequest, via: Extract<RemovalReason, 'update' | 'signal'>): UnblockResult {
    const result = applyUnblock(this.state, req, new Date().toISOString());
    recordRemovals(this.state, result.removed, via);
    if (result.removed.length > 0) this.generation++;
    log.info('unblock', { value: req.value, actor: req.actor, reason: req.reason, result });
    return result;
  }

  private async waitForSync(gen: number): Promise<boolean> {
    return gen <= this.syncedGeneration || (await condition(() => this.syncedGeneration >= gen, SYNC_WAIT));
  }

  private nextWakeMs(): number | undefined {
    const expiry = msUntilNextExpiry(this.state, new Date().toISOString());
    const reconcileMs = this.state.policy?.reconcileMs;
    const reconcile = reconcileMs === undefined ? undefined : Math.max(0, this.lastSyncAtMs + reconcileMs - Date.now());
    if (expiry === undefined) return reconcile;
    return reconcile === undefined ? expiry : Math.min(expiry, reconcile);
  }
}

// --- update validators: a malformed request is refused before it enters history -------------------------------

export function validateBlockRequest(req: BlockRequest): void {
  if (!req || typeof req.requestId !== 'string' || !req.requestId || !Array.isArray(req.candidates)) {
    throw ApplicationFailure.nonRetryable('block needs {requestId, candidates[]}', 'InvalidRequest');
  }
}

export function validateUnblockRequest(req: UnblockRequest): void {
  if (!req || typeof req.value !== 'string' || !req.value.trim()) {
    throw ApplicationFailure.nonRetryable('unblock needs {value, actor, reason}', 'InvalidRequest');
  }
}

export function validatePolicyUpdate(policy: BlockPolicy): void {
  try {
    validatePolicy(policy);
  } catch (err) {
    throw ApplicationFailure.nonRetryable((err as Error).message, 'InvalidRequest');
  }
}
