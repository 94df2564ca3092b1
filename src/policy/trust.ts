/**
 * The trust gate: may this message block addresses automatically? A pure decision from facts about the message
 * (its From header, attached messages, the route our own MTA recorded) and from verified DKIM / SPF / DMARC / ARC
 * results (mailauth's, summarised by src/activities/authenticate.ts). No I/O, so every adversarial case is a
 * fast unit test.
 *
 * Only a sender on TRUSTED_SENDERS whose message passes DMARC — through a DKIM signature aligned with the From
 * domain that covers the whole body, or through an aligned SPF pass for the IP our MTA saw — may block
 * automatically; a forwarded message may instead pass through a trusted ARC sealer. Everything else is
 * quarantined with a stable code and a sentence. The display name is never trusted (it is free text), only the
 * address, and only when every reader reads the same one: a header section or From header that parsers read two
 * ways, or a verdict mailauth computed for another From than ours, is `ambiguous-headers`. An authenticated
 * advisory older than MAX_ADVISORY_AGE is a replay (`stale-advisory`); the current time is a parameter.
 *
 * Hosted mail (TRUSTED_AUTHSERV_IDS): when our own check does not pass, the provider's verdict may
 * (`trusted-provider`), but only one the gate can prove the provider wrote inside our organisation, above the entry
 * hop, and only a dmarc=pass for exactly the From domain ({@link providerVerdict}). Without the setting nothing
 * changes.
 */

/** Stable reason codes of the trust gate (they become MessageAnalysis.reasonCode and IMAP keywords). */
export const TrustCodes = {
  /** Trusted sender, DMARC pass with aligned DKIM or SPF. */
  Trusted: 'trusted',
  /** Trusted sender, forwarded by a trusted ARC sealer that saw DMARC pass. */
  TrustedArc: 'trusted-arc',
  /**
   * Trusted sender; our own check could not confirm it (hosted mail: the provider's internal hops hide the
   * sender's IP from SPF, or the provider rewrote the body), but the provider's verdict that the gate can prove was
   * written inside our organisation (TRUSTED_AUTHSERV_IDS, above the entry hop) says dmarc=pass for its domain.
   */
  TrustedProvider: 'trusted-provider',
  /** From is not one trusted address (unknown sender, display-name trick, look-alike domain, several From). */
  UntrustedSender: 'untrusted-sender',
  /** A trusted From that does not authenticate (no or broken signature, SPF fail, no DMARC pass, tampering). */
  AuthFailed: 'auth-failed',
  /** Forwarded mail (attached message, or an untrusted sender forwarding inline): a person must approve it. */
  ReportedPhish: 'reported-phish',
  /** No Received line written by one of MTA_HOSTS: the message did not arrive through our mail server. */
  NotViaMta: 'not-via-mta',
  /** A DNS lookup of the trusted domain failed temporarily: try again later (never a verdict). */
  AuthTempError: 'auth-temperror',
  /**
   * The header section or the From header can be read two ways (malformed or folded lines, lone CR or control
   * characters, a From that parsers read differently), or mailauth's verdict is about another From than ours.
   */
  AmbiguousHeaders: 'ambiguous-headers',
  /** More DKIM-Signature fields than MAX_DKIM_SIGNATURES: refused without verifying (each costs a body hash). */
  TooManySignatures: 'too-many-signatures',
  /** Authenticates, but was signed (or dated) longer ago than MAX_ADVISORY_AGE, or in the future: a replay. */
  StaleAdvisory: 'stale-advisory',
} as const;

export type TrustCode = (typeof TrustCodes)[keyof typeof TrustCodes];

/** The gate's answer for one message. */
export interface TrustDecision {
  trusted: boolean;
  code: TrustCode;
  /** One sentence for the report, the CLI and the workflow history. */
  reason: string;
  /** True when the verdict depends on a DNS lookup that failed temporarily: retry, do not quarantine. */
  temporary?: boolean;
}

/** Trust settings (TRUSTED_SENDERS, MTA_HOSTS, TRUSTED_ARC_SEALERS, TRUSTED_AUTHSERV_IDS, MAX_ADVISORY_AGE), lower-cased. */
export interface TrustConfig {
  /** `user@domain` (that address), `domain` (every address of the domain), `*.domain` (its subdomains). */
  trustedSenders: string[];
  /** Host names our own MTA writes after `by` in the Received lines it adds; `*.domain` matches its subdomains. */
  mtaHosts: string[];
  /** Domains whose ARC seal is trusted to vouch for forwarded mail (mailing lists, forwarding gateways). */
  trustedArcSealers: string[];
  /** Oldest signature (or Date) an authenticated advisory may carry; default {@link DEFAULT_MAX_ADVISORY_AGE_MS}. */
  maxAdvisoryAgeMs?: number;
  /**
   * authserv-ids whose Authentication-Results (or ARC-Authentication-Results, in a set sealed by one of
   * trustedArcSealers) count as the provider's verdict when written above the entry hop. Empty or absent: the gate
   * relies on its own verification only, exactly as before.
   */
  trustedAuthservIds?: string[];
  /** TRUSTED_SENDERS=none or ALLOW_NO_TRUSTED_SENDERS=true: the operator chose to have every advisory held. */
  allowNoTrustedSenders?: boolean;
}

