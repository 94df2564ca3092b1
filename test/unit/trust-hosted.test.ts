/**
 * The trust gate on hosted mail (issue 12): Gmail / Google Workspace and Microsoft 365 deliveries with their
 * internal hops, the provider's own verdict (TRUSTED_AUTHSERV_IDS) used only when the gate can prove it was written
 * inside our organisation, and every place a sender could imitate the provider. Fixtures in test/fixtures/hosted/
 * (rebuilt by its generate.ts); time is the fixtures' own, so they never go stale.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  createTrustGate,
  findMtaRoute,
  loadDnsRecordsFile,
  nameKey,
  parseAuthResults,
  readHeaderFields,
  readMessageFacts,
  readProviderFacts,
  recordedClientName,
  staticResolver,
  traceMtaRoute,
} from '../../src/activities/authenticate';
import type { TrustConfig } from '../../src/policy/trust';
import { addReceived, buildAdvisory, signMessage, type DkimSettings } from '../../scripts/sample-advisories';
import { CERT_IP, FIXTURE_TIME, HOSTED_SETTINGS, OUTSIDER_IP } from '../fixtures/hosted/generate';

const dir = join(__dirname, '..', 'fixtures', 'hosted');
const fixture = (name: string) => readFileSync(join(dir, name));
const records = loadDnsRecordsFile(join(dir, 'dns-records.json'));
const resolver = staticResolver(records);
/** Ten minutes after the fixtures were sent. */
const now = () => FIXTURE_TIME.getTime() + 600_000;

function trustOf(s: (typeof HOSTED_SETTINGS)['gmail'], over: Partial<TrustConfig> = {}): TrustConfig {
  return {
    trustedSenders: [s.TRUSTED_SENDERS],
    mtaHosts: s.MTA_HOSTS.split(','),
    trustedArcSealers: s.TRUSTED_ARC_SEALERS ? s.TRUSTED_ARC_SEALERS.split(',') : [],
    trustedAuthservIds: [s.TRUSTED_AUTHSERV_IDS],
    ...over,
  };
}
const gmail = trustOf(HOSTED_SETTINGS.gmail);
const m365 = trustOf(HOSTED_SETTINGS.m365);
const gate = (trust: TrustConfig) => createTrustGate({ trust, resolver, now });

describe('Gmail / Google Workspace deliveries', () => {
  test('trusted: Google’s hand-offs skipped, the entry hop is mx.google.com’s line with cert.example’s server', async () => {
    const raw = fixture('gmail-trusted.eml');
    const { trace, facts } = await readMessageFacts(raw, gmail.mtaHosts, gmail.trustedAuthservIds);
    expect(trace.hops.filter((h) => h.role !== 'sender').map((h) => [h.role, h.by, h.ip])).toEqual([
      ['handoff', '2002:a05:7300:7b8f:b0:1a2:3b4c:5d6e', undefined],
      ['entry', 'mx.google.com', CERT_IP],
    ]);
    expect(facts.route).toMatchObject({ by: 'mx.google.com', ip: CERT_IP, mailFrom: 'advisories@cert.example' });
    // Gmail writes its Authentication-Results under its entry line: position cannot prove it, so only the sealed
    // ARC-Authentication-Results above the entry hop is the provider's verdict.
    expect(facts.provider?.authResults).toBeUndefined();
    expect(facts.provider?.notes[0]).toMatch(/Authentication-Results by mx\.google\.com .* is below the entry hop/);
    expect(facts.provider?.arc).toMatchObject({ authservId: 'mx.google.com', instance: 1, dmarc: 'pass' });
    const { decision } = await gate(gmail)(raw);
    // Our own check passes (DKIM, and SPF at the real entry hop): that is the verdict, named as ours.
    expect(decision).toMatchObject({ trusted: true, code: 'trusted' });
  });

  test('tampered after signing and sent on by an outsider: Google saw it fail, and so do we', async () => {
    const { decision, auth } = await gate(gmail)(fixture('gmail-tampered.eml'));
    expect(auth?.dkim[0]).toMatchObject({ result: 'neutral', comment: 'body hash did not verify' });
    expect(auth?.arc).toMatchObject({ result: 'pass', sealer: 'google.com', dmarc: 'fail' });
    expect(decision).toMatchObject({ trusted: false, code: 'auth-failed' });
    expect(decision.reason).toMatch(/ARC-Authentication-Results by mx\.google\.com was not used: it says dmarc=fail/);
  });

  test('a forged mx.google.com verdict and Received line below the entry hop move nothing', async () => {
    const raw = fixture('gmail-forged-ar.eml');
    const { trace, facts } = await readMessageFacts(raw, gmail.mtaHosts, gmail.trustedAuthservIds);
    // The outsider HELOs as mail-sor-f41.google.com; Google recorded no such reverse-DNS name: not internal.
    const entry = trace.hops.find((h) => h.role === 'entry')!;
    expect(entry).toMatchObject({ ip: OUTSIDER_IP, helo: 'mail-sor-f41.google.com' });
    expect(entry.why).toMatch(/only claims to be "mail-sor-f41\.google\.com" in HELO, which any sender can say/);
    expect(facts.route?.ip).toBe(OUTSIDER_IP);
    expect(facts.provider?.authResults).toBeUndefined();
    const { decision } = await gate(gmail)(raw);
    expect(decision).toMatchObject({ trusted: false, code: 'auth-failed' });
  });
});

