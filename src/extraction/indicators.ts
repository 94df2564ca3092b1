/**
 * The result model of extraction and the collector that builds it: indicators deduplicated by
 * canonical value, each with the places it was seen (bounded), and a blockability verdict.
 */
import { formatV4Number, parseV4, type IpVersion } from '../net/ip';
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

/**
 * Open-addressing hash from a 32-bit IPv4 value to an entry index. A Map with such keys boxes every
 * value above 2^30 as a heap number; this keeps extraction's hottest lookup allocation-free.
 */
class V4Index {
  private keys = new Uint32Array(4096);
  private slots = new Int32Array(4096); // entry index + 1; 0 = empty
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
  // The common case, plain ASCII with no control characters, without a regex or trim: a look at
  // every character of the window is cheaper than either.
  let a = from;
  let b = to;
  let plain = true;
  for (let k = from; k < to; k++) {
    const c = text.charCodeAt(k);
    if (c < 32 || c >= 127) {
      plain = false;
      break;
    }
  }
  let body: string;
  if (plain) {
    while (a < b && text.charCodeAt(a) === 32) a++;
    while (b > a && text.charCodeAt(b - 1) === 32) b--;
    body = text.slice(a, b);
  } else {
    body = text.slice(from, to);
    // eslint-disable-next-line no-control-regex
    if (/[\x00-\x1f\x7f]/.test(body)) body = body.replace(/[\x00-\x1f\x7f]+/g, ' ');
    body = body.trim();
  }
  return `${from > lineStart ? '…' : ''}${body}${to < text.length && text.charCodeAt(to) !== 10 ? '…' : ''}`;
}

/** A growable Int32Array. */
class IntList {
  /** Allocated at the first push: in values mode the place lists are never used. */
  data = new Int32Array(0);
  length = 0;

  push(v: number): number {
    if (this.length === this.data.length) {
      const grown = new Int32Array(Math.max(1024, this.data.length * 2));
      grown.set(this.data);
      this.data = grown;
    }
    this.data[this.length] = v;
    return this.length++;
  }

  get(i: number): number {
    return this.data[i] as number;
  }

  set(i: number, v: number): void {
    this.data[i] = v;
  }
}

const NO_PLACES = Object.freeze([]) as unknown as Place[];
const NO_WHERE = Object.freeze([]) as unknown as string[];

// Entry flags.
const LITERAL = 1;
const HOST_BITS_SET = 2;
const IPV6 = 4;

/**
 * Collects indicators, deduplicated by value in first-seen order, with bounded places and a bounded count.
 *
 * A sighting is the hot path of extraction (about 100,000 on the benchmark corpus), so while
 * scanning nothing is built per sighting but numbers in typed arrays: where it was seen (source,
 * line, text piece, offsets) and the entry it belongs to. Strings and objects (values, `where`,
 * excerpts, places) are built once, in {@link result}; without places (values mode) a sighting
 * is a few integer writes.
 */
export class IndicatorSet {
  // Per entry (index = first-seen order).
  /** Canonical value, or undefined for a single IPv4 address (built from `v4` in result()). */
  private readonly values: (string | undefined)[] = [];
  /** The 32-bit value of a single IPv4 address, else -1. */
  private readonly v4s = new IntList(); // as v4 | 0; `values[e] === undefined` says the entry is one
  private readonly seen = new IntList();
  private readonly flags = new IntList();
  /** The range a CIDR was derived from, for entries first seen as a range's cover (sparse). */
  private readonly derived = new Map<number, string>();
  /** First and last place of each entry (-1: none), and how many it has. */
  private readonly firstPlace = new IntList();
  private readonly lastPlace = new IntList();
  private readonly placeCount = new IntList();

  // Per place: a linked list per entry, in the order seen.
  private readonly placeNext = new IntList();
  private readonly placeSource = new IntList();
  private readonly placeLine = new IntList();
  private readonly placeText = new IntList();
  private readonly placeStart = new IntList();
  private readonly placeEnd = new IntList();
  private readonly placeLineStart = new IntList();
  /** The finer locator of a place, when the scan had one (sparse). */
  private readonly placeAt = new Map<number, string>();
  /** Places taken over whole from another result (mergeIndicators): built already (sparse). */
  private readonly placeBuilt = new Map<number, Place>();

  /** Sources and text pieces places point into; consecutive sightings share the last one. */
  private readonly sources: Source[] = [];
  private readonly texts: string[] = [];

  private readonly byValue = new Map<string, number>();
  /** Single IPv4 addresses by numeric value: no string is built for any sighting. */
  private readonly byV4 = new V4Index();
  /** Distinct values that were not kept because the set was full. */
  private overflowValues = 0;
  private readonly overflowSeen = new Set<string>();

