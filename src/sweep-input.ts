/**
 * The sweep input from the settings: one pure function for every way a sweep starts (the CLI's `run`, the
 * Schedule's action and the worker's mailbox watch), so that a sweep behaves the same whoever started it.
 */
import type { ClientConfig } from './config';
import type { SweepInput } from './shared/types';

/**
 * A sweep of `opts.mailbox` (default IMAP_MAILBOX). Only what the starter asks for travels in the input: the
 * worker that runs the sweep supplies targets, limits, guardrails, hold-for-approval and TTLs from its own
 * settings (activity sweepPolicy), so a Schedule applied from one shell never freezes that shell's policy.
 * `target` stays because sweeps of older builds need it.
 */
export function sweepInputOf(
  c: Pick<ClientConfig, 'targets' | 'mailbox'>,
  opts: { dryRun?: boolean; mailbox?: string } = {},
): SweepInput {
  return {
    target: c.targets[0]!,
    mailbox: opts.mailbox ?? c.mailbox,
    ...(opts.dryRun ? { dryRun: true } : {}),
  };
}
