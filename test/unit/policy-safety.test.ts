import { applyBlock, applyPolicy, emptyBlocklistState, refusalFor, validatePolicy } from '../../src/policy/blocklist';
import { checkGuardrails } from '../../src/policy/guardrails';
import type { BlockPolicy } from '../../src/shared/types';

const policy: BlockPolicy = {
  neverBlock: [
    { cidr: '91.198.174.0/24', label: 'datacenter' },
    { cidr: '2a02:ec80::/32', label: 'partner' },
  ],
  minPrefixV4: 16,
  minPrefixV6: 32,
};

describe('refusalFor', () => {
  test.each([
    ['91.198.174.10', 'never-block'],
    ['91.198.0.0/16', 'never-block'], // contains our /24: overlap, not containment
    ['91.198.174.128/25', 'never-block'],
    ['2a02:ec80:300::1', 'never-block'],
    ['0.0.0.0/1', 'too-broad'],
    ['::/1', 'too-broad'],
    ['8.0.0.0/8', 'too-broad'],
    ['2a03::/16', 'too-broad'],
    ['0.0.0.0/0', 'default-route'],
    ['100.64.1.1', 'cgnat'],
    ['::ffff:10.0.0.1', 'private'],
  ])('%s is refused as %s', (value, code) => {
    expect(refusalFor(value, policy)?.code).toBe(code);
  });

  test('public addresses at or under the floor pass', () => {
    expect(refusalFor('185.220.101.47', policy)).toBeUndefined();
    expect(refusalFor('185.220.0.0/16', policy)).toBeUndefined();
    expect(refusalFor('2a03:b0c0::/32', policy)).toBeUndefined();
  });

  test('without a policy only the built-in checks apply (blocklists started before policies existed)', () => {
    expect(refusalFor('8.0.0.0/8')).toBeUndefined();
    expect(refusalFor('10.0.0.0/8')?.code).toBe('private');
  });

  test('the never-block reason names the range and its label', () => {
    expect(refusalFor('91.198.0.0/16', policy)?.reason).toBe(
      '91.198.0.0/16 overlaps 91.198.174.0/24 (datacenter), which is on the never-block list',
    );
  });
});

test('a new policy takes out entries it forbids, and only those', () => {
  const state = emptyBlocklistState();
  const at = '2026-11-28T00:00:00Z';
  applyBlock(
    state,
    {
      requestId: 'r',
      candidates: ['185.220.101.47', '91.198.174.10'].map((value) => ({
        value,
        source: { kind: 'manual', ref: 'a', at },
      })),
    },
    at,
  );
  const removed = applyPolicy(state, policy, at);
  expect(removed.map((r) => r.value)).toEqual(['91.198.174.10']);
  expect(Object.keys(state.entries)).toEqual(['185.220.101.47']);
  expect(state.pendingRemovals).toEqual(['91.198.174.10']);
  expect(state.recentlyRemoved[0]).toMatchObject({ actor: 'policy' });
});

test('a preview answers without changing the state', () => {
  const state = emptyBlocklistState();
  const at = '2026-11-28T00:00:00Z';
  const r = applyBlock(
    state,
    {
      requestId: 'p',
      preview: true,
      candidates: [{ value: '185.220.101.47', source: { kind: 'manual', ref: 'a', at } }],
    },
    at,
  );
  expect(r.added).toEqual(['185.220.101.47']);
  expect(state.entries).toEqual({});
});

test('malformed policies are rejected with a precise message', () => {
  expect(() => validatePolicy({ ...policy, minPrefixV4: 0 })).toThrow(/minPrefixV4 must be an integer from 1 to 32/);
  expect(() => validatePolicy({ ...policy, neverBlock: [{ cidr: 'nope', label: 'x' }] })).toThrow(
    /"nope" is not a CIDR/,
  );
  expect(() => validatePolicy(policy)).not.toThrow();
});

describe('checkGuardrails', () => {
  const limits = { maxNewPerRun: 100, maxNewShare: 0.2, approvalTimeoutMs: 1000 };
  test('holds a run over the count', () => {
    expect(checkGuardrails(101, 0, limits)).toMatchObject({ hold: true, code: 'over-count' });
    expect(checkGuardrails(100, 0, limits)).toEqual({ hold: false });
  });
  test('holds a run over the share once the set is large enough', () => {
    expect(checkGuardrails(90, 400, limits)).toMatchObject({ hold: true, code: 'over-share' });
    expect(checkGuardrails(80, 400, limits)).toEqual({ hold: false });
    expect(checkGuardrails(90, 50, limits)).toEqual({ hold: false }); // small set: the count rules
  });
});
