/**
 * Builds realistic advisory messages (real MIME, via nodemailer's composer) for tests and the demo.
 *
 * They pass mail2waf's trust gate the way real advisories do: signed with DKIM by the sender's domain (mailauth's
 * signer) and carrying the Received line and Return-Path our own MTA would add on delivery. By default the local
 * stack's key signs mail from its sample domain (STACK_DKIM_DOMAIN, STACK_DKIM_SELECTOR, STACK_DKIM_KEY in
 * .stack/env), and the Received line names the first of MTA_HOSTS; without those settings messages are unsigned.
 */
import MailComposer from 'nodemailer/lib/mail-composer';
import addressparser from 'nodemailer/lib/addressparser';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';

/** A DKIM signing key: d= domain, s= selector, PEM private key. */
export interface DkimSettings {
  domain: string;
  selector: string;
  privateKey: string | Buffer;
  /** l= tag: sign only this many body bytes (a known weakness; used to test that the gate refuses it). */
  maxBodyLength?: number;
}

/** The Received line our MTA writes when it accepts a message, and the Return-Path of its delivery. */
export interface ReceivedSettings {
  /** Our MTA's host name (after `by`). */
  by: string;
  /** The connecting client's address. */
  ip: string;
  /** The client's HELO name. */
  helo: string;
  /** SMTP MAIL FROM ('' for the null sender). */
  mailFrom: string;
  /** Envelope recipient. */
  for: string;
}

export interface AdvisoryOptions {
  subject: string;
  text?: string;
  html?: string;
  attachments?: {
    filename?: string;
    content: string | Buffer;
    contentType?: string;
    contentDisposition?: 'attachment' | 'inline';
  }[];
  from?: string;
  messageId?: string;
  /** Extra header fields (In-Reply-To, References, …). */
  headers?: Record<string, string>;
  /** DKIM: explicit key, or false for none. Default: the stack's key when the From domain is STACK_DKIM_DOMAIN. */
  sign?: DkimSettings | false;
  /** Our MTA's Received line: explicit fields, or false for none. Default: added when MTA_HOSTS is set. */
  received?: Partial<ReceivedSettings> | false;
  /** Date header. Default: now (the trust gate refuses advisories older than MAX_ADVISORY_AGE as replays). */
  date?: Date;
}

/** Client address of the sample sender's mail server; the stack's SPF record authorises it (TEST-NET-3). */
export const DEFAULT_SENDER_IP = '203.0.113.25';

/** The local stack's signing key (from .stack/env, once `npm run stack:up` made it), or undefined. */
export function stackDkim(env: Record<string, string | undefined> = process.env): DkimSettings | undefined {
  const domain = env.STACK_DKIM_DOMAIN;
  const selector = env.STACK_DKIM_SELECTOR;
  const keyFile = env.STACK_DKIM_KEY;
  if (!domain || !selector || !keyFile) return undefined;
  return { domain, selector, privateKey: readFileSync(keyFile) };
}

function fromAddress(from: string): string {
  const parsed = addressparser(from) as { address?: string }[];
  return parsed[0]?.address ?? from;
}

function domainOf(address: string): string {
  return address.slice(address.lastIndexOf('@') + 1).toLowerCase();
}

/** Signs a raw message with DKIM (relaxed/relaxed, rsa-sha256) and returns it with the signature on top. */
export async function signMessage(raw: Buffer, dkim: DkimSettings): Promise<Buffer> {
  // mailauth ships no type declarations; this is the one function used here.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { dkimSign } = require('mailauth/lib/dkim/sign') as {
    dkimSign(
      message: Buffer,
      opts: {
        signatureData: {
          signingDomain: string;
          selector: string;
          privateKey: string | Buffer;
          maxBodyLength?: number;
        }[];
      },
    ): Promise<{ signatures: string; errors: unknown[] }>;
  };
  const result = await dkimSign(raw, {
    signatureData: [
      {
        signingDomain: dkim.domain,
        selector: dkim.selector,
        privateKey: dkim.privateKey,
        ...(dkim.maxBodyLength !== undefined ? { maxBodyLength: dkim.maxBodyLength } : {}),
      },
    ],
  });
  if (result.errors.length > 0) throw new Error(`DKIM signing failed: ${JSON.stringify(result.errors)}`);
  return Buffer.concat([Buffer.from(result.signatures), raw]);
}

/** Prepends what our MTA adds on delivery: Return-Path, then its Received line (topmost). */
export function addReceived(raw: Buffer, r: ReceivedSettings, date = new Date()): Buffer {
  const id = randomBytes(5).toString('hex').toUpperCase();
  const lines = [
    `Return-Path: <${r.mailFrom}>`,
    `Received: from ${r.helo} (${r.helo} [${r.ip}])\r\n\tby ${r.by} (Postfix) with ESMTPS id ${id}\r\n\tfor <${r.for}>; ${date.toUTCString().replace('GMT', '+0000')}`,
  ];
  return Buffer.concat([Buffer.from(`${lines.join('\r\n')}\r\n`), raw]);
}

