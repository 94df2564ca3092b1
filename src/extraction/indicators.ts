/**
 * The result model of extraction and the collector that builds it: indicators deduplicated by
 * canonical value, each with the places it was seen (bounded), and a blockability verdict.
 */
import { parseV4, type IpVersion } from '../net/ip';
import { blockability, blockabilityOfV4 } from '../net/special-ranges';

/** How many `where` strings are kept per indicator: enough to explain it, bounded for Temporal payloads. */
export const MAX_WHERE = 5;
/** How many places (with excerpts) are kept per indicator; `seen` still counts every sighting. */
export const MAX_PLACES = 10;
/** Distinct values kept by default per extraction; more are counted and noted, not kept (bounded memory). */
export const DEFAULT_MAX_INDICATORS = 200_000;
/** Characters of context kept on each side of an indicator in an excerpt. */
const EXCERPT_CONTEXT = 40;

/** One place an indicator was seen. */
export interface Place {
  /** The same place as one `where` string: "attachment iocs.csv:line 3". */
  where: string;
  /** The kind of part: 'body', 'html', 'attachment', 'text', 'file'. */
  part: string;
  /** The attachment (or file) path through containers, e.g. "phish.eml > iocs.zip > list.csv". */
  attachment?: string;
  /** 1-based line in the text as read (after HTML rendering or PDF text extraction). */
  line: number;
  /** A finer locator where lines are not what a person looks for: "Sheet1!B3", "page 2", "indicator--… pattern". */
  at?: string;
  /** Up to ~80 characters around the indicator, as read (after refanging). */
  excerpt: string;
}

/** One indicator found. `value`, `version` and `where` are what the sweep carries; the rest explains it. */
export interface FoundIndicator {
  /** Canonical display value: `1.2.3.4`, `1.2.3.0/24`, `2001:db8::1` (RFC 5952, IPv4-mapped as IPv4). */
  value: string;
  version: IpVersion;
  /** Where it was seen, e.g. "body:line 12", "attachment iocs.xlsx:IOCs!B3"; at most MAX_WHERE entries. */
  where: string[];
  /** False for special-purpose space (private, loopback, documentation, …) and /0: extracted, never blocked. */
  blockable: boolean;
  /** Why not blockable: the special range's code ('private', 'documentation', …) or 'default-route'. */
  reasonCode?: string;
  /** Why not blockable, as a sentence. */
  reason?: string;
  /** Set when the value is only part of the minimal CIDR cover of a written range ("10.0.0.1-10.0.0.6"). */
  derivedFromRange?: string;
  /** True when it was written as a CIDR with host bits set (`195.178.188.66/29`); `value` is the network. */
  hostBitsSet?: true;
  /** Distinct places it was seen, at most MAX_PLACES. */
  places: Place[];
  /** How many times it was seen in all. */
  seen: number;
}

/** Where a text came from, for labelling places. */
export interface Source {
  /** Prefix of every `where` entry: "body", "html", "attachment iocs.csv", "attachment a.eml > body". */
  label: string;
  part: string;
  attachment?: string;
}

interface Entry {
  value: string;
  /** The 32-bit value of a single IPv4 address, else -1. */
  v4: number;
  version: IpVersion;
  places: Place[];
  seen: number;
  literal: boolean;
  derivedFromRange?: string;
  hostBitsSet: boolean;
}

function formatV4(n: number): string {
  return `${n >>> 24}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`;
}

/**
 * Open-addressing hash from a 32-bit IPv4 value to an entry index. A Map with such keys boxes every
 * value above 2^30 as a heap number; this keeps extraction's hottest lookup allocation-free.
 */
class V4Index {
  private keys = new Uint32Array(1024);
  private slots = new Int32Array(1024); // entry index + 1; 0 = empty
  private count = 0;

  get(n: number): number {
    const mask = this.keys.length - 1;
    for (let i = (Math.imul(n, 0x9e3779b1) >>> 0) & mask; ; i = (i + 1) & mask) {
      const slot = this.slots[i] as number;
      if (slot === 0) return -1;
      if (this.keys[i] === n) return slot - 1;
    }
  }

