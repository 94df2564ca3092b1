/**
 * IANA special-purpose address registries (IPv4 and IPv6) plus the other ranges that are never a
 * real attacker's public address (multicast, class E, IPv6 outside global unicast), and the
 * `blockability` verdict built on them.
 *
 * Pure and bundle-safe (imported by workflow code): no Node built-ins, no dependencies.
 *
 * Sources: https://www.iana.org/assignments/iana-ipv4-special-registry and
 * https://www.iana.org/assignments/iana-ipv6-special-registry, RFC 6890.
 */
import {
  cidrBounds,
  formatCidr,
  formatV4Number,
  parseCidr,
  parseV4,
  readV6Groups,
  type CidrBounds,
  type IpVersion,
} from './ip';

/** One special-purpose range. `description` reads naturally in "is in <description> range <cidr>". */
export interface SpecialRange {
  cidr: string;
  code: string;
  description: string;
  rfc: string;
}

/** IPv4 special-purpose ranges. Nested entries are fine: the most specific one wins. */
export const SPECIAL_RANGES_V4: readonly SpecialRange[] = [
  { cidr: '0.0.0.0/8', code: 'this-network', description: '"this network"', rfc: 'RFC 791' },
  { cidr: '10.0.0.0/8', code: 'private', description: 'private', rfc: 'RFC 1918' },
  { cidr: '100.64.0.0/10', code: 'cgnat', description: 'shared address space (CGNAT)', rfc: 'RFC 6598' },
  { cidr: '127.0.0.0/8', code: 'loopback', description: 'loopback', rfc: 'RFC 1122' },
  { cidr: '169.254.0.0/16', code: 'link-local', description: 'link-local', rfc: 'RFC 3927' },
  { cidr: '172.16.0.0/12', code: 'private', description: 'private', rfc: 'RFC 1918' },
  { cidr: '192.0.0.0/24', code: 'ietf-protocol', description: 'IETF protocol assignments', rfc: 'RFC 6890' },
  { cidr: '192.0.2.0/24', code: 'documentation', description: 'documentation (TEST-NET-1)', rfc: 'RFC 5737' },
  { cidr: '192.31.196.0/24', code: 'as112', description: 'AS112 DNS anycast', rfc: 'RFC 7535' },
  { cidr: '192.52.193.0/24', code: 'amt', description: 'AMT relay anycast', rfc: 'RFC 7450' },
  { cidr: '192.88.99.0/24', code: '6to4-relay', description: '6to4 relay anycast', rfc: 'RFC 7526' },
  { cidr: '192.168.0.0/16', code: 'private', description: 'private', rfc: 'RFC 1918' },
  { cidr: '192.175.48.0/24', code: 'as112', description: 'AS112 direct delegation', rfc: 'RFC 7534' },
  { cidr: '198.18.0.0/15', code: 'benchmarking', description: 'benchmarking', rfc: 'RFC 2544' },
  { cidr: '198.51.100.0/24', code: 'documentation', description: 'documentation (TEST-NET-2)', rfc: 'RFC 5737' },
  { cidr: '203.0.113.0/24', code: 'documentation', description: 'documentation (TEST-NET-3)', rfc: 'RFC 5737' },
  { cidr: '224.0.0.0/4', code: 'multicast', description: 'multicast', rfc: 'RFC 5771' },
  { cidr: '240.0.0.0/4', code: 'reserved', description: 'reserved (former class E)', rfc: 'RFC 1112' },
  { cidr: '255.255.255.255/32', code: 'broadcast', description: 'limited broadcast', rfc: 'RFC 919' },
];

