/**
 * Finds IPv4 / IPv6 addresses, CIDRs and ranges in free text with real token boundaries.
 *
 * A hand-written single-pass scanner rather than a big regex, for two reasons:
 * - boundaries: `999.1.1.1` must yield nothing (a regex happily finds `99.1.1.1` inside it), and
 *   `1.3.6.1.4.1` or `1.2.3.4.5` must yield no 4-part window;
 * - speed and safety: each character is looked at a bounded number of times, through a lookup
 *   table, so 20 MB of advisory text takes a fraction of a second and a hostile 100 MB run of
 *   `1.1.1.1.1…` cannot hang the worker.
 *
 * How: undo defanging and URL wrappers (one pass each; see ChunkedScan.lines for the rare piece
 * refanged twice), then find maximal runs of the characters
 * addresses are made of (`0-9 a-f A-F : .`) and judge each run as a whole — first as IPv6 (when it
 * has two or more colons), else look at its dotted-decimal sub-runs as IPv4 — checking the
 * characters just outside the token and the word before it (version markers, User-Agent tokens).
 * Ranges are paired on the fly from consecutive hits on one line.
 */
import {
  cidrBounds,
  compareIp,
  formatV4Number,
  parseCidr,
  parseIp,
  parseV4,
  rangeToCidrs,
  rangeToCidrsV4,
  type IpVersion,
} from '../net/ip';
import { IndicatorSet, type FoundIndicator, type Source } from './indicators';
import { MAX_HELD, PendingHits } from './pending-hits';
import { forEachPiece, PIECE } from './pieces';
import { refang } from './refang';
import { unwrapUrls } from './unwrap';

export { MAX_WHERE, type FoundIndicator } from './indicators';

/** Options for one scan. */
export interface ScanOptions {
  /** A finer locator for a line (1-based) of this text: a spreadsheet cell, a PDF page, a STIX object. */
  locate?: (line: number) => string | undefined;
}

/** What a scan noticed besides indicators, for notes. */
export interface ScanStats {
  /** Runs of address characters too long to be an address (hostile or binary input). */
  longRuns: number;
  longestRun: number;
  firstLongRunLine: number;
}

/** A run longer than this cannot hold an address; it is still walked (linearly) for sub-runs, and counted. */
const LONG_RUN = 4096;

const CH_DOT = 46;
const CH_COLON = 58;
const CH_SLASH = 47;
const CH_DASH = 45;

// Character classes for the main loop. Everything else is 0 and skipped with one table lookup.
const K_DIGIT = 1;
const K_HEX = 2;
const K_COLON = 3;
const K_DOT = 4;
const CLASS = new Uint8Array(65536);
for (let c = 48; c <= 57; c++) CLASS[c] = K_DIGIT;
for (const c of 'abcdefABCDEF') CLASS[c.charCodeAt(0)] = K_HEX;
CLASS[CH_COLON] = K_COLON;
CLASS[CH_DOT] = K_DOT;

/**
 * A word list for {@link wordIn}, indexed by length and first letter: the word before nearly every
 * address in prose is no marker, and is turned away with one lookup instead of a compare per word.
 */
class WordList {
  /** Words by length * 128 + lower-case first letter; the scanner only asks about words of at most 12 letters. */
  private readonly byKey: (readonly string[] | undefined)[] = new Array<undefined>(13 * 128).fill(undefined);

  constructor(words: readonly string[]) {
    for (const w of words) {
      const key = w.length * 128 + w.charCodeAt(0);
      this.byKey[key] = [...(this.byKey[key] ?? []), w];
    }
  }

  candidates(length: number, first: number): readonly string[] | undefined {
    return length > 12 ? undefined : this.byKey[length * 128 + ((first | 0x20) & 127)];
  }
}

/** Words that make the dotted quad after them a version or section number, not an address. */
const VERSION_MARKERS = new WordList([
  'version', 'versions', 'ver', 'v', 'build', 'release', 'rev', 'revision', 'firmware', 'fw', 'patch',
  'oid', 'section', 'sect',
]); // prettier-ignore
/** Words that may stand between a marker and the number: "version as 3.1.4.1". */
const CONNECTORS = new WordList(['as', 'is', 'of', 'number', 'no', 'string', 'was', 'now']);
/** Markers that may be abbreviated with a dot: "ver. 1.2.3.4". */
const ABBREVIATED_MARKERS = new WordList(['ver', 'v', 'rev', 'sect', 'fw']);

// The character classes below are called for every character the scanner looks at, so they live
// in this module: the same functions imported from a shared module (a call through the module's
// exports) made the whole extraction benchmark about 10% slower. refang and the HTML renderer keep
// their own few for the same reason.
function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}

function isHexLetter(c: number): boolean {
  return (c >= 97 && c <= 102) || (c >= 65 && c <= 70);
}

function isAsciiLetter(c: number): boolean {
  return (c >= 65 && c <= 90) || (c >= 97 && c <= 122);
}