  set(n: number, index: number): void {
    if ((this.count + 1) * 2 > this.keys.length) this.grow();
    const mask = this.keys.length - 1;
    let i = (Math.imul(n, 0x9e3779b1) >>> 0) & mask;
    while (this.slots[i] !== 0) i = (i + 1) & mask;
    this.keys[i] = n;
    this.slots[i] = index + 1;
    this.count++;
  }

  private grow(): void {
    const keys = this.keys;
    const slots = this.slots;
    this.keys = new Uint32Array(keys.length * 2);
    this.slots = new Int32Array(keys.length * 2);
    this.count = 0;
    for (let i = 0; i < keys.length; i++) if (slots[i] !== 0) this.set(keys[i] as number, (slots[i] as number) - 1);
  }
}

/** A short excerpt of `text` around [start, end), within its line. */
export function excerptOf(text: string, start: number, end: number, lineStart: number): string {
  const from = Math.max(lineStart, start - EXCERPT_CONTEXT);
  let to = Math.min(text.length, end + EXCERPT_CONTEXT);
  const nl = text.indexOf('\n', end);
  if (nl !== -1 && nl < to) to = nl;
  let body = text.slice(from, to);
  // eslint-disable-next-line no-control-regex
  if (/[\x00-\x1f\x7f]/.test(body)) body = body.replace(/[\x00-\x1f\x7f]+/g, ' ');
  body = body.trim();
  return `${from > lineStart ? '…' : ''}${body}${to < text.length && text.charCodeAt(to) !== 10 ? '…' : ''}`;
}

/** Collects indicators, deduplicated by value in first-seen order, with bounded places and a bounded count. */
export class IndicatorSet {
  private readonly entries: Entry[] = [];
  private readonly byValue = new Map<string, Entry>();
  /** Single IPv4 addresses by numeric value: no string is built for a repeat sighting. */
  private readonly byV4 = new V4Index();
  /** Distinct values that were not kept because the set was full. */
  private overflowValues = 0;
  private readonly overflowSeen = new Set<string>();

  constructor(readonly maxIndicators: number = DEFAULT_MAX_INDICATORS) {}

  get size(): number {
    return this.entries.length;
  }

  /** Distinct values seen after the set was full (counted up to a bound, not kept). */
  get overflow(): number {
    return this.overflowValues;
  }

  /** {@link add} for a single IPv4 address given as its 32-bit value. */
  addV4(
    n: number,
    src: Source,
    line: number,
    at: string | undefined,
    text: string,
    start: number,
    end: number,
    lineStart: number,
    derivedFrom?: string,
  ): void {
    const index = this.byV4.get(n);
    let e: Entry;
    if (index >= 0) {
      e = this.entries[index] as Entry;
    } else {
      const value = formatV4(n);
      if (this.full(value)) return;
      e = this.create(value, 4, n);
    }
    this.sighting(e, src, line, at, text, start, end, lineStart, derivedFrom, false);
  }

  /**
   * Records one sighting. `text`, `start`, `end` and `lineStart` locate it for the excerpt, which is
   * only cut when the place is kept. `derivedFrom` marks a CIDR that only covers a written range.
   */
  add(
    value: string,
    version: IpVersion,
    src: Source,
    line: number,
    at: string | undefined,
    text: string,
    start: number,
    end: number,
    lineStart: number,
    derivedFrom?: string,
    hostBitsSet = false,
  ): void {
    let e = this.find(value, version);
    if (e === undefined) {
      if (this.full(value)) return;
      e = this.create(value, version);
    }
    this.sighting(e, src, line, at, text, start, end, lineStart, derivedFrom, hostBitsSet);
  }

  private create(value: string, version: IpVersion, v4 = -1): Entry {
    const n = v4 >= 0 ? v4 : version === 4 && !value.includes('/') ? (parseV4(value) as number) : -1;
    const e: Entry = { value, v4: n, version, places: [], seen: 0, literal: false, hostBitsSet: false };
    this.entries.push(e);
    // Single IPv4 addresses are found by number only; everything else by its canonical text.
    if (n >= 0) this.byV4.set(n, this.entries.length - 1);
    else this.byValue.set(value, e);
    return e;
  }

