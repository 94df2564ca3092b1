/**
 * Pure state transitions of the blocklist: what a block or unblock request does to the entries, with a reason
 * for every refusal. No Temporal and no I/O, so the workflow, the CLI and unit tests share one rulebook.
 */
import { formatCidr, parseCidr } from '../net/ip';
import { blockability } from '../net/special-ranges';
import type {
  BlockRequest,
  BlockResult,
  BlocklistState,
  Refusal,
  SyncPlan,
  UnblockRequest,
  UnblockResult,
} from '../shared/types';

/** How many answered request ids and removed entries a blocklist remembers; bounded so state stays small. */
export const ANSWERED_LIMIT = 200;
export const REMOVED_LIMIT = 200;

export function emptyBlocklistState(): BlocklistState {
  return { entries: {}, pendingRemovals: [], recentlyRemoved: [], answered: {} };
}

/** Canonical display value of an address or CIDR, or a refusal explaining why it is not one. */
export function canonicalOrRefusal(raw: string): { value: string; version: 4 | 6 } | Refusal {
  const parsed = parseCidr(raw.trim());
  if (!parsed) {
    return { value: raw, code: 'invalid', reason: `"${raw}" is not an IPv4/IPv6 address or CIDR` };
  }
  return { value: formatCidr(parsed), version: parsed.version };
}

function isRefusal(x: { value: string } | Refusal): x is Refusal {
  return 'code' in x;
}

/** Applies a block request to the state in place; returns what happened (synced is decided by the caller). */
export function applyBlock(state: BlocklistState, req: BlockRequest, now: string): BlockResult {
  const result: BlockResult = { added: [], alreadyPresent: [], refused: [], synced: false };
  const seen = new Set<string>();
  for (const candidate of req.candidates) {
    const canon = canonicalOrRefusal(candidate.value);
    if (isRefusal(canon)) {
      result.refused.push(canon);
      continue;
    }
    const { value, version } = canon;
    const verdict = blockability(value);
    if (!verdict.blockable) {
      if (!seen.has(`refused:${value}`)) result.refused.push({ value, code: verdict.code, reason: verdict.reason });
      seen.add(`refused:${value}`);
      continue;
    }
    const source = { ...candidate.source, at: candidate.source.at || now };
    const existing = state.entries[value];
    if (existing) {
      // Seeing an address again adds its source (once) but changes nothing in WAF.
      if (!existing.sources.some((s) => s.kind === source.kind && s.ref === source.ref)) existing.sources.push(source);
      if (!seen.has(value)) result.alreadyPresent.push(value);
    } else {
      state.entries[value] = { value, version, addedAt: now, manual: source.kind === 'manual', sources: [source] };
      // An address unblocked earlier and now blocked again must not be removed by the pending removal.
      state.pendingRemovals = state.pendingRemovals.filter((v) => v !== value);
      result.added.push(value);
    }
    seen.add(value);
  }
  return result;
}

/** Applies an unblock request in place. Only entries that mail2waf added can be removed. */
export function applyUnblock(state: BlocklistState, req: UnblockRequest, now: string): UnblockResult {
  const result: UnblockResult = { removed: [], notFound: [], refused: [], synced: false };
  const canon = canonicalOrRefusal(String(req.value ?? ''));
  if (isRefusal(canon)) {
    result.refused.push(canon);
    return result;
  }
  const { value } = canon;
  if (!state.entries[value]) {
    result.notFound.push(value);
    return result;
  }
  delete state.entries[value];
  if (!state.pendingRemovals.includes(value)) state.pendingRemovals.push(value);
  state.recentlyRemoved.push({ value, removedAt: now, actor: req.actor || 'unknown', reason: req.reason || '' });
  if (state.recentlyRemoved.length > REMOVED_LIMIT)
    state.recentlyRemoved.splice(0, state.recentlyRemoved.length - REMOVED_LIMIT);
  result.removed.push(value);
  return result;
}

/** Remembers an answer under its request id, forgetting the oldest beyond the limit. */
export function rememberAnswer(state: BlocklistState, requestId: string, result: BlockResult): void {
  state.answered[requestId] = result;
  const ids = Object.keys(state.answered);
  for (const id of ids.slice(0, Math.max(0, ids.length - ANSWERED_LIMIT))) delete state.answered[id];
}

/** The WAF-side desired state: our entries per IP version, and the ones of ours to take out. */
export function desiredIpSets(state: BlocklistState): SyncPlan {
  const plan: SyncPlan = { v4: { ours: [], remove: [] }, v6: { ours: [], remove: [] } };
  for (const e of Object.values(state.entries)) plan[e.version === 4 ? 'v4' : 'v6'].ours.push(e.value);
  for (const value of state.pendingRemovals) {
    const parsed = parseCidr(value);
    if (parsed) plan[parsed.version === 4 ? 'v4' : 'v6'].remove.push(value);
  }
  plan.v4.ours.sort();
  plan.v6.ours.sort();
  return plan;
}
