/** mail2waf's registry: what each counting hook adds, gauges computed at scrape time, the /metrics route. */
import { ApplicationFailure } from '@temporalio/common';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Metrics, metricsRoute } from '../../src/metrics';
import type { SweepResult, TargetRef } from '../../src/shared/types';

const target = { name: 'web' } as TargetRef;

async function sample(m: Metrics, name: string, labels: Record<string, string> = {}): Promise<number | undefined> {
  const metric = (await m.registry.getMetricsAsJSON()).find((x) => x.name === name);
  const hit = (metric?.values ?? []).find((v) =>
    Object.entries(labels).every(([k, want]) => String((v.labels as Record<string, unknown>)[k]) === want),
  );
  return hit?.value;
}

describe('Metrics', () => {
  it('counts a reported sweep by outcome and its messages by verdict and reason; dry runs count only the sweep', async () => {
    const m = new Metrics();
    const result = {
      sweepId: 's',
      mailbox: 'INBOX',
      dryRun: false,
      messages: [
        { uid: 1, status: 'processed', indicators: [], indicatorCount: 1, notes: [] },
        { uid: 2, status: 'quarantined', reasonCode: 'untrusted-sender', indicators: [], indicatorCount: 0, notes: [] },
      ],
      block: { added: ['1.2.3.4'], alreadyPresent: [], refused: [], synced: true },
    } as SweepResult;
    m.sweepReported(result);
    m.sweepReported({ ...result, dryRun: true });
    expect(await sample(m, 'mail2waf_sweeps_total', { outcome: 'blocked' })).toBe(1);
    expect(await sample(m, 'mail2waf_sweeps_total', { outcome: 'dry-run' })).toBe(1);
    expect(await sample(m, 'mail2waf_messages_total', { verdict: 'processed', reason: '' })).toBe(1);
    expect(await sample(m, 'mail2waf_messages_total', { verdict: 'quarantined', reason: 'untrusted-sender' })).toBe(1);
  });

  it('counts block answers by action and refusal reason; expiries and evictions the answer reports are not counted there', async () => {
    const m = new Metrics();
    m.blockAnswered(target, {
      added: ['1.2.3.4', '5.6.7.8'],
      alreadyPresent: ['9.9.9.9'],
      refused: [
        { value: '10.0.0.1', code: 'never-block', reason: 'private' },
        { value: '0.0.0.0/0', code: 'too-broad', reason: '/0' },
      ],
      synced: true,
      expired: ['4.4.4.4'],
      evicted: ['4.4.4.5'],
    });
    expect(await sample(m, 'mail2waf_addresses_total', { target: 'web', action: 'blocked' })).toBe(2);
    expect(await sample(m, 'mail2waf_addresses_total', { action: 'renewed' })).toBe(1);
    expect(await sample(m, 'mail2waf_addresses_total', { action: 'refused', reason: 'never-block' })).toBe(1);
    expect(await sample(m, 'mail2waf_addresses_total', { action: 'refused', reason: 'too-broad' })).toBe(1);
    expect(await sample(m, 'mail2waf_addresses_total', { action: 'expired' })).toBeUndefined();
    expect(await sample(m, 'mail2waf_addresses_total', { action: 'evicted' })).toBeUndefined();
  });

  it('labels the addresses a write removed by why they left', async () => {
    const m = new Metrics();
    m.addressesRemoved(target, 'expired', 3);
    m.addressesRemoved(target, 'update', 1);
    m.addressesRemoved(target, 'signal', 2);
    m.addressesRemoved(target, 'policy', 1);
    m.addressesRemoved(target, 'evicted', 1);
    expect(await sample(m, 'mail2waf_addresses_total', { target: 'web', action: 'expired', reason: '' })).toBe(3);
    expect(await sample(m, 'mail2waf_addresses_total', { action: 'unblocked', reason: 'update' })).toBe(1);
    expect(await sample(m, 'mail2waf_addresses_total', { action: 'unblocked', reason: 'signal' })).toBe(2);
    expect(await sample(m, 'mail2waf_addresses_total', { action: 'unblocked', reason: 'policy' })).toBe(1);
    expect(await sample(m, 'mail2waf_addresses_total', { action: 'evicted', reason: 'capacity' })).toBe(1);
  });

  it('measures IP set fill against the ceiling, and throttles from AWS error names', async () => {
    const m = new Metrics({ ipSetCapacity: 200 });
    m.ipSetSize(target, 'web-v4', 4, 170);
    expect(await sample(m, 'mail2waf_ipset_entries', { ip_set: 'web-v4', ip_version: '4' })).toBe(170);
    expect(await sample(m, 'mail2waf_ipset_fill_ratio', { ip_set: 'web-v4' })).toBeCloseTo(0.85);
    m.wafError(target, Object.assign(new Error('slow down'), { name: 'ThrottlingException' }));
    m.wafError(target, Object.assign(new Error('x'), { name: 'Other', $metadata: { httpStatusCode: 429 } }));
    m.wafError(target, new Error('other'));
    expect(await sample(m, 'mail2waf_waf_throttles_total', { target: 'web' })).toBe(2);
  });

  it('counts activity failures by type, and a failed sweep once per run from the alert it raises', async () => {
    const m = new Metrics();
    m.activityFailed('listPending', ApplicationFailure.nonRetryable('x', 'ImapAuthFailed'));
    m.activityFailed('listPending', ApplicationFailure.retryable('x', 'ImapError'));
    m.activityFailed('syncIpSets', Object.assign(new Error('x'), { name: 'TimeoutError' }));
    expect(
      await sample(m, 'mail2waf_activity_failures_total', { activity: 'listPending', error_type: 'ImapError' }),
    ).toBe(1);
    expect(await sample(m, 'mail2waf_activity_failures_total', { error_type: 'TimeoutError' })).toBe(1);
    expect(await sample(m, 'mail2waf_sweeps_total', { outcome: 'failed' })).toBeUndefined();

    m.alertEvent('sweep-failed:INBOX', 'raise', 'run-1');
    m.alertEvent('sweep-failed:INBOX', 'raise', 'run-1'); // the alert activity retried
    m.alertEvent('sweep-failed:INBOX', 'raise', 'run-2');
    m.alertEvent('sweep-failed:INBOX', 'clear', 'run-3');
    m.alertEvent('sync-failing:web', 'raise', 'blocklist-run');
    expect(await sample(m, 'mail2waf_sweeps_total', { outcome: 'failed' })).toBe(2);
    expect(await sample(m, 'mail2waf_alert_events_total', { kind: 'sweep-failed', action: 'raise' })).toBe(3);
    expect(await sample(m, 'mail2waf_alert_events_total', { kind: 'sync-failing', action: 'raise' })).toBe(1);
  });

  it('computes the inbox age and the token failures at scrape time; an empty listing counts an empty sweep', async () => {
    let now = 1_000_000;
    const source = { provider: 'entra', failed: 0 };
    const m = new Metrics({ now: () => now, tokenSources: [source] });
    m.mailboxListed('INBOX', 3, now - 30_000);
    expect(await sample(m, 'mail2waf_inbox_oldest_message_age_seconds', { mailbox: 'INBOX' })).toBe(30);
    now += 60_000;
    expect(await sample(m, 'mail2waf_inbox_oldest_message_age_seconds', { mailbox: 'INBOX' })).toBe(90);
    expect(await sample(m, 'mail2waf_oauth2_token_failures_total', { provider: 'entra' })).toBe(0);
    source.failed = 2;
    expect(await sample(m, 'mail2waf_oauth2_token_failures_total', { provider: 'entra' })).toBe(2);
    m.mailboxListed('INBOX', 0, undefined);
    expect(await sample(m, 'mail2waf_inbox_oldest_message_age_seconds', { mailbox: 'INBOX' })).toBeUndefined();
    expect(await sample(m, 'mail2waf_sweeps_total', { outcome: 'empty' })).toBe(1);
  });

  it('asks for pending approvals at scrape time and keeps the last answer when visibility fails', async () => {
    const m = new Metrics();
    let answer: () => Promise<number> = async () => 3;
    m.countPendingApprovals(() => answer());
    expect(await sample(m, 'mail2waf_approvals_pending')).toBe(3);
    answer = async () => {
      throw new Error('visibility down');
    };
    expect(await sample(m, 'mail2waf_approvals_pending')).toBe(3);
  });

  it('two registries never share counts (one per worker process, no module singleton)', async () => {
    const a = new Metrics();
    const b = new Metrics();
    a.wafLockConflict(target);
    expect(await sample(a, 'mail2waf_waf_lock_conflicts_total')).toBe(1);
    expect(await sample(b, 'mail2waf_waf_lock_conflicts_total')).toBeUndefined();
  });
});

