/**
 * The I/O side of the trust gate: reads the facts of a raw message (From, attached messages, the Received line
 * our own MTA wrote), verifies DKIM, SPF, DMARC and ARC with mailauth against an injected DNS resolver, and
 * asks the pure policy in src/policy/trust.ts for the decision.
 *
 * The connecting IP, HELO and MAIL FROM come only from the entry hop, found by position from the top (and a
 * Return-Path our delivery added above it), never from lines the sender wrote: everything below the entry hop,
 * and every header of a message that never passed through our MTA, is the sender's to invent. The same position
 * decides which of a hosted-mail provider's verdicts may count (TRUSTED_AUTHSERV_IDS): only those written above the
 * entry hop, inside our organisation.
 *
 * Everything here reads hostile input, so every scan is linear or bounded (hand-written scanners instead of
 * backtracking regexes), and whatever two readers could read differently is reported, not guessed at.
 */
import { ApplicationFailure } from '@temporalio/common';
import { simpleParser } from 'mailparser';
import { promises as dnsPromises } from 'node:dns';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { isIP } from 'node:net';
import addressparser from 'nodemailer/lib/addressparser';
import { ConfigError, requireTrustedSenders } from '../config';
import { isSpace } from '../extraction/html';
import { parseIp } from '../net/ip';
import { specialRangeOf } from '../net/special-ranges';
import {
  SINGLETON_HEADERS,
  decideTrust,
  matchHost,
  normalizeHostName,
  normalizeHostPattern,
  providerVerdict,
  screenMessage,
  splitAddress,
  type DkimCheck,
  type AuthResults,
  type MessageFacts,
  type MtaRoute,
  type ProviderFacts,
  type ProviderResults,
  type ProviderUse,
  type TrustConfig,
  type TrustDecision,
} from '../policy/trust';

/** A DNS resolver with the shape of `dns.promises.resolve(name, rrtype)` (what mailauth calls). */
export type DnsResolver = (name: string, rrtype: string) => Promise<unknown>;

/** Error type of a temporary DNS failure (retryable: the verdict is unknown, not negative). */
export const DNS_TEMPORARY_ERROR = 'DnsTemporaryError';

// --- mailauth (it ships no type declarations: the parts we use, typed here) -------------------------------

export interface MailauthStatus {
  result: string;
  comment?: string;
  aligned?: string | false;
  underSized?: number;
}
export interface MailauthDkimResult {
  signingDomain?: string;
  selector?: string;
  /** b= of the signature (whitespace removed): ties a result to its DKIM-Signature field. */
  signature?: string;
  status: MailauthStatus;
  signingHeaders?: { keys?: string };
  canonBodyLengthLimited?: boolean;
  canonBodyLength?: number;
  canonBodyLengthTotal?: number;
}
/** A header field as mailauth's own reader split it (tools.js parseHeaders). */
export interface MailauthHeaderRow {
  key: string | null;
  line: Buffer;
}
export interface MailauthResult {
  dkim: {
    results?: MailauthDkimResult[];
    /** The From addresses mailauth read (its header reader, its bundled addressparser). */
    headerFrom?: string[];
    /** mailauth's reading of the header section (a non-enumerable property of its DKIM result). */
    headers?: { parsed?: MailauthHeaderRow[] };
  };
  spf?: { domain?: string; status: MailauthStatus } | false;
  dmarc?:
    | {
        status: MailauthStatus;
        policy?: string;
        /** The organisational From domain DMARC and alignment were computed for. */
        domain?: string;
        alignment?: { spf?: { result?: string }; dkim?: { result?: string } };
      }
    | false;
  arc?:
    | {
        status: MailauthStatus;
        i?: number | false;
        signature?: { signingDomain?: string } | false;
        authenticationResults?: { dmarc?: { result?: string; header?: { from?: string } } };
        chain?: { 'arc-seal'?: { parsed?: { d?: { value?: string }; t?: { value?: unknown } } } }[];
      }
    | false;
}
export interface MailauthOptions {
  ip: string;
  helo?: string;
  sender?: string;
  mta: string;
  resolver: DnsResolver;
  disableBimi: boolean;
  trustReceived: boolean;
}
// eslint-disable-next-line @typescript-eslint/no-require-imports
const mailauth = require('mailauth') as {
  authenticate(message: Buffer, opts: MailauthOptions): Promise<MailauthResult>;
};
// mailauth's own DKIM tag parser, to read t= from the very field whose signature it verified.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const parseDkimHeaders = require('mailauth/lib/parse-dkim-headers') as (line: Buffer) => {
  parsed?: { b?: { value?: unknown }; t?: { value?: unknown } };
};

// --- headers ------------------------------------------------------------------------------------------------

/** One top-level header field: lower-cased name, unfolded value. */
export interface HeaderField {
  name: string;
  value: string;
  /** The field as written (name, colon, value, folded lines joined with CRLF), in latin1: what mailauth reads. */
  raw?: string;
}

/** A header section read strictly: its fields, and why readers could disagree about it (empty when they cannot). */
export interface HeaderSection {
  fields: HeaderField[];
  problems: string[];
}

/** Larger header sections are not read (and are refused as ambiguous): the rest would be read by others only. */
export const MAX_HEADER_BYTES = 1024 * 1024;
/** More header fields than this are refused as ambiguous (and never reach mailauth). */
export const MAX_HEADER_FIELDS = 1000;
/** A From header longer than this is refused as ambiguous: no author's address needs it, and parsers differ on it. */
const MAX_FROM_CHARS = 2048;

const isFieldNameCode = (c: number): boolean => c >= 0x21 && c <= 0x7e && c !== 0x3a;
const hex = (c: number): string => `0x${c.toString(16).padStart(2, '0')}`;
const shown = (s: string, max = 40): string =>
  // eslint-disable-next-line no-control-regex
  JSON.stringify(s.length > max ? `${s.slice(0, max)}…` : s).replace(/[\x00-\x1f\x7f]/g, '?');

/**
 * Reads the header section of a raw message strictly, in one pass: lines end at LF (an optional CR before it is
 * part of the line ending), the section ends at the first empty line, a line starting with SP or HTAB continues
 * the field above, any other line must be `name:` with a name of printable ASCII other than the colon.
 *
 * Everything that other readers take differently is recorded as a problem instead of being guessed at: a CR not
 * followed by LF (some readers end the line there), NUL and other control characters, a line that is not a field
 * (lenient readers end the header section there, mailauth goes on and reads it as a field), a first line that
 * starts with whitespace, a field name with spaces or bytes outside ASCII (`From :`, `\vFrom:` is folding to
 * mailauth, whose `\s` also matches VT, FF and NBSP), and a section larger than {@link MAX_HEADER_BYTES}.
 */
export function readHeaderSection(raw: Buffer): HeaderSection {
  // latin1 keeps bytes 1:1; header values we act on (addresses, host names, IPs) are ASCII.
  const limit = Math.min(raw.length, MAX_HEADER_BYTES);
  const head = raw.subarray(0, limit).toString('latin1');
  const fields: HeaderField[] = [];
  const problems: string[] = [];
  const problem = (p: string) => {
    if (problems.length < 20 && !problems.includes(p)) problems.push(p);
  };
  let current: HeaderField | undefined;
  let inBadLine = false;
  let ended = false;
  let pos = 0;
  let lineNo = 0;
  while (pos < head.length) {
    lineNo++;
    const nl = head.indexOf('\n', pos);
    const next = nl === -1 ? head.length : nl + 1;
    let end = nl === -1 ? head.length : nl;
    if (nl !== -1 && end > pos && head.charCodeAt(end - 1) === 0x0d) end--;
    const lineStart = pos;
    pos = next;
    if (end === lineStart) {
      if (nl !== -1) ended = true;
      break;
    }
    for (let i = lineStart; i < end; i++) {
      const c = head.charCodeAt(i);
      if (c === 0x0d)
        problem(
          `line ${lineNo} holds a carriage return (CR) without a line feed, where readers disagree on the line's end`,
        );
      else if ((c < 0x20 && c !== 0x09) || c === 0x7f) problem(`line ${lineNo} holds the control character ${hex(c)}`);
    }
    const first = head.charCodeAt(lineStart);
    if (first === 0x20 || first === 0x09) {
      if (current) {
        current.value += ` ${head.slice(lineStart, end).trim()}`;
        current.raw += `\r\n${head.slice(lineStart, end)}`;
      } else if (!inBadLine) {
        problem(`line ${lineNo} starts with whitespace where a header field should start`);
      }
      continue;
    }
    let i = lineStart;
    while (i < end && isFieldNameCode(head.charCodeAt(i))) i++;
    if (i === end || i === lineStart || head.charCodeAt(i) !== 0x3a) {
      const colon = head.indexOf(':', lineStart);
      problem(
        colon === -1 || colon >= end
          ? `line ${lineNo} is not a header field (${shown(head.slice(lineStart, end))}): some readers end the header section there, others read on`
          : `line ${lineNo} has a field name with ${hex(head.charCodeAt(i))} in it (${shown(head.slice(lineStart, end))})`,
      );
      current = undefined;
      inBadLine = true;
      continue;
    }
    inBadLine = false;
    current = {
      name: head.slice(lineStart, i).toLowerCase(),
      value: head.slice(i + 1, end).trim(),
      raw: head.slice(lineStart, end),
    };
    fields.push(current);
    if (fields.length === MAX_HEADER_FIELDS + 1) problem(`it has more than ${MAX_HEADER_FIELDS} header fields`);
  }
  if (!ended && raw.length > limit) problem(`its header section is longer than ${MAX_HEADER_BYTES} bytes`);
  return { fields, problems };
}

