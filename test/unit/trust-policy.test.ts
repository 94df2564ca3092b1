/** The pure trust decision (src/policy/trust.ts): sender matching, look-alikes and every branch of the gate. */
import {
  decideTrust,
  lookAlikeOf,
  matchHost,
  normalizeHostPattern,
  matchTrustedSender,
  normalizeTrustedSender,
  screenMessage,
  splitAddress,
  type AuthResults,
  type MessageFacts,
  type TrustConfig,
} from '../../src/policy/trust';

const config: TrustConfig = {
  trustedSenders: ['cert.example', 'alerts@vendor.example', '*.isac.example'],
  mtaHosts: ['mx.mail2waf.test'],
  trustedArcSealers: ['lists.example'],
};

const route = { by: 'mx.mail2waf.test', ip: '203.0.113.25', helo: 'mail.cert.example', mailFrom: 'a@cert.example' };

/** The time the decisions are made at; signatures in the helpers below were made an hour before. */
const NOW = Date.parse('2026-11-20T11:00:00Z');
const SIGNED_AT = '2026-11-20T10:00:00.000Z';

function facts(over: Partial<MessageFacts> = {}, address = 'advisories@cert.example', name = 'CERT'): MessageFacts {
  return {
    from: { headerCount: 1, addresses: [{ address, name }] },
    attachedMessages: [],
    forwardedInline: false,
    duplicateHeaders: [],
    presentHeaders: ['from', 'to', 'subject', 'date', 'message-id', 'content-type', 'dkim-signature', 'received'],
    route,
    headerProblems: [],
    dkimSignatureCount: 1,
    date: SIGNED_AT,
    ...over,
  };
}

const signedHeaders = ['content-type', 'date', 'message-id', 'subject', 'to', 'from'];

function auth(over: Partial<AuthResults> = {}): AuthResults {
  return {
    headerFrom: ['advisories@cert.example'],
    dkim: [
      { domain: 'cert.example', result: 'pass', aligned: true, wholeBody: true, signedHeaders, signedAt: SIGNED_AT },
    ],
    spf: { result: 'pass', domain: 'cert.example' },
    dmarc: { result: 'pass', policy: 'reject', dkimAligned: true, spfAligned: true, domain: 'cert.example' },
    arc: { result: 'none' },
    ...over,
  };
}

describe('TRUSTED_SENDERS entries', () => {
  test('addresses, domains and *.domain are canonicalised; anything else is refused', () => {
    expect(normalizeTrustedSender(' CERT.Example. ')).toBe('cert.example');
    expect(normalizeTrustedSender('Alerts@Vendor.Example')).toBe('alerts@vendor.example');
    expect(normalizeTrustedSender('*.ISAC.example')).toBe('*.isac.example');
    for (const bad of ['', 'not a domain', 'a@b@c.example', '@cert.example', '*.', 'http://x.example', 'x@localhost']) {
      expect(normalizeTrustedSender(bad)).toBeUndefined();
    }
  });

  test('a domain trusts its addresses only, an address only itself, *.domain only subdomains', () => {
    const t = config.trustedSenders;
    expect(matchTrustedSender('Advisories@CERT.example', t)).toBe('cert.example');
    expect(matchTrustedSender('x@sub.cert.example', t)).toBeUndefined();
    expect(matchTrustedSender('alerts@vendor.example', t)).toBe('alerts@vendor.example');
    expect(matchTrustedSender('sales@vendor.example', t)).toBeUndefined();
    expect(matchTrustedSender('a@eu.isac.example', t)).toBe('*.isac.example');
    expect(matchTrustedSender('a@isac.example', t)).toBeUndefined();
    // Parsers disagree on the domain of such forms (mailauth's DMARC takes the part after the first @).
    expect(matchTrustedSender('advisories@cert.example@evil.example', t)).toBeUndefined();
    expect(splitAddress('a@b@c.example')).toBeUndefined();
  });

  test('look-alike domains are recognised, the real domain and its subdomains are not', () => {
    const t = config.trustedSenders;
    expect(lookAlikeOf('cert-example.com', t)).toBe('cert.example');
    expect(lookAlikeOf('cert.examp1e', t)).toBe('cert.example');
    expect(lookAlikeOf('cеrt.example', t)).toBe('cert.example'); // Cyrillic е
    expect(lookAlikeOf('cert.exarnple', t)).toBe('cert.example'); // rn for m
    expect(lookAlikeOf('vendor.exampIe', t)).toBe('vendor.example');
    expect(lookAlikeOf('cert.example', t)).toBeUndefined();
    expect(lookAlikeOf('mail.cert.example', t)).toBeUndefined();
    expect(lookAlikeOf('unrelated.org', t)).toBeUndefined();
  });
});

