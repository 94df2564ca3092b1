/**
 * The only code that writes AWS WAF IP sets. It reads the set, merges our desired entries into whatever is
 * there, and writes with the LockToken it read; a concurrent writer (a person, Terraform) makes the write fail
 * with WAFOptimisticLockException, and we read again and re-apply, so neither side loses entries.
 */
import { log, heartbeat } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import {
  GetIPSetCommand,
  ListIPSetsCommand,
  UpdateIPSetCommand,
  WAFOptimisticLockException,
  type WAFV2Client,
} from '@aws-sdk/client-wafv2';
import { parseCidr, toWafEntry } from '../net/ip';
import { displayValues } from '../policy/blocklist';
import { wafEntryProblem } from '../policy/waf-entry';
import { ErrorTypes } from '../shared/constants';
import type { RemovalReason, SyncPlan, SyncReport, TargetRef } from '../shared/types';
import type { MetricsDeps } from '../metrics';

export interface WafDeps {
  /** One client per Region (CloudFront IP sets live in us-east-1). */
  wafClient: (region: string) => WAFV2Client;
}

export interface SyncInput {
  target: TargetRef;
  plan: SyncPlan;
}

/** Conflicting writes we absorb within one attempt before handing the retry to Temporal. */
const LOCK_RETRIES = 5;

type SideReport = SyncReport['v4'] & { foreignList: string[]; sharedList: string[] };

/** WAF entry → canonical form, or undefined for something mail2waf cannot read (kept as is, never removed). */
function canonical(entry: string): string | undefined {
  try {
    return toWafEntry(entry);
  } catch {
    return undefined;
  }
}

/**
 * Our desired values in WAF form, split into those AWS will accept and those it would reject (which must
 * never reach the API: one bad entry fails the whole UpdateIPSet).
 */
export function wafEntries(values: string[], version: 4 | 6): { valid: string[]; invalid: string[] } {
  const valid: string[] = [];
  const invalid: string[] = [];
  for (const v of values) {
    let entry: string | undefined;
    try {
      entry = toWafEntry(v);
    } catch {
      entry = undefined;
    }
    if (entry !== undefined && wafEntryProblem(entry, version) === undefined) valid.push(entry);
    else invalid.push(v);
  }
  return { valid, invalid };
}

/** What besides ours and remove the merge needs to know to leave someone else's entries alone (display values). */
export interface MergeOptions {
  /** Ours, and in the set before we first wrote them: never removed (SyncPlanSide.shared). */
  shared?: string[];
  /** Ours, not written by an earlier sync: found in the set, they were put there by someone else. */
  fresh?: string[];
  /** Never remove these (SyncPlanSide.keep). */
  keep?: string[];
  /** Entries this activity has itself sent in an UpdateIPSet (WAF form): found again, they are ours, not shared. */
  sentByUs?: ReadonlySet<string>;
}

/**
 * Pure merge: (current ∪ ours) − remove, comparing canonical forms and keeping foreign spellings untouched.
 * `shared` (WAF form) lists the values of ours that someone else's entry also holds: present now and either
 * shared before or fresh. A shared value, and anything in `keep`, is never removed: when our entry ends, the
 * other party's stays.
 */
export function mergeIpSet(current: string[], ours: string[], remove: string[], opts: MergeOptions = {}) {
  const oursCanon = new Set(ours.map((v) => toWafEntry(v)));
  const canonSet = (values: string[] | undefined) => new Set((values ?? []).map((v) => canonical(v)));
  const sharedBefore = canonSet(opts.shared);
  const fresh = canonSet(opts.fresh);
  const keep = canonSet(opts.keep);
  const removeCanon = new Set(
    remove.map((v) => toWafEntry(v)).filter((v) => !oursCanon.has(v) && !sharedBefore.has(v) && !keep.has(v)),
  );
  const next: string[] = [];
  const present = new Set<string>();
  const foreign: string[] = [];
  const removedEntries: string[] = [];
  for (const entry of current) {
    const canon = canonical(entry);
    if (canon && removeCanon.has(canon)) {
      removedEntries.push(canon);
      continue;
    }
    if (canon && present.has(canon)) continue;
    if (canon) present.add(canon);
    if (!canon || !oursCanon.has(canon)) foreign.push(entry);
    next.push(entry);
  }
  let added = 0;
  for (const entry of oursCanon) {
    if (!present.has(entry)) {
      next.push(entry);
      added++;
    }
  }
  const shared = [...oursCanon].filter(
    (c) => present.has(c) && (sharedBefore.has(c) || (fresh.has(c) && !opts.sentByUs?.has(c))),
  );
  return { next, added, removed: removedEntries.length, removedEntries, foreign, shared };
}