  /** `keepPlaces` false: no place is recorded, so results have empty (shared, frozen) `where` and `places`. */
  constructor(
    readonly maxIndicators: number = DEFAULT_MAX_INDICATORS,
    readonly keepPlaces = true,
  ) {}

  get size(): number {
    return this.values.length;
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
    let e = this.byV4.get(n);
    if (e < 0) {
      if (this.full(n)) return;
      e = this.create(undefined, 4, n);
    }
    this.sighting(e, src, line, at, text, start, end, lineStart, derivedFrom, false);
  }

  /**
   * Records one sighting. `text`, `start`, `end` and `lineStart` locate it for the excerpt, which is
   * cut in result() (only for places kept). `derivedFrom` marks a CIDR that only covers a written range.
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
    if (e < 0) {
      if (this.full(value)) return;
      e = this.create(value, version);
    }
    this.sighting(e, src, line, at, text, start, end, lineStart, derivedFrom, hostBitsSet);
  }

  private create(value: string | undefined, version: IpVersion, v4 = -1): number {
    const n =
      v4 >= 0 ? v4 : version === 4 && !(value as string).includes('/') ? (parseV4(value as string) as number) : -1;
    const e = this.values.length;
    // Single IPv4 addresses are found by number only (and their text built at the end); everything
    // else by its canonical text.
    this.values.push(n >= 0 ? undefined : value);
    this.v4s.push(n | 0);
    this.seen.push(0);
    this.flags.push(version === 6 ? IPV6 : 0);
    if (this.keepPlaces) {
      this.firstPlace.push(-1);
      this.lastPlace.push(-1);
      this.placeCount.push(0);
    }
    if (n >= 0) this.byV4.set(n, e);
    else this.byValue.set(value as string, e);
    return e;
  }

  /** True (and the value counted) when the set is full. */
  private full(value: string | number): boolean {
    if (this.values.length < this.maxIndicators) return false;
    const key = typeof value === 'number' ? formatV4Number(value) : value;
    // Counting distinct overflow values exactly would need unbounded memory; count up to a bound.
    if (this.overflowSeen.size < 100_000 && !this.overflowSeen.has(key)) {
      this.overflowSeen.add(key);
      this.overflowValues++;
    }
    return true;
  }

  private find(value: string, version: IpVersion): number {
    if (version === 4 && !value.includes('/')) return this.byV4.get(parseV4(value) as number);
    return this.byValue.get(value) ?? -1;
  }

  private sourceIndex(src: Source): number {
    const last = this.sources.length - 1;
    if (last >= 0 && this.sources[last] === src) return last;
    this.sources.push(src);
    return last + 1;
  }

  private textIndex(text: string): number {
    const last = this.texts.length - 1;
    if (last >= 0 && this.texts[last] === text) return last;
    this.texts.push(text);
    return last + 1;
  }

  private sighting(
    e: number,
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
    this.seen.set(e, this.seen.get(e) + 1);
    if (derivedFrom === undefined) this.flags.set(e, this.flags.get(e) | LITERAL);
    else if (!this.derived.has(e)) this.derived.set(e, derivedFrom);
    if (hostBitsSet) this.flags.set(e, this.flags.get(e) | HOST_BITS_SET);
    if (!this.keepPlaces || this.placeCount.get(e) >= MAX_PLACES) return;
    for (let k = this.firstPlace.get(e); k !== -1; k = this.placeNext.get(k)) {
      if (this.samePlace(k, src, line, at)) return;
    }
    const k = this.placeNext.push(-1);
    this.placeSource.push(this.sourceIndex(src));
    this.placeLine.push(line);
    this.placeText.push(this.textIndex(text));
    this.placeStart.push(start);
    this.placeEnd.push(end);
    this.placeLineStart.push(lineStart);
    if (at !== undefined) this.placeAt.set(k, at);
    this.link(e, k);
  }

  private link(e: number, k: number): void {
    const last = this.lastPlace.get(e);
    if (last === -1) this.firstPlace.set(e, k);
    else this.placeNext.set(last, k);
    this.lastPlace.set(e, k);
    this.placeCount.set(e, this.placeCount.get(e) + 1);
  }

  /** True when place k has the `where` that (src, line, at) would have: the place-dedup rule, without building strings. */
  private samePlace(k: number, src: Source, line: number, at: string | undefined): boolean {
    const built = this.placeBuilt.get(k);
    const label = built === undefined ? (this.sources[this.placeSource.get(k)] as Source).label : undefined;
    if (built !== undefined || label !== src.label) return this.whereOf(k) === whereString(src.label, line, at);
    const kAt = this.placeAt.get(k);
    if (kAt === undefined && at === undefined) return this.placeLine.get(k) === line;
    return (kAt ?? `line ${this.placeLine.get(k)}`) === (at ?? `line ${line}`);
  }