function isBlank(c: number): boolean {
  return c === 32 || c === 9;
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

/** True when t[from, to) is, ignoring ASCII case, one of `words` (compared in place: this runs for every hit). */
function wordIn(t: string, from: number, to: number, words: WordList): boolean {
  const n = to - from;
  const candidates = words.candidates(n, t.charCodeAt(from));
  if (candidates === undefined) return false;
  outer: for (const w of candidates) {
    for (let k = 1; k < n; k++) if ((t.charCodeAt(from + k) | 0x20) !== w.charCodeAt(k)) continue outer;
    return true;
  }
  return false;
}

/** Index of the last non-blank at or before `i`, skipping at most four blanks (bounded look-back). */
function blanksBack(t: string, i: number): number {
  let k = i;
  while (k >= 0 && i - k < 4 && isBlank(t.charCodeAt(k))) k--;
  return k;
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
 * True when the quad starting at `s` is a version or section number: right after a version marker
 * ("version 1.2.3.4", "fw: 1.2.3.4", "ver. 1.2.3.4", "§ 1.2.3.4") or a User-Agent product token
 * ("Chrome/120.0.1.2"). Bounded look-back, so O(1) per token.
 */
function afterVersionMarker(t: string, s: number): boolean {
  // User-Agent product token: "Name/1.2.3.4" where Name starts a word (not a URL path segment).
  if (codeAt(t, s - 1) === CH_SLASH) {
    let j = s - 2;
    while (j >= 0 && s - j < 34 && (isWord(t.charCodeAt(j)) || t.charCodeAt(j) === CH_DASH)) j--;
    const before = codeAt(t, j);
    const first = codeAt(t, j + 1);
    return (
      j < s - 3 &&
      isAsciiLetter(first) &&
      // Start of text, any blank or line break, '(', ';', ',' or '"' before the name.
      (before <= 32 || before === 40 || before === 59 || before === 44 || before === 34)
    );
  }
  // "agent-4.2.1.7", "openssl-1.1.1.1": a name joined to the quad by a hyphen is a product version.
  if (codeAt(t, s - 1) === CH_DASH && isAsciiLetter(codeAt(t, s - 2))) return true;
  let i = blanksBack(t, s - 1);
  let sep = -1;
  const c = codeAt(t, i);
  if (c === CH_COLON || c === 61 /* = */ || c === 35 /* # */ || c === CH_DOT) {
    sep = c;
    i = blanksBack(t, i - 1);
  }
  if (codeAt(t, i) === 0xa7 /* § */) return true;
  for (let words = 0; words < 2; words++) {
    let j = i;
    while (j >= 0 && i - j < 12 && isAsciiLetter(t.charCodeAt(j))) j--;
    if (j === i || isWord(codeAt(t, j))) return false;
    if (wordIn(t, j + 1, i + 1, sep === CH_DOT ? ABBREVIATED_MARKERS : VERSION_MARKERS)) return true;
    // "version as 3.1.4.1", "version number 1.2.3.4", "build is 1.2.3.4": one connecting word.
    if (sep !== -1 || !wordIn(t, j + 1, i + 1, CONNECTORS)) return false;
    i = blanksBack(t, j);
    if (i === j) return false;
  }
  return false;
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

/**
 * What follows an address after a '/': a prefix (`/24`), a port (`/8080`, any number above the
 * address size up to 65535), nothing usable (`/path`), or something that makes the token invalid
 * (`/24abc`, `/24/`, `/99999`) — then the token is dropped rather than guessed.
 */
type AfterSlash = { kind: 'prefix'; prefix: number; end: number } | { kind: 'port'; end: number } | 'none' | 'bad';

function readAfterSlash(t: string, at: number, max: number): AfterSlash {
  let i = at + 1;
  while (i < t.length && i - at <= 6 && isDigit(t.charCodeAt(i))) i++;
  const digits = i - at - 1;
  if (digits === 0) return 'none';
  const after = codeAt(t, i);
  if (isWord(after) || after === CH_SLASH || (after === CH_DOT && isWord(codeAt(t, i + 1)))) return 'bad';
  if (digits > 5) return 'bad';
  const n = Number(t.slice(at + 1, i));
  if (n <= max) return digits <= 3 ? { kind: 'prefix', prefix: n, end: i } : 'bad';
  // For IPv6, /129../255 is a mistyped prefix far more often than a port: only real port numbers count.
  if (max === 128 && n <= 255) return 'bad';
  return n <= 65535 ? { kind: 'port', end: i } : 'bad';
}

/** Index after the digits and dots starting at `from` (bounded), for dropping a malformed suffix. */
function skipNumberish(t: string, from: number): number {
  let m = from;
  while (m < t.length && m - from < 40 && (isDigit(t.charCodeAt(m)) || t.charCodeAt(m) === CH_DOT)) m++;
  return m;
}

/**
 * EUI-48/EUI-64 written with colons (00:1a:2b:3c:4d:5e:6f:70) parses as IPv6; a real IPv6 address
 * is essentially never written as six or eight two-digit groups without `::`.
 */
function isMacLike(text: string): boolean {
  // Six to eight groups of exactly two hex digits: 17, 20 or 23 characters, a ':' every third.
  const n = text.length;
  if (n !== 17 && n !== 20 && n !== 23) return false;
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i);
    if (i % 3 === 2 ? c !== CH_COLON : !isDigit(c) && !isHexLetter(c)) return false;
  }
  return true;
}

/** The 32-bit value of a strict dotted quad in [a, b), or -1. Leading zeros are decimal; 4+ digits are invalid. */
function readQuad(t: string, a: number, b: number): number {
  if (b - a < 7 || b - a > 15) return -1;
  let value = 0;
  let octet = 0;
  let digits = 0;
  let parts = 0;
  for (let i = a; i <= b; i++) {
    const c = i < b ? t.charCodeAt(i) : CH_DOT;
    if (c === CH_DOT) {
      if (digits === 0 || octet > 255) return -1;
      value = value * 256 + octet;
      parts++;
      octet = 0;
      digits = 0;
    } else {
      if (++digits > 3) return -1;
      octet = octet * 10 + (c - 48);
    }
  }
  return parts === 4 ? value : -1;
}

/** Separator between two range endpoints: optional blanks, a dash or en dash, optional blanks. */
function isRangeDash(t: string, from: number, to: number): boolean {
  if (to - from > 16 || to <= from) return false;
  let i = from;
  while (i < to && isBlank(t.charCodeAt(i))) i++;
  if (i >= to || (t.charCodeAt(i) !== CH_DASH && t.charCodeAt(i) !== 0x2013)) return false;
  i++;
  while (i < to && isBlank(t.charCodeAt(i))) i++;
  return i === to;
}

/** "from <a> to <b>": the separator is " to " and the word before `a` is "from". */
function isFromTo(t: string, aStart: number, from: number, to: number): boolean {
  if (to - from > 12 || !/^[ \t]+to[ \t]+$/i.test(t.slice(from, to))) return false;
  const i = blanksBack(t, aStart - 1);
  return i < aStart - 1 && i >= 3 && t.slice(i - 3, i + 1).toLowerCase() === 'from' && !isWord(codeAt(t, i - 4));
}

/**
 * "from a to b" is also how people describe a connection ("traffic from 10.0.0.5 to 185.1.2.3"), so
 * it is read as a range only when it is narrow enough to be one: within a /16 (IPv4) or /48 (IPv6).
 * Dash ranges are explicit and have no such limit.
 */
function isNarrowRange(a: string, b: string, version: IpVersion): boolean {
  const shift = version === 4 ? 16n : 80n;
  return cidrBounds(a).first >> shift === cidrBounds(b).first >> shift;
}

/** One scan of one text, its sightings handed to a PendingHits. */
class Scanner {
  private line: number;
  private lineStart = 0;
  /** Index of the first newline not yet counted into `line` (-1: none left). */
  private nextNewline: number;
  /** Index up to which text belongs to an earlier token (a hit, or a malformed CIDR that was dropped). */
  private consumed = 0;
  // The last bare hit, a candidate start of a range ending at the next hit (prevEnd < 0: none).
  // Kept as fields rather than an object per hit: a hit is the hot path.
  private prevStart = 0;
  private prevEnd = -1;
  private prevEnd0 = 0;
  private prevLine = 0;
  private prevVersion: IpVersion = 4;
  /** The previous hit's text, or undefined when it is a plain IPv4 address (then `prevV4` holds it). */
  private prevValue: string | undefined;
  private prevV4 = -1;
  /**
   * True once a text watched for it (see the constructor) was found to hold a dot with a space and
   * a digit on each side ("1 . 2"): it must then be refanged in full and read again.
   */
  spacedDot = false;
  /** Set to end run() early: the reading will be thrown away. */
  private stop = false;

  /**
   * Sightings go to `hits` (aimed at the set by the caller), to be recorded once the reading
   * stands. `watchSpacedDots`: the text was refanged without rule 7, so the scan stops at the
   * first "1 . 2", and holds its sightings until it is known there is none.
   */
  constructor(
    private readonly t: string,
    private readonly hits: PendingHits,
    firstLine: number,
    readonly stats: ScanStats,
    private watchSpacedDots: boolean,
  ) {
    this.line = firstLine;
    this.nextNewline = t.indexOf('\n');
  }

  /** The number of the text's last line (every line break counted). */
  lastLine(): number {
    this.lineAt(this.t.length);
    return this.line;
  }

  run(): void {
    const t = this.t;
    const n = t.length;
    // Every run worth judging holds a '.' or a ':', so the scan jumps from one to the next with
    // indexOf (a memchr over the string, about ten times faster than looking at every character)
    // and only then widens to the maximal run of address characters around it. The runs judged are
    // exactly those a character-by-character walk would find: a run without '.' or ':' is never an address.
    let nextDot = t.indexOf('.');
    let nextColon = t.indexOf(':');
    let from = 0;
    while ((nextDot !== -1 || nextColon !== -1) && !this.stop) {
      const p = nextColon === -1 || (nextDot !== -1 && nextDot < nextColon) ? nextDot : nextColon;
      // p is the first '.' or ':' of its run (earlier ones were handled with their own run), so the
      // run's counts are those from p on, plus any digit before p. Most triggers (a sentence's full
      // stop, a "Note:") fail here, before the run is widened backwards.
      let j = p;
      let colons = 0;
      let dots = 0;
      let hasDigit = false;
      let hasHex = false;
      for (; j < n; j++) {
        const d = CLASS[t.charCodeAt(j)];
        if (d === K_DIGIT) hasDigit = true;
        else if (d === K_DOT) dots++;
        else if (d === K_COLON) colons++;
        else if (d === K_HEX) hasHex = true;
        else break;
      }
      if (colons >= 2 || dots >= 3) {
        let i = p;
        for (; i > from; i--) {
          const d = CLASS[t.charCodeAt(i - 1)];
          if (d === K_DIGIT) hasDigit = true;
          else if (d === K_HEX) hasHex = true;
          else break;
        }
        // The common case, a run of only digits and dots (a dotted quad, a CIDR's address): it is
        // its own and only dotted-decimal sub-run, judged at once.
        if (colons === 0 && !hasHex && hasDigit && i >= this.consumed) {
          this.lineAt(i);
          if (j - i > LONG_RUN) this.noteLongRun(j - i);
          this.tryV4(i, j);
          from = j;
          if (nextDot !== -1 && nextDot < j) nextDot = t.indexOf('.', j);
          continue;
        }
        // Most runs are ordinary words made of hex letters ("face", "added"): skip them cheaply.
        // A run inside an earlier token (the netmask or prefix a CIDR consumed) is part of that token.
        if (j > this.consumed && (colons >= 2 || hasDigit)) {
          if (j - i > LONG_RUN) {
            this.lineAt(i);
            this.noteLongRun(j - i);
          }
          // Clock times ("12:00:00") have the colons but neither the dots of an IPv4 address nor
          // the shape of an IPv6 one; they are dropped here, before any further look at them.
          const s = Math.max(i, this.consumed);
          const maybeV6 = colons >= 2 && (colons >= 7 || dots > 0 || hasDoubleColon(t, s, j));
          if (maybeV6 || dots >= 3) {
            this.lineAt(i);
            this.scanRun(s, j, maybeV6, dots);
          }
        }
      } else if (this.watchSpacedDots && j === p + 1 && j + 1 < n && p >= 2 && isSpacedDot(t, p)) {
        // A lone dot is the first of its run, so every "1 . 2" of the text is seen here.
        this.spacedDot = true;
        return;
      }
      from = j;
      if (nextDot !== -1 && nextDot < j) nextDot = t.indexOf('.', j);
      if (nextColon !== -1 && nextColon < j) nextColon = t.indexOf(':', j);
    }
  }

  /** Advances the line count to the line holding `pos` (newlines found with indexOf, each counted once). */
  private lineAt(pos: number): void {
    const t = this.t;
    let nl = this.nextNewline;
    while (nl !== -1 && nl < pos) {
      this.line++;
      this.lineStart = nl + 1;
      nl = t.indexOf('\n', nl + 1);
    }
    this.nextNewline = nl;
  }

  private noteLongRun(length: number): void {
    if (this.stats.longRuns++ === 0) this.stats.firstLongRunLine = this.line;
    if (length > this.stats.longestRun) this.stats.longestRun = length;
  }

  /**
   * Scans one maximal run [s, e) of address characters (s already past anything consumed).
   * `maybeV6`: it has the colons of an IPv6 address (seven, or two with "::" or an IPv4 tail);
   * fewer than seven colons and no "::" can only be IPv6 with an IPv4 tail.
   */
  private scanRun(s: number, e: number, maybeV6: boolean, dots: number): void {
    const t = this.t;
    if (maybeV6 && this.tryV6(s, e)) return;
    if (dots < 3) return;
    // Dotted-decimal sub-runs; their neighbours inside the run are hex letters (glue) or ':' (fine: "ip:1.2.3.4").
    let i = Math.max(s, this.consumed);
    while (i < e) {
      const c = t.charCodeAt(i);
      if (!isDigit(c) && c !== CH_DOT) {
        i++;
        continue;
      }
      let j = i;
      let subDots = 0;
      while (j < e) {
        const d = t.charCodeAt(j);
        if (d === CH_DOT) subDots++;
        else if (!isDigit(d)) break;
        j++;
      }
      if (subDots >= 3) this.tryV4(i, j);
      i = Math.max(j, this.consumed);
    }
  }

  /** Judges one maximal `[0-9.]` sub-run [a, b) as an IPv4 address or CIDR. */
  private tryV4(a: number, b: number): void {
    const t = this.t;
    let s = a;
    let e = b;
    while (s < e && t.charCodeAt(s) === CH_DOT) s++;
    while (e > s && t.charCodeAt(e - 1) === CH_DOT) e--;
    // A letter/digit right before or after means the token is part of something bigger: glued to a
    // word (`x1.2.3.4`, `1.2.3.4abc`), a hostname label (`host.1.2.3.4`), reverse DNS
    // (`4.3.2.1.in-addr.arpa`). Two or more dots in between are an ellipsis ("and...1.2.3.4"), fine.
    if (s - a < 2 && isWord(codeAt(t, a - 1))) return;
    if (b - e < 2 && isWord(codeAt(t, b))) return;
    const n = readQuad(t, s, e);
    if (n < 0) return;
    if (afterVersionMarker(t, s)) {
      this.consumed = Math.max(this.consumed, e);
      return;
    }
    if (e !== b || codeAt(t, e) !== CH_SLASH || isUrlHost(t, s)) {
      this.emit(s, e, n, undefined, 4, true, false);
      return;
    }
    // "/24" → CIDR; "/255.255.255.0" → netmask; "/8080" → a port; "/path" → just the address.
    let prefix: number;
    let end: number;
    const afterDigits = skipDigits(t, e + 1);
    if (afterDigits > e + 1 && codeAt(t, afterDigits) === CH_DOT && isDigit(codeAt(t, afterDigits + 1))) {
      const m = skipNumberish(t, e + 1);
      let me = m;
      while (me > e + 1 && t.charCodeAt(me - 1) === CH_DOT) me--;
      const maskPrefix = isWord(codeAt(t, m)) || me - e > 16 ? undefined : netmaskPrefix(t.slice(e + 1, me));
      if (maskPrefix === undefined) {
        this.consumed = Math.max(this.consumed, m);
        return;
      }
      prefix = maskPrefix;
      end = me;
    } else {
      const p = readAfterSlash(t, e, 32);
      if (p === 'none') {
        this.emit(s, e, n, undefined, 4, true, false);
        return;
      }
      if (p === 'bad') {
        this.consumed = Math.max(this.consumed, skipNumberish(t, e + 1));
        return;
      }
      if (p.kind === 'port') {
        this.emit(s, p.end, n, undefined, 4, true, false);
        return;
      }
      prefix = p.prefix;
      end = p.end;
    }
    const mask = prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
    const network = (n & mask) >>> 0;
    if (prefix === 32) this.emit(s, end, n, undefined, 4, true, false);
    else this.emit(s, end, -1, `${formatV4Number(network)}/${prefix}`, 4, false, network !== n);
  }

  /**
   * Tries to read an IPv6 address (optionally with /prefix) from the run [s, e). Handles a labelled
   * start (`IP:2001:db8::1`, `src:2001:db8::1`), the SMTP `IPv6:` tag, and a trailing sentence '.' or ':'.
   */
  private tryV6(s: number, e: number): boolean {
    const t = this.t;
    // End: drop trailing dots (sentence end) and then one trailing single colon ("address 2001:db8::1:").
    let end = e;
    while (end > s && t.charCodeAt(end - 1) === CH_DOT) end--;
    if (end > s + 1 && t.charCodeAt(end - 1) === CH_COLON && t.charCodeAt(end - 2) !== CH_COLON) end--;
    const trimmed = end !== e;
    if (isWord(codeAt(t, e))) return false; // glued to letters, or `…::1.example`

    let start = s;
    if (t.charCodeAt(s) === CH_COLON && t.charCodeAt(s + 1) !== CH_COLON) {
      start = s + 1; // "IP:2001:db8::1": the run starts at the label's colon
    } else if (
      t.charCodeAt(s) === 54 /* 6 */ &&
      t.charCodeAt(s + 1) === CH_COLON &&
      s >= 3 &&
      t.slice(s - 3, s).toLowerCase() === 'ipv' &&
      !isWord(codeAt(t, s - 4))
    ) {
      start = s + 2; // the SMTP address literal tag: "[IPv6:2001:db8::1]"
    } else if (isWord(codeAt(t, s - 1))) {
      // Glued start: only a label made of letters ending in hex letters ("src:" → run "c:…") may be
      // skipped. "x2001:db8::1" or "1:2:3:4:5:6:7:8:9" must not yield a shortened address.
      const firstColon = t.indexOf(':', s);
      let lettersOnly = firstColon > s;
      for (let k = s; k < firstColon && lettersOnly; k++) lettersOnly = isHexLetter(t.charCodeAt(k));
      start = lettersOnly && t.charCodeAt(firstColon + 1) !== CH_COLON ? firstColon + 1 : -1;
    }
    if (start < 0 || end - start > 45) return false; // longer than any IPv6 text; never slice a huge run
    if (!v4TailFits(t, start, end)) return false; // "10:23:45.000" and the like: not worth a parse
    const text = t.slice(start, end);
    // A bare "::" in prose (Foo :: Bar) is not an address, but "::/1" or "::/0" is a network an advisory can
    // name (by mistake or malice), and it must be seen so that it is refused with its reason.
    const bareWithPrefix = text === '::' && codeAt(t, end) === CH_SLASH && isDigit(codeAt(t, end + 1));
    if (!bareWithPrefix && !hasHexDigit(text)) return false;
    if (isMacLike(text)) return false;
    const ip = parseIp(text);
    if (ip === undefined) return false;
    const v4 = ip.version === 4 ? (parseV4(ip.address) as number) : -1;
    if (trimmed || codeAt(t, end) !== CH_SLASH || isUrlHost(t, start)) {
      this.emit(start, end, v4, ip.address, ip.version, true, false);
      return true;
    }
    // Always up to 128: `::ffff:1.2.3.0/120` is IPv6 syntax even though it canonicalises to IPv4.
    const p = readAfterSlash(t, end, 128);
    if (p === 'none') {
      this.emit(start, end, v4, ip.address, ip.version, true, false);
      return true;
    }
    if (p === 'bad') {
      this.consumed = Math.max(this.consumed, skipNumberish(t, end + 1));
      return true;
    }
    if (p.kind === 'port') {
      this.emit(start, p.end, v4, ip.address, ip.version, true, false);
      return true;
    }
    const c = parseCidr(`${text}/${p.prefix}`);
    if (c === undefined) {
      this.consumed = Math.max(this.consumed, p.end);
      return true;
    }
    const single = c.prefix === (c.version === 4 ? 32 : 128);
    const singleV4 = single && c.version === 4 ? (parseV4(c.network) as number) : -1;
    this.emit(
      start,
      p.end,
      singleV4,
      single ? c.network : `${c.network}/${c.prefix}`,
      c.version,
      single,
      c.hostBitsSet,
    );
    return true;
  }

  /** Records one sighting. `v4` is the numeric form of a plain IPv4 address (cheap dedup key), else -1. */
  private add(
    v4: number,
    value: string | undefined,
    version: IpVersion,
    start: number,
    end: number,
    line: number,
    lineStart: number,
    derived?: string,
    hostBitsSet = false,
  ): void {
    this.hits.push(v4, value, version, start, end, line, lineStart, derived, hostBitsSet);
    if (this.hits.size >= MAX_HELD) this.settle();
  }

  /**
   * Too many sightings to hold (a very long line is one piece): settles now, with one search over
   * the whole text, whether it holds a "1 . 2". If so the reading stops, to be done again in full;
   * if not, what is held is recorded, and so is every later batch.
   */
  private settle(): void {
    if (this.watchSpacedDots) {
      this.watchSpacedDots = false;
      if (hasSpacedDot(this.t)) {
        this.spacedDot = true;
        this.stop = true;
        return;
      }
    }
    this.hits.flush();
  }

  /**
   * Records a hit, pairing it with the previous one into a range where the text says so. `v4` is the
   * numeric form of a single IPv4 address, else -1 (then `value` is the canonical text).
   */
  private emit(
    start: number,
    end: number,
    v4: number,
    value: string | undefined,
    version: IpVersion,
    bare: boolean,
    hostBitsSet: boolean,
  ): void {
    const t = this.t;
    this.consumed = Math.max(this.consumed, end);
    const line = this.line;
    const lineStart = this.lineStart;
    this.add(v4, value, version, start, end, line, lineStart, undefined, hostBitsSet);
    const hadPrev = this.prevEnd >= 0;
    this.prevEnd = -1;
    if (!bare) return;
    // Range with the previous bare hit on this line: "a-b", "a - b", "a–b", "from a to b".
    if (hadPrev && this.prevLine === line && this.prevVersion === version) {
      const a = this.prevStart;
      const aEnd = this.prevEnd0;
      if (isRangeDash(t, aEnd, start) || isFromTo(t, a, aEnd, start)) {
        const first = this.prevValue ?? formatV4Number(this.prevV4);
        const last = value ?? formatV4Number(v4);
        if (isRangeDash(t, aEnd, start) || isNarrowRange(first, last, version)) {
          this.addCover(first, last, version, a, end, line, lineStart);
          return; // this hit is the range's end, not the start of another
        }
      }
    }
    // Last-octet shorthand: "10.0.0.1-64".
    if (v4 >= 0 && codeAt(t, end) === CH_DASH) {
      const shortEnd = this.shorthandEnd(v4, end);
      if (shortEnd >= 0) {
        const endIndex = skipDigits(t, end + 1);
        this.add(shortEnd, undefined, 4, start, endIndex, line, lineStart);
        this.consumed = Math.max(this.consumed, endIndex);
        this.addCover(formatV4Number(v4), formatV4Number(shortEnd), 4, start, endIndex, line, lineStart);
        return;
      }
    }
    this.prevStart = start;
    this.prevEnd = end;
    this.prevEnd0 = end;
    this.prevLine = line;
    this.prevVersion = version;
    this.prevValue = v4 >= 0 ? undefined : value;
    this.prevV4 = v4;
  }

  /** Adds the minimal CIDR cover of first..last (when first < last), marked as derived from the range. */
  private addCover(
    first: string,
    last: string,
    version: IpVersion,
    start: number,
    end: number,
    line: number,
    lineStart: number,
  ): void {
    let cidrs: string[];
    if (version === 4) {
      // Both ends are canonical IPv4 text here: numbers, not BigInts.
      const a = parseV4(first);
      const b = parseV4(last);
      if (a === undefined || b === undefined || a >= b) return;
      cidrs = rangeToCidrsV4(a, b);
    } else {
      if (compareIp(first, last) >= 0) return;
      cidrs = rangeToCidrs(first, last);
    }
    const label = `${first}-${last}`;
    for (const cidr of cidrs) {
      const v4 = version === 4 && !cidr.includes('/') ? parseV4(cidr) : undefined;
      this.add(v4 ?? -1, cidr, version, start, end, line, lineStart, label);
    }
  }

  /** Last-octet shorthand `10.0.0.1-64` → the end address (numeric), or -1. `end` is the index of the '-'. */
  private shorthandEnd(v4: number, end: number): number {
    const t = this.t;
    let i = end + 1;
    while (i < t.length && i - end <= 4 && isDigit(t.charCodeAt(i))) i++;
    const digits = i - end - 1;
    if (digits < 1 || digits > 3) return -1;
    const after = codeAt(t, i);
    if (isWord(after) || after === CH_DASH || (after === CH_DOT && isWord(codeAt(t, i + 1)))) return -1;
    const last = Number(t.slice(end + 1, i));
    if (last > 255 || last <= (v4 & 255)) return -1;
    return (v4 - (v4 & 255) + last) >>> 0;
  }
}

/**
 * False when [s, e) has dots that cannot form the IPv4 tail of an IPv6 address (RFC 4291 §2.2 form
 * 3): the tail must be the last group and hold exactly three dots. Timestamps in JSON and logs
 * ("10:23:45.000") are the common case; parseIp would refuse them too, only slower.
 */
function v4TailFits(t: string, s: number, e: number): boolean {
  let dots = 0;
  for (let i = e - 1; i >= s; i--) {
    const c = t.charCodeAt(i);
    if (c === CH_DOT) dots++;
    else if (c === CH_COLON) {
      if (dots !== 0 && dots !== 3) return false;
      for (let k = i - 1; k >= s; k--) if (t.charCodeAt(k) === CH_DOT) return false;
      return true;
    }
  }
  return dots === 0;
}

/** True when t[p] is a dot with a space and then a digit on each side (`1 . 2`); p - 2 and p + 2 are in t. */
function isSpacedDot(t: string, p: number): boolean {
  return (
    t.charCodeAt(p) === CH_DOT &&
    t.charCodeAt(p + 1) === 32 &&
    t.charCodeAt(p - 1) === 32 &&
    isDigit(t.charCodeAt(p - 2)) &&
    isDigit(t.charCodeAt(p + 2))
  );
}

/** True when `t` holds a "1 . 2" that Scanner.run would note (the same test, found with indexOf). */
function hasSpacedDot(t: string): boolean {
  for (let k = t.indexOf(' . '); k !== -1; k = t.indexOf(' . ', k + 1)) {
    if (k >= 1 && k + 3 < t.length && isSpacedDot(t, k + 1)) return true;
  }
  return false;
}

function hasHexDigit(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (isDigit(c) || isHexLetter(c)) return true;
  }
  return false;
}