/**
 * Which values with a removal reason a write really took out of our blocking, by reason: a value counts when an
 * entry the write removed holds it (itself, or a merged cover it was part of) and none of ours still does.
 * Not counted: values that were already absent (removed by hand, or blocked and unblocked between two syncs),
 * values left in the set because they are someone else's too, and values still inside a cover of ours.
 * `removed` and `ours` in WAF form; `reasons` keyed by display value.
 */
export function departures(
  reasons: Readonly<Record<string, RemovalReason>>,
  removed: readonly string[],
  ours: readonly string[],
): Map<RemovalReason, string[]> {
  const out = new Map<RemovalReason, string[]>();
  if (removed.length === 0) return out;
  const gone = new Set(removed);
  const still = new Set(ours);
  for (const [value, reason] of Object.entries(reasons)) {
    const c = parseCidr(value);
    if (!c) continue;
    const self = `${c.network}/${c.prefix}`;
    // Exact value first, then every wider network holding it: a set lookup per prefix, not a scan of the set.
    let left = false;
    let held = false;
    for (let prefix = c.prefix; prefix >= 1 && !held; prefix--) {
      const key = prefix === c.prefix ? self : toWafEntry(`${c.network}/${prefix}`);
      if (still.has(key)) held = true;
      else if (gone.has(key)) left = true;
    }
    if (left && !held) out.set(reason, [...(out.get(reason) ?? []), value]);
  }
  return out;
}

function wafFailure(err: unknown, what: string): never {
  const e = err as Error & { name?: string; $metadata?: { httpStatusCode?: number } };
  if (e instanceof ApplicationFailure) throw e;
  const name = e.name ?? 'Error';
  if (name === 'WAFNonexistentItemException') {
    throw ApplicationFailure.nonRetryable(
      `${what}: not found — create the IP set (npm run stack:up locally) or fix WAF_IPSET_V4_NAME / WAF_IPSET_V6_NAME`,
      ErrorTypes.WafNotFound,
    );
  }
  if (name === 'WAFInvalidParameterException' || name === 'ValidationException') {
    throw ApplicationFailure.nonRetryable(
      `${what}: AWS rejected the request: ${e.message}`,
      ErrorTypes.WafInvalidParameter,
    );
  }
  if (
    [
      'AccessDeniedException',
      'UnrecognizedClientException',
      'InvalidSignatureException',
      'ExpiredTokenException',
    ].includes(name)
  ) {
    throw ApplicationFailure.nonRetryable(
      `${what}: AWS refused our credentials (${name}) — check AWS credentials and the wafv2:GetIPSet/UpdateIPSet permissions`,
      ErrorTypes.WafAccessDenied,
    );
  }
  if (name === 'ThrottlingException' || name === 'WAFLimitsExceededException' || e.$metadata?.httpStatusCode === 429) {
    throw ApplicationFailure.create({
      message: `${what}: throttled by AWS (${name})`,
      type: 'WafThrottled',
      nextRetryDelay: '5 seconds',
    });
  }
  throw ApplicationFailure.retryable(`${what}: ${name}: ${e.message}`, 'WafError');
}

