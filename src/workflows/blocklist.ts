/**
 * One long-lived blocklist workflow per protected target. It is the single writer of the target's two IP sets:
 * handlers record intent in memory (durably, because they are in history), and one loop writes WAF through the
 * sync activity, so bursts of requests coalesce into one GetIPSet → diff → UpdateIPSet round.
 */
import {
  ApplicationFailure,
  allHandlersFinished,
  condition,
  continueAsNew,
  log,
  proxyActivities,
  setHandler,
  sleep,
  workflowInfo,
} from '@temporalio/workflow';
import type { Activities } from '../activities';
import {
  applyBlock,
  applyPolicy,
  applyUnblock,
  desiredIpSets,
  emptyBlocklistState,
  expireDue,
  msUntilNextExpiry,
  rememberAnswer,
  validatePolicy,
  why,
} from '../policy/blocklist';
import { packState, unpackState } from '../policy/state-pack';
import {
  LIST_PAGE_DEFAULT,
  blockUpdate,
  configureUpdate,
  listQuery,
  statusQuery,
  syncUpdate,
  unblockSignal,
  unblockUpdate,
  whyQuery,
} from '../shared/messages';
import type { BlockPolicy, BlockRequest, BlocklistInput, UnblockRequest } from '../shared/types';

// Retryable failures (throttling, lock conflicts, a flaky endpoint) are retried inside the activity's policy;
// after that the loop records the error and tries again later, so a long AWS outage never loses intent.
const { syncIpSets } = proxyActivities<Activities>({
  startToCloseTimeout: '2 minutes',
  // The activity heartbeats before each read; a worker that dies mid-write (or an AWS call that hangs) is
  // noticed in seconds, not at the start-to-close timeout, and another worker takes the sync over.
  heartbeatTimeout: '30 seconds',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '30 seconds', maximumAttempts: 6 },
});

/** AWS allows about one UpdateIPSet per second per account and Region; we never write faster than that. */
const MIN_WRITE_INTERVAL = '1 second';
/** Callers waiting for "in WAF" stop waiting after this; the change stays queued and is written later. */
const SYNC_WAIT = '3 minutes';
const RETRY_AFTER_FAILURE = '30 seconds';
const DEFAULT_CONTINUE_AS_NEW_AFTER = 10_000;

