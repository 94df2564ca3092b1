/**
 * The trust gate end to end, offline: messages signed with mailauth's signer, verified by mailauth against an
 * injected static resolver, decided by the policy. Each adversarial case ends untrusted with its reason code.
 */
import { ApplicationFailure } from '@temporalio/common';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  createTrustGate,
  findMtaRoute,
  loadDnsRecordsFile,
  parseReceived,
  readHeaderFields,
  staticResolver,
  type DnsRecords,
  type DnsResolver,
} from '../../src/activities/authenticate';
import { ConfigError } from '../../src/config';
import type { TrustConfig } from '../../src/policy/trust';
import {
  addReceived,
  buildAdvisory,
  signMessage,
  type AdvisoryOptions,
  type DkimSettings,
  type ReceivedSettings,
  phishEml,
} from '../../scripts/sample-advisories';

// mailauth ships no type declarations; the ARC sealer is only needed here.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { sealMessage, authenticate } = require('mailauth') as {
  sealMessage(
    message: Buffer,
    seal: { signingDomain: string; selector: string; privateKey: string; authResults: string; cv: string },
  ): Promise<Buffer>;
  authenticate(message: Buffer, opts: object): Promise<{ arc: { authResults: string } }>;
};

function rsaKey() {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return {
    pem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    txt: `v=DKIM1; k=rsa; p=${publicKey.export({ type: 'spki', format: 'der' }).toString('base64')}`,
  };
}

const cert = rsaKey();
const lookAlike = rsaKey();
const lists = rsaKey();
const CERT_IP = '203.0.113.25';
const ATTACKER_IP = '198.51.100.66';

const records: DnsRecords = {
  's1._domainkey.cert.example': { TXT: [cert.txt] },
  'cert.example': { TXT: [`v=spf1 ip4:${CERT_IP} -all`] },
  '_dmarc.cert.example': { TXT: ['v=DMARC1; p=reject'] },
  // The attacker's look-alike domain authenticates perfectly: that must not matter.
  's1._domainkey.cert-example.com': { TXT: [lookAlike.txt] },
  'cert-example.com': { TXT: [`v=spf1 ip4:${ATTACKER_IP} -all`] },
  '_dmarc.cert-example.com': { TXT: ['v=DMARC1; p=reject'] },
  'arc._domainkey.lists.example': { TXT: [lists.txt] },
  'lists.example': { TXT: ['v=spf1 ip4:192.0.2.44 -all'] },
};

const trust: TrustConfig = {
  trustedSenders: ['cert.example'],
  mtaHosts: ['mx.mail2waf.test'],
  trustedArcSealers: ['lists.example'],
};

const certKey: DkimSettings = { domain: 'cert.example', selector: 's1', privateKey: cert.pem };
const viaCertServer: ReceivedSettings = {
  by: 'mx.mail2waf.test',
  ip: CERT_IP,
  helo: 'mail.cert.example',
  mailFrom: 'advisories@cert.example',
  for: 'advisories@mail2waf.test',
};
const viaAttacker: ReceivedSettings = { ...viaCertServer, ip: ATTACKER_IP, helo: 'mail.cert.example' };

const advisoryText = 'Block the C2 server 185.220.101.47 and 45.133.1.20.\n';

function advisory(over: Partial<AdvisoryOptions> = {}) {
  return buildAdvisory({
    subject: 'TLP:CLEAR Advisory 2026-114',
    text: advisoryText,
    sign: certKey,
    received: viaCertServer,
    ...over,
  });
}

const gate = createTrustGate({ trust, resolver: staticResolver(records) });

async function check(raw: Buffer) {
  return gate(raw);
}

