/**
 * When the mailbox watch starts a sweep: a pure state machine, fed with the current time, that the watch drives
 * with timers. It turns a burst of arrivals into one sweep (a short debounce, bounded so that a steady trickle
 * of mail still gets swept), never asks for a second sweep while one runs, and remembers mail that arrived
 * during a sweep so that another one follows at once instead of waiting for the Schedule.
 */

export interface TriggerOptions {
  /** Quiet time after the last arrival before the sweep starts (WATCH_DEBOUNCE). */
  debounceMs: number;
  /** Longest a sweep waits after the first arrival of a burst, however long the burst goes on. */
  maxDelayMs: number;
}

export type TriggerPhase = 'idle' | 'waiting' | 'running';

export class SweepTrigger {
  private phase: TriggerPhase = 'idle';
  private firstAt = 0;
  private dueAt = 0;
  private lastArrivalAt: number | undefined;
  /** Mail arrived while a sweep ran: that sweep may have listed the inbox before it came. */
  private dirty = false;

  constructor(private readonly opts: TriggerOptions) {}

  get state(): { phase: TriggerPhase; dueAt?: number; dirty: boolean } {
    return { phase: this.phase, ...(this.phase === 'waiting' ? { dueAt: this.dueAt } : {}), dirty: this.dirty };
  }

  /**
   * New mail (or a reconnect, after which the watch cannot know what it missed). Returns when the next sweep is
   * due, for the caller's timer; undefined while a sweep runs (the arrival is remembered for after it).
   */
  arrival(now: number): number | undefined {
    this.lastArrivalAt = now;
    switch (this.phase) {
      case 'running':
        this.dirty = true;
        return undefined;
      case 'idle':
        this.phase = 'waiting';
        this.firstAt = now;
        this.dueAt = now + this.opts.debounceMs;
        return this.dueAt;
      case 'waiting':
        this.dueAt = Math.min(now + this.opts.debounceMs, this.firstAt + this.opts.maxDelayMs);
        return this.dueAt;
    }
  }

  /** The caller's timer fired: true means start the sweep now (the trigger is then running until `finished`). */
  due(now: number): boolean {
    if (this.phase !== 'waiting' || now < this.dueAt) return false;
    this.phase = 'running';
    this.dirty = false;
    return true;
  }

  /** When a waiting trigger is due (for a timer that fired early), else undefined. */
  get pendingAt(): number | undefined {
    return this.phase === 'waiting' ? this.dueAt : undefined;
  }

  /**
   * The sweep ended. `again`: it may have missed mail even without a new arrival (it joined a sweep that was
   * already running, or it stopped at its message limit). Returns when the next sweep is due, or undefined.
   */
  finished(now: number, again = false): number | undefined {
    if (this.phase !== 'running') return this.pendingAt;
    if (!this.dirty && !again) {
      this.phase = 'idle';
      return undefined;
    }
    // Arrivals during the sweep have waited already; only a burst still going on gets its debounce.
    const settleAt = this.dirty && this.lastArrivalAt !== undefined ? this.lastArrivalAt + this.opts.debounceMs : now;
    this.phase = 'waiting';
    this.dirty = false;
    this.firstAt = now;
    this.dueAt = Math.max(now, Math.min(settleAt, now + this.opts.maxDelayMs));
    return this.dueAt;
  }
}