/** What a provider recorded in one Authentication-Results (or ARC-Authentication-Results) field. */
export interface ProviderResults {
  /** The authserv-id, lower-cased (the version number after it dropped). */
  authservId: string;
  /** 1-based position of the field in the header section (for explain). */
  field: number;
  dmarc?: string;
  /** header.from of the dmarc result, lower-cased. */
  dmarcFrom?: string;
  dkim: { result: string; domain?: string }[];
  spf?: { result: string; domain?: string };
}

/** The provider's verdicts the gate may use, found by position, and why others were set aside. */
export interface ProviderFacts {
  /** The topmost Authentication-Results by one of TRUSTED_AUTHSERV_IDS, when it sits above the entry hop. */
  authResults?: ProviderResults;
  /** The newest ARC set's ARC-Authentication-Results, when that whole set sits above the entry hop. */
  arc?: ProviderResults & { instance: number; sealer?: string };
  /** One sentence per verdict set aside ("… below the entry hop: the sender's to write"). */
  notes: string[];
}

/** MAX_ADVISORY_AGE when not set: a week. */
export const DEFAULT_MAX_ADVISORY_AGE_MS = 7 * 86_400_000;

/** How far in the future a signature or Date may lie (clock skew between the sender and us). */
export const MAX_CLOCK_SKEW_MS = 10 * 60_000;

/** More DKIM-Signature fields than this are refused before verification: each one costs a body hash and a lookup. */
export const MAX_DKIM_SIGNATURES = 8;

/** Where our MTA says the message came from: the entry hop, found by position from the top. */
export interface MtaRoute {
  /** The host name after `by` (matches MTA_HOSTS). */
  by: string;
  /** The connecting client's IP address, as our MTA recorded it. */
  ip: string;
  /** The name the client gave in HELO/EHLO (claimed by the client; used only as SPF's HELO identity). */
  helo?: string;
  /** The SMTP MAIL FROM, from the line's envelope-from or a Return-Path our delivery added above it. */
  mailFrom?: string;
}

/** Facts about a message that need no DNS: read from its headers and MIME structure. */
export interface MessageFacts {
  /** Number of From header fields and every address in them (groups flattened). */
  from: { headerCount: number; addresses: { address: string; name: string }[] };
  /** Labels of attached messages (message/rfc822, .eml, .msg): the shape of a reported phish. */
  attachedMessages: string[];
  /** Subject starts with Fwd:/FW: or the body carries a "Forwarded message" marker. */
  forwardedInline: boolean;
  /** Lower-cased names of header fields that may occur once but occur more often. */
  duplicateHeaders: string[];
  /** Lower-cased names of the top-level header fields present. */
  presentHeaders: string[];
  /** The route from the entry hop: the lowest of the topmost run of Received lines written by MTA_HOSTS. */
  route?: MtaRoute;
  /** Why there is no route, e.g. "the topmost Received line was written by relay.other.example". */
  routeProblem?: string;
  /**
   * Why the header section is ambiguous (readers could disagree on its fields or on the From address), one
   * sentence each; empty when it reads one way only. Checked before anything is trusted.
   */
  headerProblems: string[];
  /** Number of DKIM-Signature fields (each costs a body hash to verify). */
  dkimSignatureCount: number;
  /** The Date header as an ISO time, when there is exactly one that parses. */
  date?: string;
  /** The provider's verdicts written inside our organisation (only read when TRUSTED_AUTHSERV_IDS is set). */
  provider?: ProviderFacts;
}

/** One DKIM signature, as verified. */
export interface DkimCheck {
  domain: string;
  selector?: string;
  /** mailauth's result: pass, fail, neutral (e.g. body hash did not verify), none, policy, temperror, permerror. */
  result: string;
  comment?: string;
  /** The signing domain is aligned (relaxed) with the From domain. */
  aligned: boolean;
  /** False when an l= tag leaves part of the body unsigned (content could have been appended). */
  wholeBody: boolean;
  /** Lower-cased names of the header fields the signature covers. */
  signedHeaders: string[];
  /** The signature's t= (signing time) as an ISO time, when it has one. */
  signedAt?: string;
}

