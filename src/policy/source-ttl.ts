/**
 * Per-source time to live: some senders' indicators age fast (a scanner feed: days), others slowly (a national
 * CERT: months). The most specific match wins: the full address, then the domain, then a parent domain.
 */
export interface SourceTtl {
  /** A lower-case address (user@domain) or domain. */
  match: string;
  /** Milliseconds, or null for permanent. */
  ttlMs: number | null;
}

/** The TTL configured for this sender, or undefined when none matches (the policy default applies). */
export function ttlForSender(
  from: string | undefined,
  rules: readonly SourceTtl[] | undefined,
): number | null | undefined {
  if (!from || !rules?.length) return undefined;
  const address = from.trim().toLowerCase();
  const exact = rules.find((r) => r.match === address);
  if (exact) return exact.ttlMs;
  let domain = address.includes('@') ? address.slice(address.lastIndexOf('@') + 1) : address;
  while (domain.includes('.')) {
    const hit = rules.find((r) => r.match === domain);
    if (hit) return hit.ttlMs;
    domain = domain.slice(domain.indexOf('.') + 1);
  }
  return undefined;
}
