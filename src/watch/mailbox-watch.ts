/**
 * The mailbox watch: the worker keeps one IMAP connection on the advisory mailbox and starts a sweep within a
 * second of new mail, instead of leaving it for the Schedule's next tick (the Schedule stays, as the backstop).
 *
 * - IMAP IDLE where the server offers it (the 'exists' event), else polling with NOOP every WATCH_POLL_INTERVAL.
 * - A burst of arrivals becomes one sweep (SweepTrigger: debounce WATCH_DEBOUNCE), and there is never a second
 *   sweep of the mailbox at once: the watch starts its sweeps under one fixed workflow id per mailbox, and waits
 *   for each to finish; mail that came meanwhile gets the next sweep right after.
 * - A dropped connection or a restarted server: reconnect with back-off (capped at 5 s; 5 min after a refused
 *   login), and always one sweep
 *   after reconnecting, which catches whatever came while the watch was blind. Nothing here crashes the worker:
 *   errors are logged and retried.
 */
import type { Client } from '@temporalio/client';
import type { Logger } from '@temporalio/common';
import type { ImapFlow } from 'imapflow';
import { connectImap, imapLoginHint, type ImapSettings } from '../activities/imap';
import type { WorkerConfig } from '../config';
import { mailboxSweepId } from '../shared/constants';
import type { SweepInput, SweepResult } from '../shared/types';
import { sweepInputOf } from '../sweep-input';
import { startOrJoinSweep } from '../sweep-start';
import { Backoff, type BackoffOptions } from './backoff';
import { SweepTrigger } from './trigger';

/** How the watch asks for a sweep; `again` says the sweep may have missed mail (run another one). */
export type StartSweep = () => Promise<{ again: boolean; result?: SweepResult; workflowId: string; joined: boolean }>;

export interface MailboxWatchOptions {
  imap: ImapSettings;
  mailbox: string;
  startSweep: StartSweep;
  /** WATCH_DEBOUNCE: quiet time after an arrival before the sweep starts. */
  debounceMs: number;
  /** Longest wait after the first arrival of a burst (default 4 × debounce, at least 1 s). */
  maxDelayMs?: number;
  /** WATCH_POLL_INTERVAL: how often to ask for news when the server has no IDLE. */
  pollIntervalMs: number;
  /** Reconnect back-off after a refused or dropped connection (default 0.5 s doubling to 5 s). */
  reconnect?: BackoffOptions;
  /** Back-off after the server refused the login (default 30 s doubling to 5 min). */
  loginRetry?: BackoffOptions;
  /** Back-off before a failed sweep is tried again (default 2 s doubling to 30 s). */
  sweepRetry?: BackoffOptions;
  logger: Pick<Logger, 'info' | 'warn' | 'error' | 'debug'>;
  /** Tests: a new IMAP client (default: the activities' client, same TLS and login rules). */
  connect?: (settings: ImapSettings, onError: (err: Error) => void) => Promise<ImapFlow>;
  now?: () => number;
}

/** What the watch is doing, for logs, health and tests. */
export interface WatchStatus {
  connected: boolean;
  mode?: 'idle' | 'poll';
  /** Sweeps the watch started (or joined) and saw finish. */
  sweeps: number;
  reconnects: number;
  lastError?: string;
}

/**
 * IDLE is restarted this often (servers drop an IDLE after 30 minutes; NATs forget quiet connections sooner),
 * which also notices a half-open connection within imapflow's socket timeout.
 */
const IDLE_RESTART_MS = 5 * 60_000;
/**
 * A server that is down or restarting is tried again soon and often: a connection attempt is one SYN, and the cap
 * bounds how long mail waits once the server is back, however long it was away (issue 12: blocked within 10 s
 * of Dovecot's return; a 30 s cap would let an outage of a minute cost up to 30 s more).
 */
const DEFAULT_RECONNECT: BackoffOptions = { initialMs: 500, maxMs: 5_000 };
/**
 * A refused login needs a person (a password or an app permission to fix): trying every few seconds would only
 * fill the server's log, and on hosted mail it can lock the account.
 */
const DEFAULT_LOGIN_RETRY: BackoffOptions = { initialMs: 30_000, maxMs: 5 * 60_000 };
/** A connection that stayed up this long counts as recovered (the back-off starts from the beginning again). */
const STABLE_CONNECTION_MS = 3_000;

export class MailboxWatch {
  private readonly trigger: SweepTrigger;
  private readonly reconnect: Backoff;
  private readonly loginRetry: Backoff;
  private readonly sweepRetry: Backoff;
  private readonly now: () => number;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private client: ImapFlow | undefined;
  private loop: Promise<void> | undefined;
  private wakeSleep: (() => void) | undefined;
  readonly status: WatchStatus = { connected: false, sweeps: 0, reconnects: 0 };