export async function blocklistWorkflow(input: BlocklistInput): Promise<void> {
  const state = input.packedState ? unpackState(input.packedState) : (input.state ?? emptyBlocklistState());
  state.policy ??= input.policy;
  const limit = input.continueAsNewAfterEvents ?? DEFAULT_CONTINUE_AS_NEW_AFTER;
  // Each change bumps `generation`; a sync that started at generation g makes everything up to g durable in WAF.
  // A run that carries state starts with one sync: idempotent when WAF already matches, and it re-asserts
  // our entries if someone removed them by hand while we were continuing as new.
  let generation = input.state || input.packedState ? 1 : 0;
  let syncedGeneration = 0;
  let lastSyncError: string | undefined;

  const waitForSync = async (gen: number): Promise<boolean> =>
    gen <= syncedGeneration || (await condition(() => syncedGeneration >= gen, SYNC_WAIT));

  const unblock = (req: UnblockRequest) => {
    const result = applyUnblock(state, req, new Date().toISOString());
    if (result.removed.length > 0) generation++;
    log.info('unblock', { value: req.value, actor: req.actor, reason: req.reason, result });
    return result;
  };

  setHandler(
    blockUpdate,
    async (req: BlockRequest) => {
      const earlier = state.answered[req.requestId];
      if (earlier) return earlier;
      const result = applyBlock(state, req, new Date().toISOString());
      if (req.preview) return { ...result, synced: false };
      if (result.added.length > 0) generation++;
      log.info('block', { requestId: req.requestId, added: result.added.length, refused: result.refused });
      result.synced = await waitForSync(generation);
      rememberAnswer(state, req.requestId, result);
      return result;
    },
    {
      validator: (req: BlockRequest) => {
        if (!req || typeof req.requestId !== 'string' || !req.requestId || !Array.isArray(req.candidates)) {
          throw ApplicationFailure.nonRetryable('block needs {requestId, candidates[]}', 'InvalidRequest');
        }
      },
    },
  );

  setHandler(
    unblockUpdate,
    async (req: UnblockRequest) => {
      const result = unblock(req);
      result.synced = await waitForSync(generation);
      return result;
    },
    {
      validator: (req: UnblockRequest) => {
        if (!req || typeof req.value !== 'string' || !req.value.trim()) {
          throw ApplicationFailure.nonRetryable('unblock needs {value, actor, reason}', 'InvalidRequest');
        }
      },
    },
  );

  setHandler(
    configureUpdate,
    async (policy: BlockPolicy) => {
      const unblocked = applyPolicy(state, policy, new Date().toISOString());
      if (unblocked.length > 0) generation++;
      log.info('policy installed', { neverBlock: policy.neverBlock.length, unblocked });
      return { unblocked, synced: await waitForSync(generation) };
    },
    {
      validator: (policy: BlockPolicy) => {
        try {
          validatePolicy(policy);
        } catch (err) {
          throw ApplicationFailure.nonRetryable((err as Error).message, 'InvalidRequest');
        }
      },
    },
  );

  // The signal form exists so that a person can unblock from the Web UI; a malformed one is logged and ignored
  // because signals cannot answer with an error.
  setHandler(unblockSignal, (req: UnblockRequest) => {
    if (!req || typeof req.value !== 'string') {
      log.warn('ignored malformed unblock signal', { req });
      return;
    }
    unblock(req);
  });

  setHandler(listQuery, (page) => {
    const offset = Math.max(0, page?.offset ?? 0);
    const limit = Math.max(1, Math.min(page?.limit ?? LIST_PAGE_DEFAULT, LIST_PAGE_DEFAULT));
    return Object.values(state.entries)
      .sort((a, b) => a.value.localeCompare(b.value))
      .slice(offset, offset + limit);
  });

  setHandler(whyQuery, (value: string) => why(state, value));

  setHandler(syncUpdate, async () => {
    generation++;
    await waitForSync(generation);
    return { report: state.lastSync, error: lastSyncError };
  });

  setHandler(statusQuery, () => {
    const entries = Object.values(state.entries);
    return {
      target: input.target,
      entries: { v4: entries.filter((e) => e.version === 4).length, v6: entries.filter((e) => e.version === 6).length },
      pendingChanges: generation - syncedGeneration,
      lastSync: state.lastSync,
      lastSyncError,
      foreign: state.lastSync?.foreign ?? { v4: [], v6: [] },
      historyLength: workflowInfo().historyLength,
      policy: state.policy,
      nextExpiry: (() => {
        const ms = msUntilNextExpiry(state, new Date().toISOString());
        return ms === undefined ? undefined : new Date(Date.now() + ms).toISOString();
      })(),
    };
  });

  const shouldContinueAsNew = () => workflowInfo().continueAsNewSuggested || workflowInfo().historyLength >= limit;

  // A new run counts from its start, so a continued-as-new blocklist reconciles one interval later at most.
  let lastSyncAtMs = Date.now();
  let lastWriteAtMs = state.lastWriteAtMs;
  const nextWakeMs = (): number | undefined => {
    const expiry = msUntilNextExpiry(state, new Date().toISOString());
    const reconcileMs = state.policy?.reconcileMs;
    const reconcile = reconcileMs === undefined ? undefined : Math.max(0, lastSyncAtMs + reconcileMs - Date.now());
    if (expiry === undefined) return reconcile;
    return reconcile === undefined ? expiry : Math.min(expiry, reconcile);
  };

  for (;;) {
    // Sleep until there is work, an entry is due to expire, or a reconcile is due: durable timers, no poller.
    // Blocklists without expiring entries and without a reconcile interval wait on the condition alone.
    const wake = nextWakeMs();
    const pending = () => generation > syncedGeneration || shouldContinueAsNew();
    if (wake === undefined) await condition(pending);
    else await condition(pending, Math.max(wake, 1));

    const nowIso = new Date().toISOString();
    const expired = expireDue(state, nowIso);
    if (expired.length > 0) {
      log.info('entries expired', { expired });
      generation++;
    }
    const reconcileMs = state.policy?.reconcileMs;
    if (reconcileMs !== undefined && Date.now() - lastSyncAtMs >= reconcileMs && generation === syncedGeneration) {
      generation++; // a read-compare round: writes only if someone changed the IP sets by hand
    }

    if (generation > syncedGeneration) {
      // A run continued from another keeps its predecessor's pace of one write per second (packed state only:
      // runs recorded before packing replay without this timer).
      const sincePrevious = lastWriteAtMs === undefined ? undefined : Date.now() - lastWriteAtMs;
      if (input.packedState !== undefined && sincePrevious !== undefined && sincePrevious < 1000) {
        await sleep(1000 - sincePrevious);
      }
      const target = generation;
      const plan = desiredIpSets(state);
      try {
        const report = await syncIpSets({ target: input.target, plan });
        // Only the removals this round saw are done; ones queued meanwhile stay for the next round.
        state.pendingRemovals = state.pendingRemovals.filter(
          (v) => !plan.v4.remove.includes(v) && !plan.v6.remove.includes(v),
        );
        state.written = { v4: plan.v4.ours, v6: plan.v6.ours };
        if (report.v4.wrote || report.v6.wrote) lastWriteAtMs = Date.now();
        state.lastSync = report;
        lastSyncAtMs = Date.now();
        syncedGeneration = target;
        lastSyncError = undefined;
        // When continue-as-new is due we skip the pause, so that a steady stream of requests cannot keep
        // the loop busy forever; the next run's first write is at least one activity round-trip later.
        if ((report.v4.wrote || report.v6.wrote) && !shouldContinueAsNew()) await sleep(MIN_WRITE_INTERVAL);
      } catch (err) {
        lastSyncError = err instanceof Error ? err.message : String(err);
        log.error('IP set sync failed; will retry', { error: lastSyncError });
        await sleep(RETRY_AFTER_FAILURE);
      }
      continue;
    }

    // A timer woke us early (or for an entry renewed meanwhile): nothing to do yet.
    if (!shouldContinueAsNew()) continue;

    // Handlers that are still waiting for a sync would be cut off by continue-as-new; let them finish first.
    await condition(() => allHandlersFinished() || generation > syncedGeneration);
    if (generation > syncedGeneration) continue;
    log.info('continuing as new', {
      historyLength: workflowInfo().historyLength,
      entries: Object.keys(state.entries).length,
    });
    // Packed: plain JSON of 10,000 entries with provenance would pass the 2 MB payload limit.
    if (lastWriteAtMs !== undefined) state.lastWriteAtMs = lastWriteAtMs;
    await continueAsNew<typeof blocklistWorkflow>({
      target: input.target,
      policy: input.policy,
      continueAsNewAfterEvents: input.continueAsNewAfterEvents,
      packedState: packState(state),
    });
  }
}