/** True when [s, e) contains "::". */
function hasDoubleColon(t: string, s: number, e: number): boolean {
  for (let i = s + 1; i < e; i++) if (t.charCodeAt(i) === CH_COLON && t.charCodeAt(i - 1) === CH_COLON) return true;
  return false;
}

function skipDigits(t: string, from: number): number {
  let i = from;
  while (i < t.length && i - from < 4 && isDigit(t.charCodeAt(i))) i++;
  return i;
}

/** Undoes defanging and link wrappers: the text as the scanner reads it. */
export function prepareText(text: string): string {
  return unwrapUrls(refang(text));
}

/** Scans a text given piece by piece, each piece one or more whole lines, numbering lines across pieces. */
class ChunkedScan {
  readonly stats: ScanStats = { longRuns: 0, longestRun: 0, firstLongRunLine: 0 };
  private line = 1;
  private readonly hits = new PendingHits();

  private readonly locate: ((line: number) => string | undefined) | undefined;

  constructor(
    private readonly set: IndicatorSet,
    private readonly src: Source,
    locate: ((line: number) => string | undefined) | undefined,
  ) {
    // A finer locator only labels places: without places it is not asked for.
    this.locate = set.keepPlaces ? locate : undefined;
  }

  /**
   * Scans `lines`: whole lines, without the line break after the last one.
   *
   * Refang rule 7 (`1 . 2`) costs more to look for than any other (its trigger, a dot before a
   * space, stops the search at every dot of every address) and almost never applies. So the piece
   * is first refanged without it; the scanner walks every lone dot anyway and stops at any "1 . 2"
   * it meets, which is where rule 7 could have applied (see `refang`). Only then, or when link
   * unwrapping changed the text (it could hide such a dot), is the piece refanged in full and read
   * again. Sightings are held until the reading stands, so none is recorded twice.
   */
  lines(lines: string): void {
    const stats = { ...this.stats };
    const refanged = refang(lines, false);
    const text = unwrapUrls(refanged);
    if (text === refanged && this.read(text, true)) return;
    Object.assign(this.stats, stats);
    this.read(prepareText(lines), false);
  }