/** Verified authentication results of one message: compact and JSON-safe. */
export interface AuthResults {
  /** The From addresses as mailauth read them (its own header reader and address parser), lower-cased. */
  headerFrom: string[];
  dkim: DkimCheck[];
  spf: { result: string; domain?: string; comment?: string };
  dmarc: {
    result: string;
    policy?: string;
    dkimAligned: boolean;
    spfAligned: boolean;
    comment?: string;
    /** The (organisational) From domain mailauth evaluated DMARC and alignment for. */
    domain?: string;
  };
  arc: {
    result: string;
    instance?: number;
    /** d= of the newest ARC-Seal and of the newest ARC-Message-Signature. */
    sealer?: string;
    signer?: string;
    /** What the newest sealer recorded in its ARC-Authentication-Results: dmarc result and header.from. */
    dmarc?: string;
    dmarcFrom?: string;
    /** t= of the newest ARC-Seal as an ISO time (when the sealer forwarded the message). */
    sealedAt?: string;
    comment?: string;
  };
}

/** Header fields that RFC 5322 / 2045 allow once. Two copies let a signature cover one while a reader shows the other. */
export const SINGLETON_HEADERS = [
  'from',
  'sender',
  'reply-to',
  'to',
  'cc',
  'subject',
  'date',
  'message-id',
  'mime-version',
  'content-type',
  'content-transfer-encoding',
];

/** Headers whose change alters what is read from the (signed) body, so a trusted signature must cover them. */
const MUST_BE_SIGNED = ['from', 'content-type', 'content-transfer-encoding'];

const DOMAIN = /^(?=.{1,253}$)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z][a-z0-9-]{0,62}$/;
const LOCAL_PART = /^[a-z0-9!#$%&'*+/=?^_`{|}~.-]{1,64}$/;

function normalizeDomain(domain: string): string {
  return domain.trim().toLowerCase().replace(/\.$/, '');
}

/** A TRUSTED_SENDERS entry in canonical form, or undefined when it is not one. */
export function normalizeTrustedSender(entry: string): string | undefined {
  const e = entry.trim().toLowerCase();
  if (e.startsWith('*.')) {
    const d = normalizeDomain(e.slice(2));
    return DOMAIN.test(d) ? `*.${d}` : undefined;
  }
  const at = e.lastIndexOf('@');
  if (at === -1) {
    const d = normalizeDomain(e);
    return DOMAIN.test(d) ? d : undefined;
  }
  const local = e.slice(0, at);
  const d = normalizeDomain(e.slice(at + 1));
  return LOCAL_PART.test(local) && DOMAIN.test(d) ? `${local}@${d}` : undefined;
}

/** A host name for MTA_HOSTS / TRUSTED_ARC_SEALERS in canonical form, or undefined. */
export function normalizeHostName(name: string): string | undefined {
  const d = normalizeDomain(name);
  return DOMAIN.test(d) || /^[a-z0-9-]{1,63}$/.test(d) ? d : undefined;
}

/** An MTA_HOSTS entry in canonical form: a host name, or `*.domain` for every host under the domain. */
export function normalizeHostPattern(entry: string): string | undefined {
  const e = entry.trim().toLowerCase();
  if (!e.startsWith('*.')) return normalizeHostName(e);
  const d = normalizeDomain(e.slice(2));
  return DOMAIN.test(d) ? `*.${d}` : undefined;
}

/** The MTA_HOSTS entry that `host` matches (`*.domain` matches hosts under the domain, not the domain), or undefined. */
export function matchHost(host: string, patterns: readonly string[]): string | undefined {
  const h = normalizeDomain(host);
  return patterns.find((p) => (p.startsWith('*.') ? h.endsWith(p.slice(1)) && h.length > p.length - 1 : p === h));
}

/**
 * Splits an address into lower-cased local part and domain, or undefined when it is not a plain address: one
 * `@`, a valid domain. Odd forms (`a@b@c`) are refused because parsers disagree on their domain.
 */
export function splitAddress(address: string): { local: string; domain: string } | undefined {
  const a = address.trim().toLowerCase();
  const at = a.indexOf('@');
  if (at <= 0 || at !== a.lastIndexOf('@')) return undefined;
  const local = a.slice(0, at);
  const domain = normalizeDomain(a.slice(at + 1));
  if (!LOCAL_PART.test(local) || !DOMAIN.test(domain)) return undefined;
  return { local, domain };
}

/** The TRUSTED_SENDERS entry that trusts `address`, or undefined. */
export function matchTrustedSender(address: string, trustedSenders: string[]): string | undefined {
  const parts = splitAddress(address);
  if (!parts) return undefined;
  const full = `${parts.local}@${parts.domain}`;
  return trustedSenders.find((entry) => {
    if (entry.startsWith('*.')) return parts.domain.endsWith(`.${entry.slice(2)}`);
    if (entry.includes('@')) return entry === full;
    return entry === parts.domain;
  });
}

/** The domains named by TRUSTED_SENDERS (for look-alike hints). */
function trustedDomains(trustedSenders: string[]): string[] {
  return [...new Set(trustedSenders.map((e) => (e.startsWith('*.') ? e.slice(2) : e.slice(e.lastIndexOf('@') + 1))))];
}

// Characters that render like others: digits for letters, and Cyrillic/Greek letters that look Latin.
const CONFUSABLE: Record<string, string> = {
  '0': 'o',
  '1': 'l',
  i: 'l',
  '|': 'l',
  '3': 'e',
  '5': 's',
  а: 'a',
  е: 'e',
  о: 'o',
  р: 'p',
  с: 'c',
  х: 'x',
  у: 'y',
  і: 'l',
  ј: 'j',
  ο: 'o',
  α: 'a',
};

/** Longest domain the look-alike check reads (a DNS name is at most 253 characters); longer input is cut. */
const MAX_LOOK_ALIKE_INPUT = 253;

/** A domain reduced to how it looks: confusables folded, separators dropped. Linear in its (capped) length. */
function skeleton(domain: string): string {
  return [
    ...domain
      .slice(0, MAX_LOOK_ALIKE_INPUT * 2)
      .normalize('NFKC')
      .toLowerCase(),
  ]
    .map((c) => CONFUSABLE[c] ?? c)
    .join('')
    .replace(/rn/g, 'm')
    .replace(/vv/g, 'w')
    .replace(/[^a-z0-9]/g, '');
}

/** Levenshtein distance; quadratic, so callers cap both inputs ({@link MAX_LOOK_ALIKE_INPUT}). */
function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      cur[j] = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    prev = cur;
  }
  return prev[b.length]!;
}

