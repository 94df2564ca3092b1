/**
 * Pure state transitions of the blocklist: what a block or unblock request does to the entries, with a reason
 * for every refusal. No Temporal and no I/O, so the workflow, the CLI and unit tests share one rulebook.
 */
import { aggregateCidrs, cidrContains, cidrOverlaps, formatCidr, parseCidr } from '../net/ip';
import { blockability } from '../net/special-ranges';
import { isValidDurationMs, MAX_DURATION_MS, MAX_DURATION_TEXT } from '../shared/duration';
import type {
  BlockPolicy,
  BlockRequest,
  BlockResult,
  BlocklistState,
  Refusal,
  RefusedEntry,
  RemovalReason,
  SyncPlan,
  UnblockRequest,
  UnblockResult,
  WhyAnswer,
} from '../shared/types';

/** How many answered request ids and removed entries a blocklist remembers; bounded so state stays small. */
export const ANSWERED_LIMIT = 200;
export const REMOVED_LIMIT = 200;
/** Sources kept per entry; further sightings are counted in `moreSightings` (keeps the state bounded). */
export const MAX_SOURCES_PER_ENTRY = 10;
/** AWS WAF's hard limit of entries per IP set. */
export const AWS_IPSET_LIMIT = 10_000;
/** From this share of the ceiling on, results carry a capacity warning. */
export const CAPACITY_WARNING_SHARE = 0.8;
const EXPIRED_UNREPORTED_LIMIT = 500;
/**
 * Manual unblocks remembered for `unblocked-later`, apart from recentlyRemoved: expiry alone can push 200
 * removals through that list in a minute, and with them the memory of what a person decided.
 */
export const MANUAL_UNBLOCK_LIMIT = 1000;

/** Who took an entry out: a person (unblock update or signal), or mail2waf itself. */
export type RemovalKind = 'manual' | 'expiry' | 'policy' | 'capacity';

/** Time to live of a candidate: its own, else permanent for manual blocks, else the policy default. */
function ttlOf(candidate: BlockRequest['candidates'][number], policy?: BlockPolicy): number | null {
  if (candidate.ttlMs !== undefined) return candidate.ttlMs;
  if (candidate.source.kind === 'manual') return null;
  return policy?.ttlMs ?? null;
}

/**
 * A refusal for a time to live that is not a whole number of milliseconds from 0 to MAX_DURATION_MS (or null,
 * permanent). Requests arrive as JSON from any client: a string, NaN, a negative or a 10^20 ms TTL must be
 * refused with a reason, never reach `new Date(...).toISOString()`, which throws inside the update handler.
 */
function ttlRefusal(value: string, ttl: unknown, nowMs: number): Refusal | undefined {
  if (ttl === null) return undefined;
  if (isValidDurationMs(ttl) && Number.isFinite(nowMs) && !Number.isNaN(new Date(nowMs + ttl).getTime())) {
    return undefined;
  }
  return {
    value,
    code: 'bad-ttl',
    reason:
      `time to live ${JSON.stringify(ttl) ?? String(ttl)} is not a duration from 0 to ${MAX_DURATION_TEXT} ` +
      `(${MAX_DURATION_MS} ms); ask again with a shorter one, or permanent`,
  };
}

/** The later of two expiries, where undefined means permanent (and so always wins). */
function laterExpiry(a: string | undefined, b: string | undefined): string | undefined {
  if (a === undefined || b === undefined) return undefined;
  return a > b ? a : b;
}

