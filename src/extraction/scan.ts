/**
 * Finds IPv4 / IPv6 addresses, CIDRs and ranges in free text with real token boundaries.
 *
 * A hand-written single-pass scanner rather than a big regex, for two reasons:
 * - boundaries: `999.1.1.1` must yield nothing (a regex happily finds `99.1.1.1` inside it), and
 *   `1.3.6.1.4.1` or `1.2.3.4.5` must yield no 4-part window;
 * - speed and safety: each character is looked at a bounded number of times, so 20 MB of text is
 *   scanned in well under a second and a hostile 100 MB run of `1.1.1.1.1…` cannot hang the worker.
 *
 * How: find maximal runs of the characters addresses are made of (`0-9 a-f A-F : .`), then judge
 * each run as a whole — first as IPv6 (when it has two or more colons), else look at its
 * dotted-decimal sub-runs as IPv4 — checking the characters just outside the token.
 */
import { compareIp, formatCidr, parseCidr, parseIp, rangeToCidrs, type IpVersion } from '../net/ip';
import { refang } from './refang';

/** One indicator found in text. */
export interface FoundIndicator {
  /** Canonical display value (see `formatCidr`): `1.2.3.4`, `1.2.3.0/24`, `2001:db8::1`. */
  value: string;
  version: IpVersion;
  /** Where it was seen, e.g. "body:line 12", "attachment iocs.csv:line 3"; at most MAX_WHERE entries. */
  where: string[];
}

/** How many places are kept per indicator: enough to explain it, bounded for payload size. */
export const MAX_WHERE = 5;

interface Hit {
  start: number;
  end: number;
  line: number;
  value: string;
  version: IpVersion;
  /** A single address written without a prefix: only these can be range endpoints. */
  bare: boolean;
}

const CH_DOT = 46;
const CH_COLON = 58;
const CH_SLASH = 47;
const CH_DASH = 45;
const CH_NEWLINE = 10;

function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}

function isHexLetter(c: number): boolean {
  return (c >= 97 && c <= 102) || (c >= 65 && c <= 70);
}

/** Characters an address token can contain. */
function isRunChar(c: number): boolean {
  return isDigit(c) || isHexLetter(c) || c === CH_COLON || c === CH_DOT;
}

/**
 * Characters that glue onto a token and make it part of a bigger word: `x1.2.3.4`, `1.2.3.4abc`,
 * `4.3.2.1.in-addr`. ASCII letters, digits and '_' plus Latin/Greek/Cyrillic letters. CJK and other
 * scripts written without spaces are deliberately not "word" characters: "地址1.2.3.4" is an address.
 */
function isWord(c: number): boolean {
  if (c < 0) return false;
  if (c < 128) return isDigit(c) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95;
  return c >= 0xc0 && c <= 0x52f && c !== 0xd7 && c !== 0xf7;
}

function codeAt(t: string, i: number): number {
  return i >= 0 && i < t.length ? t.charCodeAt(i) : -1;
}

/** True when the token just before `start` is a URL authority (`//host` or `//user@host`), so a following `/` is a path. */
function isUrlHost(t: string, start: number): boolean {
  if (codeAt(t, start - 1) === CH_SLASH && codeAt(t, start - 2) === CH_SLASH) return true;
  if (codeAt(t, start - 1) !== 64 /* @ */) return false;
  // Bounded look-back over the userinfo part so this stays O(1) per token.
  for (let i = start - 2; i >= 1 && i > start - 256; i--) {
    const c = t.charCodeAt(i);
    if (c === CH_SLASH) return t.charCodeAt(i - 1) === CH_SLASH;
    if (c <= 32 || c === 34 || c === 39 || c === 44 || c === 60 || c === 62) return false;
  }
  return false;
}

/**
 * Reads a `/prefix` at `at` (the index of the '/'). Returns the prefix and the index after it, or
 * 'none' when what follows the slash is not a number (a path), or 'bad' when it is a number that
 * cannot be a prefix here (`/33`, `/2024`, `/24abc`) — then the token is dropped rather than guessed.
 */
function readPrefix(t: string, at: number, max: number): { prefix: number; end: number } | 'none' | 'bad' {
  let i = at + 1;
  while (i < t.length && i - at <= 4 && isDigit(t.charCodeAt(i))) i++;
  const digits = i - at - 1;
  if (digits === 0) return 'none';
  const after = codeAt(t, i);
  if (isWord(after) || after === CH_SLASH || (after === CH_DOT && isWord(codeAt(t, i + 1)))) return 'bad';
  const prefix = Number(t.slice(at + 1, i));
  if (digits > 3 || prefix > max) return 'bad';
  return { prefix, end: i };
}

