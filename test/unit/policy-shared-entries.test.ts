/**
 * The blocklist and the sync merge together, without AWS: a foreign entry with the same value as one of ours
 * must survive the end of ours (README: entries someone else added are never removed).
 */
import { mergeIpSet } from '../../src/activities/waf';
import { formatCidr, parseCidr } from '../../src/net/ip';
import { applyBlock, applyUnblock, desiredIpSets, emptyBlocklistState, expireDue } from '../../src/policy/blocklist';
import { packState, unpackState } from '../../src/policy/state-pack';
import type { BlockCandidate, BlocklistState, SyncReport } from '../../src/shared/types';

const DAY = 86_400_000;
const t0 = '2026-11-01T00:00:00.000Z';
const at = (days: number) => new Date(Date.parse(t0) + days * DAY).toISOString();
const msg = (value: string, ref = '<a@x>'): BlockCandidate => ({ value, source: { kind: 'message', ref, at: '' } });
const display = (l: string[]) => l.map((e) => formatCidr(parseCidr(e)!));

/** One round of the blocklist workflow's loop against an in-memory IPv4 set (what the workflow does with a plan). */
function sync(state: BlocklistState, set: string[]): string[] {
  const plan = desiredIpSets(state);
  const m = mergeIpSet(set, plan.v4.ours, plan.v4.remove, plan.v4);
  const report: SyncReport = {
    at: t0,
    v4: { added: m.added, removed: m.removed, foreign: m.foreign.length, total: m.next.length, wrote: true },
    v6: { added: 0, removed: 0, foreign: 0, total: 0, wrote: false },
    foreign: { v4: m.foreign, v6: [] },
    shared: { v4: display(m.shared), v6: [] },
  };
  state.pendingRemovals = state.pendingRemovals.filter((v) => !plan.v4.remove.includes(v));
  state.written = { v4: plan.v4.ours, v6: plan.v6.ours };
  state.lastSync = report;
  return m.next;
}

function newState(): BlocklistState {
  const s = emptyBlocklistState();
  s.policy = { neverBlock: [], minPrefixV4: 16, minPrefixV6: 32, ttlMs: 30 * DAY };
  return s;
}

test('a foreign entry equal to ours stays when ours expires', () => {
  const s = newState();
  let set = ['45.133.1.20/32', '101.32.0.0/16'];
  set = sync(s, set); // an earlier round: the set is known
  applyBlock(s, { requestId: 'a', candidates: [msg('45.133.1.20'), msg('185.220.101.47')] }, t0);
  set = sync(s, set);
  expect(set).toEqual(['45.133.1.20/32', '101.32.0.0/16', '185.220.101.47/32']);
  expect(s.lastSync?.shared?.v4).toEqual(['45.133.1.20']);
  // Survives continue-as-new.
  const carried = unpackState(packState(s));
  expireDue(carried, at(31));
  set = sync(carried, set);
  expect(set).toEqual(['45.133.1.20/32', '101.32.0.0/16']);
  expect(carried.lastSync?.foreign.v4).toEqual(['45.133.1.20/32', '101.32.0.0/16']);
});

test('on the very first sync too, and after an unblock', () => {
  const s = newState();
  applyBlock(s, { requestId: 'a', candidates: [msg('45.133.1.20')] }, t0);
  let set = sync(s, ['45.133.1.20/32']);
  expect(set).toEqual(['45.133.1.20/32']);
  applyUnblock(s, { value: '45.133.1.20', actor: 'alice', reason: 'fp' }, at(1));
  set = sync(s, set);
  expect(set).toEqual(['45.133.1.20/32']);
});

test('our own entry, written by us, is removed when it ends', () => {
  const s = newState();
  let set = sync(s, []);
  applyBlock(s, { requestId: 'a', candidates: [msg('45.133.1.20')] }, t0);
  set = sync(s, set);
  expect(set).toEqual(['45.133.1.20/32']);
  set = sync(s, set); // a reconcile round: still ours, not shared
  expect(s.lastSync?.shared?.v4).toEqual([]);
  applyUnblock(s, { value: '45.133.1.20', actor: 'alice', reason: 'fp' }, at(1));
  set = sync(s, set);
  expect(set).toEqual([]);
});

test('a foreign entry equal to an entry of ours merged into a wider cover stays', () => {
  const s = newState();
  let set = sync(s, ['45.133.1.0/25']);
  applyBlock(s, { requestId: 'a', candidates: [msg('45.133.1.0/25'), msg('45.133.1.128/25')] }, t0);
  set = sync(s, set);
  expect(set).toEqual(['45.133.1.0/25', '45.133.1.0/24']);
  applyUnblock(s, { value: '45.133.1.0/25', actor: 'alice', reason: 'fp' }, at(1));
  set = sync(s, set);
  expect(set).toEqual(['45.133.1.0/25', '45.133.1.128/25']);
});

test('a shared value the other party takes out becomes ours alone', () => {
  const s = newState();
  applyBlock(s, { requestId: 'a', candidates: [msg('45.133.1.20')] }, t0);
  let set = sync(s, ['45.133.1.20/32']);
  set = sync(s, []); // someone removed theirs (and so ours): we restore it, now ours alone
  expect(set).toEqual(['45.133.1.20/32']);
  expect(s.lastSync?.shared?.v4).toEqual([]);
  applyUnblock(s, { value: '45.133.1.20', actor: 'alice', reason: 'fp' }, at(1));
  expect(sync(s, set)).toEqual([]);
});