export function createWafActivities(deps: WafDeps & MetricsDeps) {
  const metrics = deps.metrics;
  // Names → ids are stable for the life of an IP set; caching saves a List call per sync.
  const idCache = new Map<string, string>();
  const idKey = (target: TargetRef, name: string) => `${target.scope}/${target.region}/${name}`;

  async function resolveId(client: WAFV2Client, target: TargetRef, name: string): Promise<string> {
    const key = idKey(target, name);
    const cached = idCache.get(key);
    if (cached) return cached;
    let marker: string | undefined;
    do {
      const page = await client.send(new ListIPSetsCommand({ Scope: target.scope, NextMarker: marker, Limit: 100 }));
      const hit = page.IPSets?.find((s) => s.Name === name);
      if (hit?.Id) {
        idCache.set(key, hit.Id);
        return hit.Id;
      }
      marker = page.IPSets && page.IPSets.length > 0 ? page.NextMarker : undefined;
    } while (marker);
    throw ApplicationFailure.nonRetryable(
      `IP set "${name}" (scope ${target.scope}, region ${target.region}) does not exist — create it (npm run stack:up locally) or fix the IP set name`,
      ErrorTypes.WafNotFound,
    );
  }

  async function syncOne(target: TargetRef, name: string, version: 4 | 6, plan: SyncPlan['v4']): Promise<SideReport> {
    const client = deps.wafClient(target.region);
    const checked = wafEntries(plan.ours, version);
    if (checked.invalid.length > 0)
      log.error('entries AWS would reject were left out', { name, invalid: checked.invalid });
    const side = { ours: checked.valid, remove: plan.remove.filter((v) => wafEntries([v], version).valid.length > 0) };
    // What we put in the set during this activity: after a write whose answer was lost, reading it back must
    // not make it look like someone else's entry.
    const sentByUs = new Set<string>();
    const what = `IP set ${name} (${target.scope}, ${target.region})`;
    try {
      const id = await resolveId(client, target, name);
      for (let attempt = 1; attempt <= LOCK_RETRIES; attempt++) {
        heartbeat({ name, attempt });
        const got = await client.send(new GetIPSetCommand({ Name: name, Scope: target.scope, Id: id }));
        metrics?.wafCall(target, 'read', 'ok');
        const current = got.IPSet?.Addresses ?? [];
        metrics?.ipSetSize(target, name, version, current.length);
        const merge = mergeIpSet(current, side.ours, side.remove, {
          shared: plan.shared,
          fresh: plan.fresh,
          keep: plan.keep,
          sentByUs,
        });
        if (merge.shared.length > 0)
          log.info('entries of ours that someone else also put in the set', { name, shared: merge.shared });
        const report = {
          added: merge.added,
          removed: merge.removed,
          foreign: merge.foreign.length,
          total: merge.next.length,
          wrote: false,
          foreignList: merge.foreign,
          sharedList: merge.shared,
          invalid: checked.invalid,
        };
        if (merge.added === 0 && merge.removed === 0) return report;
        // mergeIpSet appends ours that were missing: the last `added` entries of the new list.
        for (const entry of merge.next.slice(merge.next.length - merge.added)) sentByUs.add(entry);
        try {
          await client.send(
            new UpdateIPSetCommand({
              Name: name,
              Scope: target.scope,
              Id: id,
              Addresses: merge.next,
              LockToken: got.LockToken,
              // UpdateIPSet replaces the whole object: omitting the description would erase it on AWS.
              Description: got.IPSet?.Description,
            }),
          );
          metrics?.wafCall(target, 'write', 'ok');
          metrics?.ipSetSize(target, name, version, merge.next.length);
          // Counted once the write succeeded: a retry finds these absent and counts nothing again.
          for (const [reason, values] of departures(plan.reasons ?? {}, merge.removedEntries, side.ours)) {
            metrics?.addressesRemoved(target, reason, values.length);
          }
          log.info('updated IP set', { name, added: merge.added, removed: merge.removed, total: merge.next.length });
          return { ...report, wrote: true };
        } catch (err) {
          if (!(err instanceof WAFOptimisticLockException)) throw Object.assign(err as object, { wafWrite: true });
          metrics?.wafLockConflict(target);
          log.warn('IP set changed under us; reading again', { name, attempt });
        }
      }
      throw ApplicationFailure.retryable(
        `${what}: still conflicting after ${LOCK_RETRIES} re-reads`,
        ErrorTypes.WafLockConflict,
      );
    } catch (err) {
      // Counted here, not in wafFailure: a failed read or write, a throttle (lock conflicts are counted above).
      if (!(err instanceof ApplicationFailure)) {
        metrics?.wafCall(target, (err as { wafWrite?: boolean }).wafWrite ? 'write' : 'read', 'error');
        metrics?.wafError(target, err);
      }
      // A set deleted and made again has a new id: forget the cached one, so the next sync looks it up anew.
      if ((err as { name?: string }).name === 'WAFNonexistentItemException') {
        idCache.delete(idKey(target, name));
      }
      wafFailure(err, what);
    }
  }

  async function syncIpSets(input: SyncInput): Promise<SyncReport> {
    let v4: SideReport, v6: SideReport;
    try {
      v4 = await syncOne(input.target, input.target.ipSetV4Name, 4, input.plan.v4);
      v6 = await syncOne(input.target, input.target.ipSetV6Name, 6, input.plan.v6);
    } catch (err) {
      metrics?.wafSynced(input.target, false);
      throw err;
    }
    metrics?.wafSynced(input.target, true);
    const strip = ({ foreignList: _f, sharedList: _s, ...rest }: SideReport) => rest;
    return {
      at: new Date().toISOString(),
      v4: strip(v4),
      v6: strip(v6),
      foreign: { v4: v4.foreignList, v6: v6.foreignList },
      shared: { v4: displayValues(v4.sharedList), v6: displayValues(v6.sharedList) },
    };
  }

  return { syncIpSets };
}
