/**
 * One raw email → the indicators in its bodies and readable attachments, or a reason to quarantine.
 *
 * Only content is scanned, never headers: the Received, Authentication-Results and X-Originating-IP
 * lines of a reported phish are mostly our own relays and the reporter's network, and blocking them
 * would be self-inflicted denial of service. For the same reason delivery-status and
 * text/rfc822-headers parts (bounces) are not scanned.
 *
 * mailparser is deliberately lenient (it turns almost any byte string into a "message"), so the raw
 * bytes are first checked for the structure of a real message; a failure quarantines the message
 * with a sentence saying what is wrong.
 */
import { simpleParser, type Attachment, type ParsedMail, type StructuredHeader } from 'mailparser';
import { BudgetExceeded, EXTRACTION_REASON, type BudgetName, type ExtractionReasonCode } from './budget';
import { htmlToPieces } from './html';
import type { FoundIndicator, Source } from './indicators';
import {
  ExtractionContext,
  kindOf,
  mb,
  readPart,
  resolveOptions,
  setMessageReader,
  type ExtractionOptions,
  type Part,
} from './parts';

/** The result of reading one message. */
export interface MessageExtraction {
  /** False means quarantine: the message could not be read as an email, or spent a work budget. */
  ok: boolean;
  /** Machine-readable reason when !ok: one of {@link EXTRACTION_REASON} ('invalid-mime', 'too-large', 'empty', 'too-complex'). */
  reasonCode?: ExtractionReasonCode;
  /** Human sentence saying what is wrong when !ok. */
  reason?: string;
  /** With 'too-complex': the option of the budget that was spent ('maxTextBytes', 'maxPdfs', 'deadline', …). */
  limit?: BudgetName;
  messageId?: string;
  from?: string;
  subject?: string;
  /** ISO 8601, only when the message has a Date header. */
  date?: string;
  /** Indicators from bodies and attachments; `where` like "body:line 3", "attachment iocs.csv:line 4". */
  indicators: FoundIndicator[];
  /** What was skipped or odd, e.g. "skipped attachment x.exe (application/x-msdownload): unsupported type". */
  notes: string[];
}

/** Limits for {@link extractFromMessage}: those of every extraction, plus the size of the raw message. */
export interface MessageExtractionOptions extends ExtractionOptions {
  /** A raw message larger than this is refused ('too-large'). Default 50 MB. */
  maxMessageBytes?: number;
}

const DEFAULT_MAX_MESSAGE_BYTES = 50 * 1024 * 1024;
// Headers larger than this are not a message we want to read (mailparser's own limit is 1 MB).
const MAX_HEADER_BYTES = 1024 * 1024;

/** A header value safe to quote in a one-line sentence. */
function quoteForReason(text: string, max = 60): string {
  // eslint-disable-next-line no-control-regex
  const clean = text.replace(/[\x00-\x1f\x7f]/g, ' ');
  return JSON.stringify(clean.length > max ? `${clean.slice(0, max)}…` : clean);
}

interface RawHeaders {
  /** Lower-cased name → first unfolded value. */
  fields: Map<string, string>;
  /** Offset of the body in the raw bytes. */
  bodyStart: number;
  /** True when an mbox "From " separator line was skipped. */
  mboxLine: boolean;
}

const HEADER_LINE = /^[\x21-\x39\x3b-\x7e]+[ \t]*:/;

/**
 * Reads the header section of the raw message. Returns a sentence instead when there is no header
 * section at all (the first line is not a `Name: value` field).
 */
