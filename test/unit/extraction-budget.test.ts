/**
 * Work budgets: a message that would cost minutes of CPU or hundreds of MB is quarantined with a
 * reason naming the budget ('too-complex'), not read part way; a deadline and an AbortSignal stop an
 * extraction in progress. The jest timeout is the hang guard; no test asserts a wall-clock time.
 */
import { strToU8, zipSync } from 'fflate';
import { EXTRACTION_CANCELLED, ExtractionCancelled } from '../../src/extraction/budget';
import { extractFromFile } from '../../src/extraction/file';
import { extractFromMessage } from '../../src/extraction/message';
import { unwrapUrls } from '../../src/extraction/unwrap';
import { formulaOf } from '../../src/extraction/xlsx';
import { buildMessage, buildPdf, buildXlsx, buildZip } from '../fixtures/advisories/builders';

jest.setTimeout(60_000);

const XLSX = 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet';

/** A workbook written by hand (fflate), with `cellsXml` as the sheet's data and `shared` as the shared strings. */
function workbook(shared: string[], cellsXml: string): Buffer {
  const head = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n';
  const main = 'http://schemas.openxmlformats.org/spreadsheetml/2006/main';
  const rel = 'http://schemas.openxmlformats.org/officeDocument/2006/relationships';
  return Buffer.from(
    zipSync(
      {
        '[Content_Types].xml': strToU8(
          `${head}<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"/>`,
        ),
        'xl/workbook.xml': strToU8(
          `${head}<workbook xmlns="${main}" xmlns:r="${rel}"><sheets><sheet name="IOCs" sheetId="1" r:id="rId1"/></sheets></workbook>`,
        ),
        'xl/_rels/workbook.xml.rels': strToU8(
          `${head}<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">` +
            `<Relationship Id="rId1" Type="${rel}/worksheet" Target="worksheets/sheet1.xml"/></Relationships>`,
        ),
        'xl/sharedStrings.xml': strToU8(
          `${head}<sst xmlns="${main}">${shared.map((s) => `<si><t>${s}</t></si>`).join('')}</sst>`,
        ),
        'xl/worksheets/sheet1.xml': strToU8(
          `${head}<worksheet xmlns="${main}"><sheetData>${cellsXml}</sheetData></worksheet>`,
        ),
      },
      { level: 9 },
    ),
  );
}

/** `n` cells in one column, each naming shared string 0. */
function cellsNaming0(n: number): string {
  let xml = '';
  for (let i = 1; i <= n; i++) xml += `<row r="${i}"><c r="A${i}" t="s"><v>0</v></c></row>`;
  return xml;
}

function heapMb(): number {
  const m = process.memoryUsage();
  return (m.heapUsed + m.arrayBuffers) / (1 << 20);
}

