/**
 * IP address and CIDR parsing, canonical formatting and arithmetic.
 *
 * Pure and bundle-safe: this module is imported by Temporal workflow code, so it uses no Node
 * built-ins and no dependencies — only string handling and BigInt.
 *
 * Canonical display form (used everywhere a value is shown, stored or compared):
 * - IPv4 dotted decimal without leading zeros;
 * - IPv6 per RFC 5952: lower case, no leading zeros in a group, the longest run of two or more
 *   zero groups compressed to `::` (the first one on a tie), a single zero group never compressed;
 * - an IPv4-mapped IPv6 address (`::ffff:a.b.c.d`) is the IPv4 address it maps, so the same host
 *   never appears twice under two spellings;
 * - host bits zeroed, and the `/prefix` left out for a single address (/32, /128).
 */

export type IpVersion = 4 | 6;

/** A parsed CIDR (or single address, prefix 32 / 128) with the network in canonical form. */
export interface ParsedCidr {
  version: IpVersion;
  /** Canonical network address, host bits zeroed. */
  network: string;
  prefix: number;
  /** True when the input had bits set below the prefix (`10.1.2.3/8`); `network` has them cleared. */
  hostBitsSet: boolean;
}

/** What the containment helpers accept: a display / CIDR string, or an already parsed CIDR. */
export type CidrInput = string | ParsedCidr;

/** A CIDR as integer bounds, for range arithmetic. */
export interface CidrBounds {
  version: IpVersion;
  prefix: number;
  first: bigint;
  last: bigint;
}

const BITS: Record<IpVersion, number> = { 4: 32, 6: 128 };
const ALL_ONES: Record<IpVersion, bigint> = { 4: (1n << 32n) - 1n, 6: (1n << 128n) - 1n };
// ::ffff:0:0/96 — IPv4-mapped IPv6 addresses (RFC 4291 §2.5.5.2).
const MAPPED_PREFIX = 0xffffn << 32n;
// Longest valid IPv6 text: 6 full groups + an IPv4 tail ("ffff:…:255.255.255.255") is 45 characters.
// Checking length first keeps a multi-megabyte garbage string from being split or scanned.
const MAX_V6_TEXT = 45;

/** Parses strict dotted-quad IPv4 into a number; leading zeros are decimal, 4+ digit octets are invalid. */
export function parseV4(text: string): number | undefined {
  if (text.length < 7 || text.length > 15) return undefined;
  let value = 0;
  let octet = 0;
  let digits = 0;
  let parts = 0;
  for (let i = 0; i <= text.length; i++) {
    const c = i < text.length ? text.charCodeAt(i) : 46; // a virtual trailing '.' closes the last octet
    if (c >= 48 && c <= 57) {
      if (++digits > 3) return undefined;
      octet = octet * 10 + (c - 48);
    } else if (c === 46) {
      if (digits === 0 || octet > 255) return undefined;
      value = value * 256 + octet;
      parts++;
      octet = 0;
      digits = 0;
    } else {
      return undefined;
    }
  }
  return parts === 4 ? value : undefined;
}

/** The value of each ASCII hex digit, -1 for any other character below 128. */
const HEX_VALUE = new Int8Array(128).fill(-1);
for (let c = 0; c < 128; c++) {
  if (c >= 48 && c <= 57) HEX_VALUE[c] = c - 48;
  else if (c >= 97 && c <= 102) HEX_VALUE[c] = c - 87;
  else if (c >= 65 && c <= 70) HEX_VALUE[c] = c - 55;
}

function hexValue(c: number): number {
  return c < 128 ? (HEX_VALUE[c] as number) : -1;
}

/**
 * Parses IPv6 text (RFC 4291 §2.2) into its eight 16-bit groups. Zone ids (`%eth0`) are not accepted.
 */
export function parseV6Groups(text: string): number[] | undefined {
  const groups = new Int32Array(8);
  return readV6Groups(text, groups) ? Array.from(groups) : undefined;
}

/**
 * {@link parseV6Groups} into `out` (eight slots); false when `text` is not IPv6. One pass over the
 * characters, no split and no array (an IPv4 tail is sliced out to be read): extraction runs this
 * for every IPv6-looking token.
 */
