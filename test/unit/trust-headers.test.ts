/**
 * Issue 10, the reading side of the trust gate (src/activities/authenticate.ts): the header section and the From
 * header read one way only (else a problem sentence), and the entry hop found by position, not by content.
 */
import {
  findMtaRoute,
  parseReceived,
  readFrom,
  readFromStrict,
  readHeaderFields,
  readHeaderSection,
  type HeaderField,
} from '../../src/activities/authenticate';

const crlf = (...lines: string[]) => Buffer.from(lines.join('\r\n'), 'latin1');
const problemsOf = (raw: Buffer) => readHeaderSection(raw).problems;
const fromField = (value: string): HeaderField => ({ name: 'from', value, raw: `From: ${value}` });

describe('the header section reads one way only', () => {
  test('a well-formed section has no problems, with LF or CRLF line ends and folded lines', () => {
    const lines = [
      'Received: from a (a [203.0.113.25])',
      '\tby mx.mail2waf.test; d',
      'From: CERT <a@cert.example>',
      'Subject: x',
      '',
      'body',
    ];
    for (const raw of [crlf(...lines), Buffer.from(lines.join('\n'))]) {
      const { fields, problems } = readHeaderSection(raw);
      expect(problems).toEqual([]);
      expect(fields.map((f) => f.name)).toEqual(['received', 'from', 'subject']);
      expect(fields[0]!.value).toBe('from a (a [203.0.113.25]) by mx.mail2waf.test; d');
    }
  });

  test('a line without a colon: mailauth reads on, lenient readers stop; refused', () => {
    const raw = crlf('From: advisories@cert.example', 'garbage line', 'From: a@cert-example.com', '', 'b');
    expect(problemsOf(raw)).toEqual([
      'line 2 is not a header field ("garbage line"): some readers end the header section there, others read on',
    ]);
    // Read on like mailauth: the second From is seen (and counted) rather than taken for body text.
    expect(readHeaderFields(raw).filter((f) => f.name === 'from')).toHaveLength(2);
  });

  test('characters one reader takes as folding and the other as a new field: refused', () => {
    // mailauth folds any line whose first character matches \s (VT, FF, NBSP…); we fold only SP and HTAB.
    for (const lead of ['\v', '\f', '\xa0', '\x85']) {
      const raw = crlf('X-A: 1', `${lead}From: advisories@cert.example`, 'From: a@cert-example.com', '', 'b');
      expect(problemsOf(raw).join(' ')).toMatch(/line 2 (holds the control character|has a field name with 0x(a0|85))/);
    }
    expect(problemsOf(crlf(' From: advisories@cert.example', '', 'b'))).toEqual([
      'line 1 starts with whitespace where a header field should start',
    ]);
    expect(problemsOf(crlf('From : advisories@cert.example', '', 'b'))).toEqual([
      'line 1 has a field name with 0x20 in it ("From : advisories@cert.example")',
    ]);
  });

  test('a lone CR, NUL and other control characters: refused', () => {
    expect(problemsOf(crlf('X-A: 1\rFrom: advisories@cert.example', 'From: a@cert-example.com', '', 'b'))).toEqual([
      "line 1 holds a carriage return (CR) without a line feed, where readers disagree on the line's end",
    ]);
    expect(problemsOf(crlf('From: a@cert.example', '\r', 'To: b', '', 'b'))[0]).toMatch(
      /line 2 holds a carriage return/,
    );
    expect(problemsOf(crlf('From: a@cert.example\x00', '', 'b'))).toEqual(['line 1 holds the control character 0x00']);
    expect(problemsOf(crlf('From: a@cert.example', 'To: b\x1b[2J', '', 'b'))).toEqual([
      'line 2 holds the control character 0x1b',
    ]);
    expect(problemsOf(crlf('From: a@cert.example', 'Subject: tab\there is fine', '', 'b'))).toEqual([]);
  });

  test('an mbox separator and a leading empty line are not header fields', () => {
    expect(problemsOf(crlf('From sender@x Fri Nov 20 10:00:00 2026', 'From: a@cert.example', '', 'b'))[0]).toMatch(
      /line 1 has a field name with 0x20/,
    );
  });

  test('size and count caps', () => {
    const many = crlf(...Array.from({ length: 1001 }, (_, i) => `X-${i}: v`), '', 'b');
    expect(problemsOf(many)).toEqual(['it has more than 1000 header fields']);
    const huge = Buffer.concat([
      Buffer.from('X-Big: '),
      Buffer.alloc(1024 * 1024 + 10, 0x61),
      Buffer.from('\r\n\r\nb'),
    ]);
    expect(problemsOf(huge)).toEqual(['its header section is longer than 1048576 bytes']);
  });
});

