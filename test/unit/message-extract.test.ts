import { extractFromMessage } from '../../src/extraction/message';
import type { FoundIndicator } from '../../src/extraction/scan';

/** Joins lines with CRLF, as on the wire. */
const crlf = (...lines: string[]): string => lines.join('\r\n');
const b64 = (text: string | Buffer): string =>
  (typeof text === 'string' ? Buffer.from(text, 'utf8') : text).toString('base64').replace(/.{76}/g, '$&\r\n');

const HEADERS = [
  'Received: from relay.corp.example (relay.corp.example [192.0.2.55]) by mx.corp.example',
  'Received: from [198.51.100.77] by relay.corp.example',
  'X-Originating-IP: [203.0.113.99]',
  'From: "CERT Desk" <cert@advisories.example>',
  'To: soc@corp.example',
  'Subject: Advisory 2024-117: block these',
  'Date: Wed, 01 May 2024 10:23:45 +0000',
  'Message-ID: <adv-117@advisories.example>',
  'MIME-Version: 1.0',
];

const values = (r: { indicators: { value: string }[] }): string[] => r.indicators.map((i) => i.value);
/** The fields the sweep carries. */
const core = (r: { indicators: FoundIndicator[] }) =>
  r.indicators.map((f) => ({ value: f.value, version: f.version, where: f.where }));