describe('metricsRoute', () => {
  it("serves our registry followed by the SDK exporter's text, or says the SDK did not answer", async () => {
    const sdk = createServer((_req, res) => res.end('# TYPE temporal_x_total counter\ntemporal_x_total 7\n'));
    await new Promise<void>((r) => sdk.listen(0, '127.0.0.1', r));
    const sdkPort = (sdk.address() as AddressInfo).port;
    const m = new Metrics();
    m.wafLockConflict(target);
    const serve = (url?: string) => {
      const s = createServer((req, res) => void metricsRoute(m, url)(req, res));
      return new Promise<{ text: string; type: string | null }>((resolve) =>
        s.listen(0, '127.0.0.1', async () => {
          const res = await fetch(`http://127.0.0.1:${(s.address() as AddressInfo).port}/metrics`);
          resolve({ text: await res.text(), type: res.headers.get('content-type') });
          s.close();
        }),
      );
    };
    try {
      const both = await serve(`http://127.0.0.1:${sdkPort}/metrics`);
      expect(both.type).toMatch(/^text\/plain/);
      expect(both.text).toMatch(/^mail2waf_waf_lock_conflicts_total\{target="web"\} 1$/m);
      expect(both.text).toMatch(/^temporal_x_total 7$/m);
      const down = await serve('http://127.0.0.1:1/metrics');
      expect(down.text).toMatch(/^mail2waf_waf_lock_conflicts_total/m);
      expect(down.text).toMatch(/^# the Temporal SDK's metrics did not answer/m);
    } finally {
      sdk.close();
    }
  });
});