describe('XLSX shared strings expand as they are counted', () => {
  // 32 KB of text named by 10,000 cells: 320 MB of text from a workbook of a few tens of KB.
  const bomb = workbook(['45.133.1.20 '.repeat(2731)], cellsNaming0(10_000));

  test('the workbook is small and expands past the part text budget: quarantined, in bounded memory', async () => {
    expect(bomb.length).toBeLessThan(100_000);
    const before = heapMb();
    const r = await extractFromFile('report.xlsx', bomb);
    const grown = heapMb() - before;
    expect(r).toMatchObject({ ok: false, reasonCode: 'too-complex', limit: 'maxPartTextBytes', indicators: [] });
    expect(r.reason).toBe('the XLSX report.xlsx expands past 32.0 MB of text (EXTRACT_MAX_PART_TEXT_BYTES)');
    expect(grown).toBeLessThan(150); // the old reader joined 320 MB of lines into one string
  });

  test('as an attachment, with the part budget raised: the message text budget stops it', async () => {
    const raw = buildMessage({
      subject: 'IOCs',
      text: 'see attached',
      attachments: [{ filename: 'report.xlsx', contentType: XLSX, data: bomb }],
    });
    const r = await extractFromMessage(raw, { maxPartTextBytes: 1 << 30 });
    expect(r).toMatchObject({ ok: false, reasonCode: 'too-complex', limit: 'maxTextBytes', subject: 'IOCs' });
    expect(r.reason).toBe(
      'the XLSX attachment report.xlsx takes the message past 64.0 MB of text (EXTRACT_MAX_TEXT_BYTES)',
    );
  });

  test('shared strings and cells are counted', async () => {
    const many = Array.from({ length: 5000 }, (_, i) => `s${i}`);
    const r1 = await extractFromFile('strings.xlsx', workbook(many, cellsNaming0(1)), { maxSharedStrings: 4000 });
    expect(r1).toMatchObject({ ok: false, limit: 'maxSharedStrings' });
    expect(r1.reason).toBe(
      'the XLSX strings.xlsx brings the shared strings read past 4000 (EXTRACT_MAX_SHARED_STRINGS)',
    );
    const r2 = await extractFromFile('cells.xlsx', workbook(['x'], cellsNaming0(5000)), { maxCells: 3000 });
    expect(r2).toMatchObject({ ok: false, limit: 'maxCells' });
    expect(r2.reason).toBe('the XLSX cells.xlsx brings the spreadsheet cells read past 3000 (EXTRACT_MAX_CELLS)');
  });

  test('an ordinary workbook is read as before', async () => {
    const r = await extractFromFile('ok.xlsx', workbook(['45.133.1.20'], cellsNaming0(3)));
    expect(r.ok).toBe(true);
    expect(r.indicators.map((i) => [i.value, i.seen])).toEqual([['45.133.1.20', 3]]);
  });
});

describe('items', () => {
  const pdf = (i: number) => buildPdf([[[72, 700, `C2 45.133.7.${(i % 250) + 1}`]]]);

  test('a thousand tiny PDFs in an archive are refused before any is read', async () => {
    const zip = buildZip(Array.from({ length: 1000 }, (_, i) => ({ name: `p${i}.pdf`, data: pdf(i) })));
    const raw = buildMessage({
      subject: 'pdfs',
      text: 'x',
      attachments: [{ filename: 'pdfs.zip', contentType: 'application/zip', data: zip }],
    });
    const r = await extractFromMessage(raw, { maxTotalBytes: 1 << 30 });
    expect(r).toMatchObject({ ok: false, reasonCode: 'too-complex', limit: 'maxPdfs' });
    expect(r.reason).toBe(
      'the zip attachment pdfs.zip holds 1000 PDF documents; at most 50 are read (EXTRACT_MAX_PDFS)',
    );
  });

  test('hundreds of tiny PDF attachments: over the attachment budget', async () => {
    // (mailparser itself refuses a thousand parts: "Max allowed child nodes exceeded")
    const attachments = Array.from({ length: 250 }, (_, i) => ({
      filename: `p${i}.pdf`,
      contentType: 'application/pdf',
      data: pdf(i),
    }));
    const r = await extractFromMessage(buildMessage({ subject: 'pdfs', text: 'x', attachments }));
    expect(r).toMatchObject({ ok: false, reasonCode: 'too-complex', limit: 'maxAttachments' });
    expect(r.reason).toBe('the message brings the attachments to 250, more than 200 (EXTRACT_MAX_ATTACHMENTS)');
  });

  test('PDFs over the PDF budget, within the attachment budget', async () => {
    const attachments = Array.from({ length: 60 }, (_, i) => ({
      filename: `p${i}.pdf`,
      contentType: 'application/pdf',
      data: pdf(i),
    }));
    const r = await extractFromMessage(buildMessage({ subject: 'pdfs', text: 'x', attachments }));
    expect(r).toMatchObject({ ok: false, limit: 'maxPdfs' });
    expect(r.reason).toBe('the message brings the PDF documents to 60, more than 50 (EXTRACT_MAX_PDFS)');
  });

  test('PDF pages are counted across documents', async () => {
    const twoPages = buildPdf([[[72, 700, '45.133.8.1']], [[72, 700, '45.133.8.2']]]);
    const attachments = ['a.pdf', 'b.pdf'].map((filename) => ({
      filename,
      contentType: 'application/pdf',
      data: twoPages,
    }));
    const r = await extractFromMessage(buildMessage({ subject: 'pages', text: 'x', attachments }), {
      maxPdfPagesTotal: 3,
    });
    expect(r).toMatchObject({ ok: false, limit: 'maxPdfPagesTotal' });
    expect(r.reason).toBe('the PDF attachment b.pdf brings the PDF pages read past 3 (EXTRACT_MAX_PDF_PAGES_TOTAL)');
    const ok = await extractFromMessage(buildMessage({ subject: 'pages', text: 'x', attachments }), {
      maxPdfPagesTotal: 4,
    });
    expect(ok.ok).toBe(true);
    expect(ok.indicators.map((i) => i.value)).toEqual(['45.133.8.1', '45.133.8.2']);
  });

  test('zip entries are counted across archives', async () => {
    const zip = buildZip(Array.from({ length: 30 }, (_, i) => ({ name: `f${i}.txt`, data: `45.133.9.${i + 1}` })));
    const attachments = ['a.zip', 'b.zip'].map((filename) => ({ filename, contentType: 'application/zip', data: zip }));
    const r = await extractFromMessage(buildMessage({ subject: 'zips', text: 'x', attachments }), {
      maxZipEntries: 50,
    });
    expect(r).toMatchObject({ ok: false, limit: 'maxZipEntries' });
    expect(r.reason).toBe('the zip attachment b.zip brings the zip entries read past 50 (EXTRACT_MAX_ZIP_ENTRIES)');
  });
});