  /**
   * Reads one prepared piece; false, with nothing recorded, when it was watched for "1 . 2" (see
   * Scanner) and holds one.
   */
  private read(text: string, watchSpacedDots: boolean): boolean {
    this.hits.aim(this.set, this.src, text, this.locate);
    const scanner = new Scanner(text, this.hits, this.line, this.stats, watchSpacedDots);
    scanner.run();
    if (scanner.spacedDot) {
      this.hits.clear();
      return false;
    }
    this.hits.flush();
    this.line = scanner.lastLine() + 1;
    return true;
  }
}

/**
 * Scans `text` (refanged and unwrapped first) into `set`, labelling places with `src`. Returns what
 * the scan noticed besides indicators (very long runs), for the caller's notes.
 */
export function scanInto(set: IndicatorSet, text: string, src: Source, opts: ScanOptions = {}): ScanStats {
  const scan = new ChunkedScan(set, src, opts.locate);
  forEachPiece(
    text.length,
    (i) => text.indexOf('\n', i),
    (a, e) => scan.lines(text.slice(a, e)),
  );
  return scan.stats;
}

/**
 * {@link scanInto} for a text given as its lines: they are joined a piece at a time, so the text
 * never exists as one large string.
 */
export function scanLinesInto(
  set: IndicatorSet,
  lines: readonly string[],
  src: Source,
  opts: ScanOptions = {},
): ScanStats {
  const scan = new ChunkedScan(set, src, opts.locate);
  for (let a = 0; a < lines.length || a === 0;) {
    let b = a;
    let size = 0;
    while (b < lines.length && (b === a || size < PIECE)) size += (lines[b++] as string).length + 1;
    scan.lines(b === a + 1 ? (lines[a] as string) : lines.slice(a, b).join('\n'));
    if (b >= lines.length) break;
    a = b;
  }
  return scan.stats;
}