  /** True (and the value counted) when the set is full. */
  private full(value: string): boolean {
    if (this.entries.length < this.maxIndicators) return false;
    // Counting distinct overflow values exactly would need unbounded memory; count up to a bound.
    if (this.overflowSeen.size < 100_000 && !this.overflowSeen.has(value)) {
      this.overflowSeen.add(value);
      this.overflowValues++;
    }
    return true;
  }

  private find(value: string, version: IpVersion): Entry | undefined {
    if (version === 4 && !value.includes('/')) {
      const index = this.byV4.get(parseV4(value) as number);
      return index < 0 ? undefined : this.entries[index];
    }
    return this.byValue.get(value);
  }

  private sighting(
    e: Entry,
    src: Source,
    line: number,
    at: string | undefined,
    text: string,
    start: number,
    end: number,
    lineStart: number,
    derivedFrom: string | undefined,
    hostBitsSet: boolean,
  ): void {
    e.seen++;
    if (derivedFrom === undefined) e.literal = true;
    else e.derivedFromRange ??= derivedFrom;
    if (hostBitsSet) e.hostBitsSet = true;
    if (e.places.length >= MAX_PLACES) return;
    const where = `${src.label}:${at ?? `line ${line}`}`;
    for (const p of e.places) if (p.where === where) return;
    const place: Place = { where, part: src.part, line, excerpt: excerptOf(text, start, end, lineStart) };
    if (src.attachment !== undefined) place.attachment = src.attachment;
    if (at !== undefined) place.at = at;
    e.places.push(place);
  }

  /**
   * Adds every sighting of already-built indicators (merging the results of separate extractions).
   * `wherePrefix` goes in front of every `where`; `attachmentPrefix` in front of every place's attachment path.
   */
  addFound(list: readonly FoundIndicator[], wherePrefix = '', attachmentPrefix?: string): void {
    for (const f of list) {
      let e = this.find(f.value, f.version);
      if (e === undefined) {
        if (this.full(f.value)) continue;
        e = this.create(f.value, f.version);
      }
      e.seen += f.seen;
      if (f.derivedFromRange === undefined) e.literal = true;
      else e.derivedFromRange ??= f.derivedFromRange;
      if (f.hostBitsSet) e.hostBitsSet = true;
      for (const p of f.places) {
        const where = wherePrefix + p.where;
        if (e.places.length >= MAX_PLACES) break;
        if (e.places.some((q) => q.where === where)) continue;
        const place: Place = { ...p, where };
        if (attachmentPrefix !== undefined) {
          place.attachment = p.attachment ? `${attachmentPrefix} > ${p.attachment}` : attachmentPrefix;
        }
        e.places.push(place);
      }
    }
  }

  /** The indicators, in first-seen order, each with its blockability verdict. */
  result(): FoundIndicator[] {
    const out: FoundIndicator[] = new Array<FoundIndicator>(this.entries.length);
    for (let i = 0; i < this.entries.length; i++) {
      const e = this.entries[i] as Entry;
      const where: string[] = [];
      for (let k = 0; k < e.places.length && k < MAX_WHERE; k++) where.push((e.places[k] as Place).where);
      const f: FoundIndicator = {
        value: e.value,
        version: e.version,
        where,
        blockable: true,
        places: e.places,
        seen: e.seen,
      };
      const b = e.v4 >= 0 ? blockabilityOfV4(e.v4) : blockability(e.value);
      if (!b.blockable) {
        f.blockable = false;
        f.reasonCode = b.code;
        f.reason = b.reason;
      }
      if (!e.literal && e.derivedFromRange !== undefined) f.derivedFromRange = e.derivedFromRange;
      if (e.hostBitsSet) f.hostBitsSet = true;
      out[i] = f;
    }
    return out;
  }
}