/** IPv6 special-purpose ranges, plus the complement of global unicast 2000::/3 as three blocks. */
export const SPECIAL_RANGES_V6: readonly SpecialRange[] = [
  { cidr: '::/128', code: 'unspecified', description: 'unspecified', rfc: 'RFC 4291' },
  { cidr: '::1/128', code: 'loopback', description: 'loopback', rfc: 'RFC 4291' },
  { cidr: '::ffff:0:0/96', code: 'ipv4-mapped', description: 'IPv4-mapped', rfc: 'RFC 4291' },
  { cidr: '64:ff9b::/96', code: 'nat64', description: 'NAT64 well-known prefix', rfc: 'RFC 6052' },
  { cidr: '64:ff9b:1::/48', code: 'nat64', description: 'NAT64 local-use', rfc: 'RFC 8215' },
  { cidr: '100::/64', code: 'discard', description: 'discard-only', rfc: 'RFC 6666' },
  { cidr: '100:0:0:1::/64', code: 'dummy', description: 'dummy prefix', rfc: 'RFC 9780' },
  { cidr: '2001::/23', code: 'ietf-protocol', description: 'IETF protocol assignments', rfc: 'RFC 2928' },
  { cidr: '2001::/32', code: 'teredo', description: 'Teredo', rfc: 'RFC 4380' },
  { cidr: '2001:2::/48', code: 'benchmarking', description: 'benchmarking', rfc: 'RFC 5180' },
  { cidr: '2001:10::/28', code: 'orchid', description: 'ORCHID (deprecated)', rfc: 'RFC 4843' },
  { cidr: '2001:20::/28', code: 'orchid', description: 'ORCHIDv2', rfc: 'RFC 7343' },
  { cidr: '2001:db8::/32', code: 'documentation', description: 'documentation', rfc: 'RFC 3849' },
  { cidr: '2002::/16', code: '6to4', description: '6to4', rfc: 'RFC 3056' },
  { cidr: '2620:4f:8000::/48', code: 'as112', description: 'AS112 direct delegation', rfc: 'RFC 7534' },
  { cidr: '3fff::/20', code: 'documentation', description: 'documentation', rfc: 'RFC 9637' },
  { cidr: '5f00::/16', code: 'srv6-sid', description: 'SRv6 SIDs', rfc: 'RFC 9602' },
  { cidr: 'fc00::/7', code: 'unique-local', description: 'unique local', rfc: 'RFC 4193' },
  { cidr: 'fe80::/10', code: 'link-local', description: 'link-local', rfc: 'RFC 4291' },
  { cidr: 'fec0::/10', code: 'site-local', description: 'site-local (deprecated)', rfc: 'RFC 3879' },
  { cidr: 'ff00::/8', code: 'multicast', description: 'multicast', rfc: 'RFC 4291' },
  // Everything outside 2000::/3 is not global unicast today (RFC 4291 §2.4, IANA IPv6 address
  // space). Listed as the three blocks that make up that complement so it behaves like any range.
  ...['::/3', '4000::/2', '8000::/1'].map((cidr) => ({
    cidr,
    code: 'not-global-unicast',
    description: 'non-global-unicast IPv6 (outside 2000::/3)',
    rfc: 'RFC 4291',
  })),
];

interface IndexedRange extends SpecialRange {
  bounds: CidrBounds;
  /** Canonical display of the range (the table text for the IPv4-mapped block, which parses as IPv4). */
  display: string;
  /** The refusal of a value inside this range, after the value: built once, not once per value judged. */
  insideReason: string;
}

// Computed once at module load: pure arithmetic, so deterministic inside the workflow sandbox too.
function index(table: readonly SpecialRange[]): IndexedRange[] {
  return table
    .map((r) => {
      // keepMapped: the ::ffff:0:0/96 entry must stay an IPv6 range, not become 0.0.0.0/0.
      const bounds = cidrBounds(r.cidr, { keepMapped: true });
      const parsed = parseCidr(r.cidr);
      if (parsed === undefined || parsed.hostBitsSet) throw new Error(`bad special range ${r.cidr}`);
      const display = parsed.version === bounds.version ? formatCidr(parsed) : r.cidr;
      return { ...r, bounds, display, insideReason: specialReason('', 'is in', { ...r, range: display }) };
    })
    .sort((a, b) =>
      a.bounds.first < b.bounds.first ? -1 : a.bounds.first > b.bounds.first ? 1 : a.bounds.prefix - b.bounds.prefix,
    );
}

