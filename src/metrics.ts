/**
 * mail2waf's own Prometheus metrics, one registry per worker process (made in worker.ts and handed to the
 * activities through createActivities' deps: no module singleton, so tests and in-process workers never share
 * counts). Counters count what happened in this process since it started, as Prometheus expects (`rate()` and
 * `increase()` absorb restarts); the durable truth stays in Temporal's histories.
 *
 * Counting happens where things happen, never in workflow code (workflow code replays, and a counter there would
 * count every replay): in the activities (analyzeMessage's verdict reaches us through sendReport, which runs once
 * per sweep with the sweep's result; an empty sweep in listPending; a failed sweep in the `alert` activity its
 * failure raises; recordBlocks' answer; syncIpSets' reads and writes, and the addresses its writes remove, by the
 * reason the blocklist workflow put in the plan), in an activity interceptor (failed attempts), and at scrape time
 * (pending approvals from Temporal's visibility, the inbox age from the last listing, token failures from the token
 * source).
 *
 * `/metrics` serves this registry followed by the Temporal SDK's own runtime metrics, which the SDK exports on a
 * loopback port of its own (Runtime telemetry options); see `metricsRoute`.
 */
import { Counter, Gauge, Registry } from 'prom-client';
import { ApplicationFailure } from '@temporalio/common';
import type {
  ActivityInboundCallsInterceptor,
  ActivityInterceptorsFactory,
  ActivityOutboundCallsInterceptor,
} from '@temporalio/worker';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer, type AddressInfo } from 'node:net';
import { AWS_IPSET_LIMIT } from './policy/blocklist';
import { sweepOutcomeWord } from './policy/sweep-plan';
import type { BlockResult, RemovalReason, SweepResult, TargetRef } from './shared/types';
import { withTimeout } from './with-timeout';

/** How each removal reason is labelled in mail2waf_addresses_total. */
const REMOVAL_LABELS: Record<RemovalReason, { action: string; reason: string }> = {
  expired: { action: 'expired', reason: '' },
  update: { action: 'unblocked', reason: 'update' },
  signal: { action: 'unblocked', reason: 'signal' },
  policy: { action: 'unblocked', reason: 'policy' },
  evicted: { action: 'evicted', reason: 'capacity' },
};

/** A token source as the metrics see it: how many token requests failed so far (src/oauth). */
export interface TokenSourceStats {
  readonly provider: string;
  readonly failed: number;
}

export interface MetricsOptions {
  /** The ceiling an IP set's fill ratio is measured against (the policy's maxEntriesPerSet, at most AWS's 10,000). */
  ipSetCapacity?: number;
  /** OAuth2 token sources of the mail logins, read at scrape time. */
  tokenSources?: TokenSourceStats[];
  now?: () => number;
}

/** What activities get through createActivities' deps; absent, nothing is counted (tools that run activities). */
export interface MetricsDeps {
  metrics?: Metrics;
}

/** Every metric of mail2waf, in one registry. */
export class Metrics {
  readonly registry = new Registry();
  private readonly capacity: number;
  private readonly now: () => number;
  /** Arrival time (ms) of the oldest message waiting in each mailbox at its last listing; absent: none waiting. */
  private readonly oldestWaiting = new Map<string, number>();
  /** Sweep runs already counted as failed (bounded). */
  private readonly failedRuns = new Set<string>();

  readonly sweeps: Counter<'outcome'>;
  readonly messages: Counter<'verdict' | 'reason'>;
  readonly addresses: Counter<'target' | 'action' | 'reason'>;
  readonly wafRequests: Counter<'target' | 'operation' | 'result'>;
  readonly wafLockConflicts: Counter<'target'>;
  readonly wafThrottles: Counter<'target'>;
  readonly wafSyncs: Counter<'target' | 'result'>;
  readonly ipSetEntries: Gauge<'target' | 'ip_set' | 'ip_version'>;
  readonly ipSetFill: Gauge<'target' | 'ip_set' | 'ip_version'>;
  readonly activityFailures: Counter<'activity' | 'error_type'>;
  readonly alertEvents: Counter<'kind' | 'action'>;
  readonly tokenFailures: Counter<'provider'>;

