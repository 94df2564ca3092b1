/**
 * The team's alerts, one long-lived entity per task queue: every worker's sweeps, blocklists and approvals raise
 * and clear conditions here (through the `alert` activity's signal-with-start), so the per-condition state is
 * durable and shared. A condition raised sends ONE alert (mail, and the webhook when set) and nothing more until
 * it clears; clearing sends one "resolved" mail. Raising again after that is a new alert.
 *
 * Delivery goes through activities whose keys derive from (condition, raisedAt, kind): a retried send carries
 * the same Message-ID / Idempotency-Key. A failed delivery is logged and given up after its retries: the
 * condition stays raised (no second alert), because an alert that cannot be sent must not stop the others.
 */
import {
  allHandlersFinished,
  ApplicationFailure,
  condition,
  continueAsNew,
  isCancellation,
  log,
  proxyActivities,
  setHandler,
  setWorkflowOptions,
  workflowInfo,
} from '@temporalio/workflow';
import { versionedAs } from './versioning-behavior';
import type { Activities } from '../activities';
import { alertSignal, alertsQuery } from '../shared/messages';
import type { AlertEvent, AlertNotice, AlertsState } from '../shared/types';

const delivery = proxyActivities<Activities>({
  startToCloseTimeout: '1 minute',
  retry: { initialInterval: '5 seconds', backoffCoefficient: 2, maximumInterval: '1 minute', maximumAttempts: 8 },
});

// Raising and clearing from other workflows: few attempts, and a failure is logged, never thrown, because an
// alert is a side channel and must not fail or hold the sweep, approval or blocklist that raises it.
const signalling = proxyActivities<Activities>({
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '10 seconds', maximumAttempts: 5 },
});

/** Raise or clear a condition in the task queue's alerts workflow (through the `alert` activity). */
/**
 * The innermost failure's type and message, for an alert: "ImapAuthFailed: IMAP login failed … — check
 * IMAP_PASSWORD" says what to fix, where the outer "Activity task failed" does not.
 */
export function failureText(err: unknown): string {
  let e: unknown = err;
  while (e instanceof Error && (e as { cause?: unknown }).cause instanceof Error) e = (e as { cause?: unknown }).cause;
  const type = e instanceof ApplicationFailure && e.type ? `${e.type}: ` : '';
  return `${type}${e instanceof Error ? e.message : String(e)}`.slice(0, 1000);
}

export async function tellAlerts(event: AlertEvent): Promise<void> {
  try {
    await signalling.alert(event);
  } catch (err) {
    if (isCancellation(err)) throw err;
    log.warn('could not reach the alerts workflow', { condition: event.condition, error: String(err) });
  }
}

const DEFAULT_CONTINUE_AS_NEW_AFTER = 5_000;

export interface AlertsInput {
  state?: AlertsState;
  /** Events received but not yet handled by the previous run (carried over continue-as-new). */
  queued?: AlertEvent[];
  continueAsNewAfterEvents?: number;
}

export async function alertsWorkflow(input: AlertsInput = {}): Promise<void> {
  const state: AlertsState = input.state ?? { raised: {}, resolvedCount: 0 };
  const queue: AlertEvent[] = [...(input.queued ?? [])];
  setHandler(alertSignal, (e) => {
    if (e && typeof e.condition === 'string' && (e.action === 'raise' || e.action === 'clear')) queue.push(e);
    else log.warn('ignored malformed alert signal', { e });
  });
  setHandler(alertsQuery, () => state);
  const limit = input.continueAsNewAfterEvents ?? DEFAULT_CONTINUE_AS_NEW_AFTER;
  const due = () => workflowInfo().continueAsNewSuggested || workflowInfo().historyLength >= limit;

  for (;;) {
    await condition(() => queue.length > 0 || due());
    const event = queue.shift();
    if (event) await handle(state, event);
    else {
      await condition(allHandlersFinished);
      await continueAsNew<typeof alertsWorkflow>({ ...input, state, queued: queue.splice(0) });
    }
  }
}

// Long-lived like the blocklist: it follows the current build.
setWorkflowOptions(versionedAs('AUTO_UPGRADE'), alertsWorkflow);

/** One event: a raise of a condition not raised yet alerts; a clear of a raised one resolves; the rest is noise. */
async function handle(state: AlertsState, e: AlertEvent): Promise<void> {
  const now = new Date().toISOString();
  const current = state.raised[e.condition];
  if (e.action === 'raise') {
    if (current) return; // rate limit: one alert per condition until it clears
    const title = e.title ?? e.condition;
    const detail = e.detail ?? '';
    state.raised[e.condition] = { raisedAt: now, title, detail, workflowId: e.workflowId };
    const notice: AlertNotice = { condition: e.condition, kind: 'raised', title, detail, raisedAt: now, at: now };
    if (e.workflowId !== undefined) notice.workflowId = e.workflowId;
    await deliver(notice);
    state.raised[e.condition]!.lastSentAt = new Date().toISOString();
    return;
  }
  if (!current) return;
  delete state.raised[e.condition];
  state.resolvedCount++;
  const notice: AlertNotice = {
    condition: e.condition,
    kind: 'resolved',
    title: current.title,
    detail: e.detail ?? '',
    raisedAt: current.raisedAt,
    at: now,
  };
  if (current.workflowId !== undefined) notice.workflowId = current.workflowId;
  await deliver(notice);
}

/** Mail and webhook on their own: SMTP being down (itself a reason to alert) must not stop the webhook. */
async function deliver(notice: AlertNotice): Promise<void> {
  const results = await Promise.allSettled([delivery.sendAlertMail(notice), delivery.postAlertWebhook(notice)]);
  for (const r of results) {
    if (r.status === 'rejected') {
      log.error('alert delivery failed', { condition: notice.condition, kind: notice.kind, error: String(r.reason) });
    }
  }
}