/** Prefix length of a contiguous dotted netmask (255.255.255.0 → 24), or undefined. */
function netmaskPrefix(mask: string): number | undefined {
  const parsed = parseIp(mask);
  if (parsed === undefined || parsed.version !== 4) return undefined;
  let bits = 0;
  let seenZero = false;
  for (const part of parsed.address.split('.')) {
    for (let b = 7; b >= 0; b--) {
      if ((Number(part) >> b) & 1) {
        if (seenZero) return undefined;
        bits++;
      } else {
        seenZero = true;
      }
    }
  }
  return bits;
}

/** Scanner state: the text, hits so far, and how far the text has been consumed by a token. */
interface ScanState {
  t: string;
  hits: Hit[];
  /** Index up to which text belongs to an earlier token (a hit, or a malformed CIDR that was dropped). */
  consumed: number;
}

/** Result of judging a token: a hit, nothing, or "drop everything up to this index" (malformed CIDR). */
type Judgement = Hit | { dropUntil: number } | undefined;

/**
 * Tries to read an IPv6 address (optionally with /prefix) from the run [s, e). Handles a labelled
 * start (`IP:2001:db8::1`, `src:2001:db8::1`) and a trailing sentence '.' or ':'.
 */
function tryV6(t: string, s: number, e: number, line: number): Judgement {
  // End: drop trailing dots (sentence end) and then one trailing single colon ("address 2001:db8::1:").
  let end = e;
  while (end > s && t.charCodeAt(end - 1) === CH_DOT) end--;
  if (end > s + 1 && t.charCodeAt(end - 1) === CH_COLON && t.charCodeAt(end - 2) !== CH_COLON) end--;
  const trimmed = end !== e;
  if (isWord(codeAt(t, e))) return undefined; // glued to letters, or `…::1.example`

  let start = s;
  if (t.charCodeAt(s) === CH_COLON && t.charCodeAt(s + 1) !== CH_COLON) {
    start = s + 1; // "IP:2001:db8::1": the run starts at the label's colon
  } else if (isWord(codeAt(t, s - 1))) {
    // Glued start: only a label made of letters ending in hex letters ("src:" → run "c:…") may be
    // skipped. "x2001:db8::1" or "1:2:3:4:5:6:7:8:9" must not yield a shortened address.
    const firstColon = t.indexOf(':', s);
    let lettersOnly = firstColon > s;
    for (let k = s; k < firstColon && lettersOnly; k++) lettersOnly = isHexLetter(t.charCodeAt(k));
    start = lettersOnly && t.charCodeAt(firstColon + 1) !== CH_COLON ? firstColon + 1 : -1;
  }
  if (start < 0 || end - start > 45) return undefined; // longer than any IPv6 text; never slice a huge run
  const text = t.slice(start, end);
  if (!/[0-9a-fA-F]/.test(text)) return undefined; // a bare "::" in prose (Foo :: Bar) is not an address
  if (isMacLike(text)) return undefined;
  const ip = parseIp(text);
  if (ip === undefined) return undefined;
  if (trimmed || codeAt(t, end) !== CH_SLASH) {
    return { start, end, line, value: ip.address, version: ip.version, bare: true };
  }
  // Always up to 128: `::ffff:1.2.3.0/120` is IPv6 syntax even though it canonicalises to IPv4.
  const p = readPrefix(t, end, 128);
  if (p === 'none') return { start, end, line, value: ip.address, version: ip.version, bare: true };
  if (p === 'bad') return { dropUntil: skipNumberish(t, end + 1) };
  const c = parseCidr(`${text}/${p.prefix}`);
  if (c === undefined) return { dropUntil: p.end };
  return { start, end: p.end, line, value: formatCidr(c), version: c.version, bare: false };
}

/** Index after the digits and dots starting at `from` (bounded), for dropping a malformed suffix. */
function skipNumberish(t: string, from: number): number {
  let m = from;
  while (m < t.length && m - from < 40 && (isDigit(t.charCodeAt(m)) || t.charCodeAt(m) === CH_DOT)) m++;
  return m;
}

/**
 * EUI-48/EUI-64 written with colons (00:1a:2b:3c:4d:5e:6f:70) parses as IPv6; a real IPv6 address
 * is essentially never written as eight two-digit groups without `::`.
 */
function isMacLike(text: string): boolean {
  return /^[0-9a-fA-F]{2}(?::[0-9a-fA-F]{2}){5,7}$/.test(text);
}

/** Reads the four octets of a strict dotted quad in [a, b), or undefined. */
function readQuad(t: string, a: number, b: number): string | undefined {
  if (b - a < 7 || b - a > 15) return undefined;
  const octets: number[] = [];
  let value = 0;
  let digits = 0;
  for (let i = a; i <= b; i++) {
    const c = i < b ? t.charCodeAt(i) : CH_DOT;
    if (c === CH_DOT) {
      if (digits === 0 || value > 255) return undefined;
      octets.push(value);
      value = 0;
      digits = 0;
    } else {
      if (++digits > 3) return undefined;
      value = value * 10 + (c - 48);
    }
  }
  return octets.length === 4 ? octets.join('.') : undefined;
}