describe('extractFromMessage: content', () => {
  test('multipart with a text body and a CSV attachment; Received headers are not scanned', async () => {
    const raw = crlf(
      ...HEADERS,
      'Content-Type: multipart/mixed; boundary="b1"',
      '',
      'preamble 6.6.6.6 is not a part',
      '--b1',
      'Content-Type: text/plain; charset=utf-8',
      '',
      'Please block:',
      '185[.]220[.]101[.]7',
      '',
      '--b1',
      'Content-Type: text/csv; name="iocs.csv"',
      'Content-Disposition: attachment; filename="iocs.csv"',
      'Content-Transfer-Encoding: base64',
      '',
      b64('ip,comment\n45.133.1.0/24,hosting\n91.92.240.10 - 91.92.240.11,range\n185.220.101.7,dup\n'),
      '--b1--',
      '',
    );
    const r = await extractFromMessage(raw);
    expect(r.ok).toBe(true);
    expect(core(r)).toEqual([
      { value: '185.220.101.7', version: 4, where: ['body:line 2', 'attachment iocs.csv:line 4'] },
      { value: '45.133.1.0/24', version: 4, where: ['attachment iocs.csv:line 2'] },
      { value: '91.92.240.10', version: 4, where: ['attachment iocs.csv:line 3'] },
      { value: '91.92.240.11', version: 4, where: ['attachment iocs.csv:line 3'] },
      { value: '91.92.240.10/31', version: 4, where: ['attachment iocs.csv:line 3'] },
    ]);
    for (const headerIp of ['192.0.2.55', '198.51.100.77', '203.0.113.99', '6.6.6.6']) {
      expect(values(r)).not.toContain(headerIp);
    }
  });

  test('metadata: Message-ID, From address, Subject, ISO date', async () => {
    const r = await extractFromMessage(crlf(...HEADERS, 'Content-Type: text/plain', '', 'nothing here'));
    expect(r).toMatchObject({
      ok: true,
      messageId: '<adv-117@advisories.example>',
      from: 'cert@advisories.example',
      subject: 'Advisory 2024-117: block these',
      date: '2024-05-01T10:23:45.000Z',
      indicators: [],
    });
    expect(r.reasonCode).toBeUndefined();
  });

  test('quoted-printable body with a soft line break inside an IP', async () => {
    const raw = crlf(
      ...HEADERS,
      'Content-Type: text/plain; charset=utf-8',
      'Content-Transfer-Encoding: quoted-printable',
      '',
      'Block 185.220.=',
      '101.7 and 5=2E6=2E7=2E8 now.',
    );
    const r = await extractFromMessage(raw);
    expect(r.ok).toBe(true);
    expect(values(r)).toEqual(['185.220.101.7', '5.6.7.8']);
    expect(r.indicators[0]?.where).toEqual(['body:line 1']);
  });

  test('base64 text attachment, found by .txt name even as application/octet-stream', async () => {
    const raw = crlf(
      ...HEADERS,
      'Content-Type: multipart/mixed; boundary=XYZ',
      '',
      '--XYZ',
      'Content-Type: text/plain',
      '',
      'See attachments.',
      '--XYZ',
      'Content-Type: application/octet-stream; name=list.txt',
      'Content-Disposition: attachment; filename=list.txt',
      'Content-Transfer-Encoding: base64',
      '',
      b64('# C2\n2a0e:97c0:3e3::10\nhxxp://9[.]8[.]7[.]6/gate\n'),
      '--XYZ--',
    );
    const r = await extractFromMessage(raw);
    expect(core(r)).toEqual([
      { value: '2a0e:97c0:3e3::10', version: 6, where: ['attachment list.txt:line 2'] },
      { value: '9.8.7.6', version: 4, where: ['attachment list.txt:line 3'] },
    ]);
  });

  test('multipart/alternative: text and HTML bodies both scanned, duplicates merged', async () => {
    const raw = crlf(
      ...HEADERS,
      'Content-Type: multipart/alternative; boundary="alt"',
      '',
      '--alt',
      'Content-Type: text/plain',
      '',
      'IOC 1.2.3.4',
      '--alt',
      'Content-Type: text/html',
      '',
      '<html><head><title>8.8.8.8</title></head><body>',
      '<p>IOC 1.2.<b>3</b>.4</p><table><tr><td>5.6.7.8</td><td>80</td></tr></table>',
      '<a href="http://9.9.9.9/x">link</a></body></html>',
      '--alt--',
    );
    const r = await extractFromMessage(raw);
    expect(core(r)).toEqual([
      { value: '1.2.3.4', version: 4, where: ['body:line 1', 'html:line 1'] },
      { value: '5.6.7.8', version: 4, where: ['html:line 2'] },
      { value: '9.9.9.9', version: 4, where: ['html:line 5'] }, // link targets follow a blank line
    ]);
  });

  test('HTML-only message is scanned once, as html', async () => {
    const raw = crlf(...HEADERS, 'Content-Type: text/html', '', '<div>7.7.7.7</div>');
    const r = await extractFromMessage(raw);
    expect(core(r)).toEqual([{ value: '7.7.7.7', version: 4, where: ['html:line 1'] }]);
  });

  test('JSON, TSV and HTML attachments are scanned; unsupported types are skipped with a note', async () => {
    const raw = crlf(
      ...HEADERS,
      'Content-Type: multipart/mixed; boundary="m"',
      '',
      '--m',
      'Content-Type: text/plain',
      '',
      'body',
      '--m',
      'Content-Type: application/json',
      'Content-Disposition: attachment; filename="bundle.json"',
      '',
      '{"type":"bundle","objects":[{"pattern":"[ipv4-addr:value = \'11.22.33.44\']"}]}',
      '--m',
      'Content-Type: text/tab-separated-values',
      'Content-Disposition: attachment; filename="x.tsv"',
      '',
      'a\t12.23.34.45',
      '--m',
      'Content-Type: text/html',
      'Content-Disposition: attachment; filename="report.html"',
      '',
      '<p>13.24.35.46</p>',
      '--m',
      'Content-Type: application/x-msdownload',
      'Content-Disposition: attachment; filename="x.exe"',
      'Content-Transfer-Encoding: base64',
      '',
      b64('MZ 14.25.36.47'),
      '--m--',
    );
    const r = await extractFromMessage(raw);
    expect(r.ok).toBe(true);
    expect(r.indicators.map((i) => [i.value, i.where[0]])).toEqual([
      ['11.22.33.44', 'attachment bundle.json:objects[0] pattern'],
      ['12.23.34.45', 'attachment x.tsv:line 1'],
      ['13.24.35.46', 'attachment report.html:line 1'],
    ]);
    expect(r.notes).toContain('skipped attachment x.exe (application/x-msdownload): unsupported type');
  });

  test('a part over maxPartBytes is skipped with a note', async () => {
    const big = '1.2.3.4\n'.repeat(200);
    const raw = crlf(
      ...HEADERS,
      'Content-Type: multipart/mixed; boundary="m"',
      '',
      '--m',
      'Content-Type: text/plain',
      '',
      'small 5.6.7.8',
      '--m',
      'Content-Type: text/plain',
      'Content-Disposition: attachment; filename="big.txt"',
      '',
      big,
      '--m--',
    );
    const r = await extractFromMessage(raw, { maxPartBytes: 1000 });
    expect(values(r)).toEqual(['5.6.7.8']);
    expect(
      r.notes.some((n) => n.startsWith('skipped attachment big.txt (text/plain):') && n.includes('part limit')),
    ).toBe(true);
  });

  test('an attached message is scanned (body only, not its headers), with a nested where', async () => {
    const inner = crlf(
      'Received: from [198.51.100.200] by phish.example',
      'From: attacker@phish.example',
      'Date: Tue, 30 Apr 2024 08:00:00 +0000',
      'Subject: invoice',
      'Content-Type: text/plain',
      '',
      'pay at http://77.88.99.11/pay',
    );
    const raw = crlf(
      ...HEADERS,
      'Content-Type: multipart/mixed; boundary="m"',
      '',
      '--m',
      'Content-Type: text/plain',
      '',
      'Reported phish attached.',
      '--m',
      'Content-Type: message/rfc822',
      'Content-Disposition: attachment; filename="phish.eml"',
      '',
      inner,
      '--m--',
    );
    const r = await extractFromMessage(raw);
    expect(core(r)).toEqual([{ value: '77.88.99.11', version: 4, where: ['attachment phish.eml > body:line 1'] }]);
  });

  test('UTF-16 CSV attachment (BOM) is decoded', async () => {
    const csv = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from('ip\r\n31.41.59.26\r\n', 'utf16le')]);
    const raw = crlf(
      ...HEADERS,
      'Content-Type: multipart/mixed; boundary="m"',
      '',
      '--m',
      'Content-Type: text/csv',
      'Content-Disposition: attachment; filename="excel.csv"',
      'Content-Transfer-Encoding: base64',
      '',
      b64(csv),
      '--m--',
    );
    const r = await extractFromMessage(raw);
    expect(core(r)).toEqual([{ value: '31.41.59.26', version: 4, where: ['attachment excel.csv:line 2'] }]);
  });

  test('bounce status parts are not scanned (they name our own MTAs)', async () => {
    const raw = crlf(
      ...HEADERS,
      'Content-Type: multipart/report; report-type=delivery-status; boundary="r"',
      '',
      '--r',
      'Content-Type: text/plain',
      '',
      'Delivery failed.',
      '--r',
      'Content-Type: message/delivery-status',
      '',
      'Reporting-MTA: dns; mx.corp.example',
      'Remote-MTA: dns; 192.0.2.25',
      '--r',
      'Content-Type: text/rfc822-headers',
      '',
      'Received: from [198.51.100.9]',
      '--r--',
    );
    const r = await extractFromMessage(raw);
    expect(r.ok).toBe(true);
    expect(r.indicators).toEqual([]);
    expect(r.notes).toEqual([
      'skipped attachment part 2 (message/delivery-status): header data is never scanned',
      'skipped attachment part 3 (text/rfc822-headers): header data is never scanned',
    ]);
  });

  test('a Buffer input works like a string', async () => {
    const raw = Buffer.from(crlf(...HEADERS, 'Content-Type: text/plain', '', '4.4.4.4'));
    expect(values(await extractFromMessage(raw))).toEqual(['4.4.4.4']);
  });

  test('an mbox "From " line before the headers is tolerated and noted', async () => {
    const raw = crlf('From cert@advisories.example Wed May  1 10:23:45 2024', ...HEADERS, '', '3.3.3.3');
    const r = await extractFromMessage(raw);
    expect(r.ok).toBe(true);
    expect(values(r)).toEqual(['3.3.3.3']);
    expect(r.notes).toContain('ignored an mbox "From " separator line before the headers');
  });

  test('an unparsable Date gives no date and a note instead of "now"', async () => {
    const raw = crlf('From: a@b.example', 'Date: someday soon', '', 'x');
    const r = await extractFromMessage(raw);
    expect(r.ok).toBe(true);
    expect(r.date).toBeUndefined();
    expect(r.notes).toContain('Date header "someday soon" could not be parsed');
  });
});

