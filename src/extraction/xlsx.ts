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
import { decodeEntities } from './html';
import { readZip, type ZipLimits } from './zip';

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
 */
export async function xlsxToText(bytes: Buffer, limits: ZipLimits): Promise<XlsxText | string> {
  let zip;
  try {
    zip = await readZip(bytes, limits, (name) => name.startsWith('xl/') && /\.(?:xml|rels)$/.test(name));
  } catch (err) {
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
  if (sst !== undefined) for (const [, inner] of elements(sst, 'si')) shared.push(textOf(inner));

  const rels = relationships(files.get('xl/_rels/workbook.xml.rels'));
  const lines: string[] = [];
  const cells: string[] = [];
  for (const [attrs] of elements(workbook, 'sheet')) {
    const sheetName = attr(attrs, 'name') ?? 'sheet';
    const rid = attr(attrs, 'r:id');
    const rel = rid === undefined ? undefined : rels.get(rid);
    if (rel === undefined) continue;
    const path = resolveTarget('xl/workbook.xml', rel.target);
    const xml = files.get(path);
    if (xml === undefined) continue; // skipped with a note above, or a chartsheet
    for (const [cellAttrs, inner] of elements(xml, 'c')) {
      const ref = attr(cellAttrs, 'r') ?? '?';
      const type = attr(cellAttrs, 't');
      let value: string;
      if (type === 'inlineStr') {
        value = textOf(inner);
      } else {
        const v = /<v>([^<]*)<\/v>/.exec(inner)?.[1];
        value = v === undefined ? '' : type === 's' ? (shared[Number(v)] ?? '') : decodeEntities(v);
      }
      const formula = /<f(?:\s[^>]*)?>([^<]*)<\/f>/.exec(inner)?.[1];
      if (formula !== undefined && formula !== '') value += `\t=${decodeEntities(formula)}`;
      if (value === '') continue;
      for (const line of value.split(/\r\n|\r|\n/)) {
        lines.push(line);
        cells.push(`${sheetName}!${ref}`);
      }
    }
    // Hyperlinks of cells point outside the workbook through the sheet's relationships.
    const sheetRels = relationships(files.get(resolveTarget(path, `_rels/${path.split('/').pop()}.rels`)));
    for (const [linkAttrs] of elements(xml, 'hyperlink')) {
      const target = sheetRels.get(attr(linkAttrs, 'r:id') ?? '');
      if (target?.external) {
        lines.push(target.target);
        cells.push(`${sheetName}!${attr(linkAttrs, 'ref') ?? '?'} link`);
      }
    }
  }
  return { text: lines.join('\n'), cells, notes };
}
