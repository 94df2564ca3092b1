/**
 * Back-off for the mailbox watch: how long to wait before reconnecting to IMAP, or before trying a failed sweep
 * again. Pure (the clock and the random source are arguments), so tests check every step.
 */

export interface BackoffOptions {
  initialMs: number;
  maxMs: number;
  /** Growth per failure; 2 doubles. */
  factor?: number;
}

/**
 * The delay before retry number `attempt` (0 first): exponential, capped at maxMs, with "equal jitter" (between
 * half and all of it) so that several workers that lost the same server do not come back in step.
 */
export function backoffDelay(attempt: number, opts: BackoffOptions, random: () => number = Math.random): number {
  const base = Math.min(opts.maxMs, opts.initialMs * Math.pow(opts.factor ?? 2, Math.max(0, attempt)));
  return Math.round(base / 2 + (base / 2) * Math.min(1, Math.max(0, random())));
}

/**
 * Failures in a row and the delay each one earns. A connection counts as recovered only after it has stayed
 * up for `stableMs`: a server that accepts and drops at once keeps backing off instead of being hammered (and
 * every reconnect starts a sweep).
 */
export class Backoff {
  private attempt = 0;
  private upSince: number | undefined;

  constructor(
    private readonly opts: BackoffOptions & { stableMs?: number },
    private readonly random: () => number = Math.random,
  ) {}

  /** Failures since the last success. */
  get failures(): number {
    return this.attempt;
  }

  /** The connection is up, or the sweep succeeded (stableMs 0: success resets at once). */
  succeeded(now: number): void {
    if (!this.opts.stableMs) this.attempt = 0;
    else this.upSince = now;
  }

  /** Something failed (a connection attempt, a dropped connection, a sweep): the delay before trying again. */
  failed(now: number): number {
    if (this.upSince !== undefined && now - this.upSince >= (this.opts.stableMs ?? 0)) this.attempt = 0;
    this.upSince = undefined;
    return backoffDelay(this.attempt++, this.opts, this.random);
  }
}