/** Judges one maximal `[0-9.]` sub-run [a, b) as an IPv4 address or CIDR. */
function tryV4(t: string, a: number, b: number, line: number): Judgement {
  let s = a;
  let e = b;
  while (s < e && t.charCodeAt(s) === CH_DOT) s++;
  while (e > s && t.charCodeAt(e - 1) === CH_DOT) e--;
  // A letter/digit right before or after means the token is part of something bigger: glued to a
  // word (`x1.2.3.4`, `1.2.3.4abc`), a hostname label (`host.1.2.3.4`), reverse DNS
  // (`4.3.2.1.in-addr.arpa`). Two or more dots in between are an ellipsis ("and...1.2.3.4"), fine.
  if (s - a < 2 && isWord(codeAt(t, a - 1))) return undefined;
  if (b - e < 2 && isWord(codeAt(t, b))) return undefined;
  const address = readQuad(t, s, e);
  if (address === undefined) return undefined;
  const hit: Hit = { start: s, end: e, line, value: address, version: 4, bare: true };
  if (e !== b || codeAt(t, e) !== CH_SLASH || isUrlHost(t, s)) return hit;

  // "/24" → CIDR; "/255.255.255.0" → netmask; "/path" → just the address.
  const p = readPrefix(t, e, 32);
  if (p === 'none') return hit;
  let prefix: number;
  let end: number;
  if (p === 'bad') {
    const m = skipNumberish(t, e + 1);
    let me = m;
    while (me > e + 1 && t.charCodeAt(me - 1) === CH_DOT) me--;
    const maskPrefix = isWord(codeAt(t, m)) || me - e > 16 ? undefined : netmaskPrefix(t.slice(e + 1, me));
    if (maskPrefix === undefined) return { dropUntil: m };
    prefix = maskPrefix;
    end = me;
  } else {
    prefix = p.prefix;
    end = p.end;
  }
  const c = parseCidr(`${address}/${prefix}`);
  if (c === undefined) return { dropUntil: end };
  return { start: s, end, line, value: formatCidr(c), version: 4, bare: false };
}

/** Records a judgement; returns true when it was a hit. */
function record(state: ScanState, j: Judgement): boolean {
  if (j === undefined) return false;
  if ('dropUntil' in j) {
    state.consumed = Math.max(state.consumed, j.dropUntil);
    return false;
  }
  state.hits.push(j);
  state.consumed = Math.max(state.consumed, j.end);
  return true;
}

/** Scans one maximal run [s, e) of address characters (s already past anything consumed). */
function scanRun(state: ScanState, s: number, e: number, colons: number, dots: number, line: number): void {
  const t = state.t;
  if (colons >= 2 && record(state, tryV6(t, s, e, line))) return;
  if (dots < 3) return;
  // Dotted-decimal sub-runs; their neighbours inside the run are hex letters (glue) or ':' (fine: "ip:1.2.3.4").
  let i = Math.max(s, state.consumed);
  while (i < e) {
    const c = t.charCodeAt(i);
    if (!isDigit(c) && c !== CH_DOT) {
      i++;
      continue;
    }
    let j = i;
    let subDots = 0;
    while (j < e && (isDigit(t.charCodeAt(j)) || t.charCodeAt(j) === CH_DOT)) {
      if (t.charCodeAt(j) === CH_DOT) subDots++;
      j++;
    }
    if (subDots >= 3) record(state, tryV4(t, i, j, line));
    i = Math.max(j, state.consumed);
  }
}

/** Separator between two range endpoints: optional blanks, a dash (or en dash), optional blanks. */
function isRangeDash(t: string, from: number, to: number): boolean {
  if (to - from > 16 || to <= from) return false;
  let i = from;
  while (i < to && (t.charCodeAt(i) === 32 || t.charCodeAt(i) === 9)) i++;
  if (i >= to || (t.charCodeAt(i) !== CH_DASH && t.charCodeAt(i) !== 0x2013)) return false;
  i++;
  while (i < to && (t.charCodeAt(i) === 32 || t.charCodeAt(i) === 9)) i++;
  return i === to;
}

