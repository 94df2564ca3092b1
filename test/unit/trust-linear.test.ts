/**
 * Issue 10: everything the trust gate reads from a message runs in linear (or bounded) time. Each case is a
 * 256 KB – 1 MB adversarial input that made a backtracking regex or a repeated replace quadratic; the tests assert
 * the RESULT, and jest's test timeout is the hang guard (no wall-clock assertions).
 */
import {
  createTrustGate,
  hasForwardMarker,
  isForwardSubject,
  parseReceived,
  readFrom,
  readFromStrict,
  readHeaderSection,
  staticResolver,
  stripTags,
} from '../../src/activities/authenticate';
import { lookAlikeOf } from '../../src/policy/trust';

const K256 = 256 * 1024;
const M1 = 1024 * 1024;

describe('Received lines', () => {
  test('deeply nested comments (the old strip-innermost-comment loop ran once per level)', () => {
    const nested = `from x (${'('.repeat(K256)}${')'.repeat(K256)}) (unknown [198.51.100.66]) by mx.mail2waf.test; d`;
    expect(parseReceived(nested)).toEqual({ by: 'mx.mail2waf.test', ip: '198.51.100.66', helo: 'x' });
  });

  test('unclosed comments, brackets, "by" and blanks repeated', () => {
    expect(parseReceived(`from x ${'('.repeat(K256)}`).by).toBeUndefined();
    expect(parseReceived(`from x (${'['.repeat(K256)}) by mx.mail2waf.test`).ip).toBeUndefined();
    expect(parseReceived(`from x ${'by '.repeat(K256 / 3)}mx.mail2waf.test`).by).toBe('mx.mail2waf.test');
    expect(parseReceived(`from ${' '.repeat(K256)}x`)).toEqual({ helo: 'x' });
    expect(parseReceived(`from x (helo=${'h'.repeat(K256)}) by y`).by).toBe('y');
    expect(parseReceived(`from x (a) by y (envelope-from <${'<'.repeat(K256)}`).envelopeFrom).toBeUndefined();
  });
});

describe('forward markers and HTML', () => {
  test('"-----Original Message-----" followed by a megabyte of blank lines', () => {
    expect(hasForwardMarker(`-----Original Message-----${'\n'.repeat(M1)}`)).toBe(false);
    expect(hasForwardMarker(`-----Original Message-----${'\n \t'.repeat(K256)}From: x`)).toBe(false); // too far apart
    expect(hasForwardMarker('-----Original Message-----\n\nFrom: x')).toBe(true);
    expect(hasForwardMarker('-'.repeat(M1))).toBe(false);
    expect(hasForwardMarker('--\n'.repeat(K256))).toBe(false);
    expect(hasForwardMarker(`${'x\n'.repeat(K256)}---------- Forwarded message ---------\n`)).toBe(true);
  });

  test('a subject of blanks, brackets or prefixes', () => {
    expect(isForwardSubject(' '.repeat(M1))).toBe(false);
    expect(isForwardSubject(`[${'['.repeat(M1)}`)).toBe(false);
    expect(isForwardSubject(`fwd${' '.repeat(M1)}`)).toBe(false);
    expect(isForwardSubject(`fwd${' '.repeat(K256)}:`)).toBe(true);
    expect(isForwardSubject('[TLP:CLEAR] Fwd: x')).toBe(true);
    expect(isForwardSubject('TLP:CLEAR Advisory')).toBe(false);
  });

  test('a megabyte of "<" with no ">" (the old tag strip rescanned the rest at every "<")', () => {
    const text = '<'.repeat(M1);
    expect(stripTags(text)).toBe(text);
    expect(stripTags('a<b>c<d')).toBe('a\nc<d');
  });
});

describe('headers and From', () => {
  test('one megabyte line without a colon, and one of blanks', () => {
    expect(readHeaderSection(Buffer.alloc(M1 - 10, 0x61)).problems[0]).toMatch(/line 1 is not a header field/);
    const blanks = Buffer.concat([Buffer.from('X: '), Buffer.alloc(K256, 0x20), Buffer.from('\r\n\r\nb')]);
    expect(readHeaderSection(blanks)).toEqual({
      fields: [{ name: 'x', value: '', raw: `X: ${' '.repeat(K256)}` }],
      problems: [],
    });
  });

  test('a 256 KB From of comments, quotes or angle brackets', () => {
    for (const c of ['(', ')', '"', '<', '@', '\\', ',']) {
      const value = c.repeat(K256);
      expect(readFromStrict(value).addresses).toEqual([]);
      expect(readFrom([{ name: 'from', value, raw: `From: ${value}` }]).problems[0]).toMatch(
        /From header is \d+ characters/,
      );
    }
    expect(readFromStrict(`(${'('.repeat(K256)}`).problems).toEqual(['a comment in From is not closed']);
  });

  test('a look-alike check of a 256 KB domain', () => {
    expect(lookAlikeOf(`${'c'.repeat(K256)}.example`, ['cert.example'])).toBeUndefined();
  });
});

describe('the whole gate', () => {
  const gate = createTrustGate({
    trust: { trustedSenders: ['cert.example'], mtaHosts: ['mx.mail2waf.test'], trustedArcSealers: [] },
    resolver: staticResolver({}),
  });
  const received = 'Received: from a (a [203.0.113.25]) by mx.mail2waf.test (Postfix); d\r\n';

  test('a 256 KB Received line, Subject or From', async () => {
    for (const [field, code] of [
      [`Received: from x (${'('.repeat(K256)}) by mx.mail2waf.test`, 'not-via-mta'],
      [`Subject: ${' '.repeat(K256)}x`, 'auth-failed'],
      [`From: ${'('.repeat(K256)}`, 'ambiguous-headers'],
    ] as const) {
      const raw = Buffer.from(
        `${field.startsWith('Received') ? '' : received}${field}\r\n${field.startsWith('From') ? '' : 'From: a@cert.example\r\n'}\r\nbody\r\n`,
      );
      expect({ field: field.slice(0, 12), code: (await gate(raw)).decision.code }).toEqual({
        field: field.slice(0, 12),
        code,
      });
    }
  });

  test('a megabyte HTML body of "<" and a megabyte text body of dashes and blank lines', async () => {
    const html = Buffer.from(`${received}From: a@cert.example\r\nContent-Type: text/html\r\n\r\n${'<'.repeat(M1)}\r\n`);
    expect((await gate(html)).decision.code).toBe('auth-failed');
    const text = Buffer.from(`${received}From: a@cert.example\r\n\r\n-----Original Message-----${'\r\n'.repeat(K256)}`);
    expect((await gate(text)).decision.code).toBe('auth-failed');
  });
});