/** The entry of this IP version that expires soonest, not counting permanent ones or those in `keep`. */
function soonestExpiring(state: BlocklistState, version: 4 | 6, keep: Set<string>) {
  let victim: BlocklistState['entries'][string] | undefined;
  for (const e of Object.values(state.entries)) {
    if (e.version !== version || e.expiresAt === undefined || keep.has(e.value)) continue;
    if (!victim || e.expiresAt < victim.expiresAt!) victim = e;
  }
  return victim;
}

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
  const ceiling = Math.min(state.policy?.maxEntriesPerSet ?? AWS_IPSET_LIMIT, AWS_IPSET_LIMIT);
  const counts = { 4: 0, 6: 0 };
  for (const e of Object.values(state.entries)) counts[e.version]++;
  const nowMs = Date.parse(now);
  for (const candidate of req.candidates) {
    const canon = canonicalOrRefusal(candidate.value);
    if (isRefusal(canon)) {
      result.refused.push(canon);
      continue;
    }
    const { value, version } = canon;
    const refusal = refusalFor(value, state.policy);
    if (refusal) {
      if (!seen.has(`refused:${value}`)) {
        result.refused.push(refusal);
        if (!preview) rememberRefusal(state, { ...refusal, at: now, ref: candidate.source.ref });
      }
      seen.add(`refused:${value}`);
      continue;
    }
    const later = unblockedLaterRefusal(state, value, candidate.source);
    if (later) {
      if (!seen.has(`refused:${value}`)) {
        result.refused.push(later);
        if (!preview) rememberRefusal(state, { ...later, at: now, ref: candidate.source.ref });
      }
      seen.add(`refused:${value}`);
      continue;
    }
    const source = { ...candidate.source, at: candidate.source.at || now };
    const ttl = ttlOf(candidate, state.policy);
    const badTtl = ttlRefusal(value, ttl, nowMs);
    if (badTtl) {
      if (!seen.has(`refused:${value}`)) result.refused.push(badTtl);
      seen.add(`refused:${value}`);
      continue;
    }
    const expiresAt = ttl === null ? undefined : new Date(nowMs + ttl).toISOString();
    const existing = state.entries[value];
    if (existing) {
      // Seeing an address again adds its source (once) and renews its expiry (never shortens it).
      if (!preview) {
        // Sources are bounded per entry: the first ones explain the block, later sightings renew and are counted.
        if (!existing.sources.some((s) => s.kind === source.kind && s.ref === source.ref)) {
          if (existing.sources.length < MAX_SOURCES_PER_ENTRY) existing.sources.push(source);
          else existing.moreSightings = (existing.moreSightings ?? 0) + 1;
        }
        existing.expiresAt = laterExpiry(existing.expiresAt, expiresAt);
        if (existing.expiresAt === undefined) delete existing.expiresAt;
      }
      if (!seen.has(value)) result.alreadyPresent.push(value);
    } else if (!seen.has(value)) {
      if (counts[version] >= ceiling) {
        // Full: evict the entry closest to its end if the policy says so, else refuse the newcomer.
        const victim = state.policy?.whenFull === 'evict' ? soonestExpiring(state, version, seen) : undefined;
        if (!victim) {
          result.refused.push({
            value,
            code: 'ipset-full',
            reason: `the IPv${version} set is at its ceiling of ${ceiling} entries (IPSET_MAX_ENTRIES); unblock or let entries expire`,
          });
          seen.add(`refused:${value}`);
          continue;
        }
        if (!preview)
          applyUnblock(
            state,
            { value: victim.value, actor: 'capacity', reason: `evicted for ${value}` },
            now,
            'capacity',
          );
        (result.evicted ??= []).push(victim.value);
        counts[version]--;
      }
      counts[version]++;
      if (!preview) {
        state.entries[value] = { value, version, addedAt: now, manual: source.kind === 'manual', sources: [source] };
        // A person blocking it again takes back their own earlier unblock of exactly this value.
        if (source.kind === 'manual' && state.manualUnblocks?.some((u) => u.value === value)) {
          state.manualUnblocks = state.manualUnblocks.filter((u) => u.value !== value);
        }
        if (expiresAt !== undefined) state.entries[value].expiresAt = expiresAt;
        // An address unblocked earlier and now blocked again must not be removed by the pending removal.
        state.pendingRemovals = state.pendingRemovals.filter((v) => v !== value);
      }
      result.added.push(value);
    }
    seen.add(value);
  }
  for (const version of [4, 6] as const) {
    if (counts[version] >= CAPACITY_WARNING_SHARE * ceiling) {
      result.capacityWarning = `the IPv${version} set holds ${counts[version]} of at most ${ceiling} entries`;
    }
  }
  if (!preview && state.expiredUnreported?.length) {
    result.expired = state.expiredUnreported;
    state.expiredUnreported = [];
  }
  return result;
}

/** Removes the entries whose time has come; returns their values. Renewed entries have a later time and stay. */
export function expireDue(state: BlocklistState, now: string): string[] {
  const expired: string[] = [];
  for (const e of Object.values(state.entries)) {
    if (e.expiresAt !== undefined && e.expiresAt <= now) {
      applyUnblock(
        state,
        { value: e.value, actor: 'expiry', reason: `time to live ended at ${e.expiresAt}` },
        now,
        'expiry',
      );
      expired.push(e.value);
    }
  }
  if (expired.length > 0) {
    state.expiredUnreported = [...(state.expiredUnreported ?? []), ...expired].slice(-EXPIRED_UNREPORTED_LIMIT);
  }
  return expired;
}

/** Milliseconds from `now` until the next entry expires, or undefined when none will. */
export function msUntilNextExpiry(state: BlocklistState, now: string): number | undefined {
  let next: string | undefined;
  for (const e of Object.values(state.entries)) if (e.expiresAt && (!next || e.expiresAt < next)) next = e.expiresAt;
  return next === undefined ? undefined : Math.max(0, Date.parse(next) - Date.parse(now));
}

function overlapsSafely(a: string, b: string): boolean {
  try {
    return cidrOverlaps(a, b);
  } catch {
    return false;
  }
}

