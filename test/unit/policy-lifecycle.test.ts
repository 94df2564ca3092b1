import { aggregateCidrs } from '../../src/net/ip';
import {
  applyBlock,
  applyUnblock,
  desiredIpSets,
  emptyBlocklistState,
  expireDue,
  msUntilNextExpiry,
  validatePolicy,
  why,
} from '../../src/policy/blocklist';
import { wafEntryProblem } from '../../src/policy/waf-entry';
import type { BlockCandidate, BlockPolicy } from '../../src/shared/types';

const DAY = 86_400_000;
const policy: BlockPolicy = { neverBlock: [], minPrefixV4: 16, minPrefixV6: 32, ttlMs: 30 * DAY };
const t0 = '2026-11-01T00:00:00.000Z';
const at = (days: number) => new Date(Date.parse(t0) + days * DAY).toISOString();
const msg = (value: string, ref = '<a@x>', ttlMs?: number | null): BlockCandidate => ({
  value,
  source: { kind: 'message', ref, at: '' },
  ...(ttlMs !== undefined ? { ttlMs } : {}),
});

function withPolicy(extra: Partial<BlockPolicy> = {}) {
  const s = emptyBlocklistState();
  s.policy = { ...policy, ...extra };
  return s;
}

test('message entries get the default TTL, manual ones are permanent unless told', () => {
  const s = withPolicy();
  applyBlock(s, { requestId: 'a', candidates: [msg('185.220.101.1')] }, t0);
  applyBlock(
    s,
    { requestId: 'b', candidates: [{ value: '185.220.101.2', source: { kind: 'manual', ref: 'alice', at: t0 } }] },
    t0,
  );
  expect(s.entries['185.220.101.1']?.expiresAt).toBe(at(30));
  expect(s.entries['185.220.101.2']?.expiresAt).toBeUndefined();
});

test('seeing an address again renews its expiry and never shortens it', () => {
  const s = withPolicy();
  applyBlock(s, { requestId: 'a', candidates: [msg('185.220.101.1')] }, t0);
  applyBlock(s, { requestId: 'b', candidates: [msg('185.220.101.1', '<b@x>')] }, at(10));
  expect(s.entries['185.220.101.1']?.expiresAt).toBe(at(40));
  applyBlock(s, { requestId: 'c', candidates: [msg('185.220.101.1', '<c@x>', DAY)] }, at(11));
  expect(s.entries['185.220.101.1']?.expiresAt).toBe(at(40));
  applyBlock(s, { requestId: 'd', candidates: [msg('185.220.101.1', '<d@x>', null)] }, at(12));
  expect(s.entries['185.220.101.1']?.expiresAt).toBeUndefined();
});

test('expiry removes only entries whose time has come, and remembers them for the next report', () => {
  const s = withPolicy();
  applyBlock(s, { requestId: 'a', candidates: [msg('185.220.101.1'), msg('185.220.101.2')] }, t0);
  applyBlock(s, { requestId: 'b', candidates: [msg('185.220.101.2', '<b@x>')] }, at(20)); // renewed
  expect(msUntilNextExpiry(s, at(1))).toBe(29 * DAY);
  expect(expireDue(s, at(29))).toEqual([]);
  expect(expireDue(s, at(30))).toEqual(['185.220.101.1']);
  expect(Object.keys(s.entries)).toEqual(['185.220.101.2']);
  expect(s.pendingRemovals).toEqual(['185.220.101.1']);
  const next = applyBlock(s, { requestId: 'c', candidates: [msg('185.220.101.9')] }, at(31));
  expect(next.expired).toEqual(['185.220.101.1']);
  expect(applyBlock(s, { requestId: 'd', candidates: [msg('185.220.101.9')] }, at(31)).expired).toBeUndefined();
});

test('a full set refuses, or evicts the entry closest to its end', () => {
  const refuse = withPolicy({ maxEntriesPerSet: 2 });
  applyBlock(refuse, { requestId: 'a', candidates: [msg('185.220.101.1'), msg('185.220.101.2')] }, t0);
  const r = applyBlock(refuse, { requestId: 'b', candidates: [msg('185.220.101.3'), msg('2a03:b0c0::1')] }, t0);
  expect(r.refused.map((x) => x.code)).toEqual(['ipset-full']);
  expect(r.added).toEqual(['2a03:b0c0::1']); // IPv6 has its own set
  expect(r.capacityWarning).toMatch(/IPv4 set holds 2 of at most 2/);

  const evict = withPolicy({ maxEntriesPerSet: 2, whenFull: 'evict' });
  applyBlock(evict, { requestId: 'a', candidates: [msg('185.220.101.1', '<a@x>', 5 * DAY)] }, t0);
  applyBlock(evict, { requestId: 'b', candidates: [msg('185.220.101.2', '<b@x>', 2 * DAY)] }, t0);
  const e = applyBlock(evict, { requestId: 'c', candidates: [msg('185.220.101.3')] }, t0);
  expect(e.evicted).toEqual(['185.220.101.2']);
  expect(Object.keys(evict.entries).sort()).toEqual(['185.220.101.1', '185.220.101.3']);
  expect(evict.recentlyRemoved.at(-1)).toMatchObject({ value: '185.220.101.2', actor: 'capacity' });
});

