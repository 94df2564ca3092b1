/**
 * Reads zip archives (attachments, and the container of XLSX workbooks) with strict bomb limits.
 *
 * yauzl parses the container (central directory, ZIP64, file-name encodings) and checks that an
 * entry never inflates past its declared size; the limits here decide what is read at all:
 * - entry count: only the first `maxEntries` entries are looked at;
 * - per-entry size: an entry declaring more than `maxEntryBytes` is skipped, and one that inflates
 *   past it anyway is cut off;
 * - compression ratio: an entry over 64 KB that inflates more than `maxRatio` times is skipped
 *   (small text compresses well and is harmless; a bomb is large *and* extreme);
 * - total: inflation stops when `maxTotalBytes` have come out of the archive.
 * Nothing is written to disk; every skip becomes a sentence for the notes.
 */
import * as yauzl from 'yauzl';
import type { Readable } from 'node:stream';
import { isStop, UNMETERED, type Meter } from './budget';

/** Limits for {@link readZip}. */
export interface ZipLimits {
  maxEntries: number;
  maxEntryBytes: number;
  maxTotalBytes: number;
  maxRatio: number;
  /** Counts every entry looked at ('zipEntries') and checks the deadline; may throw to stop. */
  meter?: Meter;
  /**
   * Called instead of noting that the archive would inflate past `maxTotalBytes`, when that total is
   * a hard budget; it throws.
   */
  overTotal?: (entry: string) => never;
}

/** One entry read, or skipped with a reason. */
export interface ZipEntry {
  name: string;
  content?: Buffer;
  /** Why the entry was not read (absent when `content` is set). */
  skipped?: string;
}

/** Entries below this size are never refused for their compression ratio. */
const RATIO_FLOOR_BYTES = 64 * 1024;

function mb(bytes: number): string {
  return `${(bytes / (1024 * 1024)).toFixed(1)} MB`;
}

function openZip(bytes: Buffer): Promise<yauzl.ZipFile> {
  return new Promise((resolve, reject) => {
    yauzl.fromBuffer(
      bytes,
      { lazyEntries: true, validateEntrySizes: true, decodeStrings: true, strictFileNames: false, autoClose: true },
      (err, zip) => (err ? reject(err) : resolve(zip)),
    );
  });
}

function openStream(zip: yauzl.ZipFile, entry: yauzl.Entry): Promise<Readable> {
  return new Promise((resolve, reject) => {
    zip.openReadStream(entry, (err, stream) => (err ? reject(err) : resolve(stream)));
  });
}

/** Inflates one entry, stopping (and saying why) as soon as it passes `limit` bytes. */
async function inflate(stream: Readable, limit: number): Promise<Buffer | string> {
  const chunks: Buffer[] = [];
  let total = 0;
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      total += chunk.length;
      if (total > limit) {
        stream.destroy();
        return `inflates past ${mb(limit)}`;
      }
      chunks.push(chunk);
    }
  } catch (err) {
    return `cannot be inflated (${(err as Error).message})`;
  }
  return Buffer.concat(chunks, total);
}

/**
 * Reads the entries of a zip archive under `limits`. `want` selects entries by name (others are
 * passed over silently, e.g. the styles of a workbook). Directories are skipped. Throws only when
 * the bytes are not a zip archive at all, or when the meter or `overTotal` stops the extraction.
 */
export async function readZip(
  bytes: Buffer,
  limits: ZipLimits,
  want: (name: string) => boolean = () => true,
): Promise<{ entries: ZipEntry[]; notes: string[] }> {
  const zip = await openZip(bytes);
  const entries: ZipEntry[] = [];
  const notes: string[] = [];
  if (zip.entryCount > limits.maxEntries) {
    notes.push(`has ${zip.entryCount} entries; only the first ${limits.maxEntries} were looked at`);
  }
  let seen = 0;
  let total = 0;
  const meter = limits.meter ?? UNMETERED;
  try {
    for (;;) {
      if (seen >= limits.maxEntries) break;
      meter.check();
      const entry = await new Promise<yauzl.Entry | undefined>((resolve, reject) => {
        const onEntry = (e: yauzl.Entry): void => {
          zip.removeListener('end', onEnd);
          zip.removeListener('error', onError);
          resolve(e);
        };
        const onEnd = (): void => {
          zip.removeListener('entry', onEntry);
          zip.removeListener('error', onError);
          resolve(undefined);
        };
        const onError = (err: Error): void => {
          zip.removeListener('entry', onEntry);
          zip.removeListener('end', onEnd);
          reject(err);
        };
        zip.once('entry', onEntry);
        zip.once('end', onEnd);
        zip.once('error', onError);
        zip.readEntry();
      });
      if (entry === undefined) break;
      seen++;
      meter.count('zipEntries', 1);
      const name = entry.fileName;
      if (name.endsWith('/') || !want(name)) continue;
      const declared = entry.uncompressedSize;
      if (entry.isEncrypted()) {
        entries.push({ name, skipped: 'is encrypted' });
        continue;
      }
      if (declared > limits.maxEntryBytes) {
        entries.push({ name, skipped: `${mb(declared)} is over the ${mb(limits.maxEntryBytes)} part limit` });
        continue;
      }
      const ratio = declared / Math.max(1, entry.compressedSize);
      if (declared > RATIO_FLOOR_BYTES && ratio > limits.maxRatio) {
        entries.push({
          name,
          skipped: `compression ratio ${Math.round(ratio)}:1 is over the ${limits.maxRatio}:1 limit (zip bomb protection)`,
        });
        continue;
      }
      if (total + declared > limits.maxTotalBytes) {
        limits.overTotal?.(name);
        notes.push(
          `stopped at entry ${name}: the archive would inflate past the ${mb(limits.maxTotalBytes)} total limit`,
        );
        break;
      }
      const content = await inflate(await openStream(zip, entry), Math.min(limits.maxEntryBytes, declared));
      if (typeof content === 'string') {
        entries.push({ name, skipped: content });
        continue;
      }
      total += content.length;
      entries.push({ name, content });
    }
  } catch (err) {
    if (isStop(err)) throw err;
    notes.push(`is damaged after ${seen} entries (${(err as Error).message}); the rest was not read`);
  } finally {
    zip.close();
  }
  return { entries, notes };
}