const INDEXED: Record<IpVersion, IndexedRange[]> = { 4: index(SPECIAL_RANGES_V4), 6: index(SPECIAL_RANGES_V6) };

/** IPv4 table with plain-number bounds, for the single-address fast path (no BigInt, no parsing twice). */
const V4_NUMERIC = INDEXED[4].map((r) => ({ first: Number(r.bounds.first), last: Number(r.bounds.last), range: r }));

/** A 128-bit value as four 32-bit words, most significant first. */
type Words = [number, number, number, number];

function wordsOf(value: bigint): Words {
  return [0, 1, 2, 3].map((k) => Number((value >> BigInt(96 - 32 * k)) & 0xffffffffn)) as Words;
}

/** a ≤ b for 128-bit values in words. */
function wordsLe(a: Words, b: Words): boolean {
  for (let k = 0; k < 4; k++) if (a[k] !== b[k]) return (a[k] as number) < (b[k] as number);
  return true;
}

/** IPv6 table with word bounds, for the quick verdict (no BigInt per value judged). */
const V6_WORDS = INDEXED[6].map((r) => ({ first: wordsOf(r.bounds.first), last: wordsOf(r.bounds.last) }));

/**
 * CLEAN_V6_16[g] is 1 when no special range touches g::/16 (g the first 16-bit group): then any
 * IPv6 value of prefix 16 or longer starting with g is judged without walking the table. True of
 * nearly all of the allocated global unicast space (2400::/12, 2600::/12, 2a00::/12, …).
 */
const CLEAN_V6_16 = new Uint8Array(65536).fill(1);
for (const r of V6_WORDS) CLEAN_V6_16.fill(0, r.first[0] >>> 16, (r.last[0] >>> 16) + 1);

/** Groups of the IPv6 value plainlyBlockable is judging: it is synchronous, so one array serves every call. */
const V6_GROUPS = new Int32Array(8);

/** A strict 1-3 digit prefix (as parseCidr takes it), or -1. */
function prefixOf(text: string, from: number): number {
  const n = text.length - from;
  if (n < 1 || n > 3) return -1;
  let p = 0;
  for (let i = from; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 48 || c > 57) return -1;
    p = p * 10 + (c - 48);
  }
  return p;
}

/**
 * True when `value` is certainly blockable: it parses, is not a /0, is no broader than the minimum
 * prefix, and touches no special range. False means "ask the full check", which also builds the
 * refusal's sentence. Plain-number arithmetic, because extraction judges every CIDR and IPv6 value it
 * finds and the BigInt path cost about 3 µs each.
 */
