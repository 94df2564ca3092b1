/**
 * One part (a body, an attachment, an archive entry, a file given to the CLI) → its indicators,
 * through the reader for its format, under the limits of one extraction.
 *
 * Formats: text (txt, log, csv, tsv), HTML, JSON / STIX 2.x, PDF (text layer), XLSX (every cell),
 * zip archives, attached messages (message/rfc822, .eml). Anything else is skipped with a note, and
 * so is every part over the byte budget — the rest of the message is still read.
 */
import { Budget, DEFAULT_BUDGET, isStop, type ExtractionBudget, type Meter } from './budget';
import { htmlToPieces } from './html';
import { IndicatorSet, type FoundIndicator, type Source } from './indicators';
import { jsonToText } from './json';
import { pdfToText } from './pdf';
import { longRunNote, scanInto, scanLinesInto, scanUtf8Into, type ScanStats } from './scan';
import { xlsxToText } from './xlsx';
import { readZip } from './zip';

/**
 * Limits for reading a message or file. Every one bounds time or memory against hostile input.
 * Those of {@link ExtractionBudget} (and maxTotalBytes, maxParts, maxDepth) are hard: spending one
 * stops the extraction with `ok: false`, `reasonCode: 'too-complex'`. The others skip one part (or
 * the rest of one archive or PDF) with a note.
 */
export interface ExtractionOptions extends ExtractionBudget {
  /** A body, attachment or archive entry larger than this (decoded bytes) is skipped with a note. Default 10 MB. */
  maxPartBytes?: number;
  /** Decoded bytes read in all, across every part, entry and nested message (hard). Default 100 MB. */
  maxTotalBytes?: number;
  /** How deep attached messages and archives are followed (hard). Default 3. */
  maxDepth?: number;
  /** Parts (bodies, attachments, archive entries) read in all (hard). Default 1000. */
  maxParts?: number;
  /** Entries looked at per zip archive; the rest of the archive is skipped with a note. Default 1000. */
  maxArchiveEntries?: number;
  /** Largest inflate ratio accepted for an archive entry over 64 KB. Default 100. */
  maxCompressionRatio?: number;
  /** Pages read per PDF. Default 500. */
  maxPdfPages?: number;
  /** Time allowed per PDF. Default 30 s. */
  pdfTimeoutMs?: number;
  /** Heap of the PDF reader thread. Default 512 MB. */
  pdfMaxHeapMb?: number;
  /** Distinct indicators kept; more are counted in a note. Default 200,000. */
  maxIndicators?: number;
  /**
   * Whether indicators carry where they were seen (`where`, `places` with excerpts). Default true.
   * False gives values, counts and verdicts only (what `extract --ips` prints), about a quarter faster;
   * `where` and `places` are then empty, frozen arrays shared by every indicator.
   */
  places?: boolean;
}

export type ResolvedOptions = Required<Omit<ExtractionOptions, 'deadline' | 'signal'>> &
  Pick<ExtractionOptions, 'deadline' | 'signal'>;

const MB = 1024 * 1024;

