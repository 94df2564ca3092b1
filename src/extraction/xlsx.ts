/**
 * XLSX (Office Open XML workbook) to text: every sheet, every cell, one cell per line, with a
 * locator per line ("IOCs!B3") so a place names the cell.
 *
 * Why our own reader rather than a spreadsheet library: we need only cell text, and the container is
 * a zip, so reading it through {@link readZip} gives workbooks the same bomb limits as any archive
 * (full spreadsheet libraries inflate the whole package into memory first). The XML is walked with
 * `indexOf`, never with backtracking patterns over the document, so a hostile sheet stays linear.
 *
 * Read: shared strings (rich-text runs joined, phonetic hints dropped), inline strings, cached
 * values of formulas, the formula text itself (a `HYPERLINK("http://…")` holds the address), and
 * hyperlink targets of cells.
 */
import { isStop, UNMETERED, type Meter } from './budget';
import { decodeEntities, isSpace } from './html';
import { readZip, type ZipLimits } from './zip';

/** Cells (and shared strings) between two looks at the clock and two reports to the meter. */
const CHECK_EVERY = 1024;

/** A workbook's text: one cell per line, and the cell each line came from. */
export interface XlsxText {
  text: string;
  /** Locator of line i + 1. */
  cells: string[];
  notes: string[];
}

/** `xml` without its `<rPh>…</rPh>` elements (phonetic hints repeat the text in another script). */
function withoutPhonetic(xml: string): string {
  if (!xml.includes('<rPh')) return xml;
  let out = '';
  let i = 0;
  for (;;) {
    const at = xml.indexOf('<rPh', i);
    if (at === -1) return out + xml.slice(i);
    out += xml.slice(i, at);
    const end = xml.indexOf('</rPh>', at);
    if (end === -1) return out;
    i = end + 6;
  }
}

/** Text content of every `<t>` element in `xml` (outside phonetic `<rPh>` runs), joined. */
function textOf(raw: string): string {
  const xml = withoutPhonetic(raw);
  let out = '';
  let i = 0;
  for (;;) {
    const open = xml.indexOf('<t', i);
    if (open === -1) break;
    const c = xml.charCodeAt(open + 2);
    if (c !== 62 /* > */ && c !== 32 && c !== 47 /* / */) {
      i = open + 2; // <tag-that-starts-with-t>
      continue;
    }
    const gt = xml.indexOf('>', open);
    if (gt === -1) break;
    if (xml.charCodeAt(gt - 1) === 47) {
      i = gt + 1; // <t/>
      continue;
    }
    const close = xml.indexOf('</t>', gt);
    if (close === -1) break;
    out += xml.slice(gt + 1, close);
    i = close + 4;
  }
  return decodeEntities(out);
}

/** Iterates the elements named `name` in `xml`: yields [attributes, inner XML] (inner '' when self-closing). */
function* elements(xml: string, name: string): Generator<[string, string]> {
  const open = `<${name}`;
  const closeTag = `</${name}>`;
  let i = 0;
  for (;;) {
    const at = xml.indexOf(open, i);
    if (at === -1) return;
    const c = xml.charCodeAt(at + open.length);
    if (c !== 32 && c !== 62 && c !== 47 && c !== 9 && c !== 10 && c !== 13) {
      i = at + open.length;
      continue;
    }
    const gt = xml.indexOf('>', at);
    if (gt === -1) return;
    const attrs = xml.slice(at + open.length, gt);
    if (xml.charCodeAt(gt - 1) === 47) {
      yield [attrs, ''];
      i = gt + 1;
      continue;
    }
    const close = xml.indexOf(closeTag, gt);
    if (close === -1) return;
    yield [attrs, xml.slice(gt + 1, close)];
    i = close + closeTag.length;
  }
}

const ATTR_PATTERNS = new Map<string, RegExp>();

function attr(attrs: string, name: string): string | undefined {
  let re = ATTR_PATTERNS.get(name);
  if (re === undefined) {
    re = new RegExp(`(?:^|\\s)${name}\\s*=\\s*(?:"([^"]*)"|'([^']*)')`);
    ATTR_PATTERNS.set(name, re);
  }
  const m = re.exec(attrs);
  return m === null ? undefined : decodeEntities(m[1] ?? m[2] ?? '');
}

/**
 * The text of the first `<f>` element of a cell's inner XML, as `/<f(?:\s[^>]*)?>([^<]*)<\/f>/`
 * would capture it, by hand: that pattern tried from every `<f` of `<f <f <f …` (no '>') scans to
 * the end each time, quadratic in the cell. Here a failed start resumes past what it looked at.
 */
export function formulaOf(inner: string): string | undefined {
  for (let at = inner.indexOf('<f'); at !== -1;) {
    const c = inner.charCodeAt(at + 2);
    let gt: number;
    if (c === 62 /* > */) gt = at + 2;
    else if (isSpace(c)) gt = inner.indexOf('>', at + 3);
    else {
      at = inner.indexOf('<f', at + 2);
      continue;
    }
    // No '>' after this start: none after any later start either.
    if (gt === -1) return undefined;
    const lt = inner.indexOf('<', gt + 1);
    if (lt === -1) return undefined;
    if (inner.startsWith('</f>', lt)) return inner.slice(gt + 1, lt);
    // Every start before `gt` ends at the same '>' and fails the same way; none lies in (gt, lt).
    at = inner.indexOf('<f', lt);
  }
  return undefined;
}