describe('the From header reads one way only', () => {
  test('plain forms read the same to all three parsers', () => {
    for (const v of [
      'advisories@cert.example',
      'CERT Advisories <advisories@cert.example>',
      '"CERT, Advisories" <advisories@cert.example>',
      '"a@cert-example.com" <advisories@cert.example>',
      '=?utf-8?q?CERT_=C3=9C?= <advisories@cert.example>',
      'advisories@cert.example (CERT Advisories)',
      'J. Doe <j.doe@cert.example>',
    ]) {
      const r = readFrom([fromField(v)]);
      expect({ v, problems: r.problems }).toEqual({ v, problems: [] });
      expect(r.addresses.map((a) => a.address.toLowerCase())).toEqual([
        v.includes('j.doe') ? 'j.doe@cert.example' : 'advisories@cert.example',
      ]);
    }
  });

  test('a nested comment holding an address: nodemailer reads cert.example, mailauth the outsider; refused', () => {
    for (const v of [
      '(c (d) <a@cert-example.com>) advisories@cert.example',
      '(x (y) <a@cert-example.com>) CERT <advisories@cert.example>',
      'advisories@cert.example (x (y) <a@cert-example.com>)',
      '(a(b)c <a@cert-example.com>) advisories@cert.example',
    ]) {
      const r = readFrom([fromField(v)]);
      expect(r.problems.join(' ')).toMatch(/comment in From holds/);
    }
  });

  test('comments with @, groups, domain literals, quoted local parts, encoded words in the address: refused', () => {
    const cases: [string, RegExp][] = [
      // (the long one is shown truncated in a failure)
      ['advisories@cert.example (a@cert-example.com)', /comment in From holds/],
      ['g: advisories@cert.example;', /group/],
      ['advisories@[203.0.113.25]', /not a plain local@domain/],
      ['"a b"@cert.example', /not a plain local@domain/],
      ['<=?utf-8?q?a=40cert-example.com?=@cert.example>', /encoded word/],
      ['advisories @ cert.example', /not a plain local@domain/],
      ['advisories(x)@cert.example', /comment inside the address/],
      ['<advisories(x)@cert.example>', /comment inside the angle brackets/],
      ['a@cert-example.com <advisories@cert.example>', /display name holds .* outside quotes/],
      ['<a@cert-example.com> <advisories@cert.example>', /angle brackets/],
      ['CERT <advisories@cert.example', /angle brackets/],
      ['"CERT <advisories@cert.example>', /quoted string in From is not closed/],
      ['advisories@cert.example,', /empty entry/],
      [`${'x'.repeat(3000)} <advisories@cert.example>`, /From header is 3026 characters long/],
    ];
    for (const [v, why] of cases) {
      expect({ v, problems: readFrom([fromField(v)]).problems.join(' ') }).toEqual({
        v,
        problems: expect.stringMatching(why),
      });
    }
  });

  test('the strict reader reads names and several mailboxes', () => {
    expect(readFromStrict('"CERT" <a@cert.example>, b@cert.example (B)')).toEqual({
      addresses: [
        { address: 'a@cert.example', name: 'CERT' },
        { address: 'b@cert.example', name: '' },
      ],
      problems: [],
    });
  });
});