function plainlyBlockable(value: string, opts: BlockabilityOptions): boolean {
  if (value.length > 49) return false;
  const slash = value.indexOf('/');
  const addr = slash === -1 ? value : value.slice(0, slash);
  const written = slash === -1 ? -1 : prefixOf(value, slash + 1);
  if (slash !== -1 && written < 0) return false;
  if (!addr.includes(':')) {
    const n = parseV4(addr);
    const prefix = written < 0 ? 32 : written;
    if (n === undefined || prefix === 0 || prefix > 32) return false;
    if (opts.minPrefixV4 !== undefined && prefix < opts.minPrefixV4) return false;
    const host = prefix === 32 ? 0 : 0xffffffff >>> prefix;
    const first = (n & ~host) >>> 0;
    const last = (first | host) >>> 0;
    // Prefix 8 or longer: only the ranges touching the first octet's /8 can overlap.
    const candidates = prefix >= 8 ? (V4_BY_OCTET[n >>> 24] as readonly { first: number; last: number }[]) : V4_NUMERIC;
    for (const r of candidates) if (r.first <= last && first <= r.last) return false;
    return true;
  }
  const g = V6_GROUPS;
  const prefix = written < 0 ? 128 : written;
  if (!readV6Groups(addr, g) || prefix === 0 || prefix > 128) return false;
  // IPv4-mapped (::ffff:a.b.c.d, prefix ≥ 96) is judged as IPv4 by the full check.
  if (prefix >= 96 && g[0] === 0 && g[1] === 0 && g[2] === 0 && g[3] === 0 && g[4] === 0 && g[5] === 0xffff) {
    return false;
  }
  if (opts.minPrefixV6 !== undefined && prefix < opts.minPrefixV6) return false;
  const first = [0, 0, 0, 0] as Words;
  const last = [0, 0, 0, 0] as Words;
  for (let k = 0; k < 4; k++) {
    const word = (((g[2 * k] as number) << 16) | (g[2 * k + 1] as number)) >>> 0;
    const bits = Math.min(32, Math.max(0, prefix - 32 * k));
    const host = bits === 32 ? 0 : 0xffffffff >>> bits;
    const low = (word & ~host) >>> 0;
    first[k] = low;
    last[k] = (low | host) >>> 0;
  }
  if (prefix >= 16 && CLEAN_V6_16[g[0] as number] === 1) return true;
  for (const r of V6_WORDS) if (wordsLe(r.first, last) && wordsLe(first, r.last)) return false;
  return true;
}

/**
 * The IPv4 ranges by first octet: bucket k holds the ranges that overlap k.0.0.0/8. Most buckets
 * are empty, so most public addresses are judged with one array lookup instead of a walk over the
 * whole table.
 */
const V4_BY_OCTET: { first: number; last: number; prefix: number; range: IndexedRange }[][] = Array.from(
  { length: 256 },
  (_, k) =>
    V4_NUMERIC.filter((r) => r.first <= k * 2 ** 24 + 0xffffff && k * 2 ** 24 <= r.last).map((r) => ({
      ...r,
      prefix: r.range.bounds.prefix,
    })),
);

/** The most specific special range holding the IPv4 address `n`, or undefined. */
function specialV4(n: number): IndexedRange | undefined {
  const bucket = V4_BY_OCTET[n >>> 24] as (typeof V4_BY_OCTET)[number];
  let inside: IndexedRange | undefined;
  let insidePrefix = -1;
  for (let i = 0; i < bucket.length; i++) {
    const r = bucket[i] as (typeof bucket)[number];
    if (r.first <= n && n <= r.last && r.prefix > insidePrefix) {
      inside = r.range;
      insidePrefix = r.prefix;
    }
  }
  return inside;
}

/** A special range hit: `relation` says whether the value lies inside the range or only overlaps it. */
export interface SpecialRangeHit {
  code: string;
  range: string;
  description: string;
  rfc: string;
  relation: 'inside' | 'overlaps';
}

/**
 * The special-purpose range that `value` (an address or CIDR) touches, or undefined when it touches
 * none or is not parsable. Judged as ranges: a CIDR that merely overlaps a special range is a hit
 * (0.0.0.0/1 overlaps 10.0.0.0/8), because blocking it would block the special range too.
 *
 * When the value lies inside several nested ranges the most specific one is reported (fe80::1 is
 * 'link-local', not 'not-global-unicast'); when it is wider than the ranges it overlaps, the lowest
 * one is reported.
 */