/** The trusted domain that `domain` imitates (cert-example.com, cert.examp1e, cеrt.example), or undefined. */
export function lookAlikeOf(domain: string, trustedSenders: string[]): string | undefined {
  // Not a DNS name when longer: nothing to imitate, and the comparison below is quadratic.
  if (domain.length > MAX_LOOK_ALIKE_INPUT + 1) return undefined;
  const d = normalizeDomain(domain);
  const sd = skeleton(d);
  return trustedDomains(trustedSenders).find((t) => {
    if (d === t || d.endsWith(`.${t}`)) return false; // the domain itself or a subdomain: not an imitation
    const st = skeleton(t);
    if (st.length >= 4 && (sd === st || sd.includes(st))) return true;
    return t.length >= 6 && Math.abs(d.length - t.length) <= 2 && editDistance(d, t) <= 2;
  });
}

const quote = (s: string, max = 60): string => {
  // eslint-disable-next-line no-control-regex
  const clean = s.replace(/[\x00-\x1f\x7f]/g, ' ').trim();
  return JSON.stringify(clean.length > max ? `${clean.slice(0, max)}…` : clean);
};

/** Why an address that is not trusted is not: a hint for the operator reading the report. */
function untrustedHint(address: string, name: string, config: TrustConfig): string {
  const parts = splitAddress(address);
  if (!parts) return ` (${quote(address)} is not a plain address)`;
  const hints: string[] = [];
  const domains = trustedDomains(config.trustedSenders);
  const lower = name.toLowerCase();
  const named = domains.find((t) => lower.includes(t));
  if (named !== undefined || lower.includes('@')) {
    hints.push(`its display name ${quote(name)} imitates a trusted sender, but only the address counts`);
  }
  const like = lookAlikeOf(parts.domain, config.trustedSenders);
  if (like !== undefined) hints.push(`${parts.domain} is a look-alike of the trusted domain ${like}`);
  const parent = domains.find((t) => parts.domain.endsWith(`.${t}`));
  if (parent !== undefined) hints.push(`${parts.domain} is a subdomain of ${parent}; trust it with *.${parent}`);
  if (domains.includes(parts.domain)) hints.push(`only listed addresses of ${parts.domain} are trusted`);
  return hints.length > 0 ? `: ${hints.join('; ')}` : '';
}

/** One line summary of the verified results, e.g. "dkim=pass (cert.example, aligned), spf=pass, dmarc=pass". */
export function describeAuth(auth: AuthResults): string {
  const dkim =
    auth.dkim.length === 0 || (auth.dkim.length === 1 && auth.dkim[0]!.result === 'none')
      ? 'dkim=none (no signature)'
      : auth.dkim
          .map((d) => {
            const details = [
              d.domain,
              d.comment,
              d.aligned ? 'aligned' : 'not aligned with From',
              d.wholeBody ? undefined : 'l= leaves part of the body unsigned',
            ].filter(Boolean);
            return `dkim=${d.result} (${details.join(', ')})`;
          })
          .join(', ');
  const spf = `spf=${auth.spf.result}${auth.spf.domain ? ` (${auth.spf.domain}${auth.spf.comment ? `: ${auth.spf.comment}` : ''})` : ''}`;
  const dmarc = `dmarc=${auth.dmarc.result}${auth.dmarc.policy ? ` (p=${auth.dmarc.policy})` : ''}`;
  const arc =
    auth.arc.result === 'none'
      ? ''
      : `, arc=${auth.arc.result}${auth.arc.sealer ? ` (sealed by ${auth.arc.sealer}${auth.arc.dmarc ? `, which saw dmarc=${auth.arc.dmarc}` : ''})` : ''}`;
  return `${dkim}, ${spf}, ${dmarc}${arc}`;
}

