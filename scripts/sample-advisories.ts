/** Builds realistic advisory messages (real MIME, via nodemailer's composer) for tests and the demo. */
import MailComposer from 'nodemailer/lib/mail-composer';
import { randomBytes } from 'node:crypto';

export interface AdvisoryOptions {
  subject: string;
  text?: string;
  html?: string;
  attachments?: { filename: string; content: string; contentType?: string }[];
  from?: string;
  messageId?: string;
}

export async function buildAdvisory(opts: AdvisoryOptions): Promise<Buffer> {
  const composer = new MailComposer({
    from: opts.from ?? 'CERT Advisories <advisories@cert.example>',
    to: 'advisories@mail2waf.test',
    subject: opts.subject,
    text: opts.text,
    html: opts.html,
    attachments: opts.attachments,
    messageId: opts.messageId ?? `<${randomBytes(6).toString('hex')}@cert.example>`,
    date: new Date('2026-11-20T10:00:00Z'),
  });
  return (await composer.compile().build()) as Buffer;
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