describe('screenMessage (no DNS needed)', () => {
  test('an attached message is a reported phish, whoever sends it', () => {
    for (const f of [
      facts({ attachedMessages: ['phish.eml'] }),
      facts({ attachedMessages: ['x.eml'] }, 'alice@mail2waf.test'),
    ]) {
      const d = screenMessage(f, config)!;
      expect(d).toMatchObject({ trusted: false, code: 'reported-phish' });
      expect(d.reason).toMatch(/attached message \(.*\.eml\).*approval/);
    }
  });

  test('an untrusted sender forwarding inline is a reported phish; otherwise an untrusted sender', () => {
    expect(screenMessage(facts({ forwardedInline: true }, 'alice@mail2waf.test'), config)?.code).toBe('reported-phish');
    expect(screenMessage(facts({}, 'alice@mail2waf.test'), config)?.code).toBe('untrusted-sender');
  });

  test('display-name tricks are named in the reason, and never trusted', () => {
    const d = screenMessage(facts({}, 'attacker@evil.example', 'cert.example Security'), config)!;
    expect(d).toMatchObject({ trusted: false, code: 'untrusted-sender' });
    expect(d.reason).toContain('"attacker@evil.example" is not on TRUSTED_SENDERS');
    expect(d.reason).toMatch(/display name "cert.example Security" imitates a trusted sender/);
    const d2 = screenMessage(facts({}, 'attacker@evil.example', 'advisories@cert.example'), config)!;
    expect(d2.reason).toMatch(/imitates a trusted sender/);
  });

  test('a look-alike domain is untrusted, with a hint', () => {
    for (const address of ['advisories@cert-example.com', 'advisories@cert.examp1e']) {
      const d = screenMessage(facts({}, address), config)!;
      expect(d.code).toBe('untrusted-sender');
      expect(d.reason).toMatch(/look-alike of the trusted domain cert\.example/);
    }
  });

  test('no From, two From headers, two authors: untrusted', () => {
    const none = facts({ from: { headerCount: 0, addresses: [] } });
    const two = facts({
      from: {
        headerCount: 2,
        addresses: [
          { address: 'advisories@cert.example', name: '' },
          { address: 'attacker@evil.example', name: '' },
        ],
      },
    });
    const pair = facts({
      from: {
        headerCount: 1,
        addresses: [
          { address: 'advisories@cert.example', name: '' },
          { address: 'attacker@evil.example', name: '' },
        ],
      },
    });
    expect(screenMessage(none, config)?.reason).toMatch(/no From header/);
    expect(screenMessage(two, config)?.reason).toMatch(/2 From headers/);
    expect(screenMessage(pair, config)?.reason).toMatch(/names 2 addresses/);
    for (const f of [none, two, pair]) expect(screenMessage(f, config)?.code).toBe('untrusted-sender');
  });

  test('a trusted sender with duplicated singleton headers fails authentication', () => {
    const d = screenMessage(facts({ duplicateHeaders: ['content-type'] }), config)!;
    expect(d).toMatchObject({ trusted: false, code: 'auth-failed' });
    expect(d.reason).toMatch(/repeats the content-type header/);
  });

  test('a trusted sender without our MTA’s Received line is not-via-mta', () => {
    const d = screenMessage(
      facts({ route: undefined, routeProblem: 'none of them wrote a Received line in it' }),
      config,
    )!;
    expect(d).toMatchObject({ trusted: false, code: 'not-via-mta' });
    expect(d.reason).toMatch(/MTA_HOSTS: mx\.mail2waf\.test/);
  });

  test('a trusted sender through our MTA goes on to authentication', () => {
    expect(screenMessage(facts(), config)).toBeUndefined();
  });
});