  constructor(private readonly opts: MailboxWatchOptions) {
    this.now = opts.now ?? Date.now;
    this.trigger = new SweepTrigger({
      debounceMs: opts.debounceMs,
      maxDelayMs: opts.maxDelayMs ?? Math.max(1000, 4 * opts.debounceMs),
    });
    this.reconnect = new Backoff({ ...(opts.reconnect ?? DEFAULT_RECONNECT), stableMs: STABLE_CONNECTION_MS });
    this.loginRetry = new Backoff(opts.loginRetry ?? DEFAULT_LOGIN_RETRY);
    this.sweepRetry = new Backoff(opts.sweepRetry ?? { initialMs: 2_000, maxMs: 30_000 });
  }

  /** 'idle': no sweep wanted; 'waiting': one is due soon (debounce); 'running': one runs. */
  get phase(): 'idle' | 'waiting' | 'running' {
    return this.trigger.state.phase;
  }

  /** Starts watching (returns at once; the connection is made in the background). */
  start(): this {
    this.loop ??= this.run();
    return this;
  }

  /** Stops watching: closes the connection, starts no more sweeps. A running sweep goes on in Temporal. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    this.wakeSleep?.();
    this.client?.close();
    // A connection attempt in flight ends within imapflow's timeouts; a drain does not wait that long for it.
    await Promise.race([this.loop, new Promise((r) => setTimeout(r, 2000).unref())]);
  }

  /** New mail, or a reconnect: a sweep soon (debounced), or right after the one that runs. */
  notify(why: string): void {
    if (this.stopped) return;
    this.opts.logger.debug('mailbox watch: sweep wanted', { mailbox: this.opts.mailbox, why });
    this.arm(this.trigger.arrival(this.now()));
  }

  private arm(at: number | undefined): void {
    if (at === undefined || this.stopped) return;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.fire(), Math.max(0, at - this.now()));
  }

  private fire(): void {
    if (this.stopped) return;
    if (!this.trigger.due(this.now())) return this.arm(this.trigger.pendingAt);
    // Not awaited by stop(): a sweep may outlive the watch (it is a workflow; a drain must not wait for it).
    void this.sweep();
  }

  private async sweep(): Promise<void> {
    let again = false;
    try {
      const s = await this.opts.startSweep();
      this.status.sweeps++;
      this.sweepRetry.succeeded(this.now());
      again = s.again;
      this.opts.logger.info('mailbox watch: sweep finished', {
        mailbox: this.opts.mailbox,
        workflowId: s.workflowId,
        joined: s.joined,
        messages: s.result?.messages.length,
        again,
      });
    } catch (err) {
      // Stopped: the client connection closing under us ends the wait; the sweep itself goes on in Temporal.
      if (this.stopped) return;
      // Temporal unreachable, or the sweep failed: try again after a back-off, so no arrival waits for the Schedule.
      const delay = this.sweepRetry.failed(this.now());
      this.status.lastError = (err as Error).message;
      this.opts.logger.error('mailbox watch: sweep failed; trying again', {
        mailbox: this.opts.mailbox,
        error: (err as Error).message,
        retryInMs: delay,
      });
      setTimeout(() => this.notify('retry after a failed sweep'), delay).unref();
    }
    this.arm(this.trigger.finished(this.now(), again));
  }

  private async run(): Promise<void> {
    while (!this.stopped) {
      let loginRefused = false;
      try {
        await this.watchOnce();
      } catch (err) {
        loginRefused = (err as { authenticationFailed?: boolean }).authenticationFailed === true;
        this.status.lastError = (err as Error).message;
        if (!this.stopped) {
          this.opts.logger.warn('mailbox watch: IMAP connection failed', {
            mailbox: this.opts.mailbox,
            error: describe(err, this.opts.imap),
          });
        }
      }
      this.status.connected = false;
      this.status.mode = undefined;
      if (this.stopped) break;
      const delay = loginRefused ? this.loginRetry.failed(this.now()) : this.reconnect.failed(this.now());
      this.status.reconnects++;
      this.opts.logger.info('mailbox watch: reconnecting', { mailbox: this.opts.mailbox, inMs: delay });
      await this.sleep(delay);
    }
  }

  /** One connection: open the mailbox, ask for a catch-up sweep, then IDLE (or poll) until it drops. */
  private async watchOnce(): Promise<void> {
    // The activities' connection: same TLS and login rules, and with OAuth2 one more try with a new token when
    // the server refuses a cached one. The error listener keeps a socket error from crashing the worker.
    const client = await (this.opts.connect ?? connectImap)(this.opts.imap, (err: Error) => {
      this.opts.logger.warn('mailbox watch: IMAP error', { mailbox: this.opts.mailbox, error: err.message });
    });
    this.client = client;
    client.on('exists', (d: { count: number; prevCount: number }) => {
      if (d.count > d.prevCount) this.notify(`exists ${d.prevCount} -> ${d.count}`);
    });
    const closed = new Promise<void>((resolve) => client.once('close', () => resolve()));
    try {
      if (this.stopped || !client.usable) return;
      // Read-only (EXAMINE): the watch only listens; sweeps use connections of their own.
      await client.mailboxOpen(this.opts.mailbox, { readOnly: true });
      const idle = client.capabilities.has('IDLE');
      // imapflow polls with NOOP where there is no IDLE, every maxIdleTime; with IDLE it restarts IDLE as often.
      client.maxIdleTime = idle ? IDLE_RESTART_MS : this.opts.pollIntervalMs;
      this.status.connected = true;
      this.status.mode = idle ? 'idle' : 'poll';
      this.reconnect.succeeded(this.now());
      this.loginRetry.succeeded(this.now());
      this.opts.logger.info('mailbox watch: watching', {
        mailbox: this.opts.mailbox,
        mode: this.status.mode,
        ...(idle ? {} : { pollIntervalMs: this.opts.pollIntervalMs }),
      });
      // Whatever arrived while we were not listening (start-up, a dropped connection) gets a sweep now.
      this.notify(this.status.reconnects === 0 ? 'watch started' : 'reconnected');
      while (!this.stopped && client.usable) {
        const started = this.now();
        await Promise.race([client.idle(), closed]);
        // idle() returns when IDLE is broken off; a return at once with nothing to listen to is a lost mailbox.
        if (this.now() - started < 50 && !this.stopped && client.usable && !client.mailbox) {
          throw new Error(`mailbox ${this.opts.mailbox} is no longer selected`);
        }
      }
    } finally {
      if (this.client === client) this.client = undefined;
      client.close();
    }
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const t = setTimeout(resolve, ms);
      this.wakeSleep = () => {
        clearTimeout(t);
        resolve();
      };
    });
  }
}