/** Resolves a relationship target against the folder of the part that refers to it. */
function resolveTarget(base: string, target: string): string {
  if (target.startsWith('/')) return target.slice(1);
  const parts = base.split('/');
  parts.pop();
  for (const seg of target.split('/')) {
    if (seg === '..') parts.pop();
    else if (seg !== '.') parts.push(seg);
  }
  return parts.join('/');
}

function relationships(xml: string | undefined): Map<string, { target: string; external: boolean }> {
  const map = new Map<string, { target: string; external: boolean }>();
  if (xml === undefined) return map;
  for (const [attrs] of elements(xml, 'Relationship')) {
    const id = attr(attrs, 'Id');
    const target = attr(attrs, 'Target');
    if (id !== undefined && target !== undefined) {
      map.set(id, { target, external: attr(attrs, 'TargetMode') === 'External' });
    }
  }
  return map;
}

/**
 * Reads every cell of every sheet of an XLSX workbook. Resolves with the text, or with a string
 * saying why the workbook could not be read.
 *
 * The work is reported to `meter` as it is done: the shared strings (count, and the table's text),
 * every cell, and the text of every cell as it is expanded, so a tiny workbook whose 10,000 cells
 * all name one 32 KB shared string stops at the text budget instead of building a 320 MB string.
 */
export async function xlsxToText(
  bytes: Buffer,
  limits: ZipLimits,
  meter: Meter = UNMETERED,
): Promise<XlsxText | string> {
  let zip;
  try {
    zip = await readZip(
      bytes,
      { ...limits, meter: limits.meter ?? meter },
      (name) => name.startsWith('xl/') && /\.(?:xml|rels)$/.test(name),
    );
  } catch (err) {
    if (isStop(err)) throw err;
    return `is not a readable workbook (${(err as Error).message})`;
  }
  const notes = [...zip.notes];
  const files = new Map<string, string>();
  for (const e of zip.entries) {
    if (e.content !== undefined) files.set(e.name, e.content.toString('utf8'));
    else if (/^xl\/(?:worksheets\/|sharedStrings)/.test(e.name)) notes.push(`part ${e.name} ${e.skipped}`);
  }
  const workbook = files.get('xl/workbook.xml');
  if (workbook === undefined) return 'is not an XLSX workbook (no xl/workbook.xml)';

  const shared: string[] = [];
  const sst = files.get('xl/sharedStrings.xml');
  if (sst !== undefined) {
    let tableText = 0;
    for (const [, inner] of elements(sst, 'si')) {
      const text = textOf(inner);
      shared.push(text);
      tableText += text.length;
      if (shared.length % CHECK_EVERY === 0) {
        meter.check();
        meter.count('sharedStrings', CHECK_EVERY);
        meter.text(tableText);
        tableText = 0;
      }
    }
    meter.count('sharedStrings', shared.length % CHECK_EVERY);
    meter.text(tableText);
  }

  const rels = relationships(files.get('xl/_rels/workbook.xml.rels'));
  const lines: string[] = [];
  const cells: string[] = [];
  // Text produced (with its line breaks), checked against what the meter allows at every line and
  // reported in batches; `items` is the cells and hyperlinks not yet reported.
  let produced = 0;
  let left = meter.textLeft();
  let items = 0;
  const line = (text: string, locator: string): void => {
    produced += text.length + 1;
    if (produced > left) meter.text(produced); // throws: over the part's or the message's text budget
    lines.push(text);
    cells.push(locator);
  };
  const item = (): void => {
    if (++items === CHECK_EVERY) {
      meter.check();
      meter.count('cells', items);
      meter.text(produced);
      left = meter.textLeft();
      items = 0;
      produced = 0;
    }
  };
  for (const [attrs] of elements(workbook, 'sheet')) {
    const sheetName = attr(attrs, 'name') ?? 'sheet';
    const rid = attr(attrs, 'r:id');
    const rel = rid === undefined ? undefined : rels.get(rid);
    if (rel === undefined) continue;
    const path = resolveTarget('xl/workbook.xml', rel.target);
    const xml = files.get(path);
    if (xml === undefined) continue; // skipped with a note above, or a chartsheet
    for (const [cellAttrs, inner] of elements(xml, 'c')) {
      item();
      const ref = attr(cellAttrs, 'r') ?? '?';
      const type = attr(cellAttrs, 't');
      let value: string;
      if (type === 'inlineStr') {
        value = textOf(inner);
      } else {
        const v = /<v>([^<]*)<\/v>/.exec(inner)?.[1];
        value = v === undefined ? '' : type === 's' ? (shared[Number(v)] ?? '') : decodeEntities(v);
      }
      const formula = inner === '' ? undefined : formulaOf(inner);
      if (formula !== undefined && formula !== '') value += `\t=${decodeEntities(formula)}`;
      if (value === '') continue;
      const locator = `${sheetName}!${ref}`;
      for (const text of value.split(/\r\n|\r|\n/)) line(text, locator);
    }
    // Hyperlinks of cells point outside the workbook through the sheet's relationships.
    const sheetRels = relationships(files.get(resolveTarget(path, `_rels/${path.split('/').pop()}.rels`)));
    for (const [linkAttrs] of elements(xml, 'hyperlink')) {
      item();
      const target = sheetRels.get(attr(linkAttrs, 'r:id') ?? '');
      if (target?.external) line(target.target, `${sheetName}!${attr(linkAttrs, 'ref') ?? '?'} link`);
    }
  }
  meter.count('cells', items);
  meter.text(produced);
  return { text: lines.join('\n'), cells, notes };
}