export function specialRangeOf(value: string): SpecialRangeHit | undefined {
  const v4 = parseV4(value);
  if (v4 !== undefined) {
    // Fast path for the common case, a single IPv4 address: extraction calls this for every value found.
    const r = specialV4(v4);
    return r && { code: r.code, range: r.display, description: r.description, rfc: r.rfc, relation: 'inside' };
  }
  const parsed = parseCidr(value);
  if (parsed === undefined) return undefined;
  const q = cidrBounds(parsed);
  let inside: IndexedRange | undefined;
  let overlapped: IndexedRange | undefined;
  for (const r of INDEXED[q.version]) {
    const b = r.bounds;
    if (b.first <= q.first && q.last <= b.last) {
      if (inside === undefined || b.prefix > inside.bounds.prefix) inside = r;
    } else if (overlapped === undefined && b.first <= q.last && q.first <= b.last) {
      overlapped = r; // the table is sorted, so the first overlap is the lowest range
    }
  }
  const hit = inside ?? overlapped;
  if (hit === undefined) return undefined;
  return {
    code: hit.code,
    range: hit.display,
    description: hit.description,
    rfc: hit.rfc,
    relation: inside ? 'inside' : 'overlaps',
  };
}

/**
 * {@link blockability} of a single IPv4 address given as its 32-bit value: the fast path for
 * extraction, which judges every address it finds. A single address can only be refused for lying
 * in a special range. `display` is the address's canonical text, when the caller has it already.
 */
export function blockabilityOfV4(v4: number, display?: string): Blockability {
  const r = specialV4(v4);
  if (r === undefined) return BLOCKABLE;
  return { blockable: false, code: r.code, reason: (display ?? formatV4Number(v4)) + r.insideReason };
}

/** Why a value may or may not be put in a WAF IP set. */
export type Blockability = { blockable: true } | { blockable: false; code: string; reason: string };

/** The one "may be blocked" verdict, shared: extraction judges every value it finds, and most pass. */
const BLOCKABLE: Blockability = Object.freeze({ blockable: true });

/** Minimum prefix lengths: CIDRs broader than these are refused as 'too-broad'. */
export interface BlockabilityOptions {
  minPrefixV4?: number;
  minPrefixV6?: number;
}

/**
 * Decides whether `value` may be blocked, refusing (in this order) unparsable input ('invalid'), a
 * /0 ('default-route', always), a CIDR broader than the configured minimum prefix ('too-broad'),
 * and anything inside or overlapping a special-purpose range (that range's code). Every refusal
 * carries a sentence an operator can act on.
 */
export function blockability(value: string, opts: BlockabilityOptions = {}): Blockability {
  const v4 = parseV4(value);
  if (v4 !== undefined && (opts.minPrefixV4 === undefined || opts.minPrefixV4 <= 32)) return blockabilityOfV4(v4);
  if (plainlyBlockable(value, opts)) return BLOCKABLE;
  const parsed = parseCidr(value);
  if (parsed === undefined) {
    return { blockable: false, code: 'invalid', reason: `${JSON.stringify(value)} is not an IP address or CIDR` };
  }
  const display = formatCidr(parsed);
  const family = `IPv${parsed.version}`;
  if (parsed.prefix === 0) {
    return {
      blockable: false,
      code: 'default-route',
      reason: `${display} is a default route covering every ${family} address; mail2waf never blocks /0`,
    };
  }
  const min = parsed.version === 4 ? opts.minPrefixV4 : opts.minPrefixV6;
  if (min !== undefined && parsed.prefix < min) {
    return {
      blockable: false,
      code: 'too-broad',
      reason: `${display} is broader than the configured minimum prefix /${min} for ${family}; block narrower CIDRs or lower the minimum`,
    };
  }
  const hit = specialRangeOf(display);
  if (hit !== undefined) {
    return {
      blockable: false,
      code: hit.code,
      reason: specialReason(display, hit.relation === 'inside' ? 'is in' : 'overlaps', hit),
    };
  }
  return BLOCKABLE;
}

/** Why a value in or overlapping a special range is refused. With `display` empty, the part after the value. */
function specialReason(display: string, verb: string, r: { description: string; range: string; rfc: string }): string {
  return `${display} ${verb} ${r.description} range ${r.range} (${r.rfc}); mail2waf never blocks special-purpose addresses`;
}