describe('Microsoft 365 deliveries', () => {
  test('trusted: the banner broke cert.example’s signature; Microsoft’s ARC set above the entry hop vouches', async () => {
    const raw = fixture('m365-trusted.eml');
    const { trace } = await readMessageFacts(raw, m365.mtaHosts, m365.trustedAuthservIds);
    expect(trace.hops.filter((h) => h.role !== 'sender').map((h) => [h.role, h.ip])).toEqual([
      ['internal', '::1'],
      ['entry', '2603:10b6:408:131::7'],
    ]);
    // Exchange's internal hops name their clients by HELO only, over public IPv6: the gate stops at the first one
    // (the safe direction: SPF then checks a Microsoft address and gives nothing, it never passes wrongly).
    expect(trace.hops.find((h) => h.role === 'entry')!.why).toMatch(/only claims to be .* in HELO/);
    const { decision, auth } = await gate(m365)(raw);
    expect(auth?.dkim[0]?.result).toBe('neutral');
    expect(auth?.dmarc.result).toBe('fail');
    expect(decision).toMatchObject({ trusted: true, code: 'trusted-provider' });
    expect(decision.reason).toMatch(
      /our own check did not confirm it .* but the provider's ARC set i=1 \(sealed by microsoft\.com, written by mx\.microsoft\.com above the entry hop\) says dmarc=pass for cert\.example/,
    );
  });

  test('tampered after Microsoft sealed it: the seal breaks, nothing vouches', async () => {
    const { decision, auth } = await gate(m365)(fixture('m365-tampered.eml'));
    expect(auth?.arc.result).toBe('fail');
    expect(decision).toMatchObject({ trusted: false, code: 'auth-failed' });
    expect(decision.reason).toMatch(/our check of the ARC set failed/);
  });

  test('a forged mx.microsoft.com verdict below the entry hop is the sender’s: auth-failed', async () => {
    const raw = fixture('m365-forged-ar.eml');
    const { facts } = await readMessageFacts(raw, m365.mtaHosts, m365.trustedAuthservIds);
    expect(facts.provider?.authResults).toBeUndefined();
    expect(facts.provider?.notes.join(' ')).toMatch(/mx\.microsoft\.com .* below the entry hop/);
    expect((await gate(m365)(raw)).decision).toMatchObject({ trusted: false, code: 'auth-failed' });
  });

  test('never weaker without the setting: no TRUSTED_AUTHSERV_IDS, the banner-broken advisory fails', async () => {
    const plain = gate({ ...m365, trustedAuthservIds: [] });
    expect((await plain(fixture('m365-trusted.eml'))).decision.code).toBe('auth-failed');
    // The provider in TRUSTED_ARC_SEALERS keeps its meaning from before (forwarders, sealed anywhere): trusted-arc.
    const sealer = gate({ ...m365, trustedAuthservIds: [], trustedArcSealers: ['microsoft.com'] });
    expect((await sealer(fixture('m365-trusted.eml'))).decision.code).toBe('trusted-arc');
    // A configured id with a seal by some other domain: not the provider's verdict.
    const otherId = gate({ ...m365, trustedAuthservIds: ['mx.other.example'] });
    expect((await otherId(fixture('m365-trusted.eml'))).decision.code).toBe('auth-failed');
  });

  test('a tenant elsewhere that Microsoft sealed, relayed to us: the seal is below our entry hop, not used', async () => {
    // Someone's own Microsoft 365 tenant saw cert.example's advisory pass (its transport rules may have changed the
    // body before the seal), and relays the whole delivery through our own MTA.
    const relayed = addReceived(fixture('m365-trusted.eml'), {
      by: 'mx.mail2waf.test',
      ip: OUTSIDER_IP,
      helo: 'mail.tenant.example',
      mailFrom: 'advisories@cert.example',
      for: 'advisories@mail2waf.test',
    });
    const ours: TrustConfig = { ...m365, mtaHosts: ['mx.mail2waf.test'] };
    const { decision } = await gate(ours)(relayed);
    expect(decision.code).toBe('auth-failed');
    expect(decision.reason).toMatch(/newest ARC set \(i=1\) is below the entry hop/);
  });

  test('an old delivery is a replay even when the provider vouches: stale-advisory', async () => {
    const later = createTrustGate({ trust: m365, resolver, now: () => FIXTURE_TIME.getTime() + 8 * 86_400_000 });
    expect((await later(fixture('m365-trusted.eml'))).decision.code).toBe('stale-advisory');
  });
});