/** The top-level header fields of a raw message, in order (top first), folded lines joined. */
export function readHeaderFields(raw: Buffer): HeaderField[] {
  return readHeaderSection(raw).fields;
}

// --- From -----------------------------------------------------------------------------------------------------

type ParsedAddress = { address?: string; name?: string; group?: ParsedAddress[] };
type AddressParser = (value: string) => ParsedAddress[];

// mailauth reads From with the addressparser of its own bundled nodemailer (not ours): load that very module, so
// the gate can compare its reading with the one DKIM alignment and DMARC are computed for.
const mailauthAddressparser = createRequire(require.resolve('mailauth'))(
  'nodemailer/lib/addressparser',
) as AddressParser;

function flattenAddresses(list: ParsedAddress[]): { address: string; name: string }[] {
  return list.flatMap((a) =>
    a.group ? flattenAddresses(a.group) : a.address ? [{ address: a.address, name: a.name ?? '' }] : [],
  );
}

/** ASCII letters, digits and the atext specials of RFC 5322 §3.2.3. */
const isAtext = (c: number): boolean =>
  (c >= 0x61 && c <= 0x7a) ||
  (c >= 0x41 && c <= 0x5a) ||
  (c >= 0x30 && c <= 0x39) ||
  "!#$%&'*+-/=?^_`{|}~".includes(String.fromCharCode(c));

/** One token of an address header: a word (atoms joined by dots), a quoted string, a comment, or a special. */
type AddressToken =
  | { kind: 'word' | 'quoted' | 'comment'; text: string; spaceBefore: boolean }
  | { kind: 'special'; text: string; spaceBefore: boolean };

/**
 * Strict RFC 5322 reading of a From value: `addr-spec` or `[display-name] <addr-spec>`, comma-separated. The
 * constructs that parsers read differently are reported instead of interpreted: nested comments, comments holding
 * `@ < > " \`, comments inside the address, quoted local parts, domain literals, groups, encoded words or spaces
 * inside the address, an address-looking display name word outside quotes.
 */
export function readFromStrict(value: string): { addresses: { address: string; name: string }[]; problems: string[] } {
  const problems: string[] = [];
  const tokens: AddressToken[] = [];
  let i = 0;
  let space = false;
  const n = value.length;
  while (i < n) {
    const c = value.charCodeAt(i);
    if (c === 0x20 || c === 0x09 || c === 0x0d || c === 0x0a) {
      space = true;
      i++;
    } else if (c === 0x28 /* ( */) {
      let depth = 1;
      let j = i + 1;
      let text = '';
      let odd = false;
      while (j < n && depth > 0) {
        const d = value.charCodeAt(j);
        if (d === 0x5c /* \ */) {
          odd = true;
          j += 2;
          continue;
        }
        if (d === 0x28) {
          depth++;
          odd = true;
        } else if (d === 0x29) {
          depth--;
          if (depth === 0) break;
        } else if (d === 0x40 || d === 0x3c || d === 0x3e || d === 0x22) odd = true;
        text += value[j];
        j++;
      }
      if (depth > 0) problems.push('a comment in From is not closed');
      else if (odd) problems.push(`a comment in From holds @, <, >, ", \\ or another comment (${shown(text)})`);
      tokens.push({ kind: 'comment', text, spaceBefore: space });
      space = false;
      i = j + 1;
    } else if (c === 0x22 /* " */) {
      let j = i + 1;
      let text = '';
      while (j < n && value.charCodeAt(j) !== 0x22) {
        if (value.charCodeAt(j) === 0x5c) j++;
        if (j < n) text += value[j];
        j++;
      }
      if (j >= n) problems.push('a quoted string in From is not closed');
      tokens.push({ kind: 'quoted', text, spaceBefore: space });
      space = false;
      i = j + 1;
    } else if (isAtext(c) || c === 0x2e /* . */ || c >= 0x80) {
      let j = i;
      while (j < n) {
        const d = value.charCodeAt(j);
        if (!(isAtext(d) || d === 0x2e || d >= 0x80)) break;
        j++;
      }
      tokens.push({ kind: 'word', text: value.slice(i, j), spaceBefore: space });
      space = false;
      i = j;
    } else {
      tokens.push({ kind: 'special', text: value[i]!, spaceBefore: space });
      space = false;
      i++;
    }
  }
  if (problems.length > 0) return { addresses: [], problems };

  const addresses: { address: string; name: string }[] = [];
  // Split on commas; each piece is one mailbox.
  let piece: AddressToken[] = [];
  const pieces: AddressToken[][] = [];
  for (const t of tokens) {
    if (t.kind === 'special' && t.text === ',') {
      pieces.push(piece);
      piece = [];
    } else piece.push(t);
  }
  pieces.push(piece);
  for (const p of pieces) {
    if (problems.length > 0) break; // one reason is enough to refuse
    const parts = p.filter((t) => t.kind !== 'comment');
    if (parts.length === 0) {
      if (pieces.length > 1) problems.push('its From header has an empty entry between commas');
      continue;
    }
    const specials = parts.filter((t) => t.kind === 'special').map((t) => t.text);
    if (specials.includes(':') || specials.includes(';')) {
      problems.push('its From header holds a group (name: … ;)');
      continue;
    }
    const lt = parts.findIndex((t) => t.kind === 'special' && t.text === '<');
    let spec: AddressToken[];
    let nameParts: AddressToken[] = [];
    if (lt !== -1) {
      const gt = parts.findIndex((t) => t.kind === 'special' && t.text === '>');
      if (gt < lt || gt !== parts.length - 1 || specials.filter((s) => s === '<' || s === '>').length !== 2) {
        problems.push('its From header has unbalanced or repeated angle brackets');
        continue;
      }
      nameParts = parts.slice(0, lt);
      spec = parts.slice(lt + 1, gt);
      const lastOpen = p.indexOf(parts[lt]!);
      const close = p.indexOf(parts[gt]!);
      if (p.slice(lastOpen, close).some((t) => t.kind === 'comment')) {
        problems.push('its From header has a comment inside the angle brackets');
        continue;
      }
      if (nameParts.some((t) => t.kind === 'special')) {
        problems.push(`its From display name holds ${shown(nameParts.map((t) => t.text).join(' '))} outside quotes`);
        continue;
      }
      if (nameParts.some((t) => t.kind === 'word' && t.text.includes('@'))) {
        problems.push('its From display name holds an address outside quotes');
        continue;
      }
    } else {
      spec = parts;
      // A comment between the parts of a bare address (a(x)@b) is read differently by every parser.
      const firstAt = p.indexOf(parts[0]!);
      const lastAt = p.indexOf(parts[parts.length - 1]!);
      if (p.slice(firstAt, lastAt).some((t) => t.kind === 'comment')) {
        problems.push('its From header has a comment inside the address');
        continue;
      }
    }
    // addr-spec: word "@" word, no spaces between them, no quoted local part, no domain literal.
    const [local, at, domain] = spec;
    if (
      spec.length !== 3 ||
      local?.kind !== 'word' ||
      at?.kind !== 'special' ||
      at.text !== '@' ||
      domain?.kind !== 'word' ||
      at.spaceBefore ||
      domain.spaceBefore
    ) {
      problems.push(`its From address ${shown(spec.map((t) => t.text).join(''))} is not a plain local@domain`);
      continue;
    }
    const address = `${local.text}@${domain.text}`;
    if (address.includes('=?')) {
      problems.push('its From address holds an encoded word');
      continue;
    }
    const name = nameParts.map((t) => t.text).join(' ');
    addresses.push({ address, name });
  }
  return { addresses, problems };
}

