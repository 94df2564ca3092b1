/**
 * The per-address provenance a sweep result carries for its report: for each address the message it came from,
 * the place in it and when a block would end. Pure and bundle-safe (the sweep workflow builds it). Bounded to
 * REPORT_ADDRESSES entries with capped locators (~100 KB at most), far under Temporal's 2 MB payload limit.
 */
import { capString, PayloadLimits } from '../shared/limits';
import { ttlForSender, type SourceTtl } from '../policy/source-ttl';
import type { MessageAnalysis, ReportAddress } from '../shared/types';

/** What the list needs of a message: analysed by a sweep, or held in an approval. */
type WithIndicators = Pick<MessageAnalysis, 'ref' | 'from'> & { indicators: { value: string; where: string[] }[] };

/** Addresses a report describes one by one; the rest are counted (the CLI `why` has every one). */
export const REPORT_ADDRESSES = 300;

/**
 * `blocking`: messages whose addresses this sweep blocks (they get an expiry); `others`: held ones (no expiry).
 * `now` is the sweep's time; `defaultTtlMs` the blocklist's BLOCK_TTL (null: permanent, undefined: unknown).
 */
export function reportAddresses(
  blocking: WithIndicators[],
  others: WithIndicators[],
  now: string,
  sourceTtls: readonly SourceTtl[] | undefined,
  defaultTtlMs: number | null | undefined,
): { addresses: ReportAddress[]; leftOut: number } {
  const addresses: ReportAddress[] = [];
  const seen = new Set<string>();
  let leftOut = 0;
  const add = (m: WithIndicators, withExpiry: boolean) => {
    const ttl = withExpiry ? (ttlForSender(m.from, sourceTtls) ?? defaultTtlMs) : undefined;
    for (const ind of m.indicators) {
      if (seen.has(ind.value)) continue;
      seen.add(ind.value);
      if (addresses.length >= REPORT_ADDRESSES) {
        leftOut++;
        continue;
      }
      const a: ReportAddress = { value: ind.value, uid: m.ref.uid };
      const where = ind.where.slice(0, PayloadLimits.wherePerIndicator).join('; ');
      if (where) a.where = capString(where, PayloadLimits.where * PayloadLimits.wherePerIndicator);
      if (ttl === null) a.expiresAt = null;
      else if (ttl !== undefined) a.expiresAt = new Date(Date.parse(now) + ttl).toISOString();
      addresses.push(a);
    }
  };
  for (const m of blocking) add(m, true);
  for (const m of others) add(m, false);
  return { addresses, leftOut };
}