describe('the entry hop in a chain of internal hops', () => {
  const crlf = (...lines: string[]) => Buffer.from([...lines, '', 'b'].join('\r\n'));
  const trace = (hosts: string[], ...lines: string[]) => traceMtaRoute(readHeaderFields(crlf(...lines)), hosts);

  test('the reverse-DNS name our hop recorded is trusted; the HELO is not', () => {
    expect(recordedClientName('from x (mail-sor-f41.google.com. [209.85.220.41]) by mx.google.com; d')).toBe(
      'mail-sor-f41.google.com',
    );
    expect(recordedClientName('from mail.x.example ([192.0.2.7] helo=other) by mx.example; d')).toBe('mail.x.example'); // Exim
    expect(recordedClientName('from a.google.com (unknown [198.51.100.66]) by mx.google.com; d')).toBeUndefined();
    expect(recordedClientName('from a.google.com (a.google.com [198.51.100.66] (may be forged)) by mx; d')).toBe(
      undefined,
    );
    expect(recordedClientName('from a.prod.outlook.com (2603:10b6::1) by b.prod.outlook.com; d')).toBeUndefined();
    // A HELO that imitates the comment: two comments name addresses, so there is no recorded name at all.
    expect(
      recordedClientName('from x (a.google.com [198.51.100.66]) (unknown [198.51.100.66]) by mx.google.com; d'),
    ).toBeUndefined();
    expect(recordedClientName('from [192.0.2.7] ([192.0.2.7]) by mx; d')).toBeUndefined();
  });

  test('an internal hop proven by its recorded reverse-DNS name, confirmed by our DNS, is followed to the entry', () => {
    const t = traceMtaRoute(
      readHeaderFields(
        crlf(
          'Received: by 2002:a05:6a10:a10c:b0:4f5:2a38:4a3a with SMTP id k1; d',
          'Received: from mail-sor-f41.google.com (mail-sor-f41.google.com. [209.85.220.41]) by mx.google.com with SMTPS id x; d',
          'Received: from mail.cert.example (mail.cert.example. [203.0.113.25]) by smtp-relay.google.com with ESMTPS id y; d',
          'Received: from forged (forged [192.0.2.99]) by mx.google.com; d',
        ),
      ),
      ['*.google.com'],
      new Set([nameKey('mail-sor-f41.google.com', '209.85.220.41')]),
    );
    expect(t.route).toMatchObject({ by: 'smtp-relay.google.com', ip: CERT_IP });
    expect(t.hops.map((h) => h.role)).toEqual(['handoff', 'internal', 'entry', 'sender']);
    expect(t.hops[1]!.why).toMatch(
      /reverse-DNS name mail-sor-f41\.google\.com, which matches \*\.google\.com and resolves back to that address/,
    );
  });

  test('a reverse-DNS name is the address owner’s to write: followed only when our DNS resolves it back', async () => {
    // The outsider sets the PTR of its own address to a Google name; the writer records it. Our DNS says that
    // name is not this address, so the entry hop stays the outsider's line, not the forged one below it.
    const message = (name: string, ip: string) =>
      crlf(
        `Received: from ${name} (${name}. [${ip}]) by mx.google.com with ESMTPS id a; d`,
        `Received: from mail.cert.example (mail.cert.example. [${CERT_IP}]) by smtp-relay.google.com with ESMTPS id b; d`,
        'From: advisories@cert.example',
      );
    const dns = staticResolver({
      'mail-sor-f41.google.com': { A: ['209.85.220.41'] },
      'evil.google.com': { A: ['192.0.2.1'] },
    });
    const forged = await readMessageFacts(message('evil.google.com', OUTSIDER_IP), ['*.google.com'], [], dns);
    expect(forged.facts.route?.ip).toBe(OUTSIDER_IP);
    expect(forged.trace.hops[0]!.why).toMatch(/evil\.google\.com does not resolve back to 198\.51\.100\.66/);
    const noRecord = await readMessageFacts(message('nx.google.com', OUTSIDER_IP), ['*.google.com'], [], dns);
    expect(noRecord.facts.route?.ip).toBe(OUTSIDER_IP);
    const real = await readMessageFacts(message('mail-sor-f41.google.com', '209.85.220.41'), ['*.google.com'], [], dns);
    expect(real.facts.route).toMatchObject({ by: 'smtp-relay.google.com', ip: CERT_IP });
    // Without a resolver (DNS-free callers) no name is confirmed.
    expect(
      (await readMessageFacts(message('mail-sor-f41.google.com', '209.85.220.41'), ['*.google.com'])).facts.route?.ip,
    ).toBe('209.85.220.41');
  });

  test('a forged internal-looking line below the entry hop never moves the entry hop', () => {
    // The outsider HELOs as a Microsoft host and writes, below, Microsoft accepting cert.example's server.
    const t = trace(
      m365.mtaHosts,
      `Received: from SA1PR11MB8643.namprd11.prod.outlook.com (${OUTSIDER_IP}) by BN2PEPF000044A9.mail.protection.outlook.com (10.167.243.154) with Microsoft SMTP Server; d`,
      `Received: from mail.cert.example (${CERT_IP}) by BN2PEPF000044A8.mail.protection.outlook.com (10.167.243.153) with Microsoft SMTP Server; d`,
    );
    expect(t.route?.ip).toBe(OUTSIDER_IP);
    // The same with a Postfix-style line and a Google name: still the outsider.
    const g = trace(
      ['*.google.com'],
      `Received: from mail-sor-f41.google.com (unknown [${OUTSIDER_IP}]) by mx.google.com; d`,
      `Received: from mail.cert.example (mail.cert.example. [${CERT_IP}]) by mx.google.com; d`,
    );
    expect(g.route?.ip).toBe(OUTSIDER_IP);
    // A HELO that imitates a recorded name leaves no name: the run ends at our real line.
    const i = trace(
      ['*.google.com'],
      `Received: from x (mail-sor-f41.google.com. [209.85.220.41]) (unknown [${OUTSIDER_IP}]) by mx.google.com; d`,
      `Received: from mail.cert.example (mail.cert.example. [${CERT_IP}]) by mx.google.com; d`,
    );
    expect(i.route).toBeUndefined();
    expect(i.problem).toMatch(/names 2 different client addresses/);
  });

  test('hand-offs recording no client are skipped only at the top, and only when ours or an address', () => {
    expect(
      trace(
        ['*.google.com'],
        'Received: by relay.other.example (Postfix, from userid 0) id 1; d',
        `Received: from a (a [${CERT_IP}]) by mx.google.com; d`,
      ).problem,
    ).toMatch(/topmost Received line that records a client was written by "mx\.google\.com"|written by/);
    expect(trace(['*.google.com'], 'Received: by 2002:a05::1 with SMTP id k1; d').problem).toMatch(/hand-offs only/);
    expect(
      findMtaRoute(readHeaderFields(crlf('Received: by relay.other.example with SMTP id 1; d')), ['*.google.com']),
    ).toEqual({ problem: 'the topmost Received line was written by "relay.other.example", not by one of them' });
  });
});