/**
 * {@link scanInto} for UTF-8 bytes: decoded piece by piece (cut at line feeds, which never fall
 * inside a UTF-8 sequence), so the whole text never exists as one large string.
 */
export function scanUtf8Into(set: IndicatorSet, bytes: Buffer, src: Source, opts: ScanOptions = {}): ScanStats {
  const scan = new ChunkedScan(set, src, opts.locate);
  forEachPiece(
    bytes.length,
    (i) => bytes.indexOf(10, i),
    (a, e) => scan.lines(bytes.toString('utf8', a, e)),
  );
  return scan.stats;
}

/** A note for a scan that met runs too long to be addresses, or undefined. */
export function longRunNote(stats: ScanStats, label: string): string | undefined {
  if (stats.longRuns === 0) return undefined;
  return `${label}: ignored ${stats.longRuns} run(s) of digits, dots and colons too long to be addresses (longest ${stats.longestRun.toLocaleString('en-US')} characters, first at line ${stats.firstLongRunLine})`;
}

/** The part kind of a label: "attachment x.csv" → "attachment", "body" → "body". */
function sourceOf(label: string): Source {
  const space = label.indexOf(' ');
  return space === -1
    ? { label, part: label }
    : { label, part: label.slice(0, space), attachment: label.slice(space + 1) };
}