function decision(trusted: boolean, code: TrustCode, reason: string): TrustDecision {
  return { trusted, code, reason };
}

/**
 * The decisions that need no DNS: ambiguous headers, forwarded mail, who the sender is, repeated headers, too
 * many signatures, and whether our MTA received the message. Undefined means "a trusted sender: authenticate it".
 */
export function screenMessage(facts: MessageFacts, config: TrustConfig): TrustDecision | undefined {
  // First: when the header section reads two ways, nothing read from it below (From, route) can be relied on.
  if (facts.headerProblems.length > 0) {
    const shown = facts.headerProblems.slice(0, 3).join('; ');
    const more = facts.headerProblems.length > 3 ? ` (and ${facts.headerProblems.length - 3} more)` : '';
    return decision(
      false,
      TrustCodes.AmbiguousHeaders,
      `its header section is ambiguous: ${shown}${more}; mail readers and the signature check could see different ` +
        'senders, so its addresses were not blocked',
    );
  }
  if (facts.attachedMessages.length > 0) {
    const n = facts.attachedMessages.length;
    return decision(
      false,
      TrustCodes.ReportedPhish,
      `it carries ${n === 1 ? 'an attached message' : `${n} attached messages`} (${facts.attachedMessages.slice(0, 3).join(', ')}), ` +
        'the shape of a reported phish or forwarded mail; its addresses need a person’s approval and were not blocked',
    );
  }
  const { headerCount, addresses } = facts.from;
  if (facts.forwardedInline) {
    // A trusted sender forwarding inline pastes someone else's message (its Received lines, its links): the
    // addresses in it are the forwarded message's, not the sender's advice. Same as an attached message.
    const who = headerCount === 1 && addresses.length === 1 ? `${addresses[0]!.address} forwards` : 'it forwards';
    return decision(
      false,
      TrustCodes.ReportedPhish,
      `${who} a message inline (a Fwd: subject or a "Forwarded message" marker), the shape of a reported phish or ` +
        'forwarded mail, whoever sends it; its addresses need a person’s approval and were not blocked',
    );
  }
  if (headerCount !== 1 || addresses.length !== 1) {
    const what =
      headerCount === 0
        ? 'it has no From header'
        : headerCount > 1
          ? `it has ${headerCount} From headers`
          : addresses.length === 0
            ? 'its From header holds no address'
            : `its From header names ${addresses.length} addresses`;
    return decision(
      false,
      TrustCodes.UntrustedSender,
      `${what}; only a message with exactly one author on TRUSTED_SENDERS may block automatically`,
    );
  }
  const from = addresses[0]!;
  const trustedBy = matchTrustedSender(from.address, config.trustedSenders);
  if (trustedBy === undefined) {
    return decision(
      false,
      TrustCodes.UntrustedSender,
      `sender ${quote(from.address)} is not on TRUSTED_SENDERS${untrustedHint(from.address, from.name, config)}; ` +
        'its addresses were not blocked',
    );
  }
  if (facts.duplicateHeaders.length > 0) {
    return decision(
      false,
      TrustCodes.AuthFailed,
      `the message from ${from.address} repeats the ${facts.duplicateHeaders.join(', ')} header(s), which lets a ` +
        'signature cover one copy while readers show the other; its addresses were not blocked',
    );
  }
  if (facts.dkimSignatureCount > MAX_DKIM_SIGNATURES) {
    return decision(
      false,
      TrustCodes.TooManySignatures,
      `the message from ${from.address} carries ${facts.dkimSignatureCount} DKIM-Signature fields (at most ` +
        `${MAX_DKIM_SIGNATURES} are verified, each costs a hash of the whole body); it was not verified and its ` +
        'addresses were not blocked',
    );
  }
  if (facts.route === undefined) {
    return decision(
      false,
      TrustCodes.NotViaMta,
      `the message from ${from.address} cannot be traced to our mail server ` +
        `(MTA_HOSTS: ${config.mtaHosts.join(', ') || 'not set'}): ` +
        `${facts.routeProblem ?? 'none of them wrote a Received line in it'}, so it may have bypassed our ` +
        'mail server and its SPF cannot be checked; its addresses were not blocked',
    );
  }
  return undefined;
}

function sameOrSubdomain(a: string, b: string): boolean {
  return a === b || a.endsWith(`.${b}`) || b.endsWith(`.${a}`);
}

