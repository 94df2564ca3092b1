import { applyBlock, applyPolicy, emptyBlocklistState, refusalFor, validatePolicy } from '../../src/policy/blocklist';
import { checkGuardrails, checkRunGuardrails, coveredSize } from '../../src/policy/guardrails';
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

describe('checkRunGuardrails', () => {
  const limits = { maxNewPerRun: 100, maxNewShare: 0.2, maxNewAddressesPerRun: 4096, approvalTimeoutMs: 1000 };
  const sixteens = Array.from({ length: 100 }, (_, i) => `${i + 1}.${i}.0.0/16`);

  test('weighs entries by the addresses they cover: a hundred /16s are held', () => {
    // The old count-only check let these through.
    expect(checkGuardrails(sixteens.length, 0, limits)).toEqual({ hold: false });
    const verdict = checkRunGuardrails(sixteens, 0, limits);
    expect(verdict).toMatchObject({ hold: true, code: 'over-size' });
    expect(verdict.hold && verdict.reason).toBe(
      'this run would block 6553600 IPv4 addresses, more than MAX_NEW_ADDRESSES_PER_RUN=4096',
    );
    expect(checkRunGuardrails(['10.0.0.0/16'], 0, limits)).toMatchObject({ hold: true, code: 'over-size' });
  });

  test('a run within the limits passes; overlapping entries are counted once', () => {
    expect(checkRunGuardrails(['198.51.100.0/20'], 0, limits)).toEqual({ hold: false }); // exactly 4096
    expect(checkRunGuardrails(['198.51.96.0/20', '198.51.100.0/22', '198.51.100.7'], 0, limits)).toEqual({
      hold: false,
    });
    expect(checkRunGuardrails(['198.51.96.0/20', '203.0.113.9'], 0, limits)).toMatchObject({ code: 'over-size' });
  });

  test('IPv6 counts /64 networks, each version against the limit on its own', () => {
    expect(coveredSize(['2001:db8::/52'])).toEqual({ v4Addresses: 0, v6Networks64: 4096 });
    expect(coveredSize(['2001:db8::1', '2001:db8::2', '2001:db8:0:1::/80'])).toEqual({
      v4Addresses: 0,
      v6Networks64: 2,
    });
    expect(coveredSize(['2001:db8::/64', '2001:db8::1'])).toEqual({ v4Addresses: 0, v6Networks64: 1 });
    expect(checkRunGuardrails(['2001:db8::/52'], 0, limits)).toEqual({ hold: false });
    const verdict = checkRunGuardrails(['2001:db8::/48'], 0, limits);
    expect(verdict).toMatchObject({ hold: true, code: 'over-size' });
    expect(verdict.hold && verdict.reason).toMatch(/65536 IPv6 \/64 networks/);
    // 4096 IPv4 addresses and 4096 /64s: each within the limit.
    expect(checkRunGuardrails(['198.51.100.0/20', '2001:db8::/52'], 0, limits)).toEqual({ hold: false });
  });

  test('keeps the count and share checks, and skips the size check for guardrails that predate it', () => {
    const many = Array.from({ length: 101 }, (_, i) => `203.0.${Math.floor(i / 50)}.${i % 50}`);
    expect(checkRunGuardrails(many, 0, limits)).toMatchObject({ hold: true, code: 'over-count' });
    expect(checkRunGuardrails(many.slice(0, 90), 400, limits)).toMatchObject({ hold: true, code: 'over-share' });
    const { maxNewAddressesPerRun: _omit, ...old } = limits;
    expect(checkRunGuardrails(sixteens, 0, old)).toEqual({ hold: false });
  });

  test('values that are not addresses count nothing', () => {
    expect(coveredSize(['nope', '10.0.0.1'])).toEqual({ v4Addresses: 1, v6Networks64: 0 });
  });
});