/**
 * Finds every IPv4/IPv6 address, CIDR and range in `text` after refanging it. `where` labels the
 * source ("body", "attachment iocs.csv"); each hit is recorded as "<where>:line <n>".
 *
 * Values are canonical (see `formatCidr`); a CIDR written with host bits set is reported as its
 * network and flagged. A range (`a-b`, `a - b`, `a–b`, `a.b.c.d-e`, "from a to b") yields both
 * endpoints and its minimal CIDR cover marked `derivedFromRange`, never the member addresses.
 */
export function scanText(text: string, where: string): FoundIndicator[] {
  const set = new IndicatorSet();
  scanInto(set, text, sourceOf(where));
  return set.result();
}

/** Plain-text extraction: {@link scanText} with the generic label "text". */
export function extractIndicators(text: string): FoundIndicator[] {
  return scanText(text, 'text');
}

/**
 * Merges indicator lists (from several parts of one message) into one, deduplicated by value with
 * places merged and capped.
 */
export function mergeIndicators(...lists: ReadonlyArray<readonly FoundIndicator[]>): FoundIndicator[] {
  const set = new IndicatorSet();
  for (const list of lists) set.addFound(list);
  return set.result();
}

/** Like {@link mergeIndicators} for one list, with `prefix` put in front of every `where` entry. */
export function prefixWhere(list: readonly FoundIndicator[], prefix: string): FoundIndicator[] {
  const set = new IndicatorSet();
  set.addFound(list, prefix);
  return set.result();
}