function containsSafely(outer: string, inner: string): boolean {
  try {
    return cidrContains(outer, inner);
  } catch {
    return false; // a foreign entry we cannot parse contains nothing we can name
  }
}

/** Is `raw` blocked, by which of our entries (an address inside a blocked CIDR counts), and its history. */
export function why(state: BlocklistState, raw: string): WhyAnswer {
  const canon = canonicalOrRefusal(raw);
  const value = 'code' in canon ? raw : canon.value;
  if ('code' in canon) return { value, blocked: false, entries: [], removed: [], foreign: [], refused: [] };
  const entries = Object.values(state.entries).filter((e) => containsSafely(e.value, value));
  const removed = state.recentlyRemoved.filter((r) => containsSafely(r.value, value));
  const foreign = [...(state.lastSync?.foreign.v4 ?? []), ...(state.lastSync?.foreign.v6 ?? [])].filter((f) =>
    containsSafely(f, value),
  );
  const refused = (state.recentlyRefused ?? []).filter((r) => overlapsSafely(r.value, value));
  return { value, blocked: entries.length > 0, entries, removed, foreign, refused };
}

/**
 * Applies an unblock request in place. Only entries that mail2waf added can be removed. `kind` says who asks:
 * requests from outside (the unblock update and signal) are a person's; a manual unblock is remembered so
 * that an older advisory cannot undo it (see {@link unblockedLaterRefusal}).
 */
export function applyUnblock(
  state: BlocklistState,
  req: UnblockRequest,
  now: string,
  kind: RemovalKind = 'manual',
): UnblockResult {
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
  if (kind === 'manual') rememberManualUnblock(state, value, req.actor || 'unknown', now);
  if (!state.pendingRemovals.includes(value)) state.pendingRemovals.push(value);
  state.recentlyRemoved.push({ value, removedAt: now, actor: req.actor || 'unknown', reason: req.reason || '' });
  if (state.recentlyRemoved.length > REMOVED_LIMIT)
    state.recentlyRemoved.splice(0, state.recentlyRemoved.length - REMOVED_LIMIT);
  result.removed.push(value);
  return result;
}

const REFUSED_LIMIT = 200;

function rememberManualUnblock(state: BlocklistState, value: string, actor: string, at: string): void {
  const list = (state.manualUnblocks ??= []).filter((u) => u.value !== value);
  list.push({ value, actor, at });
  if (list.length > MANUAL_UNBLOCK_LIMIT) list.splice(0, list.length - MANUAL_UNBLOCK_LIMIT);
  state.manualUnblocks = list;
}

/**
 * A refusal when a person unblocked `value` (or a network overlapping it) after the message behind `source`
 * was written: replaying or re-sending an old advisory must not undo that decision. Only message sources that
 * carry a parseable `messageDate` are judged; without one nothing changes.
 */
export function unblockedLaterRefusal(
  state: BlocklistState,
  value: string,
  source: BlockRequest['candidates'][number]['source'],
): Refusal | undefined {
  if (source.kind !== 'message' || !source.messageDate || !state.manualUnblocks?.length) return undefined;
  const written = Date.parse(source.messageDate);
  if (Number.isNaN(written)) return undefined;
  let latest: { value: string; actor: string; at: string } | undefined;
  for (const u of state.manualUnblocks) {
    const at = Date.parse(u.at);
    if (!(at > written) || !overlapsSafely(u.value, value)) continue;
    if (!latest || at > Date.parse(latest.at)) latest = u;
  }
  if (!latest) return undefined;
  return {
    value,
    code: 'unblocked-later',
    reason:
      `${latest.value === value ? value : `${latest.value} (overlapping ${value})`} was unblocked by ` +
      `${latest.actor} at ${latest.at}, after this advisory was written at ${source.messageDate}`,
  };
}

function rememberRefusal(state: BlocklistState, entry: RefusedEntry): void {
  const list = (state.recentlyRefused ??= []);
  list.push(entry);
  if (list.length > REFUSED_LIMIT) list.splice(0, list.length - REFUSED_LIMIT);
}

/** Remembers an answer under its request id, forgetting the oldest beyond the limit. */
export function rememberAnswer(state: BlocklistState, requestId: string, result: BlockResult): void {
  state.answered[requestId] = result;
  const ids = Object.keys(state.answered);
  for (const id of ids.slice(0, Math.max(0, ids.length - ANSWERED_LIMIT))) delete state.answered[id];
}

/**
 * The WAF-side desired state: the minimal CIDR cover of our entries per IP version (adjacent and contained
 * networks merged, so 10,000 entries go further; provenance stays per entry in the state), and what of ours to
 * take out: entries unblocked since, and covers written earlier that the new cover no longer has.
 *
 * Entries that someone else put in the set are never taken out, even when one of ours has the same value:
 * - `fresh`: covers no earlier sync wrote; the activity records those it finds already present as `shared`;
 * - `shared`: carried from the last sync report; a shared value that stops being ours stays in the set;
 * - `keep`: values to remove that we never wrote as such (an entry merged into a wider cover, or blocked and
 *   unblocked between two syncs) and that the last read saw as someone else's, or all of them before any sync.
 */
