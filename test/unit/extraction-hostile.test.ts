/**
 * Hostile inputs finish within bounded memory and say what happened: 100 MB of digits and dots, a
 * million addresses, messages nested 50 deep, zip bombs, broken MIME. The test timeout is the hang
 * guard (work that grew faster than linearly would run for many minutes); no test asserts a
 * wall-clock time, which would make it depend on the machine.
 */
import { extractFromFile } from '../../src/extraction/file';
import { extractFromMessage } from '../../src/extraction/message';
import { buildMessage, buildZip } from '../fixtures/advisories/builders';

const values = (r: { indicators: { value: string }[] }) => r.indicators.map((i) => i.value);

jest.setTimeout(60_000);

test('100 MB of digits and dots: nothing found, a note, bounded memory', async () => {
  const bytes = Buffer.alloc(100 * 1024 * 1024);
  const unit = Buffer.from('1.2.3.4.5.6.7.8.9.0.');
  for (let i = 0; i < bytes.length; i += unit.length) unit.copy(bytes, i);
  const before = process.memoryUsage();
  const r = await extractFromFile('digits.txt', bytes, {
    maxPartBytes: 200 << 20,
    maxTotalBytes: 200 << 20,
    maxTextBytes: 200 << 20,
  });
  const after = process.memoryUsage();
  expect(r.indicators).toEqual([]);
  expect(r.notes).toEqual([
    'digits.txt: ignored 1 run(s) of digits, dots and colons too long to be addresses (longest 104,857,600 characters, first at line 1)',
  ]);
  // The text itself (100 MB as a one-byte string) is the only large allocation: no copies per token.
  expect((after.heapUsed - before.heapUsed) / (1 << 20)).toBeLessThan(400);
});

test('with default limits, the same file is skipped as over the part budget', async () => {
  const r = await extractFromFile('digits.txt', Buffer.alloc(11 * 1024 * 1024, '1.'));
  expect(r.notes).toEqual(['skipped digits.txt (text): 11.0 MB is over the 10.0 MB part limit']);
});

test('a million distinct addresses: the first 200,000 are kept, the rest counted in a note', async () => {
  const lines: string[] = [];
  for (let i = 0; i < 1_000_000; i++) lines.push(`45.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`);
  const r = await extractFromFile('million.txt', Buffer.from(lines.join('\n')), { maxPartBytes: 64 << 20 });
  expect(r.indicators).toHaveLength(200_000);
  expect(r.indicators[0]?.value).toBe('45.0.0.0');
  expect(r.notes).toEqual(['found more than 200000 distinct addresses; at least 100000 more were seen but not kept']);
});

test('a million sightings of one address stay one indicator with bounded places', async () => {
  const r = await extractFromFile('same.txt', Buffer.from('185.220.101.47\n'.repeat(1_000_000)), {
    maxPartBytes: 64 << 20,
  });
  expect(r.indicators).toHaveLength(1);
  expect(r.indicators[0]?.seen).toBe(1_000_000);
  expect(r.indicators[0]?.places).toHaveLength(10);
  expect(r.indicators[0]?.where).toHaveLength(5);
});

test('two million sightings on one line (no line break): counted, in bounded memory', async () => {
  // One line is one piece; its sightings must not all be held while it is read.
  const line = Buffer.from('1.1.1.1-2 '.repeat(1_000_000));
  const before = process.memoryUsage();
  const r = await extractFromFile('line.txt', line, { maxPartBytes: 64 << 20 });
  const after = process.memoryUsage();
  expect(r.indicators.map((i) => [i.value, i.seen])).toEqual([
    ['1.1.1.1', 2_000_000],
    ['1.1.1.2', 2_000_000],
  ]);
  const grownMb = (after.heapUsed + after.arrayBuffers - before.heapUsed - before.arrayBuffers) / (1 << 20);
  expect(grownMb).toBeLessThan(100); // holding every sighting grew it by about 450 MB
});

test('messages nested 50 deep: quarantined at the depth limit', async () => {
  let inner = buildMessage({ subject: 'level 50', text: 'level 50 at 45.133.50.1', messageId: '<l50@x.example>' });
  for (let level = 49; level >= 0; level--) {
    inner = buildMessage({
      subject: `level ${level}`,
      text: `level ${level} at 45.133.${level}.1`,
      messageId: `<l${level}@x.example>`,
      attachments: [{ filename: `level${level + 1}.eml`, contentType: 'message/rfc822', data: inner }],
    });
  }
  const r = await extractFromMessage(inner);
  // Reading the first three levels and blocking what they hold would be a partial answer.
  expect(r).toMatchObject({
    ok: false,
    reasonCode: 'too-complex',
    limit: 'maxDepth',
    reason:
      'the attached message attachment level1.eml > level2.eml > level3.eml > level4.eml is nested deeper than 3 attached messages and archives (EXTRACT_MAX_DEPTH)',
    subject: 'level 0',
    indicators: [],
  });
});