describe('a provider’s Authentication-Results above the entry hop (TRUSTED_AUTHSERV_IDS)', () => {
  const local: TrustConfig = {
    trustedSenders: ['cert.example'],
    mtaHosts: ['mx.mail2waf.test', 'filter.mail2waf.test'],
    trustedArcSealers: [],
    trustedAuthservIds: ['filter.mail2waf.test'],
  };
  const ar = (what: string) => `Authentication-Results: filter.mail2waf.test; ${what}`;
  const PASS = 'spf=pass smtp.mailfrom=advisories@cert.example; dmarc=pass (p=reject) header.from=cert.example';
  /** An unsigned advisory from an address SPF does not allow (our own check fails), with `above` over our line. */
  async function delivered(above: string[], below: string[] = []) {
    let raw = await buildAdvisory({
      subject: 'Advisory',
      text: 'Block 185.220.101.47.\n',
      sign: false,
      received: false,
      date: new Date(now() - 60_000),
    });
    if (below.length > 0) raw = Buffer.concat([Buffer.from(`${below.join('\r\n')}\r\n`), raw]);
    raw = addReceived(raw, {
      by: 'mx.mail2waf.test',
      ip: OUTSIDER_IP,
      helo: 'mail.cert.example',
      mailFrom: 'advisories@cert.example',
      for: 'advisories@mail2waf.test',
    });
    return above.length > 0 ? Buffer.concat([Buffer.from(`${above.join('\r\n')}\r\n`), raw]) : raw;
  }

  test('parsing: authserv-id, version, comments with semicolons; Microsoft’s id-less field gives nothing', () => {
    expect(
      parseAuthResults('mx.microsoft.com 1; dmarc=pass (p=reject; sp=none) action=none header.from=Cert.Example', 3),
    ).toEqual({ authservId: 'mx.microsoft.com', field: 3, dkim: [], dmarc: 'pass', dmarcFrom: 'cert.example' });
    expect(parseAuthResults('spf=pass (sender IP is 1.2.3.4) smtp.mailfrom=cert.example; dmarc=pass', 1)).toBe(
      undefined,
    );
    expect(parseAuthResults('i=2; mx.google.com; dkim=pass header.i=@cert.example', 1, true)).toMatchObject({
      instance: 2,
      dkim: [{ result: 'pass', domain: 'cert.example' }],
    });
  });

  test('written above the entry hop by a configured authserv-id, saying dmarc=pass for the From domain: trusted-provider', async () => {
    const { decision, auth } = await createTrustGate({ trust: local, resolver, now })(await delivered([ar(PASS)]));
    expect(auth?.spf.result).toBe('fail');
    expect(decision).toMatchObject({ trusted: true, code: 'trusted-provider' });
    expect(decision.reason).toMatch(
      /Authentication-Results by filter\.mail2waf\.test \(header field 1, above the entry hop\)/,
    );
  });

  test('the same verdict below the entry hop, or without the setting, or for another domain: not used', async () => {
    const g = createTrustGate({ trust: local, resolver, now });
    const below = await g(await delivered([], [ar(PASS)]));
    expect(below.decision.code).toBe('auth-failed');
    expect(below.decision.reason).toMatch(
      /no Authentication-Results by filter\.mail2waf\.test above the entry hop \(.*below the entry hop/,
    );
    const unset = createTrustGate({ trust: { ...local, trustedAuthservIds: [] }, resolver, now });
    expect((await unset(await delivered([ar(PASS)]))).decision.code).toBe('auth-failed');
    for (const from of ['sub.cert.example', 'cert.example.evil.example', 'evil.example']) {
      const other = await g(await delivered([ar(PASS.replace('header.from=cert.example', `header.from=${from}`))]));
      expect(other.decision.code).toBe('auth-failed');
      expect(other.decision.reason).toMatch(/its dmarc=pass is for header\.from=/);
    }
    // Another authserv-id above the entry hop (a sender cannot write there, but it is not the one configured).
    const otherId = await g(await delivered([`Authentication-Results: mx.other.example; ${PASS}`]));
    expect(otherId.decision.code).toBe('auth-failed');
  });

  test('only the topmost field of the authserv-id counts', async () => {
    const g = createTrustGate({ trust: local, resolver, now });
    const r = await g(await delivered([ar('dmarc=fail header.from=cert.example'), ar(PASS)]));
    expect(r.decision.code).toBe('auth-failed');
    expect(r.decision.reason).toMatch(/it says dmarc=fail/);
  });

  test('a field cannot vouch for a body changed after it: our broken signature check refuses it', async () => {
    const key = (await import('node:crypto')).generateKeyPairSync('rsa', { modulusLength: 1024 });
    const pem = key.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    const txt = `v=DKIM1; k=rsa; p=${key.publicKey.export({ type: 'spki', format: 'der' }).toString('base64')}`;
    const dkim: DkimSettings = { domain: 'cert.example', selector: 'x1', privateKey: pem };
    const signed = await signMessage(
      await buildAdvisory({ subject: 'A', text: 'Block 185.220.101.47.\n', sign: false, received: false }),
      dkim,
    );
    const changed = Buffer.from(signed.toString('latin1').replace('185.220.101.47', '10.0.0.0/8'), 'latin1');
    const raw = Buffer.concat([
      Buffer.from(`${ar(PASS)}\r\n`),
      addReceived(changed, {
        by: 'mx.mail2waf.test',
        ip: OUTSIDER_IP,
        helo: 'mail.cert.example',
        mailFrom: 'advisories@cert.example',
        for: 'advisories@mail2waf.test',
      }),
    ]);
    const withKey = staticResolver({ ...records, 'x1._domainkey.cert.example': { TXT: [txt] } });
    const { decision } = await createTrustGate({ trust: local, resolver: withKey, now })(raw);
    expect(decision.code).toBe('auth-failed');
    expect(decision.reason).toMatch(/the message changed after the provider looked/);
  });
});

describe('hostile provider headers stay linear', () => {
  test('256 KB Authentication-Results and ARC fields of comments, semicolons and "i="', async () => {
    const big = (unit: string) => unit.repeat(Math.ceil(262_144 / unit.length));
    const fields = [
      `Authentication-Results: mx.google.com; ${big('(((;')}`,
      `Authentication-Results: mx.google.com; ${big('dkim=pass header.d=a; ')}`,
      `ARC-Authentication-Results: ${big('i=1; ')}`,
      `ARC-Seal: i=1; d=${big('a.')}`,
      `Received: from x (${big('a [192.0.2.1] ')}) by mx.google.com; d`,
    ];
    const raw = Buffer.from(`${fields.join('\r\n')}\r\nFrom: advisories@cert.example\r\n\r\nb`);
    // No clock here: a quadratic scan of these fields hangs past jest's timeout, which is the guard.
    const headers = readHeaderFields(raw);
    const t = traceMtaRoute(headers, gmail.mtaHosts);
    readProviderFacts(headers, t.entryIndex ?? headers.length, gmail.trustedAuthservIds!);
    expect(parseAuthResults(big('(((;'), 1)).toBeUndefined();
  });
});