describe('Received lines', () => {
  test('Postfix, Exim, Sendmail and Microsoft formats give the client IP our MTA saw', () => {
    expect(
      parseReceived(
        'from mail.cert.example (mail.cert.example [203.0.113.25]) by mx.mail2waf.test (Postfix) with ESMTPS id 4AbC for <a@b>; Fri, 20 Nov 2026 10:00:02 +0000',
      ),
    ).toEqual({ by: 'mx.mail2waf.test', ip: '203.0.113.25', helo: 'mail.cert.example' });
    expect(
      parseReceived(
        'from mail.cert.example ([203.0.113.25] helo=smtp.cert.example) by mx.mail2waf.test with esmtps (TLS1.3) (Exim 4.96) (envelope-from <bounce@cert.example>) id 1x; Fri, 20 Nov 2026',
      ),
    ).toEqual({
      by: 'mx.mail2waf.test',
      ip: '203.0.113.25',
      helo: 'smtp.cert.example',
      envelopeFrom: 'bounce@cert.example',
    });
    expect(parseReceived('from [203.0.113.25] (helo=x.example) by mx.mail2waf.test with esmtp; d').ip).toBe(
      '203.0.113.25',
    );
    expect(parseReceived('from h (unknown [IPv6:2001:db8::25]) by MX.mail2waf.test. (Postfix); d')).toMatchObject({
      by: 'mx.mail2waf.test',
      ip: '2001:db8::25',
    });
    expect(
      parseReceived('from a.outlook.com (2603:10a6:20b:2::5) by b.outlook.com (2603:10a6::1) with SMTP; d').ip,
    ).toBe('2603:10a6:20b:2::5');
  });

  test('comments between the clauses are not read as the by-clause', () => {
    expect(
      parseReceived(
        'from mail.cert.example (mail.cert.example [203.0.113.25]) (using TLSv1.3 with cipher X (256/256 bits)) (Authenticated sender: by mx.mail2waf.test) by relay.other.test (Postfix); d',
      ).by,
    ).toBe('relay.other.test');
  });

  test('an address literal in HELO (chosen by the client) does not replace the address our MTA recorded', () => {
    expect(parseReceived('from [203.0.113.25] (unknown [198.51.100.66]) by mx.mail2waf.test (Postfix); d').ip).toBe(
      '198.51.100.66',
    );
  });

  test('the topmost line by one of our hosts wins; lines below it are the sender’s to invent', () => {
    const raw = Buffer.from(
      [
        'Return-Path: <attacker@evil.example>',
        'Received: from mail.cert.example (unknown [198.51.100.66]) by mx.mail2waf.test (Postfix); d',
        'Return-Path: <advisories@cert.example>',
        'Received: from mail.cert.example (mail.cert.example [203.0.113.25]) by mx.mail2waf.test (Postfix); d',
        'From: advisories@cert.example',
        '',
        'body',
      ].join('\r\n'),
    );
    expect(findMtaRoute(readHeaderFields(raw), ['mx.mail2waf.test'])).toEqual({
      route: {
        by: 'mx.mail2waf.test',
        ip: '198.51.100.66',
        helo: 'mail.cert.example',
        mailFrom: 'attacker@evil.example',
      },
    });
    // The sender's own Return-Path (below our line) is never taken for MAIL FROM.
    const noRp = Buffer.from(
      'Received: from x (x [198.51.100.66]) by mx.mail2waf.test; d\r\nReturn-Path: <advisories@cert.example>\r\n\r\nb',
    );
    expect(findMtaRoute(readHeaderFields(noRp), ['mx.mail2waf.test']).route?.mailFrom).toBeUndefined();
    expect(findMtaRoute(readHeaderFields(noRp), ['mx.other.test'])).toEqual({
      problem: 'the topmost Received line was written by "mx.mail2waf.test", not by one of them',
    });
    expect(findMtaRoute(readHeaderFields(Buffer.from('From: a@b.example\r\n\r\nb')), ['mx.other.test'])).toEqual({
      problem: 'none of them wrote a Received line in it',
    });
  });
});

describe('static DNS records', () => {
  test('a missing name is ENOTFOUND, a missing type ENODATA; long TXT values come back in chunks', async () => {
    const r: DnsResolver = staticResolver({ 'A.example.': { TXT: ['x'.repeat(300)], A: ['192.0.2.1'] } });
    await expect(r('nope.example', 'TXT')).rejects.toMatchObject({ code: 'ENOTFOUND' });
    await expect(r('a.example', 'MX')).rejects.toMatchObject({ code: 'ENODATA' });
    expect(await r('a.example.', 'A')).toEqual(['192.0.2.1']);
    const txt = (await r('A.EXAMPLE', 'txt')) as string[][];
    expect(txt[0]!.map((c) => c.length)).toEqual([255, 45]);
  });

  test('a bad records file is a ConfigError naming DNS_RECORDS_FILE', () => {
    const dir = mkdtempSync(join(tmpdir(), 'm2w-dns-'));
    writeFileSync(join(dir, 'bad.json'), '{"records": {"a.example": {"TXT": "not a list"}}}');
    writeFileSync(join(dir, 'junk.json'), 'not json');
    writeFileSync(join(dir, 'ok.json'), JSON.stringify({ records }));
    expect(() => loadDnsRecordsFile(join(dir, 'bad.json'))).toThrow(ConfigError);
    expect(() => loadDnsRecordsFile(join(dir, 'junk.json'))).toThrow(/DNS_RECORDS_FILE=.*junk.json cannot be read/);
    expect(() => loadDnsRecordsFile(join(dir, 'missing.json'))).toThrow(/DNS_RECORDS_FILE/);
    expect(Object.keys(loadDnsRecordsFile(join(dir, 'ok.json')))).toContain('cert.example');
  });
});

