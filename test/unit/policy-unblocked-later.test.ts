import {
  applyBlock,
  applyUnblock,
  emptyBlocklistState,
  expireDue,
  MANUAL_UNBLOCK_LIMIT,
  why,
} from '../../src/policy/blocklist';
import { packState, unpackState } from '../../src/policy/state-pack';
import type { BlockCandidate, BlockPolicy } from '../../src/shared/types';

const DAY = 86_400_000;
const policy: BlockPolicy = { neverBlock: [], minPrefixV4: 16, minPrefixV6: 32, ttlMs: 30 * DAY };
const t0 = '2026-11-01T00:00:00.000Z';
const at = (days: number) => new Date(Date.parse(t0) + days * DAY).toISOString();
const advisory = (value: string, messageDate: string | undefined, ref = '<old@cert.example>'): BlockCandidate => ({
  value,
  source: { kind: 'message', ref, at: '', ...(messageDate !== undefined ? { messageDate } : {}) },
});

function stateWithUnblock(value: string, unblockedAt: string, blocked = value) {
  const s = emptyBlocklistState();
  s.policy = policy;
  applyBlock(s, { requestId: 'first', candidates: [advisory(blocked, at(-1))] }, t0);
  applyUnblock(s, { value: blocked, actor: 'alice', reason: 'our CDN' }, unblockedAt);
  return s;
}

test('an advisory written before a manual unblock cannot re-block the value', () => {
  const s = stateWithUnblock('185.220.101.7', at(2));
  const result = applyBlock(s, { requestId: 'replay', candidates: [advisory('185.220.101.7', at(1))] }, at(3));
  expect(result.added).toEqual([]);
  expect(result.refused).toEqual([
    {
      value: '185.220.101.7',
      code: 'unblocked-later',
      reason: `185.220.101.7 was unblocked by alice at ${at(2)}, after this advisory was written at ${at(1)}`,
    },
  ]);
  expect(s.entries['185.220.101.7']).toBeUndefined();
  expect(why(s, '185.220.101.7').refused).toEqual([expect.objectContaining({ code: 'unblocked-later' })]);
});

test('a network overlapping the unblocked value is refused too, both ways', () => {
  const s = stateWithUnblock('185.220.101.7', at(2));
  const wider = applyBlock(s, { requestId: 'a', candidates: [advisory('185.220.101.0/24', at(1))] }, at(3));
  expect(wider.refused).toEqual([
    expect.objectContaining({
      code: 'unblocked-later',
      reason: expect.stringMatching(/^185\.220\.101\.7 \(overlapping 185\.220\.101\.0\/24\) was unblocked by alice/),
    }),
  ]);
  const s2 = stateWithUnblock('185.220.101.0/24', at(2));
  const inside = applyBlock(s2, { requestId: 'b', candidates: [advisory('185.220.101.9', at(1))] }, at(3));
  expect(inside.refused).toEqual([expect.objectContaining({ code: 'unblocked-later' })]);
});

test('a newer advisory, a message without a date, and a manual block still block', () => {
  const s = stateWithUnblock('185.220.101.7', at(2));
  expect(applyBlock(s, { requestId: 'a', candidates: [advisory('185.220.101.7', undefined)] }, at(3)).added).toEqual([
    '185.220.101.7',
  ]);
  applyUnblock(s, { value: '185.220.101.7', actor: 'alice', reason: 'again' }, at(4));
  const newer = applyBlock(s, { requestId: 'b', candidates: [advisory('185.220.101.7', at(5), '<new@x>')] }, at(6));
  expect(newer.added).toEqual(['185.220.101.7']);
  applyUnblock(s, { value: '185.220.101.7', actor: 'alice', reason: 'and again' }, at(7));
  const manual = applyBlock(
    s,
    { requestId: 'c', candidates: [{ value: '185.220.101.7', source: { kind: 'manual', ref: 'bob', at: at(8) } }] },
    at(8),
  );
  expect(manual.added).toEqual(['185.220.101.7']);
  // Bob's block takes back Alice's unblock: an older advisory may renew it again.
  expect(s.manualUnblocks ?? []).toEqual([]);
});

test('expiry, policy and capacity removals are not manual unblocks', () => {
  const s = emptyBlocklistState();
  s.policy = policy;
  applyBlock(s, { requestId: 'a', candidates: [advisory('185.220.101.7', at(0))] }, t0);
  expireDue(s, at(31));
  expect(s.recentlyRemoved).toEqual([expect.objectContaining({ actor: 'expiry' })]);
  expect(s.manualUnblocks).toBeUndefined();
  const again = applyBlock(s, { requestId: 'b', candidates: [advisory('185.220.101.7', at(0), '<x@y>')] }, at(32));
  expect(again.added).toEqual(['185.220.101.7']);
});

test('a preview answers the same without remembering the refusal', () => {
  const s = stateWithUnblock('185.220.101.7', at(2));
  const preview = applyBlock(
    s,
    { requestId: 'p', preview: true, candidates: [advisory('185.220.101.7', at(1))] },
    at(3),
  );
  expect(preview.refused).toEqual([expect.objectContaining({ code: 'unblocked-later' })]);
  expect(s.recentlyRefused ?? []).toEqual([]);
});

test('manual unblocks are bounded, one per value, and survive continue-as-new', () => {
  const s = emptyBlocklistState();
  s.policy = policy;
  for (let i = 0; i < MANUAL_UNBLOCK_LIMIT + 5; i++) {
    const value = `185.${220 + Math.floor(i / 256)}.${i % 256}.1`;
    applyBlock(s, { requestId: `b${i}`, candidates: [advisory(value, at(0))] }, t0);
    applyUnblock(s, { value, actor: 'alice', reason: 'r' }, at(1));
  }
  applyBlock(s, { requestId: 'x', candidates: [advisory('185.224.0.9', at(0))] }, t0);
  applyUnblock(s, { value: '185.224.0.9', actor: 'alice', reason: 'r' }, at(1));
  applyBlock(s, { requestId: 'y', candidates: [advisory('185.224.0.9', undefined)] }, t0);
  applyUnblock(s, { value: '185.224.0.9', actor: 'bob', reason: 'r' }, at(2));
  expect(s.manualUnblocks).toHaveLength(MANUAL_UNBLOCK_LIMIT);
  expect(s.manualUnblocks!.filter((u) => u.value === '185.224.0.9')).toEqual([
    { value: '185.224.0.9', actor: 'bob', at: at(2) },
  ]);
  const restored = unpackState(packState(s));
  expect(restored.manualUnblocks).toEqual(s.manualUnblocks);
  const r = applyBlock(restored, { requestId: 'z', candidates: [advisory('185.224.0.9', at(1))] }, at(3));
  expect(r.refused).toEqual([expect.objectContaining({ code: 'unblocked-later' })]);
});

test('state from before manualUnblocks existed blocks as before', () => {
  const s = emptyBlocklistState();
  s.policy = policy;
  s.recentlyRemoved.push({ value: '185.220.101.7', removedAt: at(2), actor: 'alice', reason: 'r' });
  const r = applyBlock(s, { requestId: 'a', candidates: [advisory('185.220.101.7', at(1))] }, at(3));
  expect(r.added).toEqual(['185.220.101.7']);
});