/**
 * Whether mailauth's verdict is about the From the gate read: mailauth reads From with its own header reader and
 * address parser, and computes DKIM alignment, SPF alignment and DMARC for the domain it read. A sentence when it
 * read something else (the gate would otherwise trust a verdict about an outsider's domain).
 */
function verdictMismatch(fromAddress: string, fromDomain: string, auth: AuthResults): string | undefined {
  const theirs = auth.headerFrom.map((a) => a.trim().toLowerCase());
  if (theirs.length !== 1 || theirs[0] !== fromAddress.toLowerCase()) {
    const read =
      theirs.length === 0
        ? 'no address'
        : theirs
            .slice(0, 3)
            .map((a) => quote(a))
            .join(', ');
    return `the signature check read its From as ${read}, not ${quote(fromAddress)}`;
  }
  const d = auth.dmarc.domain?.toLowerCase();
  if (d !== undefined && fromDomain !== d && !fromDomain.endsWith(`.${d}`)) {
    return `DMARC was evaluated for ${quote(d)}, not for ${quote(fromDomain)}`;
  }
  return undefined;
}

/** The time the verdict vouches for: the newest strong signature's t=, else a signed Date; undefined if none. */
function vouchedTime(
  facts: MessageFacts,
  signatures: DkimCheck[],
  fallbackUnsigned: boolean,
): { at: number; what: string } | undefined {
  const times = signatures.map((d) => (d.signedAt ? Date.parse(d.signedAt) : NaN)).filter((t) => !Number.isNaN(t));
  if (times.length > 0) return { at: Math.max(...times), what: 'its DKIM signature was made' };
  const dateSigned = signatures.some((d) => d.signedHeaders.includes('date'));
  if (facts.date !== undefined && (dateSigned || fallbackUnsigned)) {
    return { at: Date.parse(facts.date), what: 'its Date header says it was written' };
  }
  return undefined;
}

const ago = (ms: number): string => {
  const h = Math.round(ms / 3_600_000);
  return h >= 48
    ? `${Math.round(h / 24)} days`
    : h >= 1
      ? `${h} hours`
      : `${Math.max(1, Math.round(ms / 60_000))} minutes`;
};

/** A stale-advisory decision when `when` is older than MAX_ADVISORY_AGE or in the future, else undefined. */
function staleness(
  from: string,
  when: { at: number; what: string } | undefined,
  config: TrustConfig,
  now: number,
): TrustDecision | undefined {
  const maxAge = config.maxAdvisoryAgeMs ?? DEFAULT_MAX_ADVISORY_AGE_MS;
  if (when === undefined) {
    return decision(
      false,
      TrustCodes.StaleAdvisory,
      `the message from ${from} authenticates but carries no signed time (no t= in its signature, no signed Date), ` +
        'so a replay of an old advisory cannot be told apart; its addresses were not blocked',
    );
  }
  const iso = new Date(when.at).toISOString();
  if (when.at > now + MAX_CLOCK_SKEW_MS) {
    return decision(
      false,
      TrustCodes.StaleAdvisory,
      `the message from ${from} authenticates but ${when.what} at ${iso}, ${ago(when.at - now)} in the future; ` +
        'its addresses were not blocked',
    );
  }
  if (now - when.at > maxAge) {
    return decision(
      false,
      TrustCodes.StaleAdvisory,
      `the message from ${from} authenticates but ${when.what} at ${iso}, ${ago(now - when.at)} ago, longer than ` +
        `MAX_ADVISORY_AGE (${ago(maxAge)}) allows: an old advisory replayed; its addresses were not blocked`,
    );
  }
  return undefined;
}

/**
 * The whole decision: {@link screenMessage}, then the verified results. `auth` is required once the screen
 * lets the message through (a trusted sender that our MTA received). `now` (ms since the epoch) judges the age of
 * the signature: passed in, so the decision stays pure.
 */