export function resolveOptions(opts: ExtractionOptions = {}): ResolvedOptions {
  return {
    maxPartBytes: opts.maxPartBytes ?? 10 * MB,
    maxTotalBytes: opts.maxTotalBytes ?? 100 * MB,
    maxDepth: opts.maxDepth ?? 3,
    maxParts: opts.maxParts ?? 1000,
    maxArchiveEntries: opts.maxArchiveEntries ?? 1000,
    maxCompressionRatio: opts.maxCompressionRatio ?? 100,
    maxPdfPages: opts.maxPdfPages ?? 500,
    pdfTimeoutMs: opts.pdfTimeoutMs ?? 30_000,
    pdfMaxHeapMb: opts.pdfMaxHeapMb ?? 512,
    maxIndicators: opts.maxIndicators ?? 200_000,
    places: opts.places ?? true,
    maxTextBytes: opts.maxTextBytes ?? DEFAULT_BUDGET.maxTextBytes,
    maxPartTextBytes: opts.maxPartTextBytes ?? DEFAULT_BUDGET.maxPartTextBytes,
    maxAttachments: opts.maxAttachments ?? DEFAULT_BUDGET.maxAttachments,
    maxPdfs: opts.maxPdfs ?? DEFAULT_BUDGET.maxPdfs,
    maxPdfPagesTotal: opts.maxPdfPagesTotal ?? DEFAULT_BUDGET.maxPdfPagesTotal,
    maxCells: opts.maxCells ?? DEFAULT_BUDGET.maxCells,
    maxSharedStrings: opts.maxSharedStrings ?? DEFAULT_BUDGET.maxSharedStrings,
    maxZipEntries: opts.maxZipEntries ?? DEFAULT_BUDGET.maxZipEntries,
    deadline: opts.deadline,
    signal: opts.signal,
  };
}

export function mb(bytes: number): string {
  return `${(bytes / MB).toFixed(1)} MB`;
}

/** The shared state of one extraction: indicators, notes and the budgets used so far. */
export class ExtractionContext {
  readonly set: IndicatorSet;
  readonly notes: string[] = [];
  bytesRead = 0;
  partsRead = 0;
  /** Running counters against the hard limits; throws when one is spent. */
  readonly budget: Budget;

  constructor(readonly opts: ResolvedOptions) {
    this.set = new IndicatorSet(opts.maxIndicators, opts.places);
    this.budget = new Budget(opts, opts.deadline, opts.signal);
  }

  /**
   * Takes one part of `bytes` decoded bytes, called `what`, from the part and total budgets; throws
   * {@link BudgetExceeded} when either is spent, and checks the deadline and signal.
   */
  take(bytes: number, what: string): void {
    this.budget.check(what);
    if (this.partsRead >= this.opts.maxParts) {
      this.budget.exceed(
        'maxParts',
        `${what} is part number ${this.partsRead + 1}; at most ${this.opts.maxParts} are read`,
      );
    }
    if (this.bytesRead + bytes > this.opts.maxTotalBytes) {
      this.budget.exceed('maxTotalBytes', `${what} takes the bytes read past ${mb(this.opts.maxTotalBytes)}`);
    }
    this.bytesRead += bytes;
    this.partsRead++;
  }

  /** Scans text into the set, noting runs too long to be addresses. */
  scan(text: string, src: Source, locate?: (line: number) => string | undefined): void {
    this.noteLongRuns(scanInto(this.set, text, src, { locate }), src);
  }

  /** {@link scan} for a text given as its lines. */
  scanLines(lines: readonly string[], src: Source, locate?: (line: number) => string | undefined): void {
    this.noteLongRuns(scanLinesInto(this.set, lines, src, { locate }), src);
  }

  /** {@link scan} for text bytes in `charset`: UTF-8 is decoded piece by piece as it is scanned. */
  scanBytes(content: Buffer, charset: string | undefined, src: Source): void {
    if (isUtf8(content, charset)) this.noteLongRuns(scanUtf8Into(this.set, content, src), src);
    else this.scan(decodeText(content, charset), src);
  }

  private noteLongRuns(stats: ScanStats, src: Source): void {
    const note = longRunNote(stats, src.label);
    if (note !== undefined) this.notes.push(note);
  }

  /** The indicators, with a note when some were not kept. */
  indicators(): FoundIndicator[] {
    if (this.set.overflow > 0) {
      this.notes.push(
        `found more than ${this.opts.maxIndicators} distinct addresses; at least ${this.set.overflow} more were seen but not kept`,
      );
    }
    return this.set.result();
  }
}

export type PartKind = 'text' | 'html' | 'json' | 'pdf' | 'xlsx' | 'zip' | 'message' | 'header-data' | 'unsupported';

