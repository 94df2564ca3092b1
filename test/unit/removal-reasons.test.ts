/**
 * Why an address left the blocklist travels from the blocklist's state into the sync plan (pure rules of
 * src/policy/blocklist.ts, which the entity calls), and the sync activity counts, per reason, only what its write
 * really took out of our blocking (`departures` in src/activities/waf.ts).
 */
import { departures, mergeIpSet } from '../../src/activities/waf';
import {
  applyBlock,
  applyPolicy,
  applyUnblock,
  desiredIpSets,
  emptyBlocklistState,
  expireDue,
  recordRemovals,
  settleRemovals,
} from '../../src/policy/blocklist';
import { packState, unpackState } from '../../src/policy/state-pack';
import type { BlockCandidate, BlockPolicy, BlocklistState, SyncReport } from '../../src/shared/types';

const t0 = '2026-11-01T00:00:00.000Z';
const later = '2026-11-01T00:10:00.000Z';
const policy: BlockPolicy = { neverBlock: [], minPrefixV4: 16, minPrefixV6: 32 };
const msg = (value: string, ttlMs?: number): BlockCandidate => ({
  value,
  source: { kind: 'message', ref: '<a@x>', at: t0 },
  ...(ttlMs !== undefined ? { ttlMs } : {}),
});
const side = (n: number) => ({ added: n, removed: 0, foreign: 0, total: n, wrote: n > 0 });
const report: SyncReport = { at: t0, v4: side(1), v6: side(0), foreign: { v4: [], v6: [] } };

/** A state with these entries, all written by one earlier sync (as the entity's syncDone leaves it). */
function synced(values: string[], ttlMs?: number): BlocklistState {
  const s = emptyBlocklistState();
  s.policy = policy;
  applyBlock(s, { requestId: 'a', candidates: values.map((v) => msg(v, ttlMs)) }, t0);
  const plan = desiredIpSets(s);
  settleRemovals(s, plan);
  s.written = { v4: plan.v4.ours, v6: plan.v6.ours };
  s.lastSync = report;
  return s;
}

describe('the plan carries why each removed value left', () => {
  test('expiry, an unblock by Update and by Signal, and a policy change each keep their own reason', () => {
    const s = synced(['185.220.101.1', '185.220.101.3', '185.220.101.5', '2a03:b0c0:3:d0::1a4f:1']);
    s.entries['185.220.101.1']!.expiresAt = t0;
    recordRemovals(s, expireDue(s, later), 'expired');
    recordRemovals(
      s,
      applyUnblock(s, { value: '185.220.101.3', actor: 'alice', reason: 'fp' }, later).removed,
      'update',
    );
    recordRemovals(
      s,
      applyUnblock(s, { value: '2a03:b0c0:3:d0::1a4f:1', actor: 'bob', reason: 'fp' }, later).removed,
      'signal',
    );
    const forbidden = applyPolicy(s, { ...policy, neverBlock: [{ cidr: '185.220.101.5/32', label: 'ours' }] }, later);
    recordRemovals(
      s,
      forbidden.map((r) => r.value),
      'policy',
    );

    const plan = desiredIpSets(s);
    expect(plan.v4.reasons).toEqual({
      '185.220.101.1': 'expired',
      '185.220.101.3': 'update',
      '185.220.101.5': 'policy',
    });
    expect(plan.v6.reasons).toEqual({ '2a03:b0c0:3:d0::1a4f:1': 'signal' });
  });

  test('an eviction from a full set is recorded by the caller from the answer', () => {
    const s = synced(['185.220.101.1'], 60_000);
    s.policy = { ...policy, maxEntriesPerSet: 1, whenFull: 'evict' };
    const answer = applyBlock(s, { requestId: 'b', candidates: [msg('185.220.101.2', 120_000)] }, later);
    recordRemovals(s, answer.evicted ?? [], 'evicted');
    expect(desiredIpSets(s).v4.reasons).toEqual({ '185.220.101.1': 'evicted' });
  });

  test('a value blocked again before the sync is no longer a removal, and carries no reason', () => {
    const s = synced(['185.220.101.1']);
    recordRemovals(s, applyUnblock(s, { value: '185.220.101.1', actor: 'a', reason: 'r' }, later).removed, 'update');
    applyBlock(s, { requestId: 'c', candidates: [msg('185.220.101.1')] }, later);
    const plan = desiredIpSets(s);
    expect(plan.v4.remove).toEqual([]);
    expect(plan.v4.reasons).toBeUndefined();
  });

  test('a successful sync forgets the reasons of the removals it carried, not of those queued meanwhile', () => {
    const s = synced(['185.220.101.1', '185.220.101.3']);
    recordRemovals(s, applyUnblock(s, { value: '185.220.101.1', actor: 'a', reason: 'r' }, later).removed, 'update');
    const plan = desiredIpSets(s);
    recordRemovals(s, applyUnblock(s, { value: '185.220.101.3', actor: 'a', reason: 'r' }, later).removed, 'signal');
    settleRemovals(s, plan);
    expect(s.pendingRemovals).toEqual(['185.220.101.3']);
    expect(s.removedBecause).toEqual({ '185.220.101.3': 'signal' });
    settleRemovals(s, desiredIpSets(s));
    expect(s.pendingRemovals).toEqual([]);
    expect(s.removedBecause).toBeUndefined();
  });

  test('the reasons cross continue-as-new in the packed state, and a state packed before them still loads', () => {
    const s = synced(['185.220.101.1']);
    recordRemovals(s, applyUnblock(s, { value: '185.220.101.1', actor: 'a', reason: 'r' }, later).removed, 'signal');
    expect(desiredIpSets(unpackState(packState(s))).v4.reasons).toEqual({ '185.220.101.1': 'signal' });

    const old = synced(['185.220.101.1']);
    applyUnblock(old, { value: '185.220.101.1', actor: 'a', reason: 'r' }, later);
    const plan = desiredIpSets(unpackState(packState(old)));
    expect(plan.v4.remove).toEqual(['185.220.101.1']);
    expect(plan.v4.reasons).toBeUndefined();
  });
});