  constructor(opts: MetricsOptions = {}) {
    this.capacity = Math.min(opts.ipSetCapacity ?? AWS_IPSET_LIMIT, AWS_IPSET_LIMIT);
    this.now = opts.now ?? Date.now;
    const registers = [this.registry];
    this.sweeps = new Counter({
      name: 'mail2waf_sweeps_total',
      help: 'Sweeps of the mailbox by outcome (blocked, quarantined, held, nothing-new, empty, dry-run, failed).',
      labelNames: ['outcome'],
      registers,
    });
    this.messages = new Counter({
      name: 'mail2waf_messages_total',
      help: 'Messages decided by sweeps, by verdict (processed, quarantined, held, gone) and reason code.',
      labelNames: ['verdict', 'reason'],
      registers,
    });
    this.addresses = new Counter({
      name: 'mail2waf_addresses_total',
      help: 'Addresses by what happened to them: blocked, renewed, refused (reason = refusal code) when a block is answered; expired, unblocked (reason = update, signal or policy) and evicted (reason = capacity) when a write takes them out of the IP set.',
      labelNames: ['target', 'action', 'reason'],
      registers,
    });
    this.wafRequests = new Counter({
      name: 'mail2waf_waf_requests_total',
      help: 'AWS WAF calls of the sync activity by operation (read = GetIPSet, or a failed ListIPSets lookup; write = UpdateIPSet) and result.',
      labelNames: ['target', 'operation', 'result'],
      registers,
    });
    this.wafLockConflicts = new Counter({
      name: 'mail2waf_waf_lock_conflicts_total',
      help: 'UpdateIPSet calls refused with WAFOptimisticLockException (someone else wrote the set meanwhile).',
      labelNames: ['target'],
      registers,
    });
    this.wafThrottles = new Counter({
      name: 'mail2waf_waf_throttles_total',
      help: 'AWS WAF calls refused as throttled (ThrottlingException, WAFLimitsExceededException, HTTP 429).',
      labelNames: ['target'],
      registers,
    });
    this.wafSyncs = new Counter({
      name: 'mail2waf_waf_syncs_total',
      help: 'Sync activity attempts per target by result (ok, failed).',
      labelNames: ['target', 'result'],
      registers,
    });
    this.ipSetEntries = new Gauge({
      name: 'mail2waf_ipset_entries',
      help: 'Entries in the IP set (ours and others) at its last sync by this worker.',
      labelNames: ['target', 'ip_set', 'ip_version'],
      registers,
    });
    this.ipSetFill = new Gauge({
      name: 'mail2waf_ipset_fill_ratio',
      help: "Entries in the IP set over its ceiling (the policy's maxEntriesPerSet, at most 10,000), 0 to 1.",
      labelNames: ['target', 'ip_set', 'ip_version'],
      registers,
    });
    this.activityFailures = new Counter({
      name: 'mail2waf_activity_failures_total',
      help: 'Failed activity attempts by activity and error type.',
      labelNames: ['activity', 'error_type'],
      registers,
    });
    this.alertEvents = new Counter({
      name: 'mail2waf_alert_events_total',
      help: 'Alert conditions raised or cleared by kind (sweep-failed, sync-failing, approval-expiring); the alerts workflow mails once per condition.',
      labelNames: ['kind', 'action'],
      registers,
    });
    const sources = [...new Set(opts.tokenSources ?? [])];
    const seen = new Map<TokenSourceStats, number>();
    this.tokenFailures = new Counter({
      name: 'mail2waf_oauth2_token_failures_total',
      help: 'OAuth2 access token requests (first fetch or refresh) that failed, by provider.',
      labelNames: ['provider'],
      registers,
      collect() {
        for (const s of sources) {
          const delta = s.failed - (seen.get(s) ?? 0);
          seen.set(s, s.failed);
          // inc by 0 still exports the series, so that an alert on it has something to read from the start.
          this.inc({ provider: s.provider }, Math.max(0, delta));
        }
      },
    });
    const oldest = this.oldestWaiting;
    const now = this.now;
    new Gauge({
      name: 'mail2waf_inbox_oldest_message_age_seconds',
      help: 'Age of the oldest message waiting in the mailbox (not held for approval) at the last listing; it keeps rising while sweeps fail.',
      labelNames: ['mailbox'],
      registers,
      collect() {
        this.reset();
        for (const [mailbox, arrived] of oldest) this.set({ mailbox }, Math.max(0, (now() - arrived) / 1000));
      },
    });
    let last: number | undefined;
    const pendingCount = () => this.pendingApprovals;
    new Gauge({
      name: 'mail2waf_approvals_pending',
      help: 'Approval workflows waiting for a decision (Temporal visibility, asked at scrape time).',
      registers,
      async collect() {
        const count = pendingCount();
        if (!count) return;
        // A slow or failing visibility query must not fail the scrape: the last answer stays.
        last = await withTimeout(count(), 3_000).catch(() => last);
        if (last !== undefined) this.set(last);
      },
    });
  }