const BY_TYPE: Record<string, PartKind> = {
  'text/plain': 'text',
  'text/csv': 'text',
  'text/x-csv': 'text',
  'application/csv': 'text',
  'text/comma-separated-values': 'text',
  'text/tab-separated-values': 'text',
  'text/x-log': 'text',
  'text/html': 'html',
  'application/xhtml+xml': 'html',
  'application/json': 'json',
  'text/json': 'json',
  'application/stix+json': 'json',
  'application/taxii+json': 'json',
  'application/pdf': 'pdf',
  'application/x-pdf': 'pdf',
  'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet': 'xlsx',
  'application/vnd.ms-excel.sheet.macroenabled.12': 'xlsx',
  'application/zip': 'zip',
  'application/x-zip-compressed': 'zip',
  'application/x-zip': 'zip',
  'message/rfc822': 'message',
  // Bounce parts list MTAs and Received lines (our own relays): the same data as headers.
  'message/delivery-status': 'header-data',
  'text/rfc822-headers': 'header-data',
  'message/global-headers': 'header-data',
  'message/global-delivery-status': 'header-data',
};

const BY_EXTENSION: Record<string, PartKind> = {
  txt: 'text', log: 'text', csv: 'text', tsv: 'text', text: 'text', ioc: 'text', md: 'text',
  html: 'html', htm: 'html', xhtml: 'html',
  json: 'json', stix: 'json',
  pdf: 'pdf',
  xlsx: 'xlsx', xlsm: 'xlsx',
  zip: 'zip',
  eml: 'message',
}; // prettier-ignore

/** Content types that say nothing about the content: decided by file name, then by magic bytes. */
const GENERIC_TYPES = new Set(['application/octet-stream', 'application/x-download', 'application/download', '']);