function readRawHeaders(raw: Buffer): RawHeaders | string {
  // latin1 maps bytes 1:1 to characters, so offsets in this string are byte offsets.
  const head = raw.subarray(0, Math.min(raw.length, MAX_HEADER_BYTES)).toString('latin1');
  let pos = 0;
  let mboxLine = false;
  if (head.startsWith('\xef\xbb\xbf')) pos = 3; // a UTF-8 BOM from an editor that saved the .eml
  const fields = new Map<string, string>();
  let current: { name: string; value: string } | undefined;
  const flush = (): void => {
    if (current !== undefined && !fields.has(current.name)) fields.set(current.name, current.value.trim());
    current = undefined;
  };
  let first = true;
  for (;;) {
    const nl = head.indexOf('\n', pos);
    const lineEnd = nl === -1 ? head.length : nl;
    const line = head.slice(pos, lineEnd).replace(/\r$/, '');
    const next = nl === -1 ? head.length : nl + 1;
    if (first) {
      first = false;
      if (line.startsWith('From ') && !HEADER_LINE.test(line)) {
        // mbox separator left in front of a saved message: not part of the message.
        mboxLine = true;
        pos = next;
        first = true;
        if (mboxLine && nl === -1) break;
        continue;
      }
      if (!HEADER_LINE.test(line)) {
        return `it does not start with a header section (the first line ${quoteForReason(line)} is not a "Name: value" header)`;
      }
    }
    if (line === '') {
      flush();
      return { fields, bodyStart: next, mboxLine };
    }
    if ((line.startsWith(' ') || line.startsWith('\t')) && current !== undefined) {
      current.value += ' ' + line.trim();
    } else if (HEADER_LINE.test(line)) {
      flush();
      const colon = line.indexOf(':');
      current = { name: line.slice(0, colon).trim().toLowerCase(), value: line.slice(colon + 1) };
    } else {
      // A stray line in the header block: lenient readers (and mailparser) start the body here.
      flush();
      return { fields, bodyStart: pos, mboxLine };
    }
    if (nl === -1) break;
    pos = next;
  }
  flush();
  return { fields, bodyStart: Math.min(raw.length, head.length), mboxLine };
}

/** Boundary parameter of a Content-Type value, or undefined (quoted or token form). */
function boundaryOf(contentType: string): string | undefined {
  const m = /(?:^|;)\s*boundary\s*=\s*(?:"([^"]*)"|([^;\s]+))/i.exec(contentType);
  return m === null ? undefined : (m[1] ?? m[2]);
}

/** True when `--boundary` starts a line somewhere in the body. */
function boundaryAppears(raw: Buffer, bodyStart: number, boundary: string): boolean {
  const needle = Buffer.from(`--${boundary}`, 'latin1');
  for (let at = raw.indexOf(needle, bodyStart); at !== -1; at = raw.indexOf(needle, at + 1)) {
    if (at === bodyStart || raw[at - 1] === 0x0a) return true;
  }
  return false;
}

/** Structural checks mailparser does not make. Returns a sentence describing the defect, or the headers. */
function checkStructure(raw: Buffer): RawHeaders | string {
  const headers = readRawHeaders(raw);
  if (typeof headers === 'string') return headers;
  const f = headers.fields;
  if (!f.has('from') && !f.has('date') && !f.has('message-id')) {
    return 'it has no From, Date or Message-ID header, so it is not an email message';
  }
  const contentType = f.get('content-type');
  if (contentType !== undefined) {
    const type = contentType.split(';')[0]?.trim().toLowerCase() ?? '';
    if (type.startsWith('multipart/')) {
      const boundary = boundaryOf(contentType);
      if (boundary === undefined || boundary === '') return `${type} has no boundary parameter`;
      if (!boundaryAppears(raw, headers.bodyStart, boundary)) {
        return `${type} declares boundary ${quoteForReason(boundary)} but it never appears in the body`;
      }
    }
  }
  return headers;
}

function charsetOf(att: Attachment): string | undefined {
  const ct = att.headers.get('content-type') as StructuredHeader | undefined;
  return typeof ct === 'object' && ct !== null && 'params' in ct ? ct.params.charset : undefined;
}

/** A label safe to use in `where` and notes. */
function attachmentLabel(att: Attachment, index: number): string {
  // eslint-disable-next-line no-control-regex
  const name = att.filename?.replace(/[\x00-\x1f\x7f]/g, '').trim();
  return name !== undefined && name !== '' ? name : `part ${att.partId ?? index + 1}`;
}

function fromOf(parsed: ParsedMail): string | undefined {
  const first = parsed.from?.value[0];
  return first?.address ?? (parsed.from?.text || undefined);
}

/**
 * ISO date of the Date header. mailparser substitutes the current time for a Date it cannot parse,
 * which would be a confident wrong answer, so an unparsable header gives no date and a note.
 */
function dateOf(header: string | undefined, parsed: ParsedMail, notes: string[]): string | undefined {
  if (header === undefined) return undefined;
  if (isNaN(Date.parse(header)) || parsed.date === undefined || isNaN(parsed.date.getTime())) {
    notes.push(`Date header ${quoteForReason(header)} could not be parsed`);
    return undefined;
  }
  return parsed.date.toISOString();
}