  private whereOf(k: number): string {
    const built = this.placeBuilt.get(k);
    if (built !== undefined) return built.where;
    const src = this.sources[this.placeSource.get(k)] as Source;
    return whereString(src.label, this.placeLine.get(k), this.placeAt.get(k));
  }

  private placeOf(k: number): Place {
    const built = this.placeBuilt.get(k);
    if (built !== undefined) return built;
    const src = this.sources[this.placeSource.get(k)] as Source;
    const line = this.placeLine.get(k);
    const at = this.placeAt.get(k);
    const text = this.texts[this.placeText.get(k)] as string;
    const excerpt = excerptOf(text, this.placeStart.get(k), this.placeEnd.get(k), this.placeLineStart.get(k));
    const place: Place = { where: whereString(src.label, line, at), part: src.part, line, excerpt };
    if (src.attachment !== undefined) place.attachment = src.attachment;
    if (at !== undefined) place.at = at;
    return place;
  }

  /**
   * Adds every sighting of already-built indicators (merging the results of separate extractions).
   * `wherePrefix` goes in front of every `where`; `attachmentPrefix` in front of every place's attachment path.
   */
  addFound(list: readonly FoundIndicator[], wherePrefix = '', attachmentPrefix?: string): void {
    for (const f of list) {
      let e = this.find(f.value, f.version);
      if (e < 0) {
        if (this.full(f.value)) continue;
        e = this.create(f.value, f.version);
      }
      this.seen.set(e, this.seen.get(e) + f.seen);
      if (f.derivedFromRange === undefined) this.flags.set(e, this.flags.get(e) | LITERAL);
      else if (!this.derived.has(e)) this.derived.set(e, f.derivedFromRange);
      if (f.hostBitsSet) this.flags.set(e, this.flags.get(e) | HOST_BITS_SET);
      for (const p of this.keepPlaces ? f.places : []) {
        const where = wherePrefix + p.where;
        if (this.placeCount.get(e) >= MAX_PLACES) break;
        let dup = false;
        for (let k = this.firstPlace.get(e); k !== -1 && !dup; k = this.placeNext.get(k)) {
          dup = this.whereOf(k) === where;
        }
        if (dup) continue;
        const place: Place = { ...p, where };
        if (attachmentPrefix !== undefined) {
          place.attachment = p.attachment ? `${attachmentPrefix} > ${p.attachment}` : attachmentPrefix;
        }
        const k = this.placeNext.push(-1);
        for (const list of [this.placeSource, this.placeLine, this.placeText]) list.push(0);
        for (const list of [this.placeStart, this.placeEnd, this.placeLineStart]) list.push(0);
        this.placeBuilt.set(k, place);
        this.link(e, k);
      }
    }
  }

  /** The indicators, in first-seen order, each with its blockability verdict. */
  result(): FoundIndicator[] {
    const count = this.values.length;
    const out: FoundIndicator[] = new Array<FoundIndicator>(count);
    for (let e = 0; e < count; e++) {
      const v4 = this.values[e] === undefined ? this.v4s.get(e) >>> 0 : -1;
      const value = v4 >= 0 ? formatV4Number(v4) : (this.values[e] as string);
      // Without places, every indicator shares the same two empty, frozen arrays.
      let places = NO_PLACES;
      let where = NO_WHERE;
      if (this.keepPlaces) {
        places = [];
        where = [];
        for (let k = this.firstPlace.get(e); k !== -1; k = this.placeNext.get(k)) {
          const place = this.placeOf(k);
          places.push(place);
          if (where.length < MAX_WHERE) where.push(place.where);
        }
      }
      const version = this.flags.get(e) & IPV6 ? 6 : 4;
      const seen = this.seen.get(e);
      const b = v4 >= 0 ? blockabilityOfV4(v4, value) : blockability(value);
      // Built whole for either verdict (keys in the same order as ever), so no object changes
      // shape after it is made, as it would with a refusal's fields added to a blockable one.
      const f: FoundIndicator = b.blockable
        ? { value, version, where, blockable: true, places, seen }
        : { value, version, where, blockable: false, places, seen, reasonCode: b.code, reason: b.reason };
      const flags = this.flags.get(e);
      if ((flags & LITERAL) === 0) {
        const derived = this.derived.get(e);
        if (derived !== undefined) f.derivedFromRange = derived;
      }
      if (flags & HOST_BITS_SET) f.hostBitsSet = true;
      out[e] = f;
    }
    return out;
  }
}

/** "attachment iocs.csv:line 3", or with a finer locator "report.xlsx:IOCs!B3". */
function whereString(label: string, line: number, at: string | undefined): string {
  return `${label}:${at ?? `line ${line}`}`;
}