describe('departures: what a write really took out, by reason', () => {
  test('a value removed by the write counts under its reason; one already absent does not', () => {
    const m = mergeIpSet(['185.220.101.1/32', '45.133.1.20/32'], ['45.133.1.20'], ['185.220.101.1', '185.220.101.9']);
    const out = departures({ '185.220.101.1': 'expired', '185.220.101.9': 'update' }, m.removedEntries, [
      '45.133.1.20/32',
    ]);
    expect(Object.fromEntries(out)).toEqual({ expired: ['185.220.101.1'] });
  });

  test('a value someone else also holds stays in the set and is not counted', () => {
    const m = mergeIpSet(['185.220.101.1/32'], [], ['185.220.101.1'], { keep: ['185.220.101.1'] });
    expect(m.next).toEqual(['185.220.101.1/32']);
    expect(departures({ '185.220.101.1': 'signal' }, m.removedEntries, []).size).toBe(0);
  });

  test('a value inside a merged cover counts when the cover goes and no cover of ours holds it any more', () => {
    // 10.9.0.0/25 and 10.9.0.128/25 were written as one /24; unblocking the second leaves the first alone.
    const m = mergeIpSet(['10.9.0.0/24'], ['10.9.0.0/25'], ['10.9.0.128/25', '10.9.0.0/24']);
    expect(m.next).toEqual(['10.9.0.0/25']);
    const out = departures({ '10.9.0.128/25': 'update' }, m.removedEntries, ['10.9.0.0/25']);
    expect(Object.fromEntries(out)).toEqual({ update: ['10.9.0.128/25'] });
  });

  test('a value still inside a cover of ours has not left, even when the cover it was in was rewritten', () => {
    // Entries 10.9.0.0/25, 10.9.0.128/25 and 10.9.0.5: unblocking the /25b and 10.9.0.5 leaves 10.9.0.5 in /25a.
    const m = mergeIpSet(['10.9.0.0/24'], ['10.9.0.0/25'], ['10.9.0.128/25', '10.9.0.5', '10.9.0.0/24']);
    const out = departures({ '10.9.0.128/25': 'update', '10.9.0.5': 'expired' }, m.removedEntries, ['10.9.0.0/25']);
    expect(Object.fromEntries(out)).toEqual({ update: ['10.9.0.128/25'] });
  });

  test('IPv6 values are found by their canonical form', () => {
    const m = mergeIpSet(['2A03:B0C0:3:D0::1A4F:1/128'], [], ['2a03:b0c0:3:d0::1a4f:1']);
    const out = departures({ '2a03:b0c0:3:d0::1a4f:1': 'policy' }, m.removedEntries, []);
    expect(Object.fromEntries(out)).toEqual({ policy: ['2a03:b0c0:3:d0::1a4f:1'] });
  });

  test('no write, no count', () => {
    expect(departures({ '185.220.101.1': 'expired' }, [], []).size).toBe(0);
  });
});