/** Last-octet shorthand `10.0.0.1-64` → end address `10.0.0.64`, or undefined. */
function shorthandEnd(t: string, hit: Hit): string | undefined {
  if (hit.version !== 4 || codeAt(t, hit.end) !== CH_DASH) return undefined;
  let i = hit.end + 1;
  while (i < t.length && i - hit.end <= 4 && isDigit(t.charCodeAt(i))) i++;
  const digits = i - hit.end - 1;
  if (digits < 1 || digits > 3) return undefined;
  const after = codeAt(t, i);
  if (isWord(after) || after === CH_DASH || (after === CH_DOT && isWord(codeAt(t, i + 1)))) return undefined;
  const last = Number(t.slice(hit.end + 1, i));
  const dot = hit.value.lastIndexOf('.');
  if (last > 255 || last <= Number(hit.value.slice(dot + 1))) return undefined;
  return `${hit.value.slice(0, dot)}.${last}`;
}

/** Accumulates indicators, deduplicated by value with merged (bounded) `where` lists, in first-seen order. */
class Collector {
  private readonly byValue = new Map<string, FoundIndicator>();

  add(value: string, version: IpVersion, where: string): void {
    const found = this.byValue.get(value);
    if (found === undefined) {
      this.byValue.set(value, { value, version, where: [where] });
    } else if (found.where.length < MAX_WHERE && !found.where.includes(where)) {
      found.where.push(where);
    }
  }

  addAll(list: readonly FoundIndicator[], wherePrefix = ''): void {
    for (const f of list) for (const w of f.where) this.add(f.value, f.version, wherePrefix + w);
  }

  result(): FoundIndicator[] {
    return [...this.byValue.values()];
  }
}

/**
 * Merges indicator lists (from several parts of one message) into one, deduplicated by value with
 * `where` lists merged and capped at MAX_WHERE.
 */
export function mergeIndicators(...lists: ReadonlyArray<readonly FoundIndicator[]>): FoundIndicator[] {
  const c = new Collector();
  for (const list of lists) c.addAll(list);
  return c.result();
}

/** Like {@link mergeIndicators} for one list, with `prefix` put in front of every `where` entry. */
export function prefixWhere(list: readonly FoundIndicator[], prefix: string): FoundIndicator[] {
  const c = new Collector();
  c.addAll(list, prefix);
  return c.result();
}

/**
 * Finds every IPv4/IPv6 address, CIDR and range in `text` after refanging it. `where` labels the
 * source ("body", "attachment iocs.csv"); each hit is recorded as "<where>:line <n>".
 *
 * Values are canonical (see `formatCidr`); a CIDR written with host bits set is reported as its
 * network. A range `a-b` / `a - b` (or `a.b.c.d-e`) yields both endpoints and its minimal CIDR
 * cover, never the member addresses. No judgement about blockability is made here.
 */
export function scanText(text: string, where: string): FoundIndicator[] {
  const t = refang(text);
  const n = t.length;
  const state: ScanState = { t, hits: [], consumed: 0 };
  const hits = state.hits;
  let line = 1;
  let i = 0;
  while (i < n) {
    const c = t.charCodeAt(i);
    if (!isRunChar(c)) {
      if (c === CH_NEWLINE) line++;
      i++;
      continue;
    }
    let j = i;
    let colons = 0;
    let dots = 0;
    let hasDigit = false;
    for (; j < n; j++) {
      const d = t.charCodeAt(j);
      if (d === CH_COLON) colons++;
      else if (d === CH_DOT) dots++;
      else if (isDigit(d)) hasDigit = true;
      else if (!isHexLetter(d)) break;
    }
    // Most runs are ordinary words made of hex letters ("face", "added"): skip them cheaply.
    // A run inside an earlier token (the netmask or prefix a CIDR consumed) is part of that token.
    if (j > state.consumed && (colons >= 2 || (hasDigit && dots >= 3))) {
      scanRun(state, Math.max(i, state.consumed), j, colons, dots, line);
    }
    i = j;
  }

  const out = new Collector();
  for (let k = 0; k < hits.length; k++) {
    const a = hits[k] as Hit;
    const at = `${where}:line ${a.line}`;
    out.add(a.value, a.version, at);
    if (!a.bare) continue;
    const b = hits[k + 1];
    let endValue: string | undefined;
    if (b !== undefined && b.bare && b.version === a.version && b.line === a.line && isRangeDash(t, a.end, b.start)) {
      endValue = b.value;
      out.add(b.value, b.version, at);
      k++; // b is consumed as this range's end, not the start of another
    } else {
      endValue = shorthandEnd(t, a);
      if (endValue !== undefined) out.add(endValue, a.version, at);
    }
    if (endValue !== undefined && compareIp(a.value, endValue) < 0) {
      for (const cidr of rangeToCidrs(a.value, endValue)) out.add(cidr, a.version, at);
    }
  }
  return out.result();
}

/** {@link scanText} with the generic label "text". */
export function extractIndicators(text: string): FoundIndicator[] {
  return scanText(text, 'text');
}