function byteLength(text: string): number {
  return Buffer.byteLength(text, 'utf8');
}

/** Where a message sits: at the top, or inside an attachment or archive of an outer one. */
interface Nesting {
  /** Label of the part holding this message ("attachment phish.eml"), or undefined at the top. */
  label?: string;
  /** Attachment path of that part, for places. */
  attachment?: string;
  depth: number;
}

type ReadOutcome =
  | { ok: false; reasonCode: ExtractionReasonCode; reason: string }
  | { ok: true; parsed: ParsedMail; structure: RawHeaders };

/**
 * Parses a raw RFC 5322 message and extracts the indicators from its text/plain body, HTML body
 * (through `htmlToText`), and readable attachments (text, CSV/TSV, JSON and STIX, HTML, PDF, XLSX,
 * zip archives, attached messages — recursively, within the limits), never from headers. `ok: false`
 * means the message should be quarantined; `reason` says why.
 */
export async function extractFromMessage(
  raw: Buffer | string,
  opts: MessageExtractionOptions = {},
): Promise<MessageExtraction> {
  const buf = typeof raw === 'string' ? Buffer.from(raw, 'utf8') : raw;
  const maxMessage = opts.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES;
  if (buf.length > maxMessage) {
    return fail(
      EXTRACTION_REASON.tooLarge,
      `message is ${mb(buf.length)}, over the ${mb(maxMessage)} limit; it was not read`,
    );
  }
  const ctx = new ExtractionContext(resolveOptions(opts));
  const outcome = await parseMessage(buf);
  if (!outcome.ok) return fail(outcome.reasonCode, outcome.reason);
  const { parsed, structure } = outcome;
  let stopped: BudgetExceeded | undefined;
  try {
    await readContent(ctx, parsed, structure, { depth: 0 });
  } catch (err) {
    // A spent budget quarantines the message: what was read so far is dropped, never blocked.
    if (!(err instanceof BudgetExceeded)) throw err; // ExtractionCancelled and bugs go to the caller
    stopped = err;
  }
  // Optional fields only when known, so the result stays compact and JSON-stable.
  const result: MessageExtraction =
    stopped === undefined
      ? { ok: true, indicators: [], notes: ctx.notes }
      : {
          ok: false,
          reasonCode: EXTRACTION_REASON.tooComplex,
          reason: stopped.reason,
          limit: stopped.limit,
          indicators: [],
          notes: [],
        };
  if (parsed.messageId !== undefined) result.messageId = parsed.messageId;
  const from = fromOf(parsed);
  if (from !== undefined) result.from = from;
  if (parsed.subject !== undefined) result.subject = parsed.subject;
  const date = dateOf(structure.fields.get('date'), parsed, stopped === undefined ? ctx.notes : []);
  if (date !== undefined) result.date = date;
  if (stopped === undefined) result.indicators = ctx.indicators();
  return result;
}

function fail(reasonCode: ExtractionReasonCode, reason: string): MessageExtraction {
  return { ok: false, reasonCode, reason, indicators: [], notes: [] };
}

/** Reads one message (the top one, or an attached one) into `ctx`. */
async function readMessage(ctx: ExtractionContext, buf: Buffer, nesting: Nesting): Promise<ReadOutcome> {
  const outcome = await parseMessage(buf);
  if (outcome.ok) await readContent(ctx, outcome.parsed, outcome.structure, nesting);
  return outcome;
}

/** Checks the structure of a raw message and parses it. */
async function parseMessage(buf: Buffer): Promise<ReadOutcome> {
  if (buf.length <= 4096 && buf.toString('latin1').trim() === '') {
    return { ok: false, reasonCode: EXTRACTION_REASON.empty, reason: 'message is empty' };
  }
  const structure = checkStructure(buf);
  if (typeof structure === 'string') {
    return { ok: false, reasonCode: EXTRACTION_REASON.invalidMime, reason: `message is not valid MIME: ${structure}` };
  }

  let parsed: ParsedMail;
  try {
    parsed = await simpleParser(buf, {
      skipHtmlToText: true, // we convert HTML ourselves, keeping cells apart and link targets
      skipTextToHtml: true,
      skipImageLinks: true,
      keepCidLinks: true,
      checksumAlgo: false,
      ignoreEmbedded: true, // attached messages come back as attachments; we recurse with our own rules
      keepDeliveryStatus: true, // bounce status parts name our own MTAs: do not fold them into the body
    });
  } catch (err) {
    const detail = err instanceof Error ? err.message : String(err);
    return {
      ok: false,
      reasonCode: EXTRACTION_REASON.invalidMime,
      reason: `message is not valid MIME: the MIME parser failed (${detail})`,
    };
  }
  return { ok: true, parsed, structure };
}