describe('extractFromMessage: not a valid message', () => {
  test('no header section', async () => {
    const r = await extractFromMessage('hello team,\nplease block 1.2.3.4\n');
    expect(r).toMatchObject({ ok: false, reasonCode: 'invalid-mime', indicators: [] });
    expect(r.reason).toBe(
      'message is not valid MIME: it does not start with a header section (the first line "hello team," is not a "Name: value" header)',
    );
  });

  test('blank first line', async () => {
    const r = await extractFromMessage('\r\nFrom: a@b.example\r\n\r\n1.2.3.4');
    expect(r).toMatchObject({ ok: false, reasonCode: 'invalid-mime' });
  });

  test('headers but no From, Date or Message-ID', async () => {
    const r = await extractFromMessage(crlf('X-Thing: 1', 'Content-Type: text/plain', '', '1.2.3.4'));
    expect(r).toMatchObject({ ok: false, reasonCode: 'invalid-mime' });
    expect(r.reason).toBe(
      'message is not valid MIME: it has no From, Date or Message-ID header, so it is not an email message',
    );
  });

  test('multipart without a boundary parameter', async () => {
    const r = await extractFromMessage(crlf('From: a@b.example', 'Content-Type: multipart/mixed', '', '1.2.3.4'));
    expect(r).toMatchObject({
      ok: false,
      reasonCode: 'invalid-mime',
      reason: 'message is not valid MIME: multipart/mixed has no boundary parameter',
    });
  });

  test('multipart whose boundary never appears in the body', async () => {
    const raw = crlf(
      'From: a@b.example',
      'Content-Type: multipart/mixed;',
      ' boundary="xyz"',
      '',
      '--abc',
      'Content-Type: text/plain',
      '',
      '1.2.3.4',
      '--abc--',
    );
    const r = await extractFromMessage(raw);
    expect(r).toMatchObject({
      ok: false,
      reasonCode: 'invalid-mime',
      reason: 'message is not valid MIME: multipart/mixed declares boundary "xyz" but it never appears in the body',
    });
  });

  test('the boundary must start a line; appearing mid-line does not count', async () => {
    const raw = crlf('From: a@b.example', 'Content-Type: multipart/mixed; boundary=q', '', 'text --q text');
    expect(await extractFromMessage(raw)).toMatchObject({ ok: false, reasonCode: 'invalid-mime' });
  });

  test('the MIME parser failing (header block over 1 MB) quarantines with its reason', async () => {
    const junk = 'X-Junk: ' + 'a'.repeat(70) + '\r\n';
    const raw = 'From: a@b.example\r\n' + junk.repeat(20_000) + '\r\n1.2.3.4';
    const r = await extractFromMessage(raw);
    expect(r).toMatchObject({ ok: false, reasonCode: 'invalid-mime', indicators: [] });
    expect(r.reason).toMatch(/^message is not valid MIME: the MIME parser failed \(.+\)$/);
  });

  test('empty message', async () => {
    expect(await extractFromMessage('')).toMatchObject({ ok: false, reasonCode: 'empty', reason: 'message is empty' });
    expect(await extractFromMessage(' \r\n \r\n')).toMatchObject({ ok: false, reasonCode: 'empty' });
  });

  test('message over maxMessageBytes', async () => {
    const raw = crlf(...HEADERS, '', 'x'.repeat(5000));
    const r = await extractFromMessage(raw, { maxMessageBytes: 1000 });
    expect(r).toMatchObject({ ok: false, reasonCode: 'too-large' });
    expect(r.reason).toMatch(/over the .* limit/);
  });

  test('an unreadable attached message is noted, the outer message still counts', async () => {
    const raw = crlf(
      ...HEADERS,
      'Content-Type: multipart/mixed; boundary="m"',
      '',
      '--m',
      'Content-Type: text/plain',
      '',
      'outer 2.2.2.2',
      '--m',
      'Content-Type: message/rfc822',
      'Content-Disposition: attachment; filename="junk.eml"',
      '',
      'just some words 1.1.1.1',
      '--m--',
    );
    const r = await extractFromMessage(raw);
    expect(r.ok).toBe(true);
    expect(values(r)).toEqual(['2.2.2.2']);
    expect(
      r.notes.some((n) => n.startsWith('skipped attachment junk.eml (message/rfc822): message is not valid MIME')),
    ).toBe(true);
  });
});
