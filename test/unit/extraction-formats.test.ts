/** Every input format on the labelled advisory fixtures, and the per-format rules and limits. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { extractFromFile } from '../../src/extraction/file';
import { extractFromMessage } from '../../src/extraction/message';
import { jsonToText, type JsonText } from '../../src/extraction/json';
import { kindOf } from '../../src/extraction/parts';
import { buildMessage, buildPdf, buildXlsx, buildZip } from '../fixtures/advisories/builders';
import { fixtures, LABELS } from '../fixtures/advisories/generate';

const dir = join(__dirname, '..', 'fixtures', 'advisories');
const file = (name: string) => readFileSync(join(dir, name));
const values = (r: { indicators: { value: string }[] }) => r.indicators.map((i) => i.value).sort();

describe('labelled fixtures: exactly the expected values', () => {
  test.each(Object.keys(LABELS))('%s', async (name) => {
    const r = await extractFromFile(name, file(name));
    expect(r.ok).toBe(true);
    expect(values(r)).toEqual([...(LABELS[name] ?? [])].sort());
  });

  test('the committed fixtures are what generate.ts writes, byte for byte', () => {
    for (const [name, bytes] of Object.entries(fixtures())) expect(file(name).equals(bytes)).toBe(true);
    expect(JSON.parse(readFileSync(join(dir, 'labels.json'), 'utf8'))).toEqual(LABELS);
  });
});

describe('places: false', () => {
  test.each(Object.keys(LABELS))('%s: the same values, counts and verdicts, with no places', async (name) => {
    const full = await extractFromFile(name, file(name));
    const lean = await extractFromFile(name, file(name), { places: false });
    expect(lean.indicators.length).toBeGreaterThan(0);
    expect(lean.indicators).toEqual(full.indicators.map((i) => ({ ...i, where: [], places: [] })));
  });

  const plainJson = JSON.stringify({ hosts: [{ ip: '185.220.101.7', note: 'a\nb' }], '45.9.148.3': { seen: 2 } });
  test.each([
    ['a STIX bundle', file('bundle.stix.json').toString('utf8')],
    ['plain JSON', plainJson],
  ])('%s read without paths gives the same lines and no locators', (_kind, text) => {
    const withPaths = jsonToText(text) as JsonText;
    const without = jsonToText(text, { paths: false }) as JsonText;
    expect(withPaths.paths).toHaveLength(withPaths.lines.length);
    expect(without.lines).toEqual(withPaths.lines);
    expect(without.paths).toEqual([]);
  });
});

describe('places name the cell, page, STIX object or nested attachment', () => {
  test('XLSX: sheet!cell, formula hyperlinks and cell links', async () => {
    const r = await extractFromFile('iocs.xlsx', file('iocs.xlsx'));
    const where = Object.fromEntries(r.indicators.map((i) => [i.value, i.where[0]]));
    expect(where['31.41.244.11']).toBe('iocs.xlsx:IOCs!A2');
    expect(where['2a12:a301:2::5']).toBe('iocs.xlsx:IOCs!A4');
    expect(where['82.115.223.9']).toBe('iocs.xlsx:IOCs!A7');
    expect(where['185.196.8.20']).toBe('iocs.xlsx:IOCs!C2 link');
    expect(where['179.43.187.255']).toBe('iocs.xlsx:Ranges!B1');
  });

  test('PDF: page and line; table cells stay apart', async () => {
    const r = await extractFromFile('advisory.pdf', file('advisory.pdf'));
    const f = r.indicators.find((i) => i.value === '77.91.124.55');
    expect(f?.where[0]).toMatch(/^advisory\.pdf:page 2, line \d+$/);
    expect(f?.places[0]?.excerpt).toBe('77.91.124.55 443 C2'); // cells were tab-separated; excerpts show blanks
  });

  test('STIX: the object id and property', async () => {
    const r = await extractFromFile('bundle.stix.json', file('bundle.stix.json'));
    const where = Object.fromEntries(r.indicators.map((i) => [i.value, i.where]));
    expect(where['89.248.165.74']).toEqual([
      'bundle.stix.json:indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f pattern',
    ]);
    expect(where['46.161.27.151']).toEqual(['bundle.stix.json:ipv4-addr--ff26c055-6336-5bc5-b98d-13d6226742dd value']);
    expect(where['79.110.62.0/24']?.[0]).toBe(
      'bundle.stix.json:observed-data--2f6b7c3a-65e1-4b4f-8f3a-1c9d2e3f4a5b objects 0 value',
    );
    expect(where['147.45.47.112']).toHaveLength(2); // description and pattern
  });

  test('forwarded phish: the attached message body, never its Received headers', async () => {
    const r = await extractFromFile('forwarded-phish.eml', file('forwarded-phish.eml'));
    expect(r.indicators.map((i) => i.where[0])).toEqual([
      'attachment phish.eml > body:line 3',
      'attachment phish.eml > body:line 4',
      'attachment phish.eml > html:line 3',
    ]);
    expect(r.indicators[0]?.places[0]).toMatchObject({ part: 'body', attachment: 'phish.eml', line: 3 });
  });

  test('zip: entries by path; unsupported entries noted', async () => {
    const r = await extractFromFile('iocs.zip', file('iocs.zip'));
    expect(r.indicators.find((i) => i.value === '194.180.48.99')?.where).toEqual([
      'iocs.zip > mail/phish.eml > body:line 1',
    ]);
    expect(r.notes).toEqual(['skipped iocs.zip > tools/readme.exe (unsupported): unsupported type']);
  });
});

describe('formats inside a message', () => {
  test('PDF, XLSX, STIX and zip attachments of one message', async () => {
    const raw = buildMessage({
      subject: 'Advisory bundle',
      text: 'All formats attached.',
      attachments: [
        { filename: 'a.pdf', contentType: 'application/pdf', data: file('advisory.pdf') },
        { filename: 'b.xlsx', contentType: 'application/octet-stream', data: file('iocs.xlsx') },
        { filename: 'c.json', contentType: 'application/stix+json', data: file('bundle.stix.json') },
        { filename: 'd.zip', contentType: 'application/zip', data: file('iocs.zip') },
      ],
    });
    const r = await extractFromMessage(raw);
    expect(r.ok).toBe(true);
    const expected = [
      ...LABELS['advisory.pdf']!,
      ...LABELS['iocs.xlsx']!,
      ...LABELS['bundle.stix.json']!,
      ...LABELS['iocs.zip']!,
    ];
    expect(values(r)).toEqual([...new Set(expected)].sort());
    expect(r.indicators.find((i) => i.value === '77.91.124.55')?.where[0]).toMatch(/^attachment a\.pdf:page 2/);
  });

  test('a PDF or zip sent as application/octet-stream without a telling name is recognised by its bytes', () => {
    expect(kindOf('application/octet-stream', 'attachment', file('advisory.pdf'))).toBe('pdf');
    expect(kindOf('application/octet-stream', undefined, file('iocs.zip'))).toBe('zip');
    expect(kindOf('application/x-msdownload', 'x.exe', Buffer.from('%PDF-'))).toBe('unsupported');
  });
});

describe('format edge cases', () => {
  test('invalid JSON is scanned as text, with a note', async () => {
    const r = await extractFromFile('broken.json', Buffer.from('{"ip": "45.133.1.20", oops'));
    expect(values(r)).toEqual(['45.133.1.20']);
    expect(r.notes[0]).toMatch(/^broken\.json \(json\) is not valid JSON .*; it was scanned as text$/);
  });

  test('generic JSON: keys holding addresses and nested arrays; version properties skipped', async () => {
    const doc = { blocklist: { '185.220.101.47': { seen: 3 } }, hosts: [['45.133.1.20']], version: '1.2.3.4' };
    const r = await extractFromFile('feed.json', Buffer.from(JSON.stringify(doc)));
    expect(values(r)).toEqual(['185.220.101.47', '45.133.1.20']);
  });

  test('a JSON document nested 100,000 deep does not overflow the stack', async () => {
    const deep = '['.repeat(100_000) + '"45.133.1.20"' + ']'.repeat(100_000);
    const r = await extractFromFile('deep.json', Buffer.from(deep));
    expect(r.ok).toBe(true);
  });

  test('a damaged PDF is skipped with a note', async () => {
    const r = await extractFromFile('bad.pdf', Buffer.from('%PDF-1.4\nthis is not a pdf 1.2.3.4'));
    expect(r.indicators).toEqual([]);
    expect(r.notes[0]).toMatch(/^skipped bad\.pdf \(pdf\): it /);
  });

  test('a PDF without a text layer says so', async () => {
    const r = await extractFromFile('scan.pdf', buildPdf([[]]));
    expect(r.notes).toEqual(['scan.pdf (pdf) has no text layer (a scanned image?); nothing could be read from it']);
  });

  test('PDF pages beyond the limit are not read', async () => {
    const pages = Array.from({ length: 5 }, (_, i) => [[72, 700, `45.133.1.${i + 1}`] as [number, number, string]]);
    const r = await extractFromFile('long.pdf', buildPdf(pages), { maxPdfPages: 2 });
    expect(values(r)).toEqual(['45.133.1.1', '45.133.1.2']);
    expect(r.notes).toContain('long.pdf (pdf) has 5 pages; only the first 2 were read');
  });

  test('XLSX: every sheet, inline strings, numbers ignored, adjacent cells never a range', async () => {
    const xlsx = buildXlsx([
      {
        name: 'A',
        rows: [
          ['45.133.1.1', '45.133.1.9'],
          [1.5, { inline: '45.133.1.3' }],
        ],
      },
      { name: 'B', rows: [[null, null, '2a03:b0c0:3:d0::1a4f:1']] },
    ]);
    const r = await extractFromFile('x.xlsx', xlsx);
    expect(values(r)).toEqual(['2a03:b0c0:3:d0::1a4f:1', '45.133.1.1', '45.133.1.3', '45.133.1.9']);
    expect(r.indicators.find((i) => i.value === '2a03:b0c0:3:d0::1a4f:1')?.where).toEqual(['x.xlsx:B!C1']);
  });

  test('a file that is not a workbook is noted', async () => {
    const r = await extractFromFile('x.xlsx', buildZip([{ name: 'hello.txt', data: '1.2.3.4' }]));
    expect(r.notes).toEqual(['skipped x.xlsx (xlsx): it is not an XLSX workbook (no xl/workbook.xml)']);
  });

  test('an unsupported file is refused with the list of formats', async () => {
    const r = await extractFromFile('x.docx', Buffer.from('PK'));
    expect(r).toMatchObject({ ok: false, reasonCode: 'unsupported' });
  });

  test('a part over the byte budget is skipped with a note and the rest is read', async () => {
    const raw = buildMessage({
      subject: 'two parts',
      text: 'small 45.133.1.20',
      attachments: [{ filename: 'big.csv', contentType: 'text/csv', data: '185.220.101.47\n'.repeat(1000) }],
    });
    const r = await extractFromMessage(raw, { maxPartBytes: 2000 });
    expect(values(r)).toEqual(['45.133.1.20']);
    expect(r.notes).toEqual(['skipped attachment big.csv (text/csv): 0.0 MB is over the 0.0 MB part limit']);
  });
});
