/**
 * The sightings of one scanned piece, held back from the IndicatorSet until the piece is known to
 * have been read right (see `ChunkedScan.lines` in scan.ts: a piece is first read without one
 * refang rule and read again, from scratch, in the rare case that rule could apply). Each sighting
 * is a few numbers in one typed array, plus its value and range text when it has them (anything
 * but a plain single IPv4 address), replayed into the set in the order they were found. The scanner
 * holds at most {@link MAX_HELD} at a time (see `Scanner.add`).
 */
import type { IpVersion } from '../net/ip';
import type { IndicatorSet, Source } from './indicators';

/** Numbers kept per sighting: v4, version, start, end, line, lineStart, hostBitsSet, index of its strings. */
const NUMS = 8;

/**
 * Sightings held before the scanner must settle whether its piece is read right (about 1 MB): a
 * piece is cut at line breaks, so one very long line is one piece, and holding all of its
 * sightings would cost memory the IndicatorSet, which merges repeats, does not.
 */
export const MAX_HELD = 16_384;

export class PendingHits {
  private nums = new Float64Array(NUMS * 1024);
  private count = 0;
  /** Per sighting that is not a single IPv4 address, or covers a range: its value and the range. */
  private readonly strs: (string | undefined)[] = [];
  // Where flush() records: aimed by the caller before each scan.
  private set: IndicatorSet | undefined;
  private src: Source | undefined;
  private text = '';
  private locate: ((line: number) => string | undefined) | undefined;

  /** Sightings held. */
  get size(): number {
    return this.count;
  }

  /** Sets where {@link flush} records: into `set`, labelled `src`, places pointing into `text`. */
  aim(set: IndicatorSet, src: Source, text: string, locate: ((line: number) => string | undefined) | undefined): void {
    this.set = set;
    this.src = src;
    this.text = text;
    this.locate = locate;
  }

  /** Holds one sighting, as `IndicatorSet.add` / `addV4` take it; `v4` is -1 unless it is a single IPv4 address. */
  push(
    v4: number,
    value: string | undefined,
    version: IpVersion,
    start: number,
    end: number,
    line: number,
    lineStart: number,
    derived: string | undefined,
    hostBitsSet: boolean,
  ): void {
    let k = this.count * NUMS;
    if (k === this.nums.length) {
      const grown = new Float64Array(this.nums.length * 2);
      grown.set(this.nums);
      this.nums = grown;
    }
    const nums = this.nums;
    let strings = -1;
    if (value !== undefined || derived !== undefined) {
      strings = this.strs.length;
      this.strs.push(value, derived);
    }
    nums[k++] = v4;
    nums[k++] = version;
    nums[k++] = start;
    nums[k++] = end;
    nums[k++] = line;
    nums[k++] = lineStart;
    nums[k++] = hostBitsSet ? 1 : 0;
    nums[k] = strings;
    this.count++;
  }

  /** Drops every sighting held. */
  clear(): void {
    this.count = 0;
    this.strs.length = 0;
  }

  /** Records every sighting held where {@link aim} said, then drops them. */
  flush(): void {
    const set = this.set as IndicatorSet;
    const src = this.src as Source;
    const text = this.text;
    const locate = this.locate;
    const nums = this.nums;
    const strs = this.strs;
    const end = this.count * NUMS;
    for (let k = 0; k < end; k += NUMS) {
      const v4 = nums[k] as number;
      const line = nums[k + 4] as number;
      const at = locate === undefined ? undefined : locate(line);
      const strings = nums[k + 7] as number;
      const value = strings < 0 ? undefined : strs[strings];
      const derived = strings < 0 ? undefined : strs[strings + 1];
      if (v4 >= 0) {
        set.addV4(
          v4,
          src,
          line,
          at,
          text,
          nums[k + 2] as number,
          nums[k + 3] as number,
          nums[k + 5] as number,
          derived,
        );
      } else {
        const version = nums[k + 1] as IpVersion;
        const hostBitsSet = nums[k + 6] === 1;
        const start = nums[k + 2] as number;
        const stop = nums[k + 3] as number;
        set.add(
          value as string,
          version,
          src,
          line,
          at,
          text,
          start,
          stop,
          nums[k + 5] as number,
          derived,
          hostBitsSet,
        );
      }
    }
    this.clear();
  }
}