export function readV6Groups(text: string, out: Int32Array): boolean {
  const n = text.length;
  if (n < 2 || n > MAX_V6_TEXT) return false;
  let count = 0;
  let gap = -1; // index in `out` where "::" stands, -1: none
  let i = 0;
  if (text.charCodeAt(0) === 58) {
    // Only "::" may start an address.
    if (text.charCodeAt(1) !== 58) return false;
    gap = 0;
    i = 2;
    if (i === n) {
      out.fill(0);
      return true;
    }
  }
  for (;;) {
    // One group: 1-4 hex digits, or (as the last piece) a dotted IPv4 address.
    const start = i;
    let value = 0;
    while (i < n && i - start < 5) {
      const d = hexValue(text.charCodeAt(i));
      if (d < 0) break;
      value = value * 16 + d;
      i++;
    }
    const c = i < n ? text.charCodeAt(i) : -1;
    if (c === 46 /* . */) {
      // An embedded IPv4 address may only be the final 32 bits (RFC 4291 §2.2 form 3).
      let end = i;
      while (end < n && text.charCodeAt(end) !== 58) end++;
      if (end !== n) return false;
      const v4 = parseV4(text.slice(start, n));
      // Two more groups than eight (or than seven beside a "::") is never an address.
      if (v4 === undefined || count > 6) return false;
      out[count++] = Math.floor(v4 / 65536);
      out[count++] = v4 % 65536;
      break;
    }
    const digits = i - start;
    // A ninth group is never an address, whatever follows.
    if (digits < 1 || digits > 4 || count === 8) return false;
    out[count++] = value;
    if (i === n) break;
    if (c !== 58) return false;
    i++;
    if (i < n && text.charCodeAt(i) === 58) {
      if (gap !== -1) return false; // a second "::"
      gap = count;
      i++;
      if (i === n) break;
    } else if (i === n) {
      return false; // a single trailing ':'
    }
  }
  if (gap === -1) return count === 8;
  // `::` stands for at least one zero group, so at most 7 explicit groups may remain.
  if (count > 7) return false;
  // Move the groups after the "::" to the end, from the last one down, and zero the gap.
  const tail = count - gap;
  for (let k = tail - 1; k >= 0; k--) out[8 - tail + k] = out[gap + k] as number;
  out.fill(0, gap, 8 - tail);
  return true;
}

/** Groups of the IPv6 text parseIp is reading: parsing is synchronous, so one array serves every call. */
const V6_SCRATCH = new Int32Array(8);

/** Parses IPv6 text (RFC 4291 §2.2) into a 128-bit integer. Zone ids (`%eth0`) are not accepted. */
function parseV6(text: string): bigint | undefined {
  const groups = parseV6Groups(text);
  if (groups === undefined) return undefined;
  let value = 0n;
  for (const g of groups) value = (value << 16n) | BigInt(g);
  return value;
}

const OCTET = Array.from({ length: 256 }, (_, i) => String(i));
const OCTET_DOT = OCTET.map((o) => `${o}.`);

/**
 * Dotted-quad text of a 32-bit IPv4 value. From tables, with no number formatting: extraction
 * builds one of these for every address it reports.
 */
export function formatV4Number(n: number): string {
  return (
    (OCTET_DOT[n >>> 24] as string) +
    (OCTET_DOT[(n >>> 16) & 255] as string) +
    (OCTET_DOT[(n >>> 8) & 255] as string) +
    (OCTET[n & 255] as string)
  );
}

function formatV4(value: bigint): string {
  return formatV4Number(Number(value));
}

/** Hex text of a byte, without and with a leading zero: a group's text from tables, not toString(16). */
const HEX = Array.from({ length: 256 }, (_, b) => b.toString(16));
const HEX2 = HEX.map((h) => h.padStart(2, '0'));

function hexGroup(g: number): string {
  return g < 256 ? (HEX[g] as string) : (HEX[g >>> 8] as string) + (HEX2[g & 255] as string);
}

/** RFC 5952 text of eight 16-bit groups. */
function formatV6Groups(groups: ArrayLike<number>): string {
  // RFC 5952 §4.2: compress the longest run of 2+ zero groups; on a tie the first one.
  let bestStart = -1;
  let bestLen = 1;
  for (let i = 0; i < 8;) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  let out = '';
  for (let i = 0; i < 8; i++) {
    if (i === bestStart) {
      out += '::';
      i += bestLen - 1;
      continue;
    }
    // A ':' between groups, but not right after the '::'.
    if (i > 0 && i !== bestStart + bestLen) out += ':';
    out += hexGroup(groups[i] as number);
  }
  return out;
}

function formatV6(value: bigint): string {
  const groups: number[] = [];
  for (let shift = 112n; shift >= 0n; shift -= 16n) groups.push(Number((value >> shift) & 0xffffn));
  return formatV6Groups(groups);
}

function formatAddress(version: IpVersion, value: bigint): string {
  return version === 4 ? formatV4(value) : formatV6(value);
}

function maskOf(version: IpVersion, prefix: number): bigint {
  const hostBits = BigInt(BITS[version] - prefix);
  return ALL_ONES[version] ^ ((1n << hostBits) - 1n);
}

interface Numeric {
  version: IpVersion;
  value: bigint;
  prefix: number;
}