describe('the entry hop is found by position', () => {
  const ours = ['mx.mail2waf.test'];
  const route = (...lines: string[]) => findMtaRoute(readHeaderFields(crlf(...lines, '', 'b')), ours);

  test('a HELO with spaces cannot hide our line: the structural by-clause is the last one', () => {
    const helo =
      'from x (y) by evil.example (unknown [198.51.100.66]) by mx.mail2waf.test (Postfix) with ESMTP id 1; d';
    expect(parseReceived(helo)).toEqual({ by: 'mx.mail2waf.test', ip: '198.51.100.66', helo: 'x' });
    // Before, our line parsed with by=evil.example and the search fell through to the sender's forged line.
    expect(
      route(
        `Received: ${helo}`,
        'Received: from mail.cert.example (mail.cert.example [203.0.113.25]) by mx.mail2waf.test (Postfix); d',
      ),
    ).toEqual({ route: { by: 'mx.mail2waf.test', ip: '198.51.100.66', helo: 'x' } });
  });

  test('a HELO that imitates our comment leaves two addresses in the from-clause: no IP, no route', () => {
    const imitation =
      'from mail.cert.example (mail.cert.example [203.0.113.25]) (unknown [198.51.100.66]) by mx.mail2waf.test (Postfix); d';
    expect(parseReceived(imitation).ip).toBeUndefined();
    expect(route(`Received: ${imitation}`).problem).toMatch(
      /where it entered \(written by mx\.mail2waf\.test\) its from-clause names 2 different client addresses/,
    );
  });

  test('a helo= address literal the client chose is never the client address', () => {
    expect(parseReceived('from x ([198.51.100.66] helo=[203.0.113.25]) by mx.mail2waf.test; d').ip).toBe(
      '198.51.100.66',
    );
  });

  test('the topmost Received line must be ours; a line of ours further down does not count', () => {
    expect(
      route(
        'Received: from relay.other.example (relay.other.example [192.0.2.7]) by relay.other.example; d',
        'Received: from mail.cert.example (mail.cert.example [203.0.113.25]) by mx.mail2waf.test (Postfix); d',
      ),
    ).toEqual({ problem: 'the topmost Received line was written by "relay.other.example", not by one of them' });
    expect(route('Received: from x (x [192.0.2.7]); d').problem).toMatch(/a host it does not name/);
  });

  test('internal hops: a run of our lines is followed while the client is inside our network; the lowest is the entry', () => {
    const r = route(
      'Return-Path: <bounce@cert.example>',
      'Received: from localhost (localhost [127.0.0.1]) by mx.mail2waf.test (Postfix); d',
      'Received: from mx-edge.mail2waf.test (mx-edge.mail2waf.test [10.0.0.5]) by mx.mail2waf.test (Postfix); d',
      'Received: from mail.cert.example (mail.cert.example [203.0.113.25]) by mx.mail2waf.test (Postfix); d',
      'Received: from forged (forged [192.0.2.99]) by mx.mail2waf.test (Postfix); d',
    );
    expect(r).toEqual({
      route: { by: 'mx.mail2waf.test', ip: '203.0.113.25', helo: 'mail.cert.example', mailFrom: 'bounce@cert.example' },
    });
  });

  test('a public client ends the run: a line of "ours" the sender wrote below it is never the entry', () => {
    const r = route(
      'Received: from mail.cert.example (unknown [198.51.100.66]) by mx.mail2waf.test (Postfix); d',
      'Received: from mail.cert.example (mail.cert.example [203.0.113.25]) by mx.mail2waf.test (Postfix); d',
    );
    expect(r.route?.ip).toBe('198.51.100.66');
  });

  test('a private client whose line below is not ours is the entry itself (a workstation submitting)', () => {
    const r = route(
      'Received: from ws-alice (ws-alice [10.20.0.9]) by mx.mail2waf.test (Postfix); d',
      'Received: from x (x [45.9.148.3]) by relay.phish.example; d',
    );
    expect(r.route?.ip).toBe('10.20.0.9');
  });

  test('MTA_HOSTS patterns: Microsoft 365 internal hops', () => {
    const fields = readHeaderFields(
      crlf(
        'Received: from AM0PR01MB1234.eurprd01.prod.outlook.com (2603:10a6:208:1::1) by AM0PR01MB5678.eurprd01.prod.outlook.com (2603:10a6:208:2::2) with Microsoft SMTP Server; d',
        'Received: from mail.cert.example (203.0.113.25) by AM0PR01MB1234.eurprd01.prod.outlook.com (10.1.2.3) with Microsoft SMTP Server; d',
        '',
        'b',
      ),
    );
    // The topmost line is ours by pattern; its client (a public Microsoft address) is not provably internal, so
    // it is the entry hop: SPF then fails safe, and DKIM still authenticates.
    expect(findMtaRoute(fields, ['*.prod.outlook.com']).route).toMatchObject({
      by: 'am0pr01mb5678.eurprd01.prod.outlook.com',
      ip: '2603:10a6:208:1::1',
    });
    expect(findMtaRoute(fields, ['*.outlook.example']).problem).toMatch(/topmost Received line was written by/);
  });
});