/** Decides how to read a part from its content type, file name and (for generic types) first bytes. */
export function kindOf(contentType: string | undefined, filename: string | undefined, content?: Buffer): PartKind {
  const type = (contentType ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
  const byType = BY_TYPE[type];
  if (byType === 'header-data') return byType;
  const ext = filename?.toLowerCase().match(/\.([a-z0-9]+)$/)?.[1];
  const byExt = ext === undefined ? undefined : BY_EXTENSION[ext];
  // The file name wins over a vague or wrong type (Outlook sends CSV as application/vnd.ms-excel).
  if (byExt !== undefined) return byExt;
  if (byType !== undefined) return byType;
  if (GENERIC_TYPES.has(type) && content !== undefined) {
    if (content.subarray(0, 5).toString('latin1') === '%PDF-') return 'pdf';
    if (content.subarray(0, 4).toString('latin1') === 'PK\x03\x04') return 'zip';
  }
  return 'unsupported';
}

/** True when {@link decodeText} reads `content` as UTF-8 (no UTF-16 byte order mark, no other charset declared). */
function isUtf8(content: Buffer, charset: string | undefined): boolean {
  if (content[0] === 0xff && content[1] === 0xfe) return false;
  if (content[0] === 0xfe && content[1] === 0xff) return false;
  return charset === undefined || /^utf-?8$/i.test(charset);
}

/** Decodes text bytes using a BOM, the declared charset, or UTF-8. */
export function decodeText(content: Buffer, charset?: string): string {
  if (content[0] === 0xff && content[1] === 0xfe) return new TextDecoder('utf-16le').decode(content);
  if (content[0] === 0xfe && content[1] === 0xff) return new TextDecoder('utf-16be').decode(content);
  if (isUtf8(content, charset)) return content.toString('utf8');
  {
    try {
      return new TextDecoder(charset).decode(content);
    } catch {
      // unknown charset label: fall through to UTF-8, which keeps every ASCII indicator intact
    }
  }
  return new TextDecoder('utf-8').decode(content);
}

/** One part to read. */
export interface Part {
  /** Label for `where` and notes: "attachment iocs.csv", "attachment a.eml > list.csv", "iocs.csv". */
  label: string;
  /** Kind of part for places: 'attachment', 'file'. */
  part: string;
  /** Attachment path for places. */
  attachment: string;
  filename?: string;
  contentType?: string;
  charset?: string;
  content: Buffer;
  /** Containers (messages, archives) this part sits in. */
  depth: number;
}

/** Reads an attached message; supplied by message.ts so parts.ts does not depend on the MIME parser. */
export type MessageReader = (ctx: ExtractionContext, part: Part) => Promise<void>;

let messageReader: MessageReader | undefined;

/** Registers the reader for attached messages (message.ts does this when it loads). */
export function setMessageReader(reader: MessageReader): void {
  messageReader = reader;
}

function describe(part: Part, kind: PartKind): string {
  const type = part.contentType?.split(';')[0]?.trim().toLowerCase();
  return `${part.label} (${type && type !== '' ? type : kind})`;
}

const KIND_WORDS: Record<PartKind, string> = {
  text: 'text', html: 'HTML', json: 'JSON', pdf: 'PDF', xlsx: 'XLSX', zip: 'zip', message: 'attached message',
  'header-data': 'header data', unsupported: 'unsupported',
}; // prettier-ignore

/** The part as the subject of a reason sentence: "the XLSX attachment report.xlsx". */
function subject(part: Part, kind: PartKind): string {
  return `the ${KIND_WORDS[kind]} ${part.label}`;
}

/** Reads one part into the context: the single dispatcher for every format. */
export async function readPart(ctx: ExtractionContext, part: Part): Promise<void> {
  const kind = kindOf(part.contentType, part.filename, part.content);
  const what = describe(part, kind);
  if (kind === 'header-data') {
    ctx.notes.push(`skipped ${what}: header data is never scanned`);
    return;
  }
  if (kind === 'unsupported') {
    ctx.notes.push(`skipped ${what}: unsupported type`);
    return;
  }
  if (part.content.length > ctx.opts.maxPartBytes) {
    ctx.notes.push(`skipped ${what}: ${mb(part.content.length)} is over the ${mb(ctx.opts.maxPartBytes)} part limit`);
    return;
  }
  const who = subject(part, kind);
  if ((kind === 'message' || kind === 'zip') && part.depth + 1 > ctx.opts.maxDepth) {
    ctx.budget.exceed('maxDepth', `${who} is nested deeper than ${ctx.opts.maxDepth} attached messages and archives`);
  }
  ctx.take(part.content.length, who);
  const meter = ctx.budget.meter(who, kind === 'pdf' || kind === 'xlsx');
  const src: Source = { label: part.label, part: part.part, attachment: part.attachment };
  switch (kind) {
    case 'text':
      meter.text(part.content.length);
      ctx.scanBytes(part.content, part.charset, src);
      return;
    case 'html':
      // The rendered text is never longer than the document (entities and tags only shrink it).
      meter.text(part.content.length);
      // UTF-8 HTML is rendered from its bytes, never decoded whole.
      ctx.scanLines(
        htmlToPieces(isUtf8(part.content, part.charset) ? part.content : decodeText(part.content, part.charset), meter),
        src,
      );
      return;
    case 'json': {
      // The strings of a document are never longer than the document.
      meter.text(part.content.length);
      const text = decodeText(part.content, part.charset);
      const json = jsonToText(text, { paths: ctx.opts.places, meter });
      if (typeof json === 'string') {
        ctx.notes.push(`${what} ${json}; it was scanned as text`);
        ctx.scan(text, src);
      } else {
        ctx.scanLines(json.lines, src, (line) => json.paths[line - 1]);
      }
      return;
    }
    case 'pdf': {
      ctx.budget.pdf(who);
      const pdf = await pdfToText(
        part.content,
        {
          maxPages: ctx.opts.maxPdfPages,
          timeoutMs: ctx.opts.pdfTimeoutMs,
          maxChars: ctx.opts.maxPartBytes,
          maxHeapMb: ctx.opts.pdfMaxHeapMb,
        },
        meter,
      );
      if (typeof pdf === 'string') {
        ctx.notes.push(`skipped ${what}: it ${pdf}`);
        return;
      }
      for (const note of pdf.notes) ctx.notes.push(`${what} ${note}`);
      pdf.pages.forEach((page, i) => ctx.scan(page, src, (line) => `page ${i + 1}, line ${line}`));
      if (pdf.pages.every((p) => p.trim() === '')) {
        ctx.notes.push(`${what} has no text layer (a scanned image?); nothing could be read from it`);
      }
      return;
    }
    case 'xlsx': {
      const sheet = await xlsxToText(part.content, zipLimits(ctx, who, meter), meter);
      if (typeof sheet === 'string') {
        ctx.notes.push(`skipped ${what}: it ${sheet}`);
        return;
      }
      for (const note of sheet.notes) ctx.notes.push(`${what} ${note}`);
      meter.check();
      ctx.scan(sheet.text, src, (line) => sheet.cells[line - 1]);
      return;
    }
    case 'zip':
      await readArchive(ctx, part, what, who, meter);
      return;
    case 'message':
      // message.ts registers the reader when it loads; a file read without it (an archive holding an .eml, in
      // `extract`, which loads the mail parser only when needed) loads it here.
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      if (messageReader === undefined) require('./message');
      if (messageReader === undefined) throw new Error('no reader for attached messages is registered');
      await messageReader(ctx, part);
      return;
  }
}

function zipLimits(ctx: ExtractionContext, who: string, meter: Meter) {
  const maxTotalBytes = Math.max(0, ctx.opts.maxTotalBytes - ctx.bytesRead);
  return {
    maxEntries: ctx.opts.maxArchiveEntries,
    maxEntryBytes: ctx.opts.maxPartBytes,
    maxTotalBytes,
    maxRatio: ctx.opts.maxCompressionRatio,
    meter,
    overTotal: (entry: string): never =>
      ctx.budget.exceed(
        'maxTotalBytes',
        `${who} would inflate past the ${mb(ctx.opts.maxTotalBytes)} of bytes read in all at entry ${entry}`,
      ),
  };
}

async function readArchive(ctx: ExtractionContext, part: Part, what: string, who: string, meter: Meter): Promise<void> {
  let zip;
  try {
    zip = await readZip(part.content, zipLimits(ctx, who, meter));
  } catch (err) {
    if (isStop(err)) throw err;
    ctx.notes.push(`skipped ${what}: it is not a readable zip archive (${(err as Error).message})`);
    return;
  }
  for (const note of zip.notes) ctx.notes.push(`${what} ${note}`);
  // Count the PDFs before reading any: a thousand tiny ones would each cost a worker thread.
  let pdfs = 0;
  for (const entry of zip.entries)
    if (entry.content !== undefined && kindOf(undefined, entry.name, entry.content) === 'pdf') pdfs++;
  if (ctx.budget.pdfs + pdfs > ctx.opts.maxPdfs) {
    ctx.budget.exceed('maxPdfs', `${who} holds ${pdfs} PDF documents; at most ${ctx.opts.maxPdfs} are read`);
  }
  for (const entry of zip.entries) {
    const name = entry.name;
    const inner: Part = {
      label: `${part.label} > ${name}`,
      part: part.part,
      attachment: `${part.attachment} > ${name}`,
      filename: name,
      content: entry.content ?? Buffer.alloc(0),
      depth: part.depth + 1,
    };
    if (entry.content === undefined) {
      ctx.notes.push(`skipped ${inner.label}: it ${entry.skipped ?? 'could not be read'}`);
      continue;
    }
    if (kindOf(undefined, name, entry.content) === 'zip') {
      // Archives inside archives are how zip bombs multiply (42.zip): never opened.
      ctx.notes.push(`skipped ${inner.label}: archives inside archives are not opened (zip bomb protection)`);
      continue;
    }
    await readPart(ctx, inner);
  }
}
