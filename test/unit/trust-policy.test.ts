/** The pure trust decision (src/policy/trust.ts): sender matching, look-alikes and every branch of the gate. */
import {
  decideTrust,
  lookAlikeOf,
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

function facts(over: Partial<MessageFacts> = {}, address = 'advisories@cert.example', name = 'CERT'): MessageFacts {
  return {
    from: { headerCount: 1, addresses: [{ address, name }] },
    attachedMessages: [],
    forwardedInline: false,
    duplicateHeaders: [],
    presentHeaders: ['from', 'to', 'subject', 'date', 'message-id', 'content-type', 'dkim-signature', 'received'],
    route,
    ...over,
  };
}

const signedHeaders = ['content-type', 'date', 'message-id', 'subject', 'to', 'from'];

function auth(over: Partial<AuthResults> = {}): AuthResults {
  return {
    dkim: [{ domain: 'cert.example', result: 'pass', aligned: true, wholeBody: true, signedHeaders }],
    spf: { result: 'pass', domain: 'cert.example' },
    dmarc: { result: 'pass', policy: 'reject', dkimAligned: true, spfAligned: true },
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
    const d = decideTrust(facts(), auth(), config);
    expect(d).toMatchObject({ trusted: true, code: 'trusted' });
    expect(d.reason).toMatch(/dkim=pass \(cert\.example, aligned\).*dmarc=pass/);
  });

  test('DMARC pass through aligned SPF alone: trusted', () => {
    const d = decideTrust(
      facts(),
      auth({ dkim: [], dmarc: { result: 'pass', dkimAligned: false, spfAligned: true } }),
      config,
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
    );
    expect(d).toMatchObject({ trusted: false, code: 'auth-failed' });
    expect(d.reason).toMatch(/no valid DKIM signature of cert\.example/);
    expect(d.reason).toMatch(/dkim=none \(no signature\), spf=fail/);
  });

  test('DKIM pass is not enough without DMARC pass (no DMARC record)', () => {
    const d = decideTrust(facts(), auth({ dmarc: { result: 'none', dkimAligned: false, spfAligned: false } }), config);
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
      },
    });
    expect(decideTrust(facts(), forwarded, config)).toMatchObject({ trusted: true, code: 'trusted-arc' });
    const otherSealer = {
      ...forwarded,
      arc: { ...forwarded.arc, sealer: 'forwarder.example', signer: 'forwarder.example' },
    };
    expect(decideTrust(facts(), otherSealer, config).code).toBe('auth-failed');
    const sawFail = { ...forwarded, arc: { ...forwarded.arc, dmarc: 'fail' } };
    expect(decideTrust(facts(), sawFail, config).code).toBe('auth-failed');
    const otherFrom = { ...forwarded, arc: { ...forwarded.arc, dmarcFrom: 'evil.example' } };
    expect(decideTrust(facts(), otherFrom, config).code).toBe('auth-failed');
    const broken = { ...forwarded, arc: { result: 'fail', comment: 'i=1 seal signature validation failed' } };
    expect(decideTrust(facts(), broken, config).code).toBe('auth-failed');
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
    );
    expect(d).toMatchObject({ trusted: false, code: 'auth-failed' });
    expect(d.temporary).toBeUndefined();
  });

  test('a temporary failure does not matter once the message authenticates', () => {
    const d = decideTrust(facts(), auth({ spf: { result: 'temperror', domain: 'cert.example' } }), config);
    expect(d.code).toBe('trusted');
  });

  test('untrusted senders never reach authentication', () => {
    expect(decideTrust(facts({}, 'x@evil.example'), undefined, config).code).toBe('untrusted-sender');
    expect(() => decideTrust(facts(), undefined, config)).toThrow(/needs authentication results/);
  });
});