function describe(err: unknown, imap: ImapSettings): string {
  const e = err as Error & { code?: string; authenticationFailed?: boolean; responseText?: string };
  if (e.authenticationFailed) return `IMAP login failed — check ${imapLoginHint(imap)} (${e.message})`;
  return [e.code, e.responseText ?? e.message].filter(Boolean).join(': ');
}

/** The fixed workflow id of the watch's sweeps of one mailbox, shared with the Schedule and `mail2waf run`. */
export function watchSweepWorkflowId(scheduleId: string, mailbox: string): string {
  return mailboxSweepId(scheduleId, mailbox);
}

/**
 * Sweeps through Temporal under one fixed workflow id per mailbox. When that id is already running (another
 * worker's watch, or this worker's before a restart), the watch waits for that sweep instead of starting a
 * second one, and then asks for another: the running sweep may have listed the inbox before the new mail came.
 */
export function temporalSweeper(opts: {
  client: Client;
  taskQueue: string;
  workflowId: string;
  input: SweepInput;
  /** MAX_MESSAGES_PER_SWEEP of the worker that runs the sweep: a sweep that took that many may have left some. */
  maxMessages: number;
}): StartSweep {
  const { client, taskQueue, workflowId, input, maxMessages } = opts;
  return async () => {
    const { handle, joined } = await startOrJoinSweep(client, {
      workflowId,
      taskQueue,
      input,
      staticSummary: `sweep of mailbox ${input.mailbox}: new mail seen by the mailbox watch`,
    });
    const result = await handle.result();
    // A full sweep left mail for the next one.
    const full = result.messages.length >= (input.maxMessages ?? maxMessages);
    return { again: joined || full, result, workflowId, joined };
  };
}

/** The worker's watch from its settings: sweeps of IMAP_MAILBOX with the same input as `mail2waf run`. */
export function startMailboxWatch(
  config: WorkerConfig,
  client: Client,
  logger: MailboxWatchOptions['logger'],
  extra: Partial<MailboxWatchOptions> = {},
): MailboxWatch {
  const input = sweepInputOf(config);
  return new MailboxWatch({
    imap: config.imap,
    mailbox: config.mailbox,
    debounceMs: config.watch.debounceMs,
    pollIntervalMs: config.watch.pollIntervalMs,
    logger,
    startSweep: temporalSweeper({
      client,
      taskQueue: config.taskQueue,
      workflowId: watchSweepWorkflowId(config.scheduleId, config.mailbox),
      input,
      maxMessages: config.maxMessagesPerSweep,
    }),
    ...extra,
  }).start();
}
