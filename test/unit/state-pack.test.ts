import { applyBlock, emptyBlocklistState, MAX_SOURCES_PER_ENTRY } from '../../src/policy/blocklist';
import { packState, unpackState } from '../../src/policy/state-pack';
import type { BlockCandidate, BlocklistState } from '../../src/shared/types';

const DAY = 86_400_000;
const t0 = '2026-11-01T00:00:00.000Z';

/** A realistic state: advisories of 50 addresses each, with sender, subject and where in the message. */
function state(v4: number, v6: number): BlocklistState {
  const s = emptyBlocklistState();
  s.policy = { neverBlock: [], minPrefixV4: 16, minPrefixV6: 32, ttlMs: 30 * DAY };
  const values = [
    ...Array.from({ length: v4 }, (_, i) => `185.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`),
    ...Array.from({ length: v6 }, (_, i) => `2a03:b0c0:${(i >> 16).toString(16)}:${(i & 0xffff).toString(16)}::1`),
  ];
  for (let m = 0; m * 50 < values.length; m++) {
    const candidates: BlockCandidate[] = values.slice(m * 50, m * 50 + 50).map((value, i) => ({
      value,
      source: {
        kind: 'message',
        ref: `<advisory-${m}.${m * 7919}@cert.example>`,
        from: 'advisories@cert.example',
        subject: `TLP:CLEAR Advisory 2026-${m}: botnet C2 infrastructure update`,
        detail: `attachment iocs.csv:line ${i + 2}`,
        at: t0,
      },
    }));
    applyBlock(s, { requestId: `r${m}`, candidates }, new Date(Date.parse(t0) + m * 60_000).toISOString());
  }
  return s;
}

test('packing round-trips entries, provenance, expiry and the rest of the state', () => {
  const s = state(120, 30);
  s.pendingRemovals = ['185.0.0.1'];
  s.recentlyRemoved = [{ value: '185.0.0.1', removedAt: t0, actor: 'alice', reason: 'fp' }];
  s.entries['185.0.0.2']!.moreSightings = 4;
  const back = unpackState(packState(s));
  expect(back.entries).toEqual(s.entries);
  expect(back.pendingRemovals).toEqual(s.pendingRemovals);
  expect(back.recentlyRemoved).toEqual(s.recentlyRemoved);
  expect(back.policy).toEqual(s.policy);
  expect(back.answered).toEqual({}); // not carried across continue-as-new
});

test.each([
  [10_000, 0],
  [10_000, 10_000],
])('the packed state of %d IPv4 + %d IPv6 entries stays well under the 2 MB payload limit', (v4, v6) => {
  const s = state(v4, v6);
  const plain = JSON.stringify({ ...s, answered: {} }).length;
  const packed = packState(s).length;
  expect(plain).toBeGreaterThan(2_000_000); // what continue-as-new carried before packing
  expect(packed).toBeLessThan(1_000_000);
});

test('sources per entry are bounded; further sightings are counted', () => {
  const s = emptyBlocklistState();
  for (let i = 0; i < MAX_SOURCES_PER_ENTRY + 5; i++) {
    applyBlock(
      s,
      {
        requestId: `r${i}`,
        candidates: [{ value: '185.220.101.1', source: { kind: 'message', ref: `<m${i}@x>`, at: t0 } }],
      },
      t0,
    );
  }
  expect(s.entries['185.220.101.1']?.sources).toHaveLength(MAX_SOURCES_PER_ENTRY);
  expect(s.entries['185.220.101.1']?.moreSightings).toBe(5);
});

test('a source keeps its messageDate across packing; packs from before it existed read the same', () => {
  const s = state(3, 0);
  s.entries['185.0.0.1']!.sources[0]!.messageDate = '2026-10-30T08:00:00.000Z';
  const back = unpackState(packState(s));
  expect(back.entries).toEqual(s.entries);
  expect(back.entries['185.0.0.1']!.sources[0]!.messageDate).toBe('2026-10-30T08:00:00.000Z');
  expect(back.entries['185.0.0.2']!.sources[0]).not.toHaveProperty('messageDate');
});