/**
 * Parses `addr` or `addr/prefix` into integer form, mapping `::ffff:a.b.c.d` (prefix ≥ 96) to IPv4.
 * Host bits are kept; callers decide whether to clear them.
 */
function parseNumeric(text: string, mapV4 = true): Numeric | undefined {
  if (text.length === 0 || text.length > MAX_V6_TEXT + 4) return undefined;
  const slash = text.indexOf('/');
  const addrText = slash === -1 ? text : text.slice(0, slash);
  let prefix: number | undefined;
  if (slash !== -1) {
    const p = text.slice(slash + 1);
    // Digits only: rejects '+24', ' 24', '24 ', '0x18', and a second '/'.
    if (!/^[0-9]{1,3}$/.test(p)) return undefined;
    prefix = Number(p);
  }
  if (addrText.includes(':')) {
    const value = parseV6(addrText);
    if (value === undefined) return undefined;
    const p = prefix ?? 128;
    if (p > 128) return undefined;
    if (mapV4 && p >= 96 && value >> 32n === MAPPED_PREFIX >> 32n) {
      return { version: 4, value: value & 0xffffffffn, prefix: p - 96 };
    }
    return { version: 6, value, prefix: p };
  }
  const v4 = parseV4(addrText);
  if (v4 === undefined) return undefined;
  const p = prefix ?? 32;
  if (p > 32) return undefined;
  return { version: 4, value: BigInt(v4), prefix: p };
}

/** Parses a single IP address (no prefix) strictly and returns it in canonical form. */
export function parseIp(text: string): { version: IpVersion; address: string } | undefined {
  if (text.includes('/')) return undefined;
  if (text.includes(':')) {
    // No BigInt and no array per call on this path: extraction canonicalises every IPv6 token it meets here.
    const g = V6_SCRATCH;
    if (!readV6Groups(text, g)) return undefined;
    if (g[0] === 0 && g[1] === 0 && g[2] === 0 && g[3] === 0 && g[4] === 0 && g[5] === 0xffff) {
      const hi = g[6] as number;
      const lo = g[7] as number;
      return { version: 4, address: `${hi >>> 8}.${hi & 255}.${lo >>> 8}.${lo & 255}` };
    }
    return { version: 6, address: formatV6Groups(g) };
  }
  const n = parseNumeric(text);
  if (n === undefined) return undefined;
  return { version: n.version, address: formatAddress(n.version, n.value) };
}

/**
 * Parses `addr` (a /32 or /128) or `addr/prefix` strictly. Host bits are zeroed and reported in
 * `hostBitsSet`. Returns undefined for anything that is not exactly an address or CIDR: surrounding
 * whitespace, a signed or out-of-range prefix, zone ids, 4-digit IPv4 octets.
 */
export function parseCidr(text: string): ParsedCidr | undefined {
  const n = parseNumeric(text);
  if (n === undefined) return undefined;
  const network = n.value & maskOf(n.version, n.prefix);
  return {
    version: n.version,
    network: formatAddress(n.version, network),
    prefix: n.prefix,
    hostBitsSet: network !== n.value,
  };
}

/** Canonical display: the bare address for a single host (/32, /128), otherwise `network/prefix`. */
export function formatCidr(c: { version: IpVersion; network: string; prefix: number }): string {
  return c.prefix === BITS[c.version] ? c.network : `${c.network}/${c.prefix}`;
}

/**
 * The AWS WAF IP-set form of a value: always with a prefix (`1.2.3.4/32`, `2001:db8::1/128`), host
 * bits zero. Throws on anything WAF would reject: unparsable input and /0.
 */
export function toWafEntry(value: string): string {
  const c = parseCidr(value);
  if (c === undefined) throw new Error(`not an IP address or CIDR: ${JSON.stringify(value)}`);
  if (c.prefix === 0) throw new Error(`${c.network}/0 is a default route; AWS WAF rejects /0 entries`);
  return `${c.network}/${c.prefix}`;
}

/**
 * Integer bounds of a CIDR. Throws on an invalid string, so a typo never silently matches nothing.
 * `keepMapped` keeps `::ffff:0:0/96`-style input as IPv6 instead of mapping it to IPv4 (only the
 * special-range table needs that, to describe the IPv4-mapped block itself).
 */
export function cidrBounds(input: CidrInput, opts: { keepMapped?: boolean } = {}): CidrBounds {
  const text = typeof input === 'string' ? input : `${input.network}/${input.prefix}`;
  const n = parseNumeric(text, !opts.keepMapped);
  if (n === undefined) throw new Error(`not an IP address or CIDR: ${JSON.stringify(text)}`);
  const mask = maskOf(n.version, n.prefix);
  const first = n.value & mask;
  return { version: n.version, prefix: n.prefix, first, last: first | (ALL_ONES[n.version] ^ mask) };
}

