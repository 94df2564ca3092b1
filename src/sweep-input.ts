/**
 * The sweep input from the settings: one pure function for every way a sweep starts (the CLI's `run`, the
 * Schedule's action and the worker's mailbox watch), so that a sweep behaves the same whoever started it.
 */
import type { ClientConfig } from './config';
import type { SweepInput } from './shared/types';

/** The settings a sweep needs; a subset of ClientConfig (and so of WorkerConfig). */
export type SweepSettings = Pick<
  ClientConfig,
  | 'targets'
  | 'mailbox'
  | 'maxMessagesPerSweep'
  | 'dryRun'
  | 'guardrails'
  | 'holdForApproval'
  | 'sourceTtls'
  | 'searchAttributes'
>;

/** A sweep of `opts.mailbox` (default IMAP_MAILBOX) into every configured target, the first one primary. */
export function sweepInputOf(c: SweepSettings, opts: { dryRun?: boolean; mailbox?: string } = {}): SweepInput {
  return {
    target: c.targets[0]!,
    targets: c.targets,
    mailbox: opts.mailbox ?? c.mailbox,
    maxMessages: c.maxMessagesPerSweep,
    dryRun: opts.dryRun ?? c.dryRun,
    guardrails: c.guardrails,
    holdForApproval: c.holdForApproval,
    sourceTtls: c.sourceTtls,
    searchAttributes: c.searchAttributes,
  };
}