/** Reads the bodies and attachments of a parsed message into `ctx`. */
async function readContent(
  ctx: ExtractionContext,
  parsed: ParsedMail,
  structure: RawHeaders,
  nesting: Nesting,
): Promise<void> {
  // Parsing a large message takes a while: the deadline may have passed, the signal fired.
  ctx.budget.check(nesting.label ?? 'the message');
  const inner = nesting.label === undefined ? '' : `${nesting.label} > `;
  if (structure.mboxLine) ctx.notes.push(`${inner}ignored an mbox "From " separator line before the headers`);
  const bodySource = (name: 'body' | 'html'): Source => {
    const src: Source = { label: `${inner}${name}`, part: name };
    if (nesting.attachment !== undefined) src.attachment = nesting.attachment;
    return src;
  };
  const maxPart = ctx.opts.maxPartBytes;

  if (parsed.text !== undefined && parsed.text !== '') {
    const size = byteLength(parsed.text);
    const what = `${inner}text body`;
    if (size > maxPart) ctx.notes.push(`skipped ${what}: ${mb(size)} is over the ${mb(maxPart)} part limit`);
    else {
      ctx.take(size, `the ${what}`);
      ctx.budget.meter(`the ${what}`, false).text(size);
      ctx.scan(parsed.text, bodySource('body'));
    }
  }
  if (typeof parsed.html === 'string' && parsed.html !== '') {
    const size = byteLength(parsed.html);
    const what = `${inner}HTML body`;
    if (size > maxPart) ctx.notes.push(`skipped ${what}: ${mb(size)} is over the ${mb(maxPart)} part limit`);
    else {
      ctx.take(size, `the ${what}`);
      const meter = ctx.budget.meter(`the ${what}`, false);
      meter.text(size);
      ctx.scanLines(htmlToPieces(parsed.html, meter), bodySource('html'));
    }
  }

  // Count attachments and PDFs before reading any, so a message built to exhaust us costs nothing more.
  const where = nesting.label ?? 'the message';
  ctx.budget.attach(parsed.attachments.length, where);
  let pdfs = 0;
  for (const att of parsed.attachments) if (kindOf(att.contentType, att.filename, att.content) === 'pdf') pdfs++;
  if (ctx.budget.pdfs + pdfs > ctx.opts.maxPdfs) {
    ctx.budget.exceed(
      'maxPdfs',
      `${where} brings the PDF documents to ${ctx.budget.pdfs + pdfs}, more than ${ctx.opts.maxPdfs}`,
    );
  }
  for (const [index, att] of parsed.attachments.entries()) {
    const name = attachmentLabel(att, index);
    const part: Part = {
      label: nesting.label === undefined ? `attachment ${name}` : `${nesting.label} > ${name}`,
      part: 'attachment',
      attachment: nesting.attachment === undefined ? name : `${nesting.attachment} > ${name}`,
      contentType: att.contentType,
      content: att.content,
      depth: nesting.depth,
    };
    if (att.filename !== undefined) part.filename = att.filename;
    const charset = charsetOf(att);
    if (charset !== undefined) part.charset = charset;
    await readPart(ctx, part);
  }
}

// Attached messages (message/rfc822 parts, .eml attachments and archive entries) come back here.
setMessageReader(async (ctx, part) => {
  const outcome = await readMessage(ctx, part.content, {
    label: part.label,
    attachment: part.attachment,
    depth: part.depth + 1,
  });
  if (!outcome.ok) {
    const type = part.contentType?.split(';')[0]?.trim().toLowerCase() || 'message/rfc822';
    ctx.notes.push(`skipped ${part.label} (${type}): ${outcome.reason}`);
  }
});

export type { FoundIndicator };