  private pendingApprovals: (() => Promise<number>) | undefined;

  /** How to count pending approvals at scrape time (the worker's Temporal client exists after the registry). */
  countPendingApprovals(count: () => Promise<number>): void {
    this.pendingApprovals = count;
  }

  /** sendReport ran for a sweep (once per sweep that saw messages): its outcome and every message's verdict. */
  sweepReported(result: SweepResult): void {
    this.sweeps.inc({ outcome: result.dryRun ? 'dry-run' : sweepOutcomeWord(result) });
    if (result.dryRun) return;
    for (const m of result.messages) {
      this.messages.inc({ verdict: m.status, reason: m.status === 'processed' ? '' : (m.reasonCode ?? '') });
    }
  }

  /** listPending ran: no message waiting means the sweep ends without a report (outcome `empty`). */
  mailboxListed(mailbox: string, waiting: number, oldestArrival: number | undefined): void {
    if (oldestArrival === undefined) this.oldestWaiting.delete(mailbox);
    else this.oldestWaiting.set(mailbox, oldestArrival);
    if (waiting === 0) this.sweeps.inc({ outcome: 'empty' });
  }

  /** The blocklist's answer to a (non-preview) block request. */
  blockAnswered(target: TargetRef, r: BlockResult): void {
    const t = target.name;
    this.addresses.inc({ target: t, action: 'blocked', reason: '' }, r.added.length);
    this.addresses.inc({ target: t, action: 'renewed', reason: '' }, r.alreadyPresent.length);
    for (const refusal of r.refused) this.addresses.inc({ target: t, action: 'refused', reason: refusal.code });
    // The answer's expired and evicted lists are news for the report; they are counted when a write removes them.
  }

  /**
   * A sync's write took these addresses out of an IP set (syncIpSets), whatever took them out of the blocklist:
   * expiry, an unblock Update or Signal, a policy change, or an eviction.
   */
  addressesRemoved(target: TargetRef, reason: RemovalReason, count: number): void {
    this.addresses.inc({ target: target.name, ...REMOVAL_LABELS[reason] }, count);
  }

  wafCall(target: TargetRef, operation: 'read' | 'write', result: 'ok' | 'error'): void {
    this.wafRequests.inc({ target: target.name, operation, result });
  }

  wafLockConflict(target: TargetRef): void {
    this.wafLockConflicts.inc({ target: target.name });
  }

  /** A failed WAF call: counted as a throttle when AWS said so. */
  wafError(target: TargetRef, err: unknown): void {
    const e = err as { name?: string; $metadata?: { httpStatusCode?: number } };
    if (
      e.name === 'ThrottlingException' ||
      e.name === 'WAFLimitsExceededException' ||
      e.$metadata?.httpStatusCode === 429
    ) {
      this.wafThrottles.inc({ target: target.name });
    }
  }

  wafSynced(target: TargetRef, ok: boolean): void {
    this.wafSyncs.inc({ target: target.name, result: ok ? 'ok' : 'failed' });
  }