export function desiredIpSets(state: BlocklistState): SyncPlan {
  const plan: SyncPlan = { v4: { ours: [], remove: [] }, v6: { ours: [], remove: [] } };
  const cover = aggregateCidrs(Object.values(state.entries).map((e) => e.value));
  const inCover = new Set(cover);
  for (const value of cover) plan[value.includes(':') ? 'v6' : 'v4'].ours.push(value);
  const stale = new Set([...state.pendingRemovals, ...(state.written?.v4 ?? []), ...(state.written?.v6 ?? [])]);
  for (const value of stale) {
    const parsed = parseCidr(value);
    if (parsed && !inCover.has(value)) plan[parsed.version === 4 ? 'v4' : 'v6'].remove.push(value);
  }
  const last = state.lastSync;
  const pending = new Set(state.pendingRemovals);
  for (const side of ['v4', 'v6'] as const) {
    const p = plan[side];
    // Only pending removals carry a reason: a stale cover going away is not an address leaving.
    const reasons = Object.fromEntries(
      p.remove.flatMap((v) => {
        const reason = pending.has(v) ? state.removedBecause?.[v] : undefined;
        return reason ? [[v, reason] as const] : [];
      }),
    );
    const written = state.written ? new Set(state.written[side]) : undefined;
    const foreignBefore = new Set(displayValues(last?.foreign[side] ?? []));
    // Before `written` existed (older states), only what the last read saw as someone else's is known fresh.
    const fresh = p.ours.filter((v) => (written ? !written.has(v) : last ? foreignBefore.has(v) : true));
    const shared = last?.shared?.[side] ?? [];
    const keep = p.remove.filter(
      (v) => shared.includes(v) || (!written?.has(v) && (last === undefined || foreignBefore.has(v))),
    );
    if (fresh.length > 0) p.fresh = fresh;
    if (shared.length > 0) p.shared = shared;
    if (keep.length > 0) p.keep = keep;
    if (Object.keys(reasons).length > 0) p.reasons = reasons;
  }
  return plan;
}

/**
 * Remembers why these values left the blocklist (the latest reason wins: an entry blocked again and unblocked
 * again leaves for the second reason), so that the sync that takes them out of WAF can count them by it.
 */
export function recordRemovals(state: BlocklistState, values: readonly string[], reason: RemovalReason): void {
  if (values.length === 0) return;
  const because = (state.removedBecause ??= {});
  for (const v of values) because[v] = reason;
}

/**
 * After a successful sync of `plan`: the removals it carried are done, with their reasons; removals queued while
 * it ran stay for the next round.
 */
export function settleRemovals(state: BlocklistState, plan: SyncPlan): void {
  const done = new Set([...plan.v4.remove, ...plan.v6.remove]);
  state.pendingRemovals = state.pendingRemovals.filter((v) => !done.has(v));
  if (!state.removedBecause) return;
  const pending = new Set(state.pendingRemovals);
  const kept = Object.entries(state.removedBecause).filter(([v]) => pending.has(v));
  if (kept.length > 0) state.removedBecause = Object.fromEntries(kept);
  else delete state.removedBecause;
}

/** Canonical display form of WAF entries (`1.2.3.4/32` → `1.2.3.4`); entries we cannot read are left out. */
export function displayValues(entries: readonly string[]): string[] {
  const out: string[] = [];
  for (const e of entries) {
    const parsed = parseCidr(e);
    if (parsed) out.push(formatCidr(parsed));
  }
  return out;
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
    applyUnblock(state, { value: entry.value, actor: 'policy', reason: refusal.reason }, now, 'policy');
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
  for (const name of ['ttlMs', 'reconcileMs', 'maxEntriesPerSet'] as const) {
    const v = policy[name];
    if (v !== undefined && (!Number.isInteger(v) || v < 1)) throw new Error(`${name} must be a positive integer`);
  }
  for (const name of ['ttlMs', 'reconcileMs'] as const) {
    const v = policy[name];
    if (v !== undefined && v > MAX_DURATION_MS) {
      throw new Error(`${name} must be at most ${MAX_DURATION_MS} (${MAX_DURATION_TEXT})`);
    }
  }
  if (policy.whenFull !== undefined && !['refuse', 'evict'].includes(policy.whenFull)) {
    throw new Error('whenFull must be "refuse" or "evict"');
  }
  for (const r of policy.neverBlock) {
    if (!parseCidr(String(r?.cidr))) throw new Error(`never-block entry "${r?.cidr}" is not a CIDR`);
  }
}