/** Addresses as one comparable string: lower-cased, in order. */
const addressKey = (list: { address: string }[]): string => list.map((a) => a.address.toLowerCase()).join(', ');

/**
 * The From header's addresses and, when the header can be read more than one way, why. Three readings must agree:
 * the strict one above, nodemailer's addressparser (what the rest of mail2waf and mail clients built on it show)
 * and the addressparser bundled with mailauth, given the field exactly as mailauth's DKIM verifier gives it.
 */
export function readFrom(fromFields: HeaderField[]): {
  addresses: { address: string; name: string }[];
  problems: string[];
} {
  const problems: string[] = [];
  const tooLong = fromFields.find((f) => f.value.length > MAX_FROM_CHARS);
  if (tooLong) {
    // Refused before any parser runs on it: no author's address needs it, and parsers differ on it.
    problems.push(`its From header is ${tooLong.value.length} characters long`);
    return { addresses: [], problems };
  }
  const ours = fromFields.flatMap((f) => flattenAddresses(addressparser(f.value) as ParsedAddress[]));
  const strict = fromFields.map((f) => readFromStrict(f.value));
  for (const s of strict) problems.push(...s.problems);
  if (problems.length > 0) return { addresses: ours, problems };
  const strictAddresses = strict.flatMap((s) => s.addresses);
  const theirs = fromFields.flatMap((f) => {
    // What mailauth's DkimVerifier does: the raw line decoded as UTF-8, everything after the first colon.
    const line = Buffer.from(f.raw ?? `${f.name}:${f.value}`, 'latin1').toString();
    return flattenAddresses(mailauthAddressparser(line.slice(line.indexOf(':') + 1).trim()));
  });
  const readings = [
    ['a strict reading', addressKey(strictAddresses)],
    ['nodemailer', addressKey(ours)],
    ['mailauth', addressKey(theirs)],
  ] as const;
  if (new Set(readings.map(([, k]) => k)).size > 1) {
    problems.push(
      `its From header is read differently by different parsers (${readings.map(([who, k]) => `${who}: ${shown(k || 'none', 60)}`).join('; ')})`,
    );
  }
  return { addresses: strictAddresses, problems };
}

// --- Received -------------------------------------------------------------------------------------------------

/** What one Received line says about the hop it records. */
export interface ReceivedLine {
  /** The host after the structural `by` (the last top-level one): who wrote the line. */
  by?: string;
  /** The client's IP address as the receiving MTA saw it (from the from-clause comment). */
  ip?: string;
  /** The HELO/EHLO name (`helo=` in Exim's comment, else the first from-token). */
  helo?: string;
  /** MAIL FROM, when the MTA records it (`envelope-from <…>`, Exim). */
  envelopeFrom?: string;
  /** Why no IP was taken although the from-clause names addresses (several different ones). */
  ipProblem?: string;
}

/** One token of a Received value: a word, a comment (outer parentheses removed), or an `<…>` path. */
type ReceivedToken = { kind: 'word' | 'comment' | 'angle'; text: string };

/** Splits a Received value (without its date) in one pass; comments nest, `\` escapes inside them. */
function tokenizeReceived(v: string): ReceivedToken[] {
  const tokens: ReceivedToken[] = [];
  const n = v.length;
  let i = 0;
  while (i < n) {
    const c = v.charCodeAt(i);
    if (c === 0x20 || c === 0x09 || c === 0x0d || c === 0x0a) {
      i++;
    } else if (c === 0x28) {
      let depth = 1;
      let j = i + 1;
      while (j < n) {
        const d = v.charCodeAt(j);
        if (d === 0x5c) j++;
        else if (d === 0x28) depth++;
        else if (d === 0x29 && --depth === 0) break;
        j++;
      }
      tokens.push({ kind: 'comment', text: v.slice(i + 1, Math.min(j, n)) });
      i = j + 1;
    } else if (c === 0x3c) {
      const j = v.indexOf('>', i + 1);
      const end = j === -1 ? n : j;
      tokens.push({ kind: 'angle', text: v.slice(i + 1, end) });
      i = end + 1;
    } else {
      let j = i;
      while (j < n) {
        const d = v.charCodeAt(j);
        if (d === 0x20 || d === 0x09 || d === 0x0d || d === 0x0a || d === 0x28 || d === 0x3c) break;
        j++;
      }
      tokens.push({ kind: 'word', text: v.slice(i, j) });
      i = j;
    }
  }
  return tokens;
}

function ipToken(token: string): string | undefined {
  let t = token;
  if (t.startsWith('[')) {
    const close = t.indexOf(']');
    t = t.slice(1, close === -1 ? undefined : close);
  }
  t = t.replace(/^ipv6:/i, '');
  while (t.endsWith(')') || t.endsWith(',') || t.endsWith(';')) t = t.slice(0, -1);
  return isIP(t) ? t : undefined;
}

/** The addresses named in a from-clause comment the MTA wrote (`rdns [ip]`, `[ip]:port helo=x`, `ip`), not helo=. */
function commentAddresses(text: string): string[] {
  const out: string[] = [];
  for (const piece of text.split(/[\s,;()]+/)) {
    if (piece === '' || /^helo=/i.test(piece)) continue;
    const ip = ipToken(piece);
    if (ip !== undefined) out.push(ip.toLowerCase());
  }
  return out;
}

/**
 * Parses the from- and by-clauses of a Received value, as Postfix (`from helo (rdns [ip]) by host`), Exim
 * (`from rdns ([ip] helo=x) by host … (envelope-from <a@b>)`), Sendmail and Microsoft (`from x (ip) by y`) write
 * them. Linear: one tokenizing pass, nested comments counted rather than stripped by repeated regexes.
 *
 * The by-clause is the LAST top-level `by`: the from-clause holds what the client chose (its HELO, which may
 * contain spaces and words such as "by"), the by-clause and what follows it are the receiving MTA's. The IP is
 * the one address in the from-clause comments the MTA wrote, not the HELO token the client chose; several
 * different addresses there (a HELO that imitates such a comment) leave the IP unknown.
 */