/** The Received settings our MTA would use for a message from `from`, or undefined without MTA_HOSTS. */
export function stackReceived(
  from: string,
  env: Record<string, string | undefined> = process.env,
): ReceivedSettings | undefined {
  const by = env.MTA_HOSTS?.split(',')[0]?.trim();
  if (!by) return undefined;
  const address = fromAddress(from);
  return {
    by,
    ip: env.STACK_SENDER_IP || DEFAULT_SENDER_IP,
    helo: `mail.${domainOf(address)}`,
    mailFrom: address,
    for: 'advisories@mail2waf.test',
  };
}

export async function buildAdvisory(opts: AdvisoryOptions): Promise<Buffer> {
  const from = opts.from ?? 'CERT Advisories <advisories@cert.example>';
  const composer = new MailComposer({
    from,
    to: 'advisories@mail2waf.test',
    subject: opts.subject,
    text: opts.text,
    html: opts.html,
    attachments: opts.attachments,
    headers: opts.headers,
    messageId: opts.messageId ?? `<${randomBytes(6).toString('hex')}@cert.example>`,
    date: opts.date ?? new Date(),
  });
  let raw = (await composer.compile().build()) as Buffer;

  let dkim: DkimSettings | undefined;
  if (opts.sign !== undefined) dkim = opts.sign || undefined;
  else {
    const stack = stackDkim();
    const domain = domainOf(fromAddress(from));
    if (stack && (domain === stack.domain || domain.endsWith(`.${stack.domain}`))) dkim = stack;
  }
  if (dkim) raw = await signMessage(raw, dkim);

  if (opts.received !== false) {
    const base = stackReceived(from);
    const r = opts.received ? { ...(base ?? {}), ...opts.received } : base;
    if (r && r.by && r.ip && r.helo && r.mailFrom !== undefined && r.for) raw = addReceived(raw, r as ReceivedSettings);
  }
  return raw;
}

/** Sample: a C2 advisory whose indicators sit in a CSV attachment. */
export function csvAdvisory(messageId?: string) {
  return buildAdvisory({
    subject: 'TLP:CLEAR Advisory 2026-114: botnet C2 infrastructure',
    text: 'Block the C2 servers listed in the attached CSV.\nPrimary controller: 185.220.101.47\n',
    attachments: [
      {
        filename: 'iocs.csv',
        contentType: 'text/csv',
        content: 'indicator,type,first_seen\n45.133.1.20,ipv4,2026-11-18\n91.215.85.0/24,cidr,2026-11-19\n',
      },
    ],
    messageId,
  });
}

/** Sample: defanged IPv4 and an IPv6 address in prose. */
export function defangedAdvisory(messageId?: string) {
  return buildAdvisory({
    subject: 'Phishing kit hosting — defanged indicators',
    text:
      'The kit was served from hxxp://194[.]26[.]192[.]77/login and 5.188.86(.)170.\n' +
      'IPv6 staging host: 2a03:b0c0:3:d0::1a4f:1\n',
    messageId,
  });
}

/**
 * A phishing mail as a user's Report Phishing button attaches it: a fake helpdesk asking for a login
 * at `link`. `phisherIp` adds the Received lines our relay wrote when the phish came in (they name
 * our own relay, which the trust gate must recognise as a reported phish).
 */
export function phishEml(link: string, phisherIp?: string): string {
  const received =
    phisherIp === undefined
      ? []
      : [
          'Received: from relay1.mail2waf.test (relay1.mail2waf.test [10.20.0.5]) by mx.mail2waf.test (Postfix); Fri, 20 Nov 2026 09:00:01 +0000',
          `Received: from mail.phish.example (unknown [${phisherIp}]) by relay1.mail2waf.test (Postfix); Fri, 20 Nov 2026 09:00:00 +0000`,
        ];
  return [
    ...received,
    'From: "IT Helpdesk" <helpdesk@phish.example>',
    'To: alice@mail2waf.test',
    'Subject: Password expires today',
    'Message-ID: <p1@phish.example>',
    'Date: Fri, 20 Nov 2026 09:00:00 +0000',
    '',
    `Keep your mailbox: log in at http://${link}/owa`,
    '',
  ].join('\r\n');
}

/**
 * A user's "Report Phishing" forward: Alice's mail with the phish attached (phishEml(link)). Outside the trust gate
 * it is a reported phish, held for approval where HOLD_FOR_APPROVAL says so.
 */
export function reportedPhish(link: string, messageId?: string): Promise<Buffer> {
  return buildAdvisory({
    from: 'Alice <alice@mail2waf.test>',
    subject: 'Phishing report',
    text: 'Reported with the Report Phishing button.',
    attachments: [{ filename: 'phish.eml', content: phishEml(link), contentType: 'message/rfc822' }],
    ...(messageId ? { messageId } : {}),
  });
}
