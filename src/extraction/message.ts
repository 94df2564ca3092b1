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
import { htmlToText } from './html';
import { mergeIndicators, prefixWhere, scanText, type FoundIndicator } from './scan';

/** The result of reading one message. */
export interface MessageExtraction {
  /** False means quarantine: the message could not be read as an email. */
  ok: boolean;
  /** Machine-readable reason when !ok: 'invalid-mime', 'too-large', 'empty'. */
  reasonCode?: string;
  /** Human sentence saying what is wrong when !ok. */
  reason?: string;
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

/** Limits for {@link extractFromMessage}. */
export interface MessageExtractionOptions {
  /** A body or attachment larger than this (decoded bytes) is skipped with a note. Default 10 MB. */
  maxPartBytes?: number;
  /** A raw message larger than this is refused ('too-large'). Default 50 MB. */
  maxMessageBytes?: number;
  /** How deep attached messages (message/rfc822, .eml) are followed. Default 3. */
  maxDepth?: number;
}

const DEFAULT_MAX_PART_BYTES = 10 * 1024 * 1024;
const DEFAULT_MAX_MESSAGE_BYTES = 50 * 1024 * 1024;
const DEFAULT_MAX_DEPTH = 3;
// Headers larger than this are not a message we want to read (mailparser's own limit is 1 MB).
const MAX_HEADER_BYTES = 1024 * 1024;

const TEXT_TYPES = new Set([
  'text/plain',
  'text/csv',
  'text/x-csv',
  'application/csv',
  'text/comma-separated-values',
  'text/tab-separated-values',
  'application/json',
  'application/stix+json',
  'application/taxii+json',
]);
const TEXT_EXTENSIONS = new Set(['txt', 'csv', 'tsv', 'log', 'json']);
const HTML_TYPES = new Set(['text/html', 'application/xhtml+xml']);
const HTML_EXTENSIONS = new Set(['html', 'htm']);
const MESSAGE_TYPES = new Set(['message/rfc822']);
const MESSAGE_EXTENSIONS = new Set(['eml']);

// Bounce parts: they list MTAs and Received lines (our own relays), the same data as headers.
const HEADER_DATA_TYPES = new Set([
  'message/delivery-status',
  'text/rfc822-headers',
  'message/global-headers',
  'message/global-delivery-status',
]);

type PartKind = 'text' | 'html' | 'message' | 'header-data' | 'unsupported';

function kindOf(contentType: string, filename: string | undefined): PartKind {
  if (HEADER_DATA_TYPES.has(contentType)) return 'header-data';
  const ext = filename?.toLowerCase().match(/\.([a-z0-9]+)$/)?.[1];
  if (TEXT_TYPES.has(contentType) || (ext !== undefined && TEXT_EXTENSIONS.has(ext))) return 'text';
  if (HTML_TYPES.has(contentType) || (ext !== undefined && HTML_EXTENSIONS.has(ext))) return 'html';
  if (MESSAGE_TYPES.has(contentType) || (ext !== undefined && MESSAGE_EXTENSIONS.has(ext))) return 'message';
  return 'unsupported';
}

function mb(bytes: number): string {
  return `${(bytes / (1024 * 1024)).toFixed(1)} MB`;
}

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

/** Decodes attachment bytes using the declared charset, a BOM, or UTF-8. */
function decodeText(content: Buffer, charset: string | undefined): string {
  if (content[0] === 0xff && content[1] === 0xfe) return new TextDecoder('utf-16le').decode(content);
  if (content[0] === 0xfe && content[1] === 0xff) return new TextDecoder('utf-16be').decode(content);
  if (charset !== undefined) {
    try {
      return new TextDecoder(charset).decode(content);
    } catch {
      // unknown charset label: fall through to UTF-8, which keeps every ASCII indicator intact
    }
  }
  return new TextDecoder('utf-8').decode(content);
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

/**
 * Parses a raw RFC 5322 message and extracts the indicators from its text/plain body, HTML body
 * (through `htmlToText`), and readable attachments (text, CSV/TSV, JSON, HTML, attached messages),
 * never from headers. `ok: false` means the message should be quarantined; `reason` says why.
 */
export async function extractFromMessage(
  raw: Buffer | string,
  opts: MessageExtractionOptions = {},
): Promise<MessageExtraction> {
  return extract(raw, opts, 0);
}

async function extract(
  raw: Buffer | string,
  opts: MessageExtractionOptions,
  depth: number,
): Promise<MessageExtraction> {
  const maxPart = opts.maxPartBytes ?? DEFAULT_MAX_PART_BYTES;
  const maxMessage = opts.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES;
  const maxDepth = opts.maxDepth ?? DEFAULT_MAX_DEPTH;
  const buf = typeof raw === 'string' ? Buffer.from(raw, 'utf8') : raw;
  const fail = (reasonCode: string, reason: string): MessageExtraction => ({
    ok: false,
    reasonCode,
    reason,
    indicators: [],
    notes: [],
  });

  if (buf.length <= 4096 && buf.toString('latin1').trim() === '') {
    return fail('empty', 'message is empty');
  }
  if (buf.length > maxMessage) {
    return fail('too-large', `message is ${mb(buf.length)}, over the ${mb(maxMessage)} limit; it was not read`);
  }
  const structure = checkStructure(buf);
  if (typeof structure === 'string') return fail('invalid-mime', `message is not valid MIME: ${structure}`);

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
    return fail('invalid-mime', `message is not valid MIME: the MIME parser failed (${detail})`);
  }

  const notes: string[] = [];
  if (structure.mboxLine) notes.push('ignored an mbox "From " separator line before the headers');
  const found: FoundIndicator[][] = [];

  if (parsed.text !== undefined && parsed.text !== '') {
    if (byteLength(parsed.text) > maxPart)
      notes.push(`skipped text body: ${mb(byteLength(parsed.text))} is over the ${mb(maxPart)} part limit`);
    else found.push(scanText(parsed.text, 'body'));
  }
  if (typeof parsed.html === 'string' && parsed.html !== '') {
    if (byteLength(parsed.html) > maxPart)
      notes.push(`skipped HTML body: ${mb(byteLength(parsed.html))} is over the ${mb(maxPart)} part limit`);
    else found.push(scanText(htmlToText(parsed.html), 'html'));
  }

  for (const [index, att] of parsed.attachments.entries()) {
    const label = attachmentLabel(att, index);
    const contentType = att.contentType.toLowerCase();
    const kind = kindOf(contentType, att.filename);
    if (kind === 'header-data') {
      notes.push(`skipped attachment ${label} (${contentType}): header data is never scanned`);
      continue;
    }
    if (kind === 'unsupported') {
      notes.push(`skipped attachment ${label} (${contentType}): unsupported type`);
      continue;
    }
    if (att.content.length > maxPart) {
      notes.push(
        `skipped attachment ${label} (${contentType}): ${mb(att.content.length)} is over the ${mb(maxPart)} part limit`,
      );
      continue;
    }
    const where = `attachment ${label}`;
    if (kind === 'message') {
      if (depth + 1 > maxDepth) {
        notes.push(`skipped attachment ${label} (${contentType}): attached messages nested deeper than ${maxDepth}`);
        continue;
      }
      const inner = await extract(att.content, opts, depth + 1);
      if (!inner.ok) {
        notes.push(`skipped attachment ${label} (${contentType}): ${inner.reason ?? 'unreadable message'}`);
        continue;
      }
      found.push(prefixWhere(inner.indicators, `${where} > `));
      for (const note of inner.notes) notes.push(`in attachment ${label}: ${note}`);
      continue;
    }
    const text = decodeText(att.content, charsetOf(att));
    found.push(scanText(kind === 'html' ? htmlToText(text) : text, where));
  }

  // Optional fields only when known, so the result stays compact and JSON-stable.
  const result: MessageExtraction = { ok: true, indicators: [], notes };
  if (parsed.messageId !== undefined) result.messageId = parsed.messageId;
  const from = fromOf(parsed);
  if (from !== undefined) result.from = from;
  if (parsed.subject !== undefined) result.subject = parsed.subject;
  const date = dateOf(structure.fields.get('date'), parsed, notes);
  if (date !== undefined) result.date = date;
  result.indicators = mergeIndicators(...found);
  return result;
}
