/**
 * Pure state transitions of the blocklist: what a block or unblock request does to the entries, with a reason
 * for every refusal. No Temporal and no I/O, so the workflow, the CLI and unit tests share one rulebook.
 */
import { cidrOverlaps, formatCidr, parseCidr } from '../net/ip';
import { blockability } from '../net/special-ranges';
import type {
  BlockPolicy,
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

/**
 * Why `value` (canonical) must not be blocked under `policy`, or undefined when it may be. Built-in checks
 * (special-purpose space, /0) always apply; a policy adds the prefix floor and the never-block ranges, which
 * are judged by overlap: a CIDR that merely touches one of our networks would still block part of it.
 */
export function refusalFor(value: string, policy?: BlockPolicy): Refusal | undefined {
  const verdict = blockability(
    value,
    policy ? { minPrefixV4: policy.minPrefixV4, minPrefixV6: policy.minPrefixV6 } : {},
  );
  if (!verdict.blockable) return { value, code: verdict.code, reason: verdict.reason };
  for (const range of policy?.neverBlock ?? []) {
    if (cidrOverlaps(value, range.cidr)) {
      return {
        value,
        code: 'never-block',
        reason: `${value} overlaps ${range.cidr} (${range.label}), which is on the never-block list`,
      };
    }
  }
  return undefined;
}

/**
 * Applies a block request to the state in place and returns what happened (synced is decided by the caller).
 * A preview request returns the same answer and leaves the state untouched.
 */
export function applyBlock(state: BlocklistState, req: BlockRequest, now: string): BlockResult {
  const preview = req.preview === true;
  const result: BlockResult = {
    added: [],
    alreadyPresent: [],
    refused: [],
    synced: false,
    sizeBefore: Object.keys(state.entries).length,
  };
  const seen = new Set<string>();
  for (const candidate of req.candidates) {
    const canon = canonicalOrRefusal(candidate.value);
    if (isRefusal(canon)) {
      result.refused.push(canon);
      continue;
    }
    const { value, version } = canon;
    const refusal = refusalFor(value, state.policy);
    if (refusal) {
      if (!seen.has(`refused:${value}`)) result.refused.push(refusal);
      seen.add(`refused:${value}`);
      continue;
    }
    const source = { ...candidate.source, at: candidate.source.at || now };
    const existing = state.entries[value];
    if (existing) {
      // Seeing an address again adds its source (once) but changes nothing in WAF.
      if (!preview && !existing.sources.some((s) => s.kind === source.kind && s.ref === source.ref)) {
        existing.sources.push(source);
      }
      if (!seen.has(value)) result.alreadyPresent.push(value);
    } else if (!seen.has(value)) {
      if (!preview) {
        state.entries[value] = { value, version, addedAt: now, manual: source.kind === 'manual', sources: [source] };
        // An address unblocked earlier and now blocked again must not be removed by the pending removal.
        state.pendingRemovals = state.pendingRemovals.filter((v) => v !== value);
      }
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

/**
 * Installs a new policy and takes out the entries it forbids (a network newly put on the never-block list
 * must stop being blocked at once). Returns what was taken out, with the reason.
 */
export function applyPolicy(state: BlocklistState, policy: BlockPolicy, now: string): Refusal[] {
  state.policy = policy;
  const removed: Refusal[] = [];
  for (const entry of Object.values(state.entries)) {
    const refusal = refusalFor(entry.value, policy);
    if (!refusal) continue;
    applyUnblock(state, { value: entry.value, actor: 'policy', reason: refusal.reason }, now);
    removed.push(refusal);
  }
  return removed;
}

/** Throws with a precise message when a policy is malformed (the update validator turns this into a refusal). */
export function validatePolicy(policy: BlockPolicy): void {
  if (!policy || !Array.isArray(policy.neverBlock)) throw new Error('policy needs a neverBlock list');
  for (const [name, max] of [
    ['minPrefixV4', 32],
    ['minPrefixV6', 128],
  ] as const) {
    const v = policy[name];
    if (!Number.isInteger(v) || v < 1 || v > max) throw new Error(`${name} must be an integer from 1 to ${max}`);
  }
  for (const r of policy.neverBlock) {
    if (!parseCidr(String(r?.cidr))) throw new Error(`never-block entry "${r?.cidr}" is not a CIDR`);
  }
}