export function parseReceived(value: string): ReceivedLine {
  let v = value;
  const semi = v.lastIndexOf(';');
  if (semi !== -1) v = v.slice(0, semi); // the date
  const tokens = tokenizeReceived(v);
  const out: ReceivedLine = {};
  let byIndex = -1;
  for (let k = tokens.length - 2; k >= 0; k--) {
    const t = tokens[k]!;
    if (t.kind === 'word' && t.text.toLowerCase() === 'by' && tokens[k + 1]!.kind === 'word') {
      byIndex = k;
      break;
    }
  }
  if (byIndex !== -1) out.by = tokens[byIndex + 1]!.text.toLowerCase().replace(/\.$/, '');
  const head = tokens[0];
  if (head && head.kind === 'word' && head.text.toLowerCase() === 'from' && tokens[1]?.kind === 'word') {
    const token = tokens[1].text;
    const fromPart = tokens.slice(2, byIndex === -1 ? tokens.length : byIndex);
    const inComments = new Set<string>();
    let helo: string | undefined;
    for (const t of fromPart) {
      if (t.kind !== 'comment') continue;
      for (const ip of commentAddresses(t.text)) inComments.add(ip);
      const h = /(?:^|[\s(])helo=([^\s()]+)/i.exec(t.text.length > 4096 ? t.text.slice(0, 4096) : t.text);
      if (h && helo === undefined) helo = h[1]!;
    }
    if (inComments.size === 1) out.ip = [...inComments][0]!;
    else if (inComments.size > 1) {
      out.ipProblem = `its from-clause names ${inComments.size} different client addresses (${[...inComments].slice(0, 3).join(', ')})`;
    } else if (token.startsWith('[')) {
      // Exim without reverse DNS writes the client address itself as the first token: `from [ip] (helo=x)`.
      out.ip = ipToken(token);
    }
    out.helo = helo ?? token;
  }
  if (byIndex !== -1) {
    for (const t of tokens.slice(byIndex + 2)) {
      if (t.kind !== 'comment') continue;
      const text = t.text.trim();
      if (!text.toLowerCase().startsWith('envelope-from')) continue;
      const open = text.indexOf('<');
      const close = text.indexOf('>', open + 1);
      const path = open !== -1 && close !== -1 ? text.slice(open + 1, close) : undefined;
      if (path !== undefined && !/[\s<>]/.test(path)) out.envelopeFrom = path;
      break;
    }
  }
  return out;
}

/** Client addresses that only a host inside our own network can have: a hop between our own hosts. */
const INTERNAL_RANGES = new Set(['private', 'loopback', 'link-local', 'cgnat', 'unique-local']);

function isInternalAddress(ip: string): boolean {
  const hit = specialRangeOf(ip);
  return hit !== undefined && hit.relation === 'inside' && INTERNAL_RANGES.has(hit.code);
}

/** The first `<path>` in a Return-Path value, else the trimmed value (a hand-written scan). */
function returnPathAddress(value: string): string {
  const open = value.indexOf('<');
  if (open !== -1) {
    const close = value.indexOf('>', open + 1);
    if (close !== -1) {
      const path = value.slice(open + 1, close);
      if (!/[\s<]/.test(path)) return path;
    }
  }
  return value.trim();
}

/** How the gate read one Received line while looking for the entry hop (what `mail2waf explain` prints). */
export interface HopTrace {
  /** 1-based position of the Received field in the header section. */
  field: number;
  by?: string;
  ip?: string;
  /** The name the client gave (HELO/EHLO): its own claim. */
  helo?: string;
  /** The client's reverse-DNS name as the line's writer recorded it (Postfix `(name [ip])`, Exim `from name ([ip] helo=x)`). */
  rdns?: string;
  /**
   * `handoff`: a line of ours recording no client (Gmail's `Received: by 2002:a05:… with SMTP id …`);
   * `internal`: written by one of MTA_HOSTS, its client provably ours; `entry`: where the mail entered;
   * `sender`: below the entry hop, the sender's to write (not read).
   */
  role: 'handoff' | 'internal' | 'entry' | 'sender';
  /** Why the line has its role, one sentence. */
  why: string;
}

/** The entry hop and how it was found. */
export interface RouteTrace {
  route?: MtaRoute;
  problem?: string;
  /** 0-based index in the header fields of the entry hop's Received line (what the provider's verdict must be above). */
  entryIndex?: number;
  hops: HopTrace[];
}

/** At most this many Received lines are read as hops (a longer chain ends the run there: the safe direction). */
const MAX_HOPS = 50;

/**
 * The client's reverse-DNS name as the line's writer recorded it, or undefined. Only from the writer's own comment:
 * exactly one from-clause comment naming an address, and it reads `name [ip]` (Postfix, Sendmail, Gmail; `unknown`
 * and Sendmail's `(may be forged)` give none), or Exim's `from name ([ip] helo=x)`. A HELO that imitates such a
 * comment adds a second one, and then there is no name: the client's own words never become its name.
 */
export function recordedClientName(value: string): string | undefined {
  let v = value;
  const semi = v.lastIndexOf(';');
  if (semi !== -1) v = v.slice(0, semi);
  const tokens = tokenizeReceived(v);
  if (tokens[0]?.kind !== 'word' || tokens[0].text.toLowerCase() !== 'from' || tokens[1]?.kind !== 'word') {
    return undefined;
  }
  let byIndex = tokens.length;
  for (let k = tokens.length - 2; k >= 2; k--) {
    const t = tokens[k]!;
    if (t.kind === 'word' && t.text.toLowerCase() === 'by' && tokens[k + 1]!.kind === 'word') {
      byIndex = k;
      break;
    }
  }
  const withAddress = tokens
    .slice(2, byIndex)
    .filter((t) => t.kind === 'comment' && commentAddresses(t.text).length > 0);
  if (withAddress.length !== 1) return undefined;
  const pieces = withAddress[0]!.text.trim().split(/\s+/);
  const isName = (n: string) => /^[a-z0-9-]+(\.[a-z0-9-]+)+\.?$/i.test(n) && n.toLowerCase() !== 'unknown';
  if (pieces.length === 2 && pieces[1]!.startsWith('[') && ipToken(pieces[1]!) !== undefined && isName(pieces[0]!)) {
    return pieces[0]!.toLowerCase().replace(/\.$/, '');
  }
  const first = tokens[1].text;
  if (
    pieces.length === 2 &&
    pieces[0]!.startsWith('[') &&
    ipToken(pieces[0]!) !== undefined &&
    /^helo=/i.test(pieces[1]!) &&
    isName(first)
  ) {
    return first.toLowerCase().replace(/\.$/, '');
  }
  return undefined;
}

/** The key of a (recorded name, client address) pair in a set of names our own DNS confirmed. */
export function nameKey(name: string, ip: string): string {
  const parsed = parseIp(ip);
  return `${name.toLowerCase()} ${parsed ? parsed.address : ip.toLowerCase()}`;
}

/** Why the client of a line written by one of our hosts is provably ours, or undefined when it is not. */
function internalClient(
  line: ReceivedLine,
  rdns: string | undefined,
  patterns: string[],
  confirmed: ReadonlySet<string>,
): string | undefined {
  if (line.ip !== undefined && isInternalAddress(line.ip)) {
    return `its client ${line.ip} is inside our network (${specialRangeOf(line.ip)!.code} address)`;
  }
  const hit = rdns === undefined || line.ip === undefined ? undefined : matchHost(rdns, patterns);
  if (hit !== undefined && confirmed.has(nameKey(rdns!, line.ip!))) {
    return (
      `its writer recorded the client ${line.ip} under its reverse-DNS name ${rdns}, which matches ${hit} and ` +
      'resolves back to that address (checked here)'
    );
  }
  return undefined;
}

/** Why a client is not provably ours, for the entry hop's sentence. */
function externalClient(line: ReceivedLine, rdns: string | undefined, patterns: string[]): string {
  const who = `${line.ip ?? 'an unknown address'}${rdns ? ` (${rdns})` : ''}`;
  if (rdns !== undefined && matchHost(rdns, patterns) !== undefined) {
    return `its client ${who} is not provably ours: ${rdns} does not resolve back to ${line.ip ?? 'it'} (a reverse-DNS name is the address owner's to write)`;
  }
  const helo = line.helo === undefined ? undefined : matchHost(line.helo, patterns);
  return helo !== undefined
    ? `its client ${who} is not provably ours: it only claims to be ${shown(line.helo!, 80)} in HELO, which any sender can say`
    : `its client ${who} is not one of ours`;
}

/**
 * The entry hop, found by POSITION. Our MTA prepends its Received line, so, after any hand-offs of ours that record
 * no client (`Received: by <one of MTA_HOSTS or an address> …`, as Gmail writes its last internal hops), the topmost
 * Received line must be written by one of MTA_HOSTS (else `not-via-mta`). Below it, a run of lines by our hosts is
 * followed only while the line above records a client that is provably ours: an address inside our network
 * (private, loopback, CGNAT or unique-local: a relay or filter of ours), or a reverse-DNS name matching MTA_HOSTS
 * that the line's writer, one of our hosts, recorded and that `confirmed` holds: our own DNS resolved it back to
 * the address ({@link confirmRecordedNames}; a PTR record is the address owner's to write, and not every writer
 * checks it). The client's HELO never counts: the entry server is on the internet, and any sender can HELO
 * as `x.prod.outlook.com` to make the gate walk on into lines it wrote itself. The lowest line of that run is where
 * the mail entered, and gives the client IP, HELO and MAIL FROM (from the line, or a Return-Path above it).
 * Everything below the entry hop is the sender's to write, whatever host it names.
 */
export function traceMtaRoute(
  fields: HeaderField[],
  mtaHosts: string[],
  confirmed: ReadonlySet<string> = new Set(),
): RouteTrace {
  const patterns = mtaHosts.map((h) => normalizeHostPattern(h) ?? h.toLowerCase());
  const received = [...fields.entries()].filter(([, f]) => f.name === 'received').slice(0, MAX_HOPS);
  const hops: HopTrace[] = [];
  if (received.length === 0) return { problem: 'none of them wrote a Received line in it', hops };
  const hop = (k: number, line: ReceivedLine, rdns: string | undefined, role: HopTrace['role'], why: string) => {
    const h: HopTrace = { field: received[k]![0] + 1, role, why };
    if (line.by !== undefined) h.by = line.by;
    if (line.ip !== undefined) h.ip = line.ip;
    if (line.helo !== undefined) h.helo = line.helo;
    if (rdns !== undefined) h.rdns = rdns;
    hops.push(h);
  };
  const at = (k: number) => {
    const value = received[k]![1].value;
    return { line: parseReceived(value), rdns: recordedClientName(value), hasFrom: /^from[\s(]/i.test(value) };
  };

  let k = 0;
  for (; k < received.length; k++) {
    const { line, hasFrom } = at(k);
    if (hasFrom || line.by === undefined) break;
    const hit = matchHost(line.by, patterns);
    const ours = hit !== undefined ? `${line.by} matches ${hit}` : isIP(line.by) ? 'named by an address' : undefined;
    if (ours === undefined) break;
    hop(k, line, undefined, 'handoff', `a hand-off of ours recording no client (${ours}): skipped`);
  }
  if (k === received.length) {
    return { problem: 'its Received lines by our hosts record no client (hand-offs only)', hops };
  }
  const top = at(k).line;
  if (top.by === undefined || matchHost(top.by, patterns) === undefined) {
    return {
      problem: `the topmost Received line${k > 0 ? ' that records a client' : ''} was written by ${top.by === undefined ? 'a host it does not name' : shown(top.by, 80)}, not by one of them`,
      hops,
    };
  }
  let entry = k;
  for (;;) {
    const { line, rdns } = at(entry);
    const internal = internalClient(line, rdns, patterns, confirmed);
    const below = entry + 1 < received.length ? at(entry + 1).line : undefined;
    if (internal === undefined || below?.by === undefined || matchHost(below.by, patterns) === undefined) {
      const why =
        internal === undefined
          ? externalClient(line, rdns, patterns)
          : `${internal}, but the line below is not written by one of our hosts: the client submitted the message here`;
      hop(entry, line, rdns, 'entry', `where the mail entered our organisation: ${why}`);
      break;
    }
    hop(entry, line, rdns, 'internal', `an internal hop: ${internal}`);
    entry++;
  }
  for (let j = entry + 1; j < received.length; j++) {
    const h: HopTrace = {
      field: received[j]![0] + 1,
      role: 'sender',
      why: 'below the entry hop: the sender’s to write, not read',
    };
    hops.push(h);
  }
  const line = at(entry).line;
  const index = received[entry]![0];
  if (line.ip === undefined) {
    return {
      problem: `the Received line where it entered (written by ${line.by}) ${line.ipProblem ?? 'names no client IP address'}`,
      entryIndex: index,
      hops,
    };
  }
  let mailFrom = line.envelopeFrom;
  if (mailFrom === undefined) {
    const returnPath = fields
      .slice(0, index)
      .reverse()
      .find((f) => f.name === 'return-path');
    if (returnPath) mailFrom = returnPathAddress(returnPath.value);
  }
  const route: MtaRoute = { by: line.by!, ip: line.ip };
  if (line.helo !== undefined) route.helo = line.helo;
  if (mailFrom) route.mailFrom = mailFrom; // an empty (null) sender leaves SPF to the HELO identity
  return { route, entryIndex: index, hops };
}

/** Most recorded names confirmed per message (each costs one DNS lookup of a name under MTA_HOSTS). */
const MAX_NAME_LOOKUPS = 8;

/**
 * The (recorded reverse-DNS name, client address) pairs of the topmost Received lines whose name matches MTA_HOSTS
 * and whose address is public, that our own DNS resolves back: the name's A / AAAA records hold the address. Only
 * names under MTA_HOSTS are looked up (the sender cannot make us query a domain of its choosing), at most
 * {@link MAX_NAME_LOOKUPS}; a failed lookup confirms nothing (the run then ends higher: the safe direction).
 */
export async function confirmRecordedNames(
  fields: HeaderField[],
  mtaHosts: string[],
  resolver: DnsResolver,
): Promise<Set<string>> {
  const patterns = mtaHosts.map((h) => normalizeHostPattern(h) ?? h.toLowerCase());
  const pairs = new Map<string, { name: string; ip: string }>();
  for (const f of fields.filter((x) => x.name === 'received').slice(0, MAX_HOPS)) {
    const line = parseReceived(f.value);
    if (line.by === undefined || matchHost(line.by, patterns) === undefined) {
      if (/^from[\s(]/i.test(f.value)) break; // the run of our lines ends here
      continue;
    }
    const name = recordedClientName(f.value);
    if (name === undefined || line.ip === undefined || isInternalAddress(line.ip)) continue;
    if (matchHost(name, patterns) === undefined) continue;
    pairs.set(nameKey(name, line.ip), { name, ip: line.ip });
    if (pairs.size >= MAX_NAME_LOOKUPS) break;
  }
  const confirmed = new Set<string>();
  await Promise.all(
    [...pairs.entries()].map(async ([key, { name, ip }]) => {
      const type = isIP(ip) === 6 ? 'AAAA' : 'A';
      try {
        const answers = (await resolver(name, type)) as unknown[];
        if (Array.isArray(answers) && answers.some((a) => typeof a === 'string' && nameKey(name, a) === key)) {
          confirmed.add(key);
        }
      } catch {
        // Not confirmed: the hop is not followed.
      }
    }),
  );
  return confirmed;
}

/** The entry hop ({@link traceMtaRoute}) without the trace: the route, or why there is none. */
export function findMtaRoute(fields: HeaderField[], mtaHosts: string[]): { route?: MtaRoute; problem?: string } {
  const { route, problem } = traceMtaRoute(fields, mtaHosts);
  return route ? { route } : { problem: problem! };
}

// --- the provider's verdict -----------------------------------------------------------------------------------

/** Longest Authentication-Results value read (longer ones are cut: the results we need come first). */
const MAX_AR_CHARS = 16 * 1024;

/** Removes comments (nested, `\` escapes) in one pass. */
function withoutComments(v: string): string {
  let out = '';
  let depth = 0;
  for (let i = 0; i < v.length; i++) {
    const c = v[i]!;
    if (depth > 0 && c === '\\') {
      i++;
      continue;
    }
    if (c === '(') depth++;
    else if (c === ')' && depth > 0) depth--;
    else if (depth === 0) out += c;
  }
  return out;
}

/**
 * Reads an Authentication-Results value (RFC 8601): `authserv-id [version]; method=result ptype.property=value …`,
 * comments dropped. With `arc`, an ARC-Authentication-Results value: `i=N;` first. Undefined when it names no
 * authserv-id (Microsoft 365 writes its Authentication-Results without one).
 */
export function parseAuthResults(
  value: string,
  field: number,
  arc = false,
): (ProviderResults & { instance?: number }) | undefined {
  const parts = withoutComments(value.slice(0, MAX_AR_CHARS))
    .split(';')
    .map((p) => p.trim());
  let instance: number | undefined;
  if (arc) {
    const m = /^i\s*=\s*(\d{1,3})$/i.exec(parts.shift() ?? '');
    if (!m) return undefined;
    instance = Number(m[1]);
  }
  const id = (parts.shift() ?? '').split(/\s+/)[0]!.toLowerCase();
  if (id === '' || id.includes('=') || normalizeHostName(id) === undefined) return undefined;
  const out: ProviderResults & { instance?: number } = { authservId: normalizeHostName(id)!, field, dkim: [] };
  if (instance !== undefined) out.instance = instance;
  for (const part of parts) {
    const words = part.split(/\s+/).filter(Boolean);
    const [method, result] = (words[0] ?? '').toLowerCase().split('=');
    if (!method || !result) continue;
    const props = new Map<string, string>();
    for (const w of words.slice(1)) {
      const eq = w.indexOf('=');
      if (eq > 0) props.set(w.slice(0, eq).toLowerCase(), w.slice(eq + 1).replace(/^"|"$/g, ''));
    }
    const domainOf = (v: string | undefined) => v?.slice(v.lastIndexOf('@') + 1).toLowerCase();
    if (method === 'dmarc' && out.dmarc === undefined) {
      out.dmarc = result;
      const from = domainOf(props.get('header.from'));
      if (from) out.dmarcFrom = from;
    } else if (method === 'dkim') {
      const d = domainOf(props.get('header.d') ?? props.get('header.i'));
      out.dkim.push(d ? { result, domain: d } : { result });
    } else if (method === 'spf' && out.spf === undefined) {
      const d = domainOf(props.get('smtp.mailfrom') ?? props.get('smtp.helo'));
      out.spf = d ? { result, domain: d } : { result };
    }
  }
  return out;
}

/** Header fields of Authentication-Results kinds read for the provider's verdict (more are set aside). */
const MAX_AR_FIELDS = 100;

/**
 * The provider's verdicts by POSITION: everything above the entry hop's Received line was written inside our
 * organisation. The topmost Authentication-Results of a TRUSTED_AUTHSERV_IDS id counts only when it is above the
 * entry hop; the newest ARC set (highest i=) only when its three fields are; the rest is the sender's.
 */
export function readProviderFacts(
  fields: HeaderField[],
  entryIndex: number | undefined,
  authservIds: string[],
): ProviderFacts {
  const out: ProviderFacts = { notes: [] };
  if (authservIds.length === 0) return out;
  const above = (i: number) => entryIndex !== undefined && i < entryIndex;
  let seen = 0;
  let arcMax = -1;
  const arcAt = new Map<number, number[]>();
  for (let i = 0; i < fields.length && seen < MAX_AR_FIELDS; i++) {
    const f = fields[i]!;
    if (f.name === 'authentication-results') {
      seen++;
      if (out.authResults || out.notes.some((n) => n.startsWith('Authentication-Results'))) continue;
      const r = parseAuthResults(f.value, i + 1);
      if (!r || !authservIds.includes(r.authservId)) continue;
      if (above(i)) out.authResults = r;
      else {
        out.notes.push(
          `Authentication-Results by ${r.authservId} (header field ${i + 1}) is below the entry hop: the sender’s to write, not read`,
        );
      }
    } else if (f.name === 'arc-seal' || f.name === 'arc-message-signature' || f.name === 'arc-authentication-results') {
      seen++;
      const m = /(?:^|;)\s*i\s*=\s*(\d{1,3})\s*(?:;|$)/i.exec(f.value.slice(0, 200));
      if (!m) continue;
      const n = Number(m[1]);
      arcMax = Math.max(arcMax, n);
      arcAt.set(n, [...(arcAt.get(n) ?? []), i]);
    }
  }
  if (arcMax > 0) {
    const at = arcAt.get(arcMax)!;
    const aarIndex = at.find((i) => fields[i]!.name === 'arc-authentication-results');
    const sealIndex = at.find((i) => fields[i]!.name === 'arc-seal');
    if (at.length !== 3 || aarIndex === undefined || sealIndex === undefined) {
      out.notes.push(
        `the newest ARC set (i=${arcMax}) is not one ARC-Seal, ARC-Message-Signature and ARC-Authentication-Results`,
      );
    } else if (!at.every(above)) {
      out.notes.push(`the newest ARC set (i=${arcMax}) is below the entry hop: the sender’s to write, not read`);
    } else {
      const r = parseAuthResults(fields[aarIndex]!.value, aarIndex + 1, true);
      const sealer = /(?:^|;)\s*d\s*=\s*([^\s;]+)/i.exec(fields[sealIndex]!.value.slice(0, 2000))?.[1]?.toLowerCase();
      if (r && r.instance === arcMax) {
        out.arc = { ...r, instance: arcMax, ...(sealer ? { sealer } : {}) };
        if (!authservIds.includes(r.authservId)) {
          out.notes.push(
            `the newest ARC set (i=${arcMax}) was written by ${r.authservId}, not one of TRUSTED_AUTHSERV_IDS`,
          );
        }
      }
    }
  }
  return out;
}

// --- forwards -------------------------------------------------------------------------------------------------

/** Whitespace runs a forward marker may hold: longer ones are not a marker (and keep every scan bounded). */
const MAX_MARKER_GAP = 200;

function skipSpace(s: string, i: number, max = MAX_MARKER_GAP): number {
  const stop = Math.min(s.length, i + max);
  while (i < stop && isSpace(s.charCodeAt(i))) i++;
  return i;
}

/** `s` holds the lower-case ASCII `word` at `i`, in any case (compared in place: no slice per line start). */
function startsWithAt(s: string, i: number, word: string): boolean {
  if (s.length - i < word.length) return false;
  for (let k = 0; k < word.length; k++) {
    let c = s.charCodeAt(i + k);
    if (c >= 0x41 && c <= 0x5a) c += 0x20;
    if (c !== word.charCodeAt(k)) return false;
  }
  return true;
}

const FORWARD_PREFIXES = new Set(['fwd', 'fw', 'tr', 'wg', 'vs', 'rv', 'enc', 'doorst']);

/** Subject starts with Fwd:, FW:, TR:, WG:, VS:, RV:, ENC:, Doorst: (after an optional `[tag]`). Linear scan. */
export function isForwardSubject(subject: string): boolean {
  let i = skipSpace(subject, 0, subject.length);
  if (subject[i] === '[') {
    const close = subject.indexOf(']', i + 1);
    if (close === -1 || close - i - 1 > 40) return false;
    i = skipSpace(subject, close + 1, subject.length);
  }
  let j = i;
  while (j < subject.length && j - i <= 6 && /[a-z]/i.test(subject[j]!)) j++;
  if (!FORWARD_PREFIXES.has(subject.slice(i, j).toLowerCase())) return false;
  j = skipSpace(subject, j, subject.length);
  return subject[j] === ':';
}

/**
 * A line that starts a forwarded message: "---------- Forwarded message ---------", "Begin forwarded message:",
 * or "-----Original Message-----" followed by a From: line. One pass over the line starts, each look bounded.
 */
export function hasForwardMarker(body: string): boolean {
  for (let p = 0; p < body.length; p++) {
    // Line starts as /^…/m saw them: the start, and after LF, CR, U+2028 and U+2029.
    if (p > 0) {
      const prev = body.charCodeAt(p - 1);
      if (prev !== 0x0a && prev !== 0x0d && prev !== 0x2028 && prev !== 0x2029) continue;
    }
    if (startsWithAt(body, p, 'begin forwarded message:')) return true;
    if (body.charCodeAt(p) !== 0x2d || body.charCodeAt(p + 1) !== 0x2d) continue;
    let q = p + 2;
    while (q < body.length && body.charCodeAt(q) === 0x2d) q++;
    q = skipSpace(body, q);
    const forwarded = startsWithAt(body, q, 'forwarded message');
    if (!forwarded && !startsWithAt(body, q, 'original message')) continue;
    let r = skipSpace(body, q + (forwarded ? 17 : 16));
    if (body.charCodeAt(r) !== 0x2d || body.charCodeAt(r + 1) !== 0x2d) continue;
    if (forwarded) return true;
    r += 2;
    while (r < body.length && body.charCodeAt(r) === 0x2d) r++;
    const s = skipSpace(body, r);
    if (body.slice(r, s).includes('\n') && startsWithAt(body, s, 'from:')) return true;
  }
  return false;
}

/** HTML with every `<…>` tag replaced by a line break (a hand-written scan: `/<[^>]*>/g` is quadratic on "<<<<"). */
export function stripTags(html: string): string {
  let out = '';
  let i = 0;
  for (;;) {
    const open = html.indexOf('<', i);
    if (open === -1) break;
    const close = html.indexOf('>', open + 1);
    if (close === -1) break; // no tag closes after here: the rest is text
    out += `${html.slice(i, open)}\n`;
    i = close + 1;
  }
  return out + html.slice(i);
}

const MESSAGE_TYPES = new Set(['message/rfc822', 'message/global', 'application/vnd.ms-outlook']);

/** The Date header as an ISO time, when there is exactly one and it parses. */
function readDate(fields: HeaderField[]): string | undefined {
  const dates = fields.filter((f) => f.name === 'date');
  if (dates.length !== 1 || dates[0]!.value.length > 200) return undefined;
  const t = Date.parse(dates[0]!.value);
  return Number.isNaN(t) ? undefined : new Date(t).toISOString();
}

/** Reads everything the screen needs without DNS: From, duplicates, attached messages, forward markers, route. */
export async function gatherFacts(
  raw: Buffer,
  mtaHosts: string[],
  authservIds: string[] = [],
  resolver?: DnsResolver,
): Promise<MessageFacts> {
  return (await readMessageFacts(raw, mtaHosts, authservIds, resolver)).facts;
}

/** {@link gatherFacts}, with how the entry hop was found (for `mail2waf explain`). */
export async function readMessageFacts(
  raw: Buffer,
  mtaHosts: string[],
  authservIds: string[] = [],
  resolver?: DnsResolver,
): Promise<{ facts: MessageFacts; trace: RouteTrace }> {
  const section = readHeaderSection(raw);
  const fields = section.fields;
  const fromFields = fields.filter((f) => f.name === 'from');
  const from = readFrom(fromFields);
  const counts = new Map<string, number>();
  for (const f of fields) counts.set(f.name, (counts.get(f.name) ?? 0) + 1);
  const duplicateHeaders = SINGLETON_HEADERS.filter((h) => h !== 'from' && (counts.get(h) ?? 0) > 1);

  const parsed = await simpleParser(raw, {
    skipHtmlToText: true,
    skipTextToHtml: true,
    skipImageLinks: true,
    keepCidLinks: true,
    checksumAlgo: false,
    ignoreEmbedded: true,
    keepDeliveryStatus: true,
  } as Parameters<typeof simpleParser>[1]);
  const attachedMessages = parsed.attachments
    .filter((a) => MESSAGE_TYPES.has(a.contentType.toLowerCase()) || /\.(eml|msg)$/i.test(a.filename ?? ''))
    .map((a, i) => {
      // eslint-disable-next-line no-control-regex
      const name = a.filename?.replace(/[\x00-\x1f\x7f]/g, '').trim();
      return name ? name : `part ${a.partId ?? i + 1} (${a.contentType})`;
    });
  const html = typeof parsed.html === 'string' ? stripTags(parsed.html) : '';
  const forwardedInline =
    isForwardSubject(parsed.subject ?? '') || hasForwardMarker(parsed.text ?? '') || hasForwardMarker(html);

  // Without a resolver no recorded name is confirmed: only internal addresses extend the run.
  const confirmed = resolver ? await confirmRecordedNames(fields, mtaHosts, resolver) : new Set<string>();
  const trace = traceMtaRoute(fields, mtaHosts, confirmed);
  const { route, problem } = trace;
  const facts: MessageFacts = {
    from: { headerCount: fromFields.length, addresses: from.addresses },
    attachedMessages,
    forwardedInline,
    duplicateHeaders,
    presentHeaders: [...counts.keys()],
    headerProblems: [...section.problems, ...from.problems],
    dkimSignatureCount: counts.get('dkim-signature') ?? 0,
  };
  const date = readDate(fields);
  if (date !== undefined) facts.date = date;
  if (route) facts.route = route;
  if (problem) facts.routeProblem = problem;
  if (authservIds.length > 0) facts.provider = readProviderFacts(fields, trace.entryIndex, authservIds);
  return { facts, trace };
}

// --- verification ---------------------------------------------------------------------------------------------

/** An ISO time from a t= tag value (seconds since the epoch), or undefined. */
function tagTime(value: unknown): string | undefined {
  const n =
    typeof value === 'number' ? value : typeof value === 'string' && /^\d{1,12}$/.test(value) ? Number(value) : NaN;
  if (!Number.isFinite(n)) return undefined;
  const d = new Date(n * 1000);
  return Number.isNaN(d.getTime()) ? undefined : d.toISOString();
}

/** t= of each DKIM-Signature as mailauth read it, keyed by its b= value (whitespace removed). */
function signatureTimes(res: MailauthResult): Map<string, string> {
  const times = new Map<string, string>();
  for (const row of res.dkim.headers?.parsed ?? []) {
    if (row.key !== 'dkim-signature') continue;
    const parsed = parseDkimHeaders(row.line).parsed;
    const b = parsed?.b?.value;
    const t = tagTime(parsed?.t?.value);
    if (typeof b === 'string' && t !== undefined) times.set(b.replace(/\s+/g, ''), t);
  }
  return times;
}

/** mailauth's result reduced to what the policy needs (compact, JSON-safe). */
export function summarizeAuth(res: MailauthResult): AuthResults {
  const times = signatureTimes(res);
  const dkim = (res.dkim.results ?? [])
    .filter((r) => r.status.result !== 'none' || r.signingDomain !== undefined)
    .map((r) => {
      const check: DkimCheck = {
        domain: r.signingDomain ?? '',
        result: r.status.result,
        aligned: Boolean(r.status.aligned),
        wholeBody:
          !r.status.underSized &&
          !(r.canonBodyLengthLimited && (r.canonBodyLengthTotal ?? 0) > (r.canonBodyLength ?? 0)),
        signedHeaders: (r.signingHeaders?.keys ?? '')
          .split(':')
          .map((k) => k.trim().toLowerCase())
          .filter(Boolean),
      };
      if (r.selector) check.selector = r.selector;
      if (r.status.comment) check.comment = r.status.comment;
      const signedAt = r.signature ? times.get(r.signature.replace(/\s+/g, '')) : undefined;
      if (signedAt) check.signedAt = signedAt;
      return check;
    });
  const spf: AuthResults['spf'] = { result: res.spf ? res.spf.status.result : 'none' };
  if (res.spf && res.spf.domain) spf.domain = res.spf.domain;
  const dmarc: AuthResults['dmarc'] = res.dmarc
    ? {
        result: res.dmarc.status.result,
        dkimAligned: Boolean(res.dmarc.alignment?.dkim?.result),
        spfAligned: Boolean(res.dmarc.alignment?.spf?.result),
      }
    : { result: 'none', dkimAligned: false, spfAligned: false };
  if (res.dmarc && res.dmarc.policy) dmarc.policy = res.dmarc.policy;
  if (res.dmarc && res.dmarc.domain) dmarc.domain = res.dmarc.domain.toLowerCase();
  const arc: AuthResults['arc'] = { result: res.arc ? res.arc.status.result : 'none' };
  if (res.arc && res.arc.status.result === 'pass') {
    const chain = res.arc.chain ?? [];
    const seal = chain[chain.length - 1]?.['arc-seal']?.parsed;
    const sealer = seal?.d?.value;
    if (sealer) arc.sealer = sealer.toLowerCase();
    const sealedAt = tagTime(seal?.t?.value);
    if (sealedAt) arc.sealedAt = sealedAt;
    if (res.arc.signature && res.arc.signature.signingDomain)
      arc.signer = res.arc.signature.signingDomain.toLowerCase();
    if (typeof res.arc.i === 'number') arc.instance = res.arc.i;
    const aarDmarc = res.arc.authenticationResults?.dmarc;
    if (aarDmarc?.result) arc.dmarc = aarDmarc.result.toLowerCase();
    if (aarDmarc?.header?.from) arc.dmarcFrom = aarDmarc.header.from.toLowerCase();
  } else if (res.arc && res.arc.status.comment) {
    arc.comment = res.arc.status.comment;
  }
  const headerFrom = (res.dkim.headerFrom ?? []).map((a) => a.toLowerCase());
  return { headerFrom, dkim, spf, dmarc, arc };
}

/** Runs mailauth on the raw message with the route our MTA recorded. */
export async function verifyMessage(raw: Buffer, route: MtaRoute, resolver: DnsResolver): Promise<AuthResults> {
  const res = await mailauth.authenticate(raw, {
    ip: route.ip,
    helo: route.helo,
    sender: route.mailFrom,
    mta: route.by,
    resolver,
    disableBimi: true,
    // Never let mailauth read the client from the message: it would take the topmost line, whoever wrote it.
    trustReceived: false,
  });
  return summarizeAuth(res);
}

/** Full check of one message: the decision, and the verified results when authentication ran. */
export interface TrustCheck {
  decision: TrustDecision;
  auth?: AuthResults;
  /**
   * When the message was written, as an ISO time: its newest verified, aligned DKIM signature's t=, else its Date
   * header. For Source.messageDate: an old advisory replayed must not undo a newer manual unblock.
   */
  messageDate?: string;
}

/** What the trust gate needs from the worker: the trust settings, a resolver, and (for tests) a clock. */
export interface AuthenticateDeps {
  trust: TrustConfig;
  resolver: DnsResolver;
  /** Milliseconds since the epoch; default Date.now. */
  now?: () => number;
}

/** The message's date: the newest verified, aligned DKIM signature time, else the Date header. */
function messageDateOf(facts: MessageFacts, auth: AuthResults | undefined): string | undefined {
  const signed = (auth?.dkim ?? [])
    .filter((d) => d.result === 'pass' && d.aligned && d.signedAt !== undefined)
    .map((d) => d.signedAt!)
    .sort();
  return signed[signed.length - 1] ?? facts.date;
}

/**
 * Builds the gate used by analyzeMessage; throws a ConfigError when TRUSTED_SENDERS is empty and the operator did
 * not say so on purpose ({@link requireTrustedSenders}). A temporary DNS failure of the sender's own domain throws a retryable
 * ApplicationFailure (type DnsTemporaryError): the verdict is unknown, and Temporal retries the activity.
 */
export function createTrustGate(deps: AuthenticateDeps) {
  // Built once when the worker builds its activities: an empty TRUSTED_SENDERS stops the worker here, at start.
  requireTrustedSenders(deps.trust);
  const now = deps.now ?? Date.now;
  return async function checkTrust(raw: Buffer): Promise<TrustCheck> {
    const { facts, decision, auth } = await examineMessage(raw, deps.trust, deps.resolver, now());
    if (decision.temporary) {
      throw ApplicationFailure.retryable(decision.reason, DNS_TEMPORARY_ERROR);
    }
    const check: TrustCheck = auth ? { decision, auth } : { decision };
    const messageDate = messageDateOf(facts, auth);
    return messageDate === undefined ? check : { ...check, messageDate };
  };
}

/** Everything the gate found out about one message: what the sweep acts on, and what `mail2waf explain` prints. */
export interface TrustExamination {
  facts: MessageFacts;
  /** How the entry hop was found, line by line. */
  trace: RouteTrace;
  auth?: AuthResults;
  decision: TrustDecision;
  /** With TRUSTED_AUTHSERV_IDS: the provider's verdict the gate used, or why it used none. */
  provider?: ProviderUse;
}

/**
 * The gate's whole reading of one message, the one path for the sweep and for `explain`: facts, the screen,
 * verification, the decision. `verifyUntrusted` (explain only) also verifies a sender who is not on
 * TRUSTED_SENDERS, so an operator sees what adding it would do; the decision is the same either way.
 */
export async function examineMessage(
  raw: Buffer,
  trust: TrustConfig,
  resolver: DnsResolver,
  now: number,
  opts: { verifyUntrusted?: boolean } = {},
): Promise<TrustExamination> {
  const ids = trust.trustedAuthservIds ?? [];
  const { facts, trace } = await readMessageFacts(raw, trust.mtaHosts, ids, resolver);
  const screened = screenMessage(facts, trust);
  const verify =
    facts.route !== undefined &&
    (!screened ||
      (opts.verifyUntrusted === true && screened.code === 'untrusted-sender' && facts.headerProblems.length === 0));
  if (!verify) return { facts, trace, decision: screened! };
  let auth: AuthResults;
  try {
    auth = await verifyMessage(raw, facts.route!, resolver);
  } catch (err) {
    // mailauth turns DNS failures into temperror results; an exception is a message it cannot read.
    return {
      facts,
      trace,
      decision: screened ?? {
        trusted: false,
        code: 'auth-failed',
        reason: `the message could not be authenticated (${(err as Error).message}); its addresses were not blocked`,
      },
    };
  }
  const decision = screened ?? decideTrust(facts, auth, trust, now);
  const out: TrustExamination = { facts, trace, auth, decision };
  const from = facts.from.addresses.length === 1 ? splitAddress(facts.from.addresses[0]!.address) : undefined;
  if (ids.length > 0 && from) out.provider = providerVerdict(facts, auth, trust, from.domain);
  return out;
}

// --- resolvers ---------------------------------------------------------------------------------------------

/** The real DNS, with a bounded wait; timeouts and SERVFAIL surface as temperror in mailauth's results. */
export function systemResolver(): DnsResolver {
  const resolver = new dnsPromises.Resolver({ timeout: 5000, tries: 2 });
  return (name, rrtype) => resolver.resolve(name, rrtype);
}

/** Static DNS data: name → record type → values. TXT values are strings (any length) or arrays of chunks. */
export type DnsRecords = Record<string, Record<string, unknown[]>>;

function notFound(name: string, rrtype: string, code: 'ENOTFOUND' | 'ENODATA'): Error {
  const err = new Error(`${code === 'ENOTFOUND' ? 'no such name' : 'no such record'}: ${name} ${rrtype}`) as Error & {
    code: string;
    hostname: string;
  };
  err.code = code;
  err.hostname = name;
  return err;
}

/**
 * A resolver over static records (local stack and tests only): a missing name is ENOTFOUND and a missing type
 * ENODATA, exactly as Node's resolver reports them, so mailauth reaches the same verdicts as with real DNS.
 */
export function staticResolver(records: DnsRecords): DnsResolver {
  const table = new Map<string, Record<string, unknown[]>>();
  for (const [name, types] of Object.entries(records)) {
    const byType: Record<string, unknown[]> = {};
    for (const [t, values] of Object.entries(types)) byType[t.toUpperCase()] = values;
    table.set(name.toLowerCase().replace(/\.$/, ''), byType);
  }
  return async (name, rrtype) => {
    const key = name.toLowerCase().replace(/\.$/, '');
    const type = rrtype.toUpperCase();
    const entry = table.get(key);
    if (!entry) throw notFound(name, type, 'ENOTFOUND');
    const values = entry[type];
    if (!values || values.length === 0) throw notFound(name, type, 'ENODATA');
    if (type === 'TXT') {
      // Real TXT answers come as arrays of ≤255-byte strings; mailauth joins them.
      return values.map((v) => (Array.isArray(v) ? v.map(String) : (String(v).match(/[^]{1,255}/g) ?? [''])));
    }
    return values;
  };
}

/** Reads a DNS_RECORDS_FILE: `{ "records": { "<name>": { "TXT": ["…"], "A": ["…"], … } } }`. */
export function loadDnsRecordsFile(path: string): DnsRecords {
  let data: unknown;
  try {
    data = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new ConfigError([`DNS_RECORDS_FILE=${path} cannot be read as JSON (${(err as Error).message})`]);
  }
  const records = (data as { records?: unknown } | null)?.records;
  const valid =
    typeof records === 'object' &&
    records !== null &&
    Object.values(records).every(
      (types) =>
        typeof types === 'object' && types !== null && Object.values(types).every((values) => Array.isArray(values)),
    );
  if (!valid) {
    throw new ConfigError([
      `DNS_RECORDS_FILE=${path} must look like {"records": {"<name>": {"TXT": ["…"]}}} (each type maps to an array)`,
    ]);
  }
  return records as DnsRecords;
}

/** The resolver the worker uses: the static records file when DNS_RECORDS_FILE is set, else the real DNS. */
export function createResolver(trust: { dnsRecordsFile?: string }): DnsResolver {
  return trust.dnsRecordsFile ? staticResolver(loadDnsRecordsFile(trust.dnsRecordsFile)) : systemResolver();
}
