/**
 * One long-lived blocklist workflow per protected target. It is the single writer of the target's two IP sets:
 * handlers record intent in the entity (durably, because they are in history), and one loop writes WAF through
 * the sync activity, so bursts of requests coalesce into one GetIPSet → diff → UpdateIPSet round. The state and
 * its rules live in BlocklistEntity (blocklist-entity.ts); this file wires handlers and runs the loop.
 */
import {
  allHandlersFinished,
  condition,
  continueAsNew,
  patched,
  proxyActivities,
  setHandler,
  setWorkflowOptions,
  sleep,
} from '@temporalio/workflow';
import { versionedAs } from './versioning-behavior';
import type { Activities } from '../activities';
import {
  blockUpdate,
  configureUpdate,
  listQuery,
  statusQuery,
  syncUpdate,
  unblockSignal,
  unblockUpdate,
  whyQuery,
} from '../shared/messages';
import type { BlocklistInput, SyncPlan } from '../shared/types';
import {
  BlocklistEntity,
  validateBlockRequest,
  validatePolicyUpdate,
  validateUnblockRequest,
} from './blocklist-entity';
import { tellAlerts } from './alerts';

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
const RETRY_AFTER_FAILURE = '30 seconds';
/** Blocklists recorded before sync-failure alerts replay without the alert activity. */
const SYNC_ALERT_PATCH = 'blocklist-sync-alerts';

export async function blocklistWorkflow(input: BlocklistInput): Promise<void> {
  const b = new BlocklistEntity(input);
  setHandler(blockUpdate, (req) => b.block(req), { validator: validateBlockRequest });
  setHandler(unblockUpdate, (req) => b.unblockAndWait(req), { validator: validateUnblockRequest });
  setHandler(configureUpdate, (policy) => b.configure(policy), { validator: validatePolicyUpdate });
  setHandler(unblockSignal, (req) => b.unblockFromSignal(req));
  setHandler(syncUpdate, () => b.forceSync());
  setHandler(listQuery, (page) => b.list(page));
  setHandler(whyQuery, (value) => b.why(value));
  setHandler(statusQuery, () => b.status());

  for (;;) {
    await b.waitForWork();
    b.onWake();
    if (b.hasPendingChanges()) {
      await syncOnce(b, input);
      continue;
    }
    // A timer woke us early (or for an entry renewed meanwhile): nothing to do yet.
    if (!b.shouldContinueAsNew()) continue;
    // Handlers that are still waiting for a sync would be cut off by continue-as-new; let them finish first.
    await condition(() => allHandlersFinished() || b.hasPendingChanges());
    if (b.hasPendingChanges()) continue;
    await continueAsNew<typeof blocklistWorkflow>(b.continueAsNewInput());
  }
}

// The blocklist lives for ever: it moves to the current build at its next task (its changes go behind patched()
// and replay tests, test/replay).
setWorkflowOptions(versionedAs('AUTO_UPGRADE'), blocklistWorkflow);

/** One GetIPSet → diff → UpdateIPSet round, at most one write per second; a failure is retried later. */
async function syncOnce(b: BlocklistEntity, input: BlocklistInput): Promise<void> {
  const pace = b.paceMs();
  if (pace !== undefined) await sleep(pace);
  const { covers, plan } = b.startSync();
  try {
    const report = await syncIpSets.executeWithOptions({ summary: syncSummary(input.target.name, plan) }, [
      { target: input.target, plan },
    ]);
    b.syncDone(covers, plan, report);
    if (b.syncAlertRaised && patched(SYNC_ALERT_PATCH)) {
      await tellAlerts({
        condition: b.syncAlertCondition(),
        action: 'clear',
        detail: 'The IP sets are written again.',
      });
      b.syncAlertRaised = false;
    }
    // When continue-as-new is due we skip the pause, so that a steady stream of requests cannot keep the loop
    // busy forever; the next run's first write is at least one activity round-trip later.
    if ((report.v4.wrote || report.v6.wrote) && !b.shouldContinueAsNew()) await sleep(MIN_WRITE_INTERVAL);
  } catch (err) {
    b.syncFailed(err);
    // Runs recorded before alerts replay without this activity (patched() is false for them).
    if (b.syncAlertDue() && patched(SYNC_ALERT_PATCH)) {
      await tellAlerts(b.syncAlertEvent());
      b.syncAlertRaised = true;
    }
    await sleep(RETRY_AFTER_FAILURE);
  }
}

/** What a sync round is about, for the Web UI's event list: the target and how much it adds and removes. */
function syncSummary(target: string, plan: SyncPlan): string {
  const ours = plan.v4.ours.length + plan.v6.ours.length;
  const remove = plan.v4.remove.length + plan.v6.remove.length;
  return `sync IP sets of target ${target}: ${ours} entries of ours${remove ? `, ${remove} to remove` : ''}`;
}