describe('deadline and cancellation', () => {
  const raw = buildMessage({ subject: 'late', text: 'C2 at 45.133.1.20' });

  test('a deadline already passed: too-complex, saying how long was allowed', async () => {
    const r = await extractFromMessage(raw, { deadline: Date.now() - 1 });
    expect(r).toMatchObject({ ok: false, reasonCode: 'too-complex', limit: 'deadline', subject: 'late' });
    expect(r.reason).toMatch(/^extraction took longer than 0 s \(stopped at the message\)$/);
    const f = await extractFromFile('iocs.csv', Buffer.from('45.133.1.20\n'), { deadline: Date.now() - 1 });
    expect(f).toMatchObject({ ok: false, reasonCode: 'too-complex', limit: 'deadline' });
  });

  test('an aborted signal rejects with ExtractionCancelled', async () => {
    const ac = new AbortController();
    ac.abort();
    await expect(extractFromMessage(raw, { signal: ac.signal })).rejects.toMatchObject({ name: EXTRACTION_CANCELLED });
    await expect(extractFromFile('a.txt', Buffer.from('45.133.1.20'), { signal: ac.signal })).rejects.toBeInstanceOf(
      ExtractionCancelled,
    );
  });

  // Forty PDFs (under the PDF budget) take seconds: each is read in its own worker thread.
  const pdfs = buildMessage({
    subject: 'slow',
    text: 'x',
    attachments: Array.from({ length: 40 }, (_, i) => ({
      filename: `p${i}.pdf`,
      contentType: 'application/pdf',
      data: buildPdf([[[72, 700, `45.133.10.${i + 1}`]]]),
    })),
  });

  test('a signal aborted while PDFs are read stops the extraction', async () => {
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 150);
    await expect(extractFromMessage(pdfs, { signal: ac.signal })).rejects.toMatchObject({
      name: 'ExtractionCancelled',
    });
  });

  test('a timer signal (AbortSignal.timeout) is seen while a PDF is read', async () => {
    await expect(extractFromMessage(pdfs, { signal: AbortSignal.timeout(150) })).rejects.toBeInstanceOf(
      ExtractionCancelled,
    );
  });

  test('a deadline passing while PDFs are read: too-complex', async () => {
    const r = await extractFromMessage(pdfs, { deadline: Date.now() + 300 });
    expect(r).toMatchObject({ ok: false, reasonCode: 'too-complex', limit: 'deadline', indicators: [] });
    expect(r.reason).toMatch(/^extraction took longer than 0 s \(stopped at the PDF attachment p\d+\.pdf\)$/);
  });
});

