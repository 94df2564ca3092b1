/**
 * Signals, queries and updates of the blocklist workflow, defined once. The workflow, the CLI and the tests
 * import these objects; the wire names are stable because the Web UI and other SDKs address them by name.
 */
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type {
  AlertEvent,
  AlertsState,
  ApprovalAnswer,
  ApprovalDecision,
  ApprovalState,
  ApprovalSummary,
  BlockPolicy,
  ConfigureResult,
  SyncAnswer,
  WhyAnswer,
  BlockRequest,
  BlockResult,
  BlocklistEntry,
  BlocklistStatus,
  UnblockRequest,
  UnblockResult,
} from './types';

export const blockUpdate = defineUpdate<BlockResult, [BlockRequest]>('block');
export const unblockUpdate = defineUpdate<UnblockResult, [UnblockRequest]>('unblock');
/** Same as the update, for the Web UI's "Send signal" form: {"value": "1.2.3.4", "actor": "...", "reason": "..."}. */
export const unblockSignal = defineSignal<[UnblockRequest]>('unblock');
/** A page of entries in address order (default the first 1,000: a full list of 20,000 would be ~8 MB). */
export const listQuery = defineQuery<BlocklistEntry[], [{ offset?: number; limit?: number }?]>('list');
export const LIST_PAGE_DEFAULT = 1000;
export const statusQuery = defineQuery<BlocklistStatus>('status');
/** Replaces the blocklist's safety policy (sent by the worker at start); unblocks entries it now forbids. */
export const configureUpdate = defineUpdate<ConfigureResult, [BlockPolicy]>('configure');

// An approval workflow (a held message) waits for one of these: the Signals from the Web UI's "Send a Signal"
// form, the Updates from `mail2waf approve|reject`, which answer at once (accepted, or why not). Signal and
// Update handlers live in separate registries, so they share the wire names. Sweeps of older builds that are
// still held answer the Signals and the query too.
export const approveSignal = defineSignal<[ApprovalDecision]>('approve');
export const rejectSignal = defineSignal<[ApprovalDecision]>('reject');
export const approveUpdate = defineUpdate<ApprovalAnswer, [ApprovalDecision]>('approve');
export const rejectUpdate = defineUpdate<ApprovalAnswer, [ApprovalDecision]>('reject');
export const approvalQuery = defineQuery<ApprovalState>('approval');
/** What a held approval would block, from which message and sender, and until when. */
export const approvalSummaryQuery = defineQuery<ApprovalSummary>('summary');
export const whyQuery = defineQuery<WhyAnswer, [string]>('why');
/** Forces a read-compare-write round now (drift repair); answers with what it found. */
export const syncUpdate = defineUpdate<SyncAnswer, []>('sync');

/** Raise or clear one alert condition (sent with signal-with-start by the alert activity, never by a workflow). */
export const alertSignal = defineSignal<[AlertEvent]>('alert');
/** The conditions raised now, with when they were raised and last mailed. */
export const alertsQuery = defineQuery<AlertsState>('alerts');
/** One alerts workflow per task queue: every worker of the queue shares its per-condition state. */
export function alertsWorkflowId(taskQueue: string): string {
  return `mail2waf-alerts-${taskQueue}`;
}