  /** An IP set's size as read (or written) by the sync activity. */
  ipSetSize(target: TargetRef, ipSet: string, version: 4 | 6, entries: number): void {
    const labels = { target: target.name, ip_set: ipSet, ip_version: String(version) };
    this.ipSetEntries.set(labels, entries);
    this.ipSetFill.set(labels, entries / this.capacity);
  }

  /** An activity attempt failed (from the interceptor), by activity and error type. */
  activityFailed(activity: string, err: unknown): void {
    const type =
      err instanceof ApplicationFailure ? (err.type ?? 'ApplicationFailure') : ((err as Error)?.name ?? 'Error');
    this.activityFailures.inc({ activity, error_type: type });
  }

  /**
   * The `alert` activity raised or cleared a condition (`sweep-failed:<mailbox>`, `sync-failing:<target>`,
   * `approval-expiring:<id>`). A failed sweep raises `sweep-failed` on its way out, whatever failed it (a refused
   * login at once, or IMAP trouble after its last retry): counted here once per sweep run.
   */
  alertEvent(condition: string, action: 'raise' | 'clear', runId?: string): void {
    const kind = condition.split(':')[0]!;
    this.alertEvents.inc({ kind, action });
    if (kind !== 'sweep-failed' || action !== 'raise') return;
    if (runId !== undefined) {
      // A retried alert activity must not count the sweep twice.
      if (this.failedRuns.has(runId)) return;
      this.failedRuns.add(runId);
      if (this.failedRuns.size > 1000) this.failedRuns.delete(this.failedRuns.values().next().value!);
    }
    this.sweeps.inc({ outcome: 'failed' });
  }

  /** The exposition text of mail2waf's own metrics. */
  text(): Promise<string> {
    return this.registry.metrics();
  }
}

/**
 * Activity interceptor (worker process, not the workflow sandbox): counts failed activity attempts, and adds the
 * protected target, where an activity's input names one, to the activity's log lines.
 */
export function activityMetricsInterceptor(metrics: Metrics): ActivityInterceptorsFactory {
  return (ctx) => {
    let target: string | undefined;
    const inbound: ActivityInboundCallsInterceptor = {
      async execute(input, next) {
        const arg = input.args[0] as { target?: { name?: unknown } } | undefined;
        if (typeof arg?.target?.name === 'string') target = arg.target.name;
        try {
          return await next(input);
        } catch (err) {
          metrics.activityFailed(ctx.info.activityType, err);
          throw err;
        }
      },
    };
    const outbound: ActivityOutboundCallsInterceptor = {
      getLogAttributes: (input, next) => next(target === undefined ? input : { ...input, target }),
    };
    return { inbound, outbound };
  };
}

/** A free TCP port on loopback, for the Temporal SDK's exporter (which cannot report the port it bound). */
export function freeLoopbackPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/**
 * The `/metrics` route: mail2waf's registry, then the Temporal SDK's runtime metrics fetched from the SDK's own
 * exporter on loopback (`sdkMetricsUrl`). The SDK exporter cannot share our port (it is a server in the native
 * core), so it binds a loopback port nobody else scrapes and this route concatenates the two expositions; the
 * names cannot clash (`mail2waf_` vs `temporal_`). Should the SDK exporter not answer, our metrics are still
 * served, with a comment saying so.
 */
export function metricsRoute(
  metrics: Metrics,
  sdkMetricsUrl?: string,
): (req: IncomingMessage, res: ServerResponse) => Promise<void> {
  return async (req, res) => {
    let body = await metrics.text();
    if (sdkMetricsUrl) {
      try {
        const answer = await fetch(sdkMetricsUrl, { signal: AbortSignal.timeout(3_000) });
        if (!answer.ok) throw new Error(`HTTP ${answer.status}`);
        const sdk = await answer.text();
        body += (body.endsWith('\n') ? '' : '\n') + sdk + (sdk.endsWith('\n') ? '' : '\n');
      } catch (err) {
        body += `# the Temporal SDK's metrics did not answer: ${(err as Error).message}\n`;
      }
    }
    res.writeHead(200, {
      'content-type': metrics.registry.contentType,
      'cache-control': 'no-store',
      'content-length': Buffer.byteLength(body),
    });
    res.end(req.method === 'HEAD' ? undefined : body);
  };
}