describe('decideTrust', () => {
  test('DMARC pass with aligned whole-body DKIM: trusted', () => {
    const d = decideTrust(facts(), auth(), config, NOW);
    expect(d).toMatchObject({ trusted: true, code: 'trusted' });
    expect(d.reason).toMatch(/dkim=pass \(cert\.example, aligned\).*dmarc=pass/);
  });

  test('DMARC pass through aligned SPF alone: trusted', () => {
    const d = decideTrust(
      facts(),
      auth({ dkim: [], dmarc: { result: 'pass', dkimAligned: false, spfAligned: true } }),
      config,
      NOW,
    );
    expect(d.code).toBe('trusted');
  });

  test('no signature and SPF fail: auth-failed, with the results in the sentence', () => {
    const d = decideTrust(
      facts(),
      auth({
        dkim: [],
        spf: { result: 'fail', domain: 'cert.example' },
        dmarc: { result: 'fail', policy: 'reject', dkimAligned: false, spfAligned: false },
      }),
      config,
      NOW,
    );
    expect(d).toMatchObject({ trusted: false, code: 'auth-failed' });
    expect(d.reason).toMatch(/no valid DKIM signature of cert\.example/);
    expect(d.reason).toMatch(/dkim=none \(no signature\), spf=fail/);
  });

  test('DKIM pass is not enough without DMARC pass (no DMARC record)', () => {
    const d = decideTrust(
      facts(),
      auth({ dmarc: { result: 'none', dkimAligned: false, spfAligned: false } }),
      config,
      NOW,
    );
    expect(d.code).toBe('auth-failed');
    expect(d.reason).toMatch(/publishes no DMARC record/);
  });

  test('a signature with l= that leaves body bytes unsigned does not count, even if DMARC says pass', () => {
    const d = decideTrust(
      facts(),
      auth({
        dkim: [{ domain: 'cert.example', result: 'pass', aligned: true, wholeBody: false, signedHeaders }],
        spf: { result: 'fail', domain: 'cert.example' },
        dmarc: { result: 'pass', dkimAligned: true, spfAligned: false },
      }),
      config,
      NOW,
    );
    expect(d.code).toBe('auth-failed');
    expect(d.reason).toMatch(/covers only part of the body/);
  });

  test('a signature that does not cover Content-Type does not count', () => {
    const d = decideTrust(
      facts(),
      auth({
        dkim: [{ domain: 'cert.example', result: 'pass', aligned: true, wholeBody: true, signedHeaders: ['from'] }],
        spf: { result: 'none' },
        dmarc: { result: 'pass', dkimAligned: true, spfAligned: false },
      }),
      config,
      NOW,
    );
    expect(d.code).toBe('auth-failed');
    expect(d.reason).toMatch(/does not cover the from, content-type header/);
  });

  test('a valid signature of another domain is not aligned: auth-failed', () => {
    const d = decideTrust(
      facts(),
      auth({
        dkim: [{ domain: 'evil.example', result: 'pass', aligned: false, wholeBody: true, signedHeaders }],
        spf: { result: 'softfail', domain: 'cert.example' },
        dmarc: { result: 'fail', dkimAligned: false, spfAligned: false },
      }),
      config,
      NOW,
    );
    expect(d.code).toBe('auth-failed');
  });

  test('ARC: a trusted sealer that saw DMARC pass makes a forwarded message trusted; others do not', () => {
    const forwarded = auth({
      dkim: [
        {
          domain: 'cert.example',
          result: 'neutral',
          comment: 'body hash did not verify',
          aligned: true,
          wholeBody: true,
          signedHeaders,
        },
      ],
      spf: { result: 'none', domain: 'lists.example' },
      dmarc: { result: 'fail', dkimAligned: false, spfAligned: false },
      arc: {
        result: 'pass',
        instance: 1,
        sealer: 'lists.example',
        signer: 'lists.example',
        dmarc: 'pass',
        dmarcFrom: 'cert.example',
        sealedAt: SIGNED_AT,
      },
    });
    expect(decideTrust(facts(), forwarded, config, NOW)).toMatchObject({ trusted: true, code: 'trusted-arc' });
    const otherSealer = {
      ...forwarded,
      arc: { ...forwarded.arc, sealer: 'forwarder.example', signer: 'forwarder.example' },
    };
    expect(decideTrust(facts(), otherSealer, config, NOW).code).toBe('auth-failed');
    const sawFail = { ...forwarded, arc: { ...forwarded.arc, dmarc: 'fail' } };
    expect(decideTrust(facts(), sawFail, config, NOW).code).toBe('auth-failed');
    const otherFrom = { ...forwarded, arc: { ...forwarded.arc, dmarcFrom: 'evil.example' } };
    expect(decideTrust(facts(), otherFrom, config, NOW).code).toBe('auth-failed');
    const broken = { ...forwarded, arc: { result: 'fail', comment: 'i=1 seal signature validation failed' } };
    expect(decideTrust(facts(), broken, config, NOW).code).toBe('auth-failed');
  });

  test('a temporary DNS failure of the sender’s domain is retryable, not a verdict', () => {
    const d = decideTrust(
      facts(),
      auth({
        dkim: [{ domain: 'cert.example', result: 'temperror', aligned: true, wholeBody: true, signedHeaders }],
        spf: { result: 'temperror', domain: 'cert.example' },
        dmarc: { result: 'temperror', dkimAligned: false, spfAligned: false },
      }),
      config,
      NOW,
    );
    expect(d).toMatchObject({ trusted: false, code: 'auth-temperror', temporary: true });
  });

  test('a temporary failure of some other domain cannot stall the sweep: it is a verdict', () => {
    const d = decideTrust(
      facts(),
      auth({
        dkim: [{ domain: 'slow.example', result: 'temperror', aligned: false, wholeBody: true, signedHeaders }],
        spf: { result: 'fail', domain: 'cert.example' },
        dmarc: { result: 'fail', dkimAligned: false, spfAligned: false },
      }),
      config,
      NOW,
    );
    expect(d).toMatchObject({ trusted: false, code: 'auth-failed' });
    expect(d.temporary).toBeUndefined();
  });

  test('a temporary failure does not matter once the message authenticates', () => {
    const d = decideTrust(facts(), auth({ spf: { result: 'temperror', domain: 'cert.example' } }), config, NOW);
    expect(d.code).toBe('trusted');
  });

  test('untrusted senders never reach authentication', () => {
    expect(decideTrust(facts({}, 'x@evil.example'), undefined, config, NOW).code).toBe('untrusted-sender');
    expect(() => decideTrust(facts(), undefined, config, NOW)).toThrow(/needs authentication results/);
  });
});

