import {
  applyBlock,
  applyUnblock,
  desiredIpSets,
  emptyBlocklistState,
  rememberAnswer,
  ANSWERED_LIMIT,
} from '../../src/policy/blocklist';
import type { BlockCandidate } from '../../src/shared/types';

const at = '2026-11-28T00:00:00.000Z';
const msg = (value: string, ref = '<a@x>'): BlockCandidate => ({ value, source: { kind: 'message', ref, at } });

describe('applyBlock', () => {
  test('adds canonical values, reports duplicates once and keeps every source', () => {
    const state = emptyBlocklistState();
    const r1 = applyBlock(
      state,
      { requestId: 'r1', candidates: [msg('185.220.101.47'), msg('185.220.101.047/32')] },
      at,
    );
    expect(r1.added).toEqual(['185.220.101.47']);
    expect(r1.alreadyPresent).toEqual([]);
    const r2 = applyBlock(state, { requestId: 'r2', candidates: [msg('185.220.101.47', '<b@x>')] }, at);
    expect(r2).toMatchObject({ added: [], alreadyPresent: ['185.220.101.47'] });
    expect(state.entries['185.220.101.47']?.sources.map((s) => s.ref)).toEqual(['<a@x>', '<b@x>']);
  });

  test('refuses special-purpose space, /0 and garbage with codes and sentences', () => {
    const state = emptyBlocklistState();
    const r = applyBlock(
      state,
      {
        requestId: 'r',
        candidates: [msg('10.1.2.3'), msg('0.0.0.0/0'), msg('::/0'), msg('fe80::1'), msg('100.64.0.1'), msg('nope')],
      },
      at,
    );
    expect(r.added).toEqual([]);
    expect(Object.fromEntries(r.refused.map((x) => [x.value, x.code]))).toEqual({
      '10.1.2.3': 'private',
      '0.0.0.0/0': 'default-route',
      '::/0': 'default-route',
      'fe80::1': 'link-local',
      '100.64.0.1': 'cgnat',
      nope: 'invalid',
    });
    for (const x of r.refused) expect(x.reason.length).toBeGreaterThan(10);
    expect(state.entries).toEqual({});
  });

  test('a CIDR with host bits set is stored as its network', () => {
    const state = emptyBlocklistState();
    expect(applyBlock(state, { requestId: 'r', candidates: [msg('91.215.85.9/24')] }, at).added).toEqual([
      '91.215.85.0/24',
    ]);
  });

  test('blocking again what was unblocked cancels the pending removal', () => {
    const state = emptyBlocklistState();
    applyBlock(state, { requestId: 'r1', candidates: [msg('45.133.1.20')] }, at);
    applyUnblock(state, { value: '45.133.1.20', actor: 'a', reason: 'b' }, at);
    expect(state.pendingRemovals).toEqual(['45.133.1.20']);
    applyBlock(state, { requestId: 'r2', candidates: [msg('45.133.1.20')] }, at);
    expect(state.pendingRemovals).toEqual([]);
    expect(desiredIpSets(state).v4.ours).toEqual(['45.133.1.20']);
  });
});

describe('applyUnblock', () => {
  test('removes only entries of ours and remembers who and why', () => {
    const state = emptyBlocklistState();
    applyBlock(state, { requestId: 'r', candidates: [msg('2A03:B0C0:3:D0::1A4F:1')] }, at);
    const r = applyUnblock(state, { value: '2a03:b0c0:3:d0:0:0:1a4f:1', actor: 'alice', reason: 'customer' }, at);
    expect(r.removed).toEqual(['2a03:b0c0:3:d0::1a4f:1']);
    // Never synced: we never wrote it, so an equal entry in the set can only be someone else's, and stays.
    expect(desiredIpSets(state)).toEqual({
      v4: { ours: [], remove: [] },
      v6: { ours: [], remove: ['2a03:b0c0:3:d0::1a4f:1'], keep: ['2a03:b0c0:3:d0::1a4f:1'] },
    });
    expect(state.recentlyRemoved[0]).toMatchObject({ actor: 'alice', reason: 'customer' });
    expect(applyUnblock(state, { value: '101.32.0.0/16', actor: 'a', reason: 'b' }, at).notFound).toEqual([
      '101.32.0.0/16',
    ]);
    expect(applyUnblock(state, { value: 'x', actor: 'a', reason: 'b' }, at).refused[0]?.code).toBe('invalid');
  });
});

test('answered request ids stay bounded', () => {
  const state = emptyBlocklistState();
  for (let i = 0; i < ANSWERED_LIMIT + 50; i++) {
    rememberAnswer(state, `r${i}`, { added: [], alreadyPresent: [], refused: [], synced: true });
  }
  expect(Object.keys(state.answered)).toHaveLength(ANSWERED_LIMIT);
  expect(state.answered[`r${ANSWERED_LIMIT + 49}`]).toBeDefined();
  expect(state.answered.r0).toBeUndefined();
});