describe('zip bombs and archive limits', () => {
  test('an entry that inflates more than 100 times is refused by its ratio', async () => {
    const zip = buildZip([
      { name: 'ok.txt', data: '45.133.1.20\n' },
      { name: 'bomb.txt', data: Buffer.alloc(9 * 1024 * 1024, 0x30) }, // under the part limit: the ratio stops it
    ]);
    expect(zip.length).toBeLessThan(100_000);
    const r = await extractFromFile('bomb.zip', zip);
    expect(values(r)).toEqual(['45.133.1.20']);
    expect(r.notes).toHaveLength(1);
    expect(r.notes[0]).toMatch(
      /^skipped bomb\.zip > bomb\.txt: it compression ratio \d+:1 is over the 100:1 limit \(zip bomb protection\)$/,
    );
  });

  test('an entry that lies about its size is cut off when it inflates past what it declared', async () => {
    const zip = buildZip([{ name: 'liar.txt', data: Buffer.alloc(5 * 1024 * 1024, 0x31), declaredSize: 1000 }]);
    const r = await extractFromFile('liar.zip', zip);
    expect(r.indicators).toEqual([]);
    expect(r.notes[0]).toMatch(/^skipped liar\.zip > liar\.txt: it (inflates past|cannot be inflated)/);
  });

  test('entries beyond the entry limit are not looked at', async () => {
    const entries = Array.from({ length: 50 }, (_, i) => ({ name: `f${i}.txt`, data: `45.133.9.${i + 1}` }));
    const r = await extractFromFile('many.zip', buildZip(entries), { maxArchiveEntries: 10 });
    expect(r.indicators).toHaveLength(10);
    expect(r.notes).toContain('many.zip (zip) has 50 entries; only the first 10 were looked at');
  });

  test('the total inflated size is bounded', async () => {
    const lines = (i: number) =>
      Array.from({ length: 40_000 }, (_, j) => `45.${i}.${(j >> 8) & 255}.${j & 255}`).join('\n');
    const entries = Array.from({ length: 5 }, (_, i) => ({ name: `f${i}.txt`, data: lines(i) }));
    const r = await extractFromFile('total.zip', buildZip(entries), { maxTotalBytes: 2 * 1024 * 1024 });
    expect(r).toMatchObject({ ok: false, reasonCode: 'too-complex', limit: 'maxTotalBytes', indicators: [] });
    expect(r.reason).toMatch(
      /^the zip total\.zip would inflate past the 2\.0 MB of bytes read in all at entry f\d\.txt \(EXTRACT_MAX_TOTAL_BYTES\)$/,
    );
  });

  test('archives inside archives are never opened (42.zip)', async () => {
    const inner = buildZip([{ name: 'x.txt', data: '45.133.7.1' }]);
    const r = await extractFromFile('outer.zip', buildZip([{ name: 'inner.zip', data: inner }]));
    expect(r.indicators).toEqual([]);
    expect(r.notes).toEqual([
      'skipped outer.zip > inner.zip: archives inside archives are not opened (zip bomb protection)',
    ]);
  });

  test('a damaged archive is noted, not thrown', async () => {
    const r = await extractFromFile('junk.zip', Buffer.from('PK\x03\x04 this is not a zip'));
    expect(r.ok).toBe(true);
    expect(r.notes[0]).toMatch(/^skipped junk\.zip \(zip\): it is not a readable zip archive/);
  });
});

describe('broken MIME', () => {
  const head = ['From: cert@advisories.example', 'Date: Fri, 20 Nov 2026 10:00:00 +0000', 'MIME-Version: 1.0'];

  test('a missing closing boundary and truncated base64 still give what can be read', async () => {
    const raw = [
      ...head,
      'Content-Type: multipart/mixed; boundary="b"',
      '',
      '--b',
      'Content-Type: text/plain',
      '',
      'C2 at 45.133.1.20',
      '--b',
      'Content-Type: text/csv; name="x.csv"',
      'Content-Transfer-Encoding: base64',
      '',
      Buffer.from('ip\n185.220.101.47\n').toString('base64').slice(0, 18),
    ].join('\r\n');
    const r = await extractFromMessage(raw);
    expect(r.ok).toBe(true);
    expect(values(r)).toContain('45.133.1.20');
  });

  test('binary garbage is quarantined with a clear reason', async () => {
    const garbage = Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 7919) % 256));
    const r = await extractFromMessage(garbage);
    expect(r).toMatchObject({ ok: false, reasonCode: 'invalid-mime' });
    expect(r.reason).toMatch(/^message is not valid MIME: /);
  });

  test('more parts than the part limit: quarantined, nothing kept', async () => {
    const attachments = Array.from({ length: 60 }, (_, i) => ({
      filename: `p${i}.txt`,
      contentType: 'text/plain',
      data: `45.133.6.${i + 1}`,
    }));
    const r = await extractFromMessage(buildMessage({ subject: 'many', text: 'x', attachments }), { maxParts: 20 });
    expect(r).toMatchObject({ ok: false, reasonCode: 'too-complex', limit: 'maxParts', indicators: [] });
    // the body counts as a part
    expect(r.reason).toBe('the text attachment p19.txt is part number 21; at most 20 are read (EXTRACT_MAX_PARTS)');
  });
});