describe('issue 10: ambiguous headers, forwards, signatures, replays (pure)', () => {
  test('a header section that reads two ways is ambiguous-headers, before anything else is looked at', () => {
    const problems = ['line 4 is not a header field ("garbage"): some readers end the header section there'];
    for (const f of [
      facts({ headerProblems: problems }),
      facts({ headerProblems: problems, attachedMessages: ['x.eml'] }, 'alice@mail2waf.test'),
    ]) {
      const d = screenMessage(f, config)!;
      expect(d).toMatchObject({ trusted: false, code: 'ambiguous-headers' });
      expect(d.reason).toContain('line 4 is not a header field');
    }
    expect(decideTrust(facts({ headerProblems: problems }), auth(), config, NOW).code).toBe('ambiguous-headers');
  });

  test('a verdict about another From than the one the gate read is never trusted', () => {
    // mailauth read the outsider's address (its own header reader / address parser): its DMARC pass is for them.
    const other = auth({ headerFrom: ['a@cert-example.com'] });
    const d = decideTrust(facts(), other, config, NOW);
    expect(d).toMatchObject({ trusted: false, code: 'ambiguous-headers' });
    expect(d.reason).toMatch(/read its From as "a@cert-example\.com", not "advisories@cert\.example"/);
    expect(decideTrust(facts(), auth({ headerFrom: [] }), config, NOW).code).toBe('ambiguous-headers');
    const two = auth({ headerFrom: ['advisories@cert.example', 'a@cert-example.com'] });
    expect(decideTrust(facts(), two, config, NOW).code).toBe('ambiguous-headers');
    const dmarcElsewhere = auth({ dmarc: { ...auth().dmarc, domain: 'cert-example.com' } });
    expect(decideTrust(facts(), dmarcElsewhere, config, NOW).reason).toMatch(
      /DMARC was evaluated for "cert-example\.com"/,
    );
    // Case does not matter; the organisational domain of a subdomain sender is the same verdict.
    expect(decideTrust(facts(), auth({ headerFrom: ['Advisories@CERT.example'] }), config, NOW).code).toBe('trusted');
    const sub = facts({}, 'a@eu.isac.example');
    const subAuth = auth({
      headerFrom: ['a@eu.isac.example'],
      dkim: [
        {
          domain: 'eu.isac.example',
          result: 'pass',
          aligned: true,
          wholeBody: true,
          signedHeaders,
          signedAt: SIGNED_AT,
        },
      ],
      dmarc: { result: 'pass', dkimAligned: true, spfAligned: false, domain: 'isac.example' },
    });
    expect(decideTrust(sub, subAuth, config, NOW).code).toBe('trusted');
  });

  test('a trusted sender forwarding inline is a reported phish, like an attached message', () => {
    const d = screenMessage(facts({ forwardedInline: true }), config)!;
    expect(d).toMatchObject({ trusted: false, code: 'reported-phish' });
    expect(d.reason).toMatch(/advisories@cert\.example forwards a message inline.*whoever sends it/);
    expect(decideTrust(facts({ forwardedInline: true }), auth(), config, NOW).code).toBe('reported-phish');
  });

  test('more DKIM-Signature fields than MAX_DKIM_SIGNATURES: too-many-signatures, before verification', () => {
    expect(screenMessage(facts({ dkimSignatureCount: 8 }), config)).toBeUndefined();
    const d = screenMessage(facts({ dkimSignatureCount: 9 }), config)!;
    expect(d).toMatchObject({ trusted: false, code: 'too-many-signatures' });
    expect(d.reason).toMatch(/9 DKIM-Signature fields.*not verified/);
    // Only a trusted sender's message would be verified at all; others keep their own code.
    expect(screenMessage(facts({ dkimSignatureCount: 50 }, 'x@evil.example'), config)?.code).toBe('untrusted-sender');
  });

  test('an authenticated advisory signed longer ago than MAX_ADVISORY_AGE is a replay: stale-advisory', () => {
    const day = 86_400_000;
    const old = (ms: number) => auth({ dkim: [{ ...auth().dkim[0]!, signedAt: new Date(NOW - ms).toISOString() }] });
    expect(decideTrust(facts(), old(6 * day), config, NOW).code).toBe('trusted');
    const d = decideTrust(facts(), old(8 * day), config, NOW);
    expect(d).toMatchObject({ trusted: false, code: 'stale-advisory' });
    expect(d.reason).toMatch(/DKIM signature was made at .*8 days ago, longer than MAX_ADVISORY_AGE \(7 days\)/);
    expect(decideTrust(facts(), old(2 * day), { ...config, maxAdvisoryAgeMs: day }, NOW).code).toBe('stale-advisory');
    // The future is no better: a signature dated an hour ahead.
    expect(decideTrust(facts(), old(-3_600_000), config, NOW).reason).toMatch(/in the future/);
    expect(decideTrust(facts(), old(-60_000), config, NOW).code).toBe('trusted'); // clock skew
  });

  test('the signature time wins over the Date header; an unsigned Date counts only for SPF-only trust', () => {
    const oldDate = new Date(NOW - 30 * 86_400_000).toISOString();
    // A fresh signature with an old Date header: signed now, trusted.
    expect(decideTrust(facts({ date: oldDate }), auth(), config, NOW).code).toBe('trusted');
    // A signature without t=: the Date header counts when the signature covers it…
    const noT = auth({ dkim: [{ ...auth().dkim[0]!, signedAt: undefined }] });
    expect(decideTrust(facts({ date: oldDate }), noT, config, NOW).code).toBe('stale-advisory');
    expect(decideTrust(facts(), noT, config, NOW).code).toBe('trusted');
    // …and not when it does not (a replayer could rewrite it).
    const noDate = auth({
      dkim: [{ ...auth().dkim[0]!, signedAt: undefined, signedHeaders: ['from', 'content-type'] }],
    });
    const d = decideTrust(facts(), noDate, config, NOW);
    expect(d).toMatchObject({ code: 'stale-advisory' });
    expect(d.reason).toMatch(/carries no signed time/);
    // SPF alone vouches for the connection our MTA just saw: its Date header is read.
    const spfOnly = auth({
      dkim: [],
      dmarc: { result: 'pass', dkimAligned: false, spfAligned: true, domain: 'cert.example' },
    });
    expect(decideTrust(facts(), spfOnly, config, NOW).code).toBe('trusted');
    expect(decideTrust(facts({ date: oldDate }), spfOnly, config, NOW).code).toBe('stale-advisory');
  });

  test('ARC: the sealer’s signed time counts', () => {
    const forwarded = auth({
      dkim: [],
      spf: { result: 'none', domain: 'lists.example' },
      dmarc: { result: 'fail', dkimAligned: false, spfAligned: false, domain: 'cert.example' },
      arc: { result: 'pass', sealer: 'lists.example', dmarc: 'pass', dmarcFrom: 'cert.example', sealedAt: SIGNED_AT },
    });
    expect(decideTrust(facts(), forwarded, config, NOW).code).toBe('trusted-arc');
    const old = { ...forwarded, arc: { ...forwarded.arc, sealedAt: '2026-01-01T00:00:00.000Z' } };
    expect(decideTrust(facts(), old, config, NOW).code).toBe('stale-advisory');
    const unsealedTime = { ...forwarded, arc: { ...forwarded.arc, sealedAt: undefined } };
    expect(decideTrust(facts(), unsealedTime, config, NOW).code).toBe('stale-advisory');
  });

  test('MTA_HOSTS patterns: *.domain matches any host under the domain, not the domain or look-alikes', () => {
    expect(normalizeHostPattern(' *.PROD.Outlook.com. ')).toBe('*.prod.outlook.com');
    expect(normalizeHostPattern('MX.example.org.')).toBe('mx.example.org');
    for (const bad of ['*.', '*', '*.*.example', 'mx example', 'a.*.example'])
      expect(normalizeHostPattern(bad)).toBeUndefined();
    const p = ['*.prod.outlook.com', 'mx.mail2waf.test'];
    expect(matchHost('AM0PR01MB1234.eurprd01.PROD.outlook.com.', p)).toBe('*.prod.outlook.com');
    expect(matchHost('mx.mail2waf.test', p)).toBe('mx.mail2waf.test');
    expect(matchHost('prod.outlook.com', p)).toBeUndefined();
    expect(matchHost('evilprod.outlook.com', p)).toBeUndefined();
    expect(matchHost('prod.outlook.com.evil.example', p)).toBeUndefined();
    expect(matchHost('x.mx.mail2waf.test', p)).toBeUndefined();
  });

  test('look-alike checks are bounded on long input', () => {
    const t = config.trustedSenders;
    expect(lookAlikeOf(`${'a'.repeat(300_000)}.example`, t)).toBeUndefined();
    expect(lookAlikeOf(`${'cert'.repeat(60)}.example`, t)).toBe('cert.example'); // 245 characters: still read
  });
});