describe('linear time on pathological shapes', () => {
  const MB = 1 << 20;

  test('formulaOf: "<f <f <f …" (quadratic for the old pattern) and agreement with the pattern', () => {
    expect(formulaOf('<f '.repeat(MB / 3))).toBeUndefined();
    expect(formulaOf('<f '.repeat(MB / 3) + '>x</f>')).toBe('x');
    expect(formulaOf(`<f>${'<f>'.repeat(MB / 3)}`)).toBeUndefined();
    const re = /<f(?:\s[^>]*)?>([^<]*)<\/f>/;
    const alphabet = ['<f', '<f>', '</f>', '>', '<', ' ', 'f', 'x', '\t', '<f x="1">', '\u00a0'];
    let seed = 7;
    for (let n = 0; n < 20_000; n++) {
      let s = '';
      const len = n % 12;
      for (let k = 0; k < len; k++) {
        seed = (seed * 1103515245 + 12345) >>> 0;
        s += alphabet[seed % alphabet.length];
      }
      expect([s, formulaOf(s)]).toEqual([s, re.exec(s)?.[1]]);
    }
  });

  test('a cell of "<f " repeated over 1 MB is read', async () => {
    const r = await extractFromFile(
      'f.xlsx',
      workbook([], `<row r="1"><c r="A1" t="str">${'<f '.repeat(MB / 3)}<v>45.133.1.20</v></c></row>`),
      { maxCompressionRatio: 1e6 }, // the sheet compresses 1000:1
    );
    expect(r.ok).toBe(true);
    expect(r.indicators.map((i) => i.value)).toEqual(['45.133.1.20']);
  });

  test('1 MB of one character through every format and header path', async () => {
    const shapes = ['<', ';', ' ', '.', '&', '"', '=', '%', '_', ':', '\r', '1'];
    for (const c of shapes) {
      const run = c.repeat(MB);
      for (const name of ['a.txt', 'a.html', 'a.json', 'a.csv']) {
        const r = await extractFromFile(name, Buffer.from(run));
        expect(r.ok).toBe(true);
        expect(r.indicators).toEqual([]);
      }
      const xlsx = await extractFromFile('a.xlsx', buildXlsx([{ name: 'S', rows: [[{ inline: run }]] }]));
      expect(xlsx.indicators).toEqual([]);
      // The run in a header (Content-Type parameters, a header name) and in the body.
      const raw = Buffer.from(
        `From: a@b.example\r\nContent-Type: multipart/mixed;${run.replace(/[\r]/g, ' ')}\r\nX-${run.replace(/[\r: ]/g, 'x')}: 1\r\n\r\n${run}`,
      );
      const m = await extractFromMessage(raw);
      expect(m.indicators).toEqual([]);
    }
  });
});

test('URL Defense v3: a megabyte of link starts is read in one pass, links still unwrapped', () => {
  const start = 'https://urldefense.com/v3/__';
  expect(unwrapUrls(start.repeat((1 << 20) / start.length) + '__;')).toContain(start);
  const link = `${start}http://45.133.1.20/login__;!!abc`;
  // (a start's link may not cross a line, so the thousand starts before the line break take nothing)
  expect(unwrapUrls(`${start.repeat(1000)}\n${link}`)).toContain('\n http://45.133.1.20/login !abc');
});
