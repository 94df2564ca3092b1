/**
 * The I/O side of the trust gate: reads the facts of a raw message (From, attached messages, the Received line
 * our own MTA wrote), verifies DKIM, SPF, DMARC and ARC with mailauth against an injected DNS resolver, and
 * asks the pure policy in src/policy/trust.ts for the decision.
 *
 * The connecting IP, HELO and MAIL FROM come only from the topmost Received line written by one of MTA_HOSTS
 * (and a Return-Path our delivery added above it), never from lines the sender wrote: everything below our
 * MTA's line, and every header of a message that never passed through it, is the sender's to invent.
 */
import { ApplicationFailure } from '@temporalio/common';
import { simpleParser } from 'mailparser';
import { promises as dnsPromises } from 'node:dns';
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import addressparser from 'nodemailer/lib/addressparser';
import { ConfigError } from '../config';
import {
  SINGLETON_HEADERS,
  decideTrust,
  normalizeHostName,
  screenMessage,
  type AuthResults,
  type MessageFacts,
  type MtaRoute,
  type TrustConfig,
  type TrustDecision,
} from '../policy/trust';

/** A DNS resolver with the shape of `dns.promises.resolve(name, rrtype)` (what mailauth calls). */
export type DnsResolver = (name: string, rrtype: string) => Promise<unknown>;