export function decideTrust(
  facts: MessageFacts,
  auth: AuthResults | undefined,
  config: TrustConfig,
  now: number,
): TrustDecision {
  const screened = screenMessage(facts, config);
  if (screened) return screened;
  if (auth === undefined) throw new Error('decideTrust: a trusted sender needs authentication results');
  const from = facts.from.addresses[0]!;
  const fromDomain = splitAddress(from.address)!.domain;
  const summary = describeAuth(auth);

  const mismatch = verdictMismatch(from.address, fromDomain, auth);
  if (mismatch !== undefined) {
    return decision(
      false,
      TrustCodes.AmbiguousHeaders,
      `the message from ${from.address} is read two ways: ${mismatch}, so its authentication results (${summary}) ` +
        'are not about the trusted sender; its addresses were not blocked',
    );
  }

  const present = new Set(facts.presentHeaders);
  const required = MUST_BE_SIGNED.filter((h) => h === 'from' || present.has(h));
  const strongDkim = auth.dkim.filter(
    (d) => d.result === 'pass' && d.aligned && d.wholeBody && required.every((h) => d.signedHeaders.includes(h)),
  );
  const spfAligned = auth.spf.result === 'pass' && auth.dmarc.spfAligned;
  if (auth.dmarc.result === 'pass' && (strongDkim.length > 0 || spfAligned)) {
    // SPF alone vouches for the connection our MTA saw just now, so an unsigned Date is good enough there.
    const stale = staleness(from.address, vouchedTime(facts, strongDkim, strongDkim.length === 0), config, now);
    if (stale) return stale;
    return decision(
      true,
      TrustCodes.Trusted,
      `${from.address} is a trusted sender and the message authenticates: ${summary}`,
    );
  }

  // The provider's verdict (hosted mail), only when the operator named the provider's authserv-ids.
  const provider = providerVerdict(facts, auth, config, fromDomain);
  if (provider.use) {
    const stale = staleness(from.address, provider.use.when, config, now);
    if (stale) return stale;
    return decision(
      true,
      TrustCodes.TrustedProvider,
      `${from.address} is a trusted sender; our own check did not confirm it (${summary}), but ${provider.use.what} ` +
        `says dmarc=pass for ${fromDomain}`,
    );
  }

  const arc = auth.arc;
  const sealers = config.trustedArcSealers;
  if (
    arc.result === 'pass' &&
    arc.sealer !== undefined &&
    sealers.includes(arc.sealer) &&
    (arc.signer === undefined || sealers.includes(arc.signer)) &&
    arc.dmarc === 'pass' &&
    arc.dmarcFrom !== undefined &&
    sameOrSubdomain(fromDomain, arc.dmarcFrom)
  ) {
    const sealed = arc.sealedAt ? Date.parse(arc.sealedAt) : NaN;
    const when = Number.isNaN(sealed) ? undefined : { at: sealed, what: `${arc.sealer} sealed it` };
    const stale = staleness(from.address, when, config, now);
    if (stale) return stale;
    return decision(
      true,
      TrustCodes.TrustedArc,
      `${from.address} is a trusted sender; the message was forwarded by ${arc.sealer}, a trusted ARC sealer that ` +
        `saw DMARC pass for ${arc.dmarcFrom} (${summary})`,
    );
  }

  // A temporary DNS failure of the sender's own domain is not a verdict: try again. Failures of other domains
  // (a signature someone added with d=elsewhere) are ignored, so nobody can stall the sweep with a slow DNS.
  const temp =
    auth.dmarc.result === 'temperror' ||
    auth.dkim.some((d) => d.result === 'temperror' && d.aligned) ||
    (auth.spf.result === 'temperror' && auth.spf.domain !== undefined && sameOrSubdomain(auth.spf.domain, fromDomain));
  if (temp) {
    return {
      trusted: false,
      code: TrustCodes.AuthTempError,
      reason: `a DNS lookup for ${fromDomain} failed temporarily while authenticating ${from.address} (${summary}); it will be retried`,
      temporary: true,
    };
  }

  const why: string[] = [];
  const alignedPass = auth.dkim.filter((d) => d.result === 'pass' && d.aligned);
  if (alignedPass.length === 0) why.push(`no valid DKIM signature of ${fromDomain}`);
  else if (alignedPass.every((d) => !d.wholeBody)) why.push('its DKIM signature covers only part of the body (l=)');
  else if (strongDkim.length === 0) {
    why.push(`its DKIM signature does not cover the ${required.join(', ')} header(s)`);
  }
  if (!spfAligned) why.push(`no aligned SPF pass for ${facts.route!.ip}`);
  if (auth.dmarc.result !== 'pass') {
    why.push(auth.dmarc.result === 'none' ? `${fromDomain} publishes no DMARC record` : `DMARC ${auth.dmarc.result}`);
  }
  why.push(...provider.ignored);
  return decision(
    false,
    TrustCodes.AuthFailed,
    `${from.address} is a trusted sender but the message does not authenticate (${why.join('; ')}): ${summary}; ` +
      'its addresses were not blocked',
  );
}

/**
 * A sealer whose ARC set may carry the provider's verdict: the domain of the authserv-id itself (d=microsoft.com for
 * mx.microsoft.com, d=google.com for mx.google.com; the key is looked up under that domain, so nobody else can
 * seal as it) or one of TRUSTED_ARC_SEALERS. Operators of hosted mail need not (and should not) list the provider in
 * TRUSTED_ARC_SEALERS: that would also trust whatever any of its customers' tenants sealed, anywhere (trusted-arc),
 * and a tenant's own transport rules can change a body before the seal.
 */
function providerSealer(sealer: string, authservId: string, config: TrustConfig): boolean {
  if (config.trustedArcSealers.includes(sealer)) return true;
  return sealer.includes('.') && (authservId === sealer || authservId.endsWith(`.${sealer}`));
}