describe('the trust gate on signed messages', () => {
  test('control: a signed advisory from the trusted domain through our MTA is trusted', async () => {
    const { decision, auth } = await check(await advisory());
    expect(decision).toMatchObject({ trusted: true, code: 'trusted' });
    expect(auth?.dkim[0]).toMatchObject({ domain: 'cert.example', result: 'pass', aligned: true, wholeBody: true });
    expect(auth?.spf.result).toBe('pass');
    expect(auth?.dmarc.result).toBe('pass');
  });

  test('a trusted From with no signature, sent from elsewhere: auth-failed', async () => {
    const { decision, auth } = await check(await advisory({ sign: false, received: viaAttacker }));
    expect(decision).toMatchObject({ trusted: false, code: 'auth-failed' });
    expect(auth?.dkim).toEqual([]);
    expect(auth?.spf.result).toBe('fail');
    expect(auth?.dmarc.result).toBe('fail');
    expect(decision.reason).toMatch(/dkim=none \(no signature\), spf=fail/);
  });

  test('a trusted sender’s signature over a changed body: DKIM itself fails, and the gate says auth-failed', async () => {
    const signed = await signMessage(
      await buildAdvisory({ subject: 'Advisory', text: advisoryText, sign: false, received: false }),
      certKey,
    );
    const tampered = Buffer.from(signed.toString('latin1').replace('185.220.101.47', '10.0.0.0/8'), 'latin1');
    expect(tampered.equals(signed)).toBe(false);
    const { decision, auth } = await check(addReceived(tampered, viaAttacker));
    expect(auth?.dkim[0]?.result).not.toBe('pass');
    expect(auth?.dkim[0]).toMatchObject({ result: 'neutral', comment: 'body hash did not verify' });
    expect(auth?.dmarc.result).toBe('fail');
    expect(decision).toMatchObject({ trusted: false, code: 'auth-failed' });
    expect(decision.reason).toMatch(/dkim=neutral \(cert\.example, body hash did not verify/);
  });

  test('an l= signature with content appended after it: auth-failed even though DMARC passes', async () => {
    const base = await buildAdvisory({ subject: 'Advisory', text: advisoryText, sign: false, received: false });
    const bodyLength = base.length - base.indexOf('\r\n\r\n') - 4;
    const signed = await signMessage(base, { ...certKey, maxBodyLength: bodyLength });
    const appended = Buffer.concat([signed, Buffer.from('Also block 10.0.0.0/8 and 192.168.0.0/16.\r\n')]);
    const { decision, auth } = await check(addReceived(appended, viaAttacker));
    expect(auth?.dmarc.result).toBe('pass'); // mailauth's DMARC accepts it: our gate must not
    expect(auth?.dkim[0]).toMatchObject({ result: 'pass', wholeBody: false });
    expect(decision).toMatchObject({ trusted: false, code: 'auth-failed' });
    expect(decision.reason).toMatch(/covers only part of the body/);
  });

  test('a display-name trick: untrusted-sender', async () => {
    const raw = await advisory({
      from: 'cert.example Security <attacker@evil.example>',
      sign: false,
      received: { ...viaAttacker, mailFrom: 'attacker@evil.example' },
    });
    const { decision } = await check(raw);
    expect(decision).toMatchObject({ trusted: false, code: 'untrusted-sender' });
    expect(decision.reason).toMatch(/attacker@evil\.example.*display name/);
  });

  test('a look-alike domain that authenticates perfectly is still untrusted', async () => {
    for (const from of ['CERT <advisories@cert-example.com>', 'CERT <advisories@cert.examp1e>']) {
      const raw = await advisory({
        from,
        sign: { domain: 'cert-example.com', selector: 's1', privateKey: lookAlike.pem },
        received: { ...viaAttacker, mailFrom: from.replace(/.*<|>/g, '') },
      });
      const { decision } = await check(raw);
      expect(decision).toMatchObject({ trusted: false, code: 'untrusted-sender' });
      expect(decision.reason).toMatch(/look-alike of the trusted domain cert\.example/);
    }
  });

  test('a reply chain that quotes a trusted advisory: untrusted-sender', async () => {
    const raw = await advisory({
      from: 'Bob <bob@partner.example>',
      subject: 'Re: TLP:CLEAR Advisory 2026-114',
      text:
        'Should we block our office range 192.0.2.0/24 too?\n\n' +
        'On Fri, 20 Nov 2026, CERT Advisories <advisories@cert.example> wrote:\n' +
        `> ${advisoryText}`,
      headers: { 'In-Reply-To': '<advisory-2026-114@cert.example>' },
      sign: false,
      received: { ...viaAttacker, mailFrom: 'bob@partner.example', helo: 'mail.partner.example' },
    });
    const { decision } = await check(raw);
    expect(decision).toMatchObject({ trusted: false, code: 'untrusted-sender' });
  });

  test('a reported phish whose Received lines hold our relays: reported-phish', async () => {
    const phish = phishEml('45.9.148.3', '45.9.148.3');
    const attached = await advisory({
      from: 'Alice <alice@mail2waf.test>',
      subject: 'Phishing report: Password expires today',
      text: 'Reported with the Report Phishing button.\n',
      attachments: [{ filename: 'phish.eml', content: phish, contentType: 'message/rfc822' }],
      sign: false,
      received: { ...viaCertServer, ip: '10.20.0.9', helo: 'ws-alice.mail2waf.test', mailFrom: 'alice@mail2waf.test' },
    });
    const { decision } = await check(attached);
    expect(decision).toMatchObject({ trusted: false, code: 'reported-phish' });
    expect(decision.reason).toMatch(/phish\.eml/);

    const inline = await advisory({
      from: 'Alice <alice@mail2waf.test>',
      subject: 'Fwd: Password expires today',
      text: `FYI\n\n---------- Forwarded message ---------\n${phish}`,
      sign: false,
      received: { ...viaCertServer, ip: '10.20.0.9', helo: 'ws-alice.mail2waf.test', mailFrom: 'alice@mail2waf.test' },
    });
    expect((await check(inline)).decision.code).toBe('reported-phish');
  });

  test('a Received line forged by the sender below ours does not lend it the trusted server’s address', async () => {
    // The attacker writes what looks like our MTA accepting it from cert.example's server…
    const forged = addReceived(await advisory({ sign: false, received: false }), viaCertServer);
    // …and our MTA adds the real line on top, with the attacker's address.
    const { decision, auth } = await check(addReceived(forged, viaAttacker));
    expect(auth?.spf.result).toBe('fail');
    expect(decision).toMatchObject({ trusted: false, code: 'auth-failed' });
  });

  test('a second From header added above a valid signature: untrusted-sender', async () => {
    const signed = await signMessage(
      await buildAdvisory({ subject: 'Advisory', text: advisoryText, sign: false, received: false }),
      certKey,
    );
    const injected = Buffer.concat([Buffer.from('From: advisories@cert.example\r\n'), signed]);
    const { decision } = await check(addReceived(injected, viaCertServer));
    expect(decision).toMatchObject({ trusted: false, code: 'untrusted-sender' });
    expect(decision.reason).toMatch(/2 From headers/);
  });

  test('a second Content-Type above a valid signature: auth-failed', async () => {
    const signed = await signMessage(
      await buildAdvisory({ subject: 'Advisory', text: advisoryText, sign: false, received: false }),
      certKey,
    );
    const text = signed.toString('latin1');
    const at = text.indexOf('\r\nFrom:') + 2;
    const injected = Buffer.from(`${text.slice(0, at)}Content-Type: text/html\r\n${text.slice(at)}`, 'latin1');
    const { decision } = await check(addReceived(injected, viaCertServer));
    expect(decision).toMatchObject({ trusted: false, code: 'auth-failed' });
    expect(decision.reason).toMatch(/repeats the content-type header/);
  });

  test('a valid message that never passed through our MTA: not-via-mta', async () => {
    const { decision } = await check(await advisory({ received: false }));
    expect(decision).toMatchObject({ trusted: false, code: 'not-via-mta' });
    expect(decision.reason).toMatch(/MTA_HOSTS: mx\.mail2waf\.test/);
  });

  async function forwardedByList(sealer: string, key: string) {
    const original = await advisory({ received: false });
    const seen = await authenticate(original, {
      ip: CERT_IP,
      helo: 'mail.cert.example',
      sender: 'advisories@cert.example',
      mta: sealer,
      resolver: staticResolver(records),
      disableBimi: true,
    });
    // The list adds a footer (breaking the DKIM body hash), then seals what it saw.
    const modified = Buffer.concat([original, Buffer.from('-- \r\nlist footer\r\n')]);
    const seal = await sealMessage(modified, {
      signingDomain: sealer,
      selector: 'arc',
      privateKey: key,
      authResults: seen.arc.authResults,
      cv: 'none',
    });
    return addReceived(Buffer.concat([seal, modified]), {
      ...viaCertServer,
      ip: '192.0.2.44',
      helo: `mx.${sealer}`,
      mailFrom: `bounces@${sealer}`,
    });
  }

  test('ARC: forwarded by a trusted sealer that saw DMARC pass: trusted-arc', async () => {
    const { decision, auth } = await check(await forwardedByList('lists.example', lists.pem));
    expect(auth?.dkim[0]?.result).toBe('neutral');
    expect(auth?.dmarc.result).toBe('fail');
    expect(auth?.arc).toMatchObject({
      result: 'pass',
      sealer: 'lists.example',
      dmarc: 'pass',
      dmarcFrom: 'cert.example',
    });
    expect(decision).toMatchObject({ trusted: true, code: 'trusted-arc' });
  });

  test('ARC: the same forward through a sealer that is not trusted: auth-failed', async () => {
    const untrustedSealer = createTrustGate({
      trust: { ...trust, trustedArcSealers: [] },
      resolver: staticResolver(records),
    });
    const { decision } = await untrustedSealer(await forwardedByList('lists.example', lists.pem));
    expect(decision).toMatchObject({ trusted: false, code: 'auth-failed' });
  });

  test('a temporary DNS failure of the trusted domain throws a retryable DnsTemporaryError', async () => {
    const base = staticResolver(records);
    const flaky: DnsResolver = async (name, type) => {
      if (name.endsWith('cert.example')) throw Object.assign(new Error('timeout'), { code: 'ETIMEOUT' });
      return base(name, type);
    };
    const g = createTrustGate({ trust, resolver: flaky });
    const err = await g(await advisory()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApplicationFailure);
    expect(err).toMatchObject({ type: 'DnsTemporaryError', nonRetryable: false });
    expect((err as Error).message).toMatch(/failed temporarily/);
  });

  test('a slow DNS of a domain the sender chose cannot stall the sweep: it is a verdict', async () => {
    const base = staticResolver(records);
    const flaky: DnsResolver = async (name, type) => {
      if (name.endsWith('slow.example')) throw Object.assign(new Error('timeout'), { code: 'ETIMEOUT' });
      return base(name, type);
    };
    const raw = await advisory({
      sign: { domain: 'slow.example', selector: 's1', privateKey: lookAlike.pem },
      received: viaAttacker,
    });
    const { decision } = await createTrustGate({ trust, resolver: flaky })(raw);
    expect(decision).toMatchObject({ trusted: false, code: 'auth-failed' });
  });
});

describe('issue 10 on signed messages', () => {
  const lookAlikeKey: DkimSettings = { domain: 'cert-example.com', selector: 's1', privateKey: lookAlike.pem };
  const viaLookAlike: ReceivedSettings = {
    ...viaAttacker,
    mailFrom: 'a@cert-example.com',
    helo: 'mail.cert-example.com',
  };

  /** An unsigned advisory whose header section is rewritten by `edit`, then signed with `key`. */
  async function rewritten(edit: (head: string) => string, key: DkimSettings, over: Partial<AdvisoryOptions> = {}) {
    const base = await buildAdvisory({
      subject: 'Advisory',
      text: advisoryText,
      from: 'a@cert-example.com',
      sign: false,
      received: false,
      ...over,
    });
    const text = base.toString('latin1');
    const end = text.indexOf('\r\n\r\n');
    return signMessage(Buffer.from(edit(text.slice(0, end)) + text.slice(end), 'latin1'), key);
  }

  test('a From with a nested comment: the outsider’s signature and DMARC pass are not the trusted sender’s', async () => {
    // nodemailer reads advisories@cert.example; mailauth (its own bundled parser) reads a@cert-example.com and
    // computes DKIM alignment and DMARC for it. Before the fix the gate said "trusted".
    const raw = await rewritten(
      (h) => h.replace(/^From: .*$/m, 'From: (c (d) <a@cert-example.com>) advisories@cert.example'),
      lookAlikeKey,
    );
    const { decision, auth } = await check(addReceived(raw, viaLookAlike));
    expect(decision).toMatchObject({ trusted: false, code: 'ambiguous-headers' });
    expect(decision.reason).toMatch(/comment in From holds/);
    expect(auth).toBeUndefined(); // refused before verification
  });

  test('a header section two readers split differently: ambiguous-headers', async () => {
    // Lenient readers end the header section at the colonless line and take the VT-led line for a From field;
    // mailauth folds the VT line into X-A and reads on to the outsider's signed From.
    const signed = await rewritten((h) => h, lookAlikeKey);
    const raw = Buffer.concat([
      Buffer.from('X-A: 1\r\n\vFrom: advisories@cert.example\r\nno colon here\r\n', 'latin1'),
      signed,
    ]);
    const { decision } = await check(addReceived(raw, viaLookAlike));
    expect(decision).toMatchObject({ trusted: false, code: 'ambiguous-headers' });
    expect(decision.reason).toMatch(/line 6 holds the control character 0x0b.*line 7 is not a header field/);
  });

  test('more than 8 DKIM-Signature fields: too-many-signatures, without running verification', async () => {
    let raw = await advisory({ sign: false, received: false });
    for (let i = 0; i < 9; i++) raw = await signMessage(raw, certKey);
    const { decision, auth } = await check(addReceived(raw, viaCertServer));
    expect(decision).toMatchObject({ trusted: false, code: 'too-many-signatures' });
    expect(auth).toBeUndefined();
  });

  test('a trusted sender forwarding a phish inline is a reported phish, not a trusted advisory', async () => {
    for (const over of [
      { subject: 'Fwd: Password expires today' },
      { text: `FYI\n\n---------- Forwarded message ---------\n${phishEml('45.9.148.3', '45.9.148.3')}` },
      { html: `<p>FYI</p><div>-----Original Message-----<br>\nFrom: helpdesk@phish.example</div>` },
    ]) {
      const { decision } = await check(await advisory(over));
      expect(decision).toMatchObject({ trusted: false, code: 'reported-phish' });
    }
  });

  test('a signed advisory replayed after MAX_ADVISORY_AGE: stale-advisory; the message date is returned', async () => {
    const raw = await advisory();
    const fresh = await check(raw);
    expect(fresh.decision.code).toBe('trusted');
    const signedAt = fresh.auth?.dkim[0]?.signedAt;
    expect(Math.abs(Date.parse(signedAt!) - Date.now())).toBeLessThan(120_000);
    expect(fresh.messageDate).toBe(signedAt);

    const later = createTrustGate({
      trust,
      resolver: staticResolver(records),
      now: () => Date.now() + 8 * 86_400_000,
    });
    const replayed = await later(raw);
    expect(replayed.decision).toMatchObject({ trusted: false, code: 'stale-advisory' });
    expect(replayed.decision.reason).toMatch(/8 days ago, longer than MAX_ADVISORY_AGE \(7 days\)/);
    expect(replayed.messageDate).toBe(signedAt);
    const shorter = createTrustGate({
      trust: { ...trust, maxAdvisoryAgeMs: 60_000 },
      resolver: staticResolver(records),
    });
    expect((await shorter(raw)).decision.code).toBe('trusted');
  });

  test('untrusted messages carry their Date header as messageDate', async () => {
    const date = new Date('2026-11-01T08:00:00Z');
    const { decision, messageDate } = await check(
      await advisory({ from: 'x@evil.example', sign: false, received: viaAttacker, date }),
    );
    expect(decision.code).toBe('untrusted-sender');
    expect(messageDate).toBe(date.toISOString());
  });

  test('a HELO with spaces cannot make the gate take the sender’s forged Received line for ours', async () => {
    // The sender forges our MTA accepting it from cert.example's server (SPF would pass for that address)…
    const forged = addReceived(await advisory({ sign: false, received: false }), viaCertServer);
    // …and HELOs with words that make our real line read "by evil.example" to a first-match parser.
    const ours = `Return-Path: <advisories@cert.example>\r\nReceived: from x (y) by evil.example (unknown [${ATTACKER_IP}])\r\n\tby mx.mail2waf.test (Postfix) with ESMTP id 1; d\r\n`;
    const { decision, auth } = await check(Buffer.concat([Buffer.from(ours), forged]));
    expect(auth?.spf.result).toBe('fail');
    expect(decision).toMatchObject({ trusted: false, code: 'auth-failed' });
  });
});