/**
 * True when every address of `inner` is in `outer`. Arguments are display/CIDR strings (host bits
 * tolerated and ignored) or ParsedCidr values; an invalid string throws rather than answering false,
 * because a silent false in a never-block check would let a block through. Different IP versions
 * never contain each other.
 */
export function cidrContains(outer: CidrInput, inner: CidrInput): boolean {
  const o = cidrBounds(outer);
  const i = cidrBounds(inner);
  return o.version === i.version && o.first <= i.first && i.last <= o.last;
}

/** True when `a` and `b` share at least one address. Same argument rules as {@link cidrContains}. */
export function cidrOverlaps(a: CidrInput, b: CidrInput): boolean {
  const x = cidrBounds(a);
  const y = cidrBounds(b);
  return x.version === y.version && x.first <= y.last && y.first <= x.last;
}

/** Orders two single addresses numerically (negative, 0, positive). Throws on invalid input or mixed versions. */
export function compareIp(a: string, b: string): number {
  const x = parseNumeric(a);
  const y = parseNumeric(b);
  if (x === undefined || y === undefined || a.includes('/') || b.includes('/')) {
    throw new Error(`not IP addresses: ${JSON.stringify(a)}, ${JSON.stringify(b)}`);
  }
  if (x.version !== y.version) throw new Error(`cannot compare IPv${x.version} ${a} with IPv${y.version} ${b}`);
  return x.value < y.value ? -1 : x.value > y.value ? 1 : 0;
}

/**
 * The minimal list of CIDRs covering exactly `start`..`end` (inclusive), in ascending order and in
 * canonical display form. Both ends must be single addresses of the same version with start ≤ end;
 * anything else throws. At most 62 entries for IPv4 and 254 for IPv6.
 */
export function rangeToCidrs(start: string, end: string): string[] {
  if (compareIp(start, end) > 0) throw new Error(`range start ${start} is after its end ${end}`);
  const s = parseNumeric(start) as Numeric;
  const e = parseNumeric(end) as Numeric;
  return coverRange(s.version, s.value, e.value);
}

/**
 * The minimal CIDR cover of a set of addresses and networks of one or both IP versions: contained networks
 * disappear into the ones that contain them, adjacent ones merge where they align. The result covers exactly
 * the same addresses, no more (canonical display strings, IPv4 first, in address order).
 */
export function aggregateCidrs(values: readonly string[]): string[] {
  const out: string[] = [];
  for (const version of [4, 6] as const) {
    const spans = values
      .map((v) => cidrBounds(v))
      .filter((b) => b.version === version)
      .sort((a, b) => (a.first < b.first ? -1 : a.first > b.first ? 1 : 0));
    let cur: { first: bigint; last: bigint } | undefined;
    for (const b of spans) {
      if (cur && b.first <= cur.last + 1n) {
        if (b.last > cur.last) cur.last = b.last;
        continue;
      }
      if (cur) out.push(...coverRange(version, cur.first, cur.last));
      cur = { first: b.first, last: b.last };
    }
    if (cur) out.push(...coverRange(version, cur.first, cur.last));
  }
  return out;
}

/** Largest aligned blocks from `first` to `last` inclusive: the minimal CIDR cover of one range. */
/**
 * The minimal CIDR cover of the IPv4 range first..last (32-bit values, first <= last), in plain
 * numbers: the scanner covers every range it reads, and the BigInt path cost microseconds each.
 */
export function rangeToCidrsV4(first: number, last: number): string[] {
  const out: string[] = [];
  let cur = first;
  for (;;) {
    // Largest aligned block starting at `cur` that does not run past `last`.
    let size = 0;
    while (size < 32 && cur % 2 ** (size + 1) === 0 && cur + 2 ** (size + 1) - 1 <= last) size++;
    const network = formatV4Number(cur);
    out.push(size === 0 ? network : `${network}/${32 - size}`);
    const next = cur + 2 ** size;
    if (next > last) break;
    cur = next;
  }
  return out;
}

function coverRange(version: IpVersion, first: bigint, last: bigint): string[] {
  if (version === 4) return rangeToCidrsV4(Number(first), Number(last));
  const e = { value: last };
  const bits = BITS[version];
  const out: string[] = [];
  let cur = first;
  for (;;) {
    // Largest aligned block starting at `cur` that does not run past `end`.
    let size = 0;
    while (
      size < bits &&
      (cur & ((1n << BigInt(size + 1)) - 1n)) === 0n &&
      cur + (1n << BigInt(size + 1)) - 1n <= e.value
    ) {
      size++;
    }
    out.push(formatCidr({ version, network: formatAddress(version, cur), prefix: bits - size }));
    const next = cur + (1n << BigInt(size));
    if (next > e.value) break;
    cur = next;
  }
  return out;
}
