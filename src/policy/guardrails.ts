/**
 * Per-run guardrails: a sweep that would add more than a set number of entries, more addresses than a set
 * number, or a large share of the set, waits for a person. A flood of addresses is more often a mistake (a
 * pasted netflow export, an attacker mailing us a list of a competitor's or our customers' addresses) than a
 * real campaign, and one /16 blocks as many addresses as 65,536 single entries: entries are weighed by size.
 */
import { aggregateCidrs, cidrBounds, parseCidr } from '../net/ip';
import type { Guardrails } from '../shared/types';

export type GuardrailCode = 'over-count' | 'over-size' | 'over-share';

export type GuardrailVerdict = { hold: false } | { hold: true; code: GuardrailCode; reason: string };

/** Default of MAX_NEW_ADDRESSES_PER_RUN: a /20 of IPv4, or 4096 IPv6 /64 networks. */
export const DEFAULT_MAX_NEW_ADDRESSES_PER_RUN = 4096;

/**
 * What a list of new entries covers, counted without double counting (overlapping entries are merged first).
 * IPv4 is counted in addresses; IPv6 in /64 networks (the usual allocation to one subnet or one customer:
 * counting IPv6 addresses would make any /64 look like 18 quintillion hosts), an entry longer than /64 counting
 * as the one /64 it lies in. Values that are not an address or CIDR count nothing (the blocklist refuses them).
 */
export function coveredSize(values: readonly string[]): { v4Addresses: number; v6Networks64: number } {
  const valid = values.filter((v) => parseCidr(v) !== undefined);
  let v4 = 0n;
  let v6 = 0n;
  const small64 = new Set<bigint>(); // /64 networks that hold entries longer than /64
  for (const cover of aggregateCidrs(valid)) {
    const b = cidrBounds(cover);
    if (b.version === 4) v4 += b.last - b.first + 1n;
    else if (b.prefix <= 64) v6 += 1n << BigInt(64 - b.prefix);
    else small64.add(b.first >> 64n);
  }
  // Whole /64s and pieces of one cannot share a /64: the cover merged them, so a piece is never inside a whole.
  v6 += BigInt(small64.size);
  return { v4Addresses: Number(v4), v6Networks64: Number(v6) };
}

/**
 * The guardrails of one run, given the values it would add (canonical display strings, as in
 * BlockResult.added) and the number of our entries before it. Holds on, in this order: the number of new
 * entries (MAX_NEW_PER_RUN), the addresses they cover (MAX_NEW_ADDRESSES_PER_RUN, IPv4 and IPv6 each against
 * the limit, IPv6 in /64 networks; unchecked when `limits` predates it), and the share of the set
 * (MAX_NEW_SHARE).
 */
export function checkRunGuardrails(
  newValues: readonly string[],
  sizeBefore: number,
  limits: Guardrails,
): GuardrailVerdict {
  const count = checkCount(newValues.length, limits);
  if (count.hold) return count;
  const maxAddresses = limits.maxNewAddressesPerRun;
  if (maxAddresses !== undefined) {
    const size = coveredSize(newValues);
    if (size.v4Addresses > maxAddresses) {
      return {
        hold: true,
        code: 'over-size',
        reason:
          `this run would block ${size.v4Addresses} IPv4 addresses, more than ` +
          `MAX_NEW_ADDRESSES_PER_RUN=${maxAddresses}`,
      };
    }
    if (size.v6Networks64 > maxAddresses) {
      return {
        hold: true,
        code: 'over-size',
        reason:
          `this run would block ${size.v6Networks64} IPv6 /64 networks, more than ` +
          `MAX_NEW_ADDRESSES_PER_RUN=${maxAddresses}`,
      };
    }
  }
  return checkShare(newValues.length, sizeBefore, limits);
}

/**
 * Entry-count and share checks only, from a count of new entries: the signature recorded sweeps were written
 * against (src/workflows/sweep-legacy.ts). New code calls {@link checkRunGuardrails}, which also weighs size.
 */
export function checkGuardrails(newEntries: number, sizeBefore: number, limits: Guardrails): GuardrailVerdict {
  const count = checkCount(newEntries, limits);
  return count.hold ? count : checkShare(newEntries, sizeBefore, limits);
}

function checkCount(newEntries: number, limits: Guardrails): GuardrailVerdict {
  if (newEntries > limits.maxNewPerRun) {
    return {
      hold: true,
      code: 'over-count',
      reason: `this run would add ${newEntries} entries, more than MAX_NEW_PER_RUN=${limits.maxNewPerRun}`,
    };
  }
  return { hold: false };
}

function checkShare(newEntries: number, sizeBefore: number, limits: Guardrails): GuardrailVerdict {
  // The share only means something once the set has some size: growing an empty set is always 100%.
  if (sizeBefore >= limits.maxNewPerRun && newEntries > limits.maxNewShare * sizeBefore) {
    return {
      hold: true,
      code: 'over-share',
      reason:
        `this run would add ${newEntries} entries to a set of ${sizeBefore}, more than ` +
        `MAX_NEW_SHARE=${limits.maxNewShare} of it`,
    };
  }
  return { hold: false };
}