/** The provider's verdict the gate uses (what it is, and the time it vouches for), and why others were not used. */
export interface ProviderUse {
  use?: { source: 'authentication-results' | 'arc'; what: string; when: { at: number; what: string } | undefined };
  ignored: string[];
}

/**
 * Whether the provider's own verdict may stand in for ours (TRUSTED_AUTHSERV_IDS set). Only a verdict the gate can
 * prove was written inside our organisation counts: an Authentication-Results field of a configured authserv-id
 * above the entry hop (the topmost one of those ids; copies below the entry hop are the sender's), or the newest ARC
 * set above the entry hop, verified by mailauth, sealed by the authserv-id's own domain (or one of
 * TRUSTED_ARC_SEALERS), whose ARC-Authentication-Results has a configured authserv-id. It must say dmarc=pass with header.from exactly the From
 * domain. A plain Authentication-Results is text, not a signature: it is refused when our own check saw the From
 * domain's signature fail (the body changed after the provider looked). An ARC set signs the message as it is now.
 */
export function providerVerdict(
  facts: MessageFacts,
  auth: AuthResults,
  config: TrustConfig,
  fromDomain: string,
): ProviderUse {
  const ids = config.trustedAuthservIds ?? [];
  const out: ProviderUse = { ignored: [] };
  if (ids.length === 0) return out;
  const p = facts.provider ?? { notes: [] };
  const says = (r: ProviderResults): string | undefined =>
    r.dmarc !== 'pass'
      ? `it says dmarc=${r.dmarc ?? 'nothing'}`
      : r.dmarcFrom !== fromDomain
        ? `its dmarc=pass is for header.from=${quote(r.dmarcFrom ?? 'nothing')}, not ${fromDomain}`
        : undefined;

  const arc = p.arc;
  if (arc && ids.includes(arc.authservId)) {
    const problem =
      auth.arc.result !== 'pass'
        ? `our check of the ARC set failed (arc=${auth.arc.result}${auth.arc.comment ? `: ${auth.arc.comment}` : ''})`
        : auth.arc.instance !== arc.instance
          ? `the ARC set verified (i=${auth.arc.instance ?? '?'}) is not the newest one above the entry hop (i=${arc.instance})`
          : auth.arc.sealer === undefined || !providerSealer(auth.arc.sealer, arc.authservId, config)
            ? `it is sealed by ${auth.arc.sealer ?? 'nobody'}, neither the domain of ${arc.authservId} nor one of TRUSTED_ARC_SEALERS`
            : says(arc);
    if (problem === undefined) {
      const sealed = auth.arc.sealedAt ? Date.parse(auth.arc.sealedAt) : NaN;
      out.use = {
        source: 'arc',
        what: `the provider's ARC set i=${arc.instance} (sealed by ${auth.arc.sealer}, written by ${arc.authservId} above the entry hop)`,
        when: Number.isNaN(sealed) ? undefined : { at: sealed, what: `${auth.arc.sealer} sealed it` },
      };
      return out;
    }
    out.ignored.push(`the provider's ARC-Authentication-Results by ${arc.authservId} was not used: ${problem}`);
  }

  const ar = p.authResults;
  if (ar) {
    const broken = auth.dkim.find((d) => d.aligned && (d.result === 'fail' || d.result === 'neutral'));
    const present = new Set(facts.presentHeaders);
    const required = MUST_BE_SIGNED.filter((h) => h === 'from' || present.has(h));
    const alignedPass = auth.dkim.filter((d) => d.result === 'pass' && d.aligned);
    const strong = alignedPass.filter((d) => d.wholeBody && required.every((h) => d.signedHeaders.includes(h)));
    const problem = broken
      ? `our check of ${broken.domain}'s DKIM signature says ${broken.result}${broken.comment ? ` (${broken.comment})` : ''}: ` +
        'the message changed after the provider looked, and a header field cannot vouch for that'
      : alignedPass.length > 0 && strong.length === 0
        ? `its ${fromDomain} signature leaves part of the body or the From/Content-Type headers unsigned`
        : says(ar);
    if (problem === undefined) {
      out.use = {
        source: 'authentication-results',
        what: `the provider's Authentication-Results by ${ar.authservId} (header field ${ar.field}, above the entry hop)`,
        // Like SPF-only trust: the newest verified signature time, else the Date header.
        when: vouchedTime(facts, strong, true),
      };
      return out;
    }
    out.ignored.push(`the provider's Authentication-Results by ${ar.authservId} was not used: ${problem}`);
  }
  if (!arc && !ar) {
    out.ignored.push(
      `no Authentication-Results by ${ids.join(', ')} above the entry hop${p.notes.length > 0 ? ` (${p.notes[0]})` : ''}`,
    );
  }
  return out;
}