/** What the trust gate needs from the worker: the trust settings and a resolver. */
export interface AuthenticateDeps {
  trust: TrustConfig;
  resolver: DnsResolver;
}

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
  status: MailauthStatus;
  signingHeaders?: { keys?: string };
  canonBodyLengthLimited?: boolean;
  canonBodyLength?: number;
  canonBodyLengthTotal?: number;
}
export interface MailauthResult {
  dkim: { results?: MailauthDkimResult[] };
  spf?: { domain?: string; status: MailauthStatus } | false;
  dmarc?:
    | { status: MailauthStatus; policy?: string; alignment?: { spf?: { result?: string }; dkim?: { result?: string } } }
    | false;
  arc?:
    | {
        status: MailauthStatus;
        i?: number | false;
        signature?: { signingDomain?: string } | false;
        authenticationResults?: { dmarc?: { result?: string; header?: { from?: string } } };
        chain?: { 'arc-seal'?: { parsed?: { d?: { value?: string } } } }[];
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

// --- headers ------------------------------------------------------------------------------------------------

/** One top-level header field: lower-cased name, unfolded value. */
export interface HeaderField {
  name: string;
  value: string;
}

const MAX_HEADER_BYTES = 1024 * 1024;

/** The top-level header fields of a raw message, in order (top first), folded lines joined. */
export function readHeaderFields(raw: Buffer): HeaderField[] {
  // latin1 keeps bytes 1:1; header values we act on (addresses, host names, IPs) are ASCII.
  const head = raw.subarray(0, Math.min(raw.length, MAX_HEADER_BYTES)).toString('latin1');
  const fields: HeaderField[] = [];
  let current: HeaderField | undefined;
  for (const rawLine of head.split('\n')) {
    const line = rawLine.replace(/\r$/, '');
    if (line === '') break;
    if ((line.startsWith(' ') || line.startsWith('\t')) && current) {
      current.value += ` ${line.trim()}`;
      continue;
    }
    const colon = line.indexOf(':');
    if (colon <= 0) {
      if (fields.length === 0 && current === undefined && line.startsWith('From ')) continue; // mbox separator
      break; // not a header line: the header section ends here, as lenient readers do
    }
    current = { name: line.slice(0, colon).trim().toLowerCase(), value: line.slice(colon + 1).trim() };
    fields.push(current);
  }
  return fields;
}

/** What one Received line says about the hop it records. */
export interface ReceivedLine {
  /** The host after `by`: who wrote the line. */
  by?: string;
  /** The client's IP address as the receiving MTA saw it (from the from-clause comment). */
  ip?: string;
  /** The HELO/EHLO name (`helo=` in Exim's comment, else the first from-token). */
  helo?: string;
  /** MAIL FROM, when the MTA records it (`envelope-from <…>`, Exim). */
  envelopeFrom?: string;
}

const FROM_CLAUSE = /^from\s+([^\s()]+)(?:\s*(\((?:[^()]|\([^()]*\))*\)))?/i;

function ipToken(token: string): string | undefined {
  const t = token.replace(/^[[(]+|[\])]+$/g, '').replace(/^ipv6:/i, '');
  return isIP(t) ? t : undefined;
}

/**
 * Parses the from- and by-clauses of a Received value, as Postfix (`from helo (rdns [ip]) by host`), Exim
 * (`from rdns ([ip] helo=x) by host … (envelope-from <a@b>)`), Sendmail and Microsoft (`from x (ip) by y`)
 * write them. The IP is taken from the comment the receiving MTA wrote, not from the HELO token the client chose.
 */
export function parseReceived(value: string): ReceivedLine {
  let v = value.replace(/\s+/g, ' ').trim();
  const semi = v.lastIndexOf(';');
  if (semi !== -1) v = v.slice(0, semi); // the date
  const out: ReceivedLine = {};
  let rest = v;
  const from = FROM_CLAUSE.exec(v);
  if (from) {
    const token = from[1]!;
    const comment = from[2] ?? '';
    rest = v.slice(from[0].length);
    const bracketed = /\[(?:ipv6:)?([0-9a-f:.]+)\]/i.exec(comment);
    const fromComment =
      (bracketed && ipToken(bracketed[1]!)) ??
      comment
        .slice(1, -1)
        .split(/[\s,]+/)
        .map(ipToken)
        .find((ip) => ip !== undefined);
    // Exim without reverse DNS writes the client address itself as the first token: `from [ip] (helo=x)`.
    out.ip = fromComment ?? (token.startsWith('[') ? ipToken(token) : undefined);
    const helo = /\bhelo=([^\s()]+)/i.exec(comment);
    out.helo = helo ? helo[1]! : token;
  }
  // Comments between the clauses (TLS details, "Authenticated sender: …") must not be read as the by-clause.
  let clauses = rest;
  while (/\([^()]*\)/.test(clauses)) clauses = clauses.replace(/\([^()]*\)/g, ' ');
  const by = /(?:^|\s)by\s+([^\s;()]+)/i.exec(clauses);
  if (by) out.by = by[1]!.toLowerCase().replace(/\.$/, '');
  const env = /envelope-from\s+<([^<>\s]*)>/i.exec(rest);
  if (env) out.envelopeFrom = env[1]!;
  return out;
}

/**
 * The route recorded by the topmost Received line whose `by` host is one of ours, with MAIL FROM from that line
 * or from a Return-Path above it (added by our own delivery). A problem sentence when there is none.
 */
export function findMtaRoute(fields: HeaderField[], mtaHosts: string[]): { route?: MtaRoute; problem?: string } {
  const hosts = new Set(mtaHosts.map((h) => normalizeHostName(h) ?? h.toLowerCase()));
  for (const [index, field] of fields.entries()) {
    if (field.name !== 'received') continue;
    const line = parseReceived(field.value);
    if (line.by === undefined || !hosts.has(line.by)) continue;
    if (line.ip === undefined) {
      return { problem: `the topmost Received line written by ${line.by} names no client IP address` };
    }
    let mailFrom = line.envelopeFrom;
    if (mailFrom === undefined) {
      const returnPath = fields
        .slice(0, index)
        .reverse()
        .find((f) => f.name === 'return-path');
      if (returnPath) mailFrom = /<([^<>\s]*)>/.exec(returnPath.value)?.[1] ?? returnPath.value.trim();
    }
    const route: MtaRoute = { by: line.by, ip: line.ip };
    if (line.helo !== undefined) route.helo = line.helo;
    if (mailFrom) route.mailFrom = mailFrom; // an empty (null) sender leaves SPF to the HELO identity
    return { route };
  }
  return { problem: 'none of them wrote a Received line in it' };
}

const FORWARD_SUBJECT = /^\s*(?:\[[^\]]{0,40}\]\s*)?(?:fwd?|fw|tr|wg|vs|rv|enc|doorst)\s*:/i;
const FORWARD_MARKERS = [
  /^-{2,}\s*forwarded message\s*-{2,}/im,
  /^begin forwarded message:/im,
  /^-{2,}\s*(?:original|forwarded) message\s*-{2,}\s*\n\s*from:/im,
];
const MESSAGE_TYPES = new Set(['message/rfc822', 'message/global', 'application/vnd.ms-outlook']);

type ParsedAddress = { address?: string; name?: string; group?: ParsedAddress[] };

function flattenAddresses(list: ParsedAddress[]): { address: string; name: string }[] {
  return list.flatMap((a) =>
    a.group ? flattenAddresses(a.group) : a.address ? [{ address: a.address, name: a.name ?? '' }] : [],
  );
}

/** Reads everything the screen needs without DNS: From, duplicates, attached messages, forward markers, route. */
export async function gatherFacts(raw: Buffer, mtaHosts: string[]): Promise<MessageFacts> {
  const fields = readHeaderFields(raw);
  const fromFields = fields.filter((f) => f.name === 'from');
  const addresses = fromFields.flatMap((f) => flattenAddresses(addressparser(f.value) as ParsedAddress[]));
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
  const body = `${parsed.text ?? ''}\n${typeof parsed.html === 'string' ? parsed.html.replace(/<[^>]*>/g, '\n') : ''}`;
  const forwardedInline = FORWARD_SUBJECT.test(parsed.subject ?? '') || FORWARD_MARKERS.some((m) => m.test(body));

  const { route, problem } = findMtaRoute(fields, mtaHosts);
  const facts: MessageFacts = {
    from: { headerCount: fromFields.length, addresses },
    attachedMessages,
    forwardedInline,
    duplicateHeaders,
    presentHeaders: [...counts.keys()],
  };
  if (route) facts.route = route;
  if (problem) facts.routeProblem = problem;
  return facts;
}

// --- verification ---------------------------------------------------------------------------------------------

/** mailauth's result reduced to what the policy needs (compact, JSON-safe). */
export function summarizeAuth(res: MailauthResult): AuthResults {
  const dkim = (res.dkim.results ?? [])
    .filter((r) => r.status.result !== 'none' || r.signingDomain !== undefined)
    .map((r) => {
      const check: AuthResults['dkim'][number] = {
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
  const arc: AuthResults['arc'] = { result: res.arc ? res.arc.status.result : 'none' };
  if (res.arc && res.arc.status.result === 'pass') {
    const chain = res.arc.chain ?? [];
    const sealer = chain[chain.length - 1]?.['arc-seal']?.parsed?.d?.value;
    if (sealer) arc.sealer = sealer.toLowerCase();
    if (res.arc.signature && res.arc.signature.signingDomain)
      arc.signer = res.arc.signature.signingDomain.toLowerCase();
    if (typeof res.arc.i === 'number') arc.instance = res.arc.i;
    const aarDmarc = res.arc.authenticationResults?.dmarc;
    if (aarDmarc?.result) arc.dmarc = aarDmarc.result.toLowerCase();
    if (aarDmarc?.header?.from) arc.dmarcFrom = aarDmarc.header.from.toLowerCase();
  } else if (res.arc && res.arc.status.comment) {
    arc.comment = res.arc.status.comment;
  }
  return { dkim, spf, dmarc, arc };
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
}

/**
 * Builds the gate used by analyzeMessage. A temporary DNS failure of the sender's own domain throws a retryable
 * ApplicationFailure (type DnsTemporaryError): the verdict is unknown, and Temporal retries the activity.
 */
export function createTrustGate(deps: AuthenticateDeps) {
  return async function checkTrust(raw: Buffer): Promise<TrustCheck> {
    const facts = await gatherFacts(raw, deps.trust.mtaHosts);
    const screened = screenMessage(facts, deps.trust);
    if (screened) return { decision: screened };
    let auth: AuthResults;
    try {
      auth = await verifyMessage(raw, facts.route!, deps.resolver);
    } catch (err) {
      // mailauth turns DNS failures into temperror results; an exception is a message it cannot read.
      return {
        decision: {
          trusted: false,
          code: 'auth-failed',
          reason: `the message could not be authenticated (${(err as Error).message}); its addresses were not blocked`,
        },
      };
    }
    const decision = decideTrust(facts, auth, deps.trust);
    if (decision.temporary) {
      throw ApplicationFailure.retryable(decision.reason, DNS_TEMPORARY_ERROR);
    }
    return { decision, auth };
  };
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