test('why finds an address inside a blocked CIDR and past removals', () => {
  const s = withPolicy();
  applyBlock(s, { requestId: 'a', candidates: [msg('91.215.85.0/24', '<cidr@x>')] }, t0);
  expect(why(s, '91.215.85.7')).toMatchObject({ blocked: true, entries: [{ value: '91.215.85.0/24' }] });
  expect(why(s, '91.215.86.7').blocked).toBe(false);
  expireDue(s, at(31));
  expect(why(s, '91.215.85.7')).toMatchObject({ blocked: false, removed: [{ actor: 'expiry' }] });
});

test.each([
  ['185.220.101.47/32', 4, undefined],
  ['2a03:b0c0:3:d0::1a4f:1/128', 6, undefined],
  ['185.220.101.47', 4, 'not in CIDR notation (address/prefix)'],
  ['195.178.188.66/29', 4, 'host bits set (AWS rejects them; use the network address)'],
  ['2a03:b0c0::1/128', 4, 'an IPv6 entry in an IPv4 set'],
  ['0.0.0.0/0', 4, 'prefix /0 outside /1–/32'],
  ['not-an-ip/32', 4, 'not in CIDR notation (address/prefix)'],
  ['1111:2222:3333:4444:5555:6666:7777:8888/128', 6, undefined],
  ['0000:0000:0000:0000:0000:0000:ffff:255.255.255.255/128', 6, 'longer than 50 characters'],
] as const)('WAF entry %s in an IPv%d set: %s', (entry, version, problem) => {
  expect(wafEntryProblem(entry, version)).toBe(problem);
});

describe('aggregation before writing', () => {
  test('aggregateCidrs merges adjacent and contained networks into the minimal cover, and nothing more', () => {
    expect(
      aggregateCidrs(['185.220.108.1', '185.220.108.2', '185.220.108.3', '185.220.108.4', '10.0.0.0/8', '10.1.0.0/16']),
    ).toEqual(['10.0.0.0/8', '185.220.108.1', '185.220.108.2/31', '185.220.108.4']);
    expect(aggregateCidrs(['91.215.84.0/24', '91.215.85.0/24'])).toEqual(['91.215.84.0/23']);
    expect(aggregateCidrs(['2a03:b0c0::', '2a03:b0c0::1', '185.220.101.47'])).toEqual([
      '185.220.101.47',
      '2a03:b0c0::/127',
    ]);
    expect(aggregateCidrs([])).toEqual([]);
  });

  test('the plan writes the cover, keeps provenance per entry, and takes out covers that no longer hold', () => {
    const s = withPolicy();
    applyBlock(s, { requestId: 'a', candidates: [msg('185.220.108.2', '<a@x>'), msg('185.220.108.3', '<b@x>')] }, t0);
    let plan = desiredIpSets(s);
    expect(plan.v4).toEqual({ ours: ['185.220.108.2/31'], remove: [], fresh: ['185.220.108.2/31'] });
    expect(s.entries['185.220.108.3']?.sources[0]?.ref).toBe('<b@x>');
    s.written = { v4: plan.v4.ours, v6: [] };
    applyUnblock(s, { value: '185.220.108.3', actor: 'alice', reason: 'fp' }, t0);
    plan = desiredIpSets(s);
    expect(plan.v4.ours).toEqual(['185.220.108.2']);
    expect(plan.v4.remove.sort()).toEqual(['185.220.108.2/31', '185.220.108.3']);
  });
});

describe('time to live out of bounds', () => {
  test.each([
    ['a 10^20 ms TTL', 1e20],
    ['eleven years', 11 * 365 * DAY],
    ['a negative TTL', -1],
    ['NaN', Number.NaN],
    ['Infinity', Number.POSITIVE_INFINITY],
    ['a string', '30d' as unknown as number],
  ])('%s is refused as bad-ttl, never thrown', (_name, ttlMs) => {
    const s = withPolicy();
    const result = applyBlock(s, { requestId: 'a', candidates: [msg('185.220.101.1', '<a@x>', ttlMs)] }, t0);
    expect(result.added).toEqual([]);
    expect(result.refused).toEqual([
      expect.objectContaining({ value: '185.220.101.1', code: 'bad-ttl', reason: expect.stringMatching(/3650d/) }),
    ]);
    expect(s.entries).toEqual({});
  });

  test('ten years and permanent are accepted', () => {
    const s = withPolicy();
    const result = applyBlock(
      s,
      { requestId: 'a', candidates: [msg('185.220.101.1', '<a@x>', 3650 * DAY), msg('185.220.101.2', '<b@x>', null)] },
      t0,
    );
    expect(result.added).toEqual(['185.220.101.1', '185.220.101.2']);
    expect(s.entries['185.220.101.1']?.expiresAt).toBe(at(3650));
  });

  test('a policy default over the cap is refused by validatePolicy', () => {
    expect(() => validatePolicy({ ...policy, ttlMs: 3651 * DAY })).toThrow(/ttlMs must be at most/);
  });
});
