/**
 * HTML to scannable text. Not a renderer: it keeps exactly what matters for finding indicators.
 *
 * - `script`, `style`, `head` (and `template`, `noscript`) content is dropped, and so are comments;
 * - block elements and table cells become separators so neighbouring cells never run together;
 * - every other tag is removed WITHOUT inserting a space, because advisories break auto-linking
 *   with markup inside an address (`1.2.<b>3</b>.4` must read `1.2.3.4`);
 * - entities are decoded (`&#46;` is a common way to hide a dot);
 * - link and image targets (`href`, `src`) are appended on their own lines, since the visible text
 *   of a link often differs from where it points.
 *
 * Written as a single forward pass over the document's UTF-8 bytes, each byte looked at a bounded
 * number of times, so hostile HTML (unclosed tags, megabytes of `<`) stays linear.
 */
import { UNMETERED, type Meter } from './budget';
import { forEachPiece } from './pieces';

/** Tags between two looks at the meter's deadline. */
const CHECK_EVERY_TAGS = 4096;

// What a tag does to the text, looked up by a number computed from its name (no string per tag).
const KIND_OTHER = 0;
const KIND_LINE = 1;
const KIND_CELL = 2;
const KIND_DROP = 3;
const KIND_PRE = 4;

/** Elements whose whole content is dropped. */
const DROP_CONTENT = new Set(['script', 'style', 'head', 'template', 'noscript', 'title']);
/** Elements that separate lines. */
const LINE_BREAK = new Set([
  'address', 'article', 'aside', 'blockquote', 'br', 'caption', 'center', 'dd', 'div', 'dl', 'dt',
  'fieldset', 'figcaption', 'figure', 'footer', 'form', 'h1', 'h2', 'h3', 'h4', 'h5', 'h6', 'header',
  'hr', 'li', 'main', 'nav', 'ol', 'option', 'p', 'pre', 'section', 'table', 'tbody', 'tfoot', 'thead',
  'tr', 'ul',
]); // prettier-ignore
/** Elements that separate cells on one line. */
const CELL = new Set(['td', 'th']);

function isTagNameStart(c: number): boolean {
  return (c >= 97 && c <= 122) || (c >= 65 && c <= 90);
}

function isTagNameChar(c: number): boolean {
  return isTagNameStart(c) || (c >= 48 && c <= 57) || c === 45;
}

/** A tag-name byte's digit in {@link nameKey}'s base 38 (letters 1-26 in either case, '0'-'9' 27-36, '-' 37), else 0. */
const NAME_DIGIT = new Uint8Array(256);
for (let c = 0; c < 256; c++) {
  if (!isTagNameChar(c)) continue;
  const lower = c | 0x20;
  NAME_DIGIT[c] = lower >= 97 ? lower - 96 : lower === 45 ? 37 : lower - 21;
}

/** Longest tag name with a key: 38^10 < 2^53, so keys of up to 10 characters are exact. */
const MAX_KEYED_NAME = 10;

/**
 * A tag name as a number: base 38 over [a-z0-9-], case folded, for names of up to 10 characters.
 * 0 for anything longer or with other characters: no listed element. (The renderer computes the
 * same number while it reads a tag's name.)
 */
function nameKey(name: string): number {
  if (name.length > MAX_KEYED_NAME) return 0;
  let key = 0;
  for (let k = 0; k < name.length; k++) {
    const d = NAME_DIGIT[name.charCodeAt(k)] ?? 0;
    if (d === 0) return 0;
    key = key * 38 + d;
  }
  return key;
}

/** Names of up to three characters (most tags: td, tr, p, a, br, div) are looked up directly by key. */
const SHORT_KEYS = 38 * 38 * 38;
const SHORT_KIND = new Uint8Array(SHORT_KEYS);

/**
 * Open-addressing table from name key to kind for longer names: a tag is classified without a Map
 * lookup or a string.
 */
const KIND_SLOTS = 1024;
const KIND_KEYS = new Float64Array(KIND_SLOTS).fill(-1);
const KIND_VALUES = new Uint8Array(KIND_SLOTS);

function slotOf(key: number): number {
  return (Math.imul(key | 0, 0x9e3779b1) ^ ((key / 4294967296) | 0)) >>> 22; // 10 bits
}

function setKind(name: string, kind: number): void {
  const key = nameKey(name);
  if (key < SHORT_KEYS) {
    SHORT_KIND[key] = kind;
    return;
  }
  let slot = slotOf(key);
  while (KIND_KEYS[slot] !== -1 && KIND_KEYS[slot] !== key) slot = (slot + 1) & (KIND_SLOTS - 1);
  KIND_KEYS[slot] = key;
  KIND_VALUES[slot] = kind;
}

function kindOf(key: number): number {
  if (key === 0) return KIND_OTHER;
  for (let slot = slotOf(key); ; slot = (slot + 1) & (KIND_SLOTS - 1)) {
    const k = KIND_KEYS[slot];
    if (k === key) return KIND_VALUES[slot] as number;
    if (k === -1) return KIND_OTHER;
  }
}

for (const name of LINE_BREAK) setKind(name, KIND_LINE);
for (const name of CELL) setKind(name, KIND_CELL);
for (const name of DROP_CONTENT) setKind(name, KIND_DROP);
setKind('pre', KIND_PRE);

const ENTITY = /&(?:#([0-9]{1,8})|#[xX]([0-9a-fA-F]{1,8})|([a-zA-Z][a-zA-Z0-9]{1,31}));?/g;

/** Named entities worth decoding for indicator text: markup, punctuation used in defanging, spaces. */
const NAMED: Record<string, string> = {
  amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", nbsp: ' ', ensp: ' ', emsp: ' ', thinsp: ' ',
  period: '.', colon: ':', sol: '/', bsol: '\\', lsqb: '[', rsqb: ']', lbrack: '[', rbrack: ']',
  lpar: '(', rpar: ')', lcub: '{', rcub: '}', lbrace: '{', rbrace: '}', comma: ',', semi: ';',
  num: '#', commat: '@', percnt: '%', equals: '=', excl: '!', quest: '?', ast: '*', plus: '+',
  dollar: '$', lowbar: '_', verbar: '|', vert: '|', hyphen: '\u2010', dash: '\u2010', ndash: '\u2013',
  mdash: '\u2014', minus: '\u2212', shy: '\u00ad', zwj: '\u200d', zwnj: '\u200c', ZeroWidthSpace: '\u200b',
  Tab: '\t', NewLine: '\n', hellip: '\u2026', bull: '\u2022', middot: '\u00b7', laquo: '\u00ab',
  raquo: '\u00bb', lsquo: '\u2018', rsquo: '\u2019', ldquo: '\u201c', rdquo: '\u201d', copy: '\u00a9',
  reg: '\u00ae', trade: '\u2122', deg: '\u00b0', times: '\u00d7',
}; // prettier-ignore
/** Legacy entities browsers decode even without the ';'. */
const NO_SEMICOLON_OK = new Set(['amp', 'lt', 'gt', 'quot', 'nbsp']);

function fromCodePoint(cp: number): string {
  if (cp === 0 || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return '\ufffd';
  if (cp === 0xa0) return ' ';
  return String.fromCodePoint(cp);
}

/** Decodes numeric and common named character references in one pass (so `&amp;#46;` stays `&#46;`). */
export function decodeEntities(text: string): string {
  if (!text.includes('&')) return text;
  return text.replace(ENTITY, (m: string, dec?: string, hex?: string, name?: string) => {
    if (dec !== undefined) return fromCodePoint(Number(dec));
    if (hex !== undefined) return fromCodePoint(parseInt(hex, 16));
    const value = name === undefined ? undefined : (NAMED[name] ?? NAMED[name.toLowerCase()]);
    if (value === undefined) return m;
    if (!m.endsWith(';') && !NO_SEMICOLON_OK.has(name as string)) return m;
    return value;
  });
}

/** 1 for HTML's whitespace (space, tab, LF, FF, CR), which collapses to one space outside <pre>. */
const COLLAPSIBLE = new Uint8Array(256);
for (const c of [32, 9, 10, 12, 13]) COLLAPSIBLE[c] = 1;
/** A text byte as copied outside <pre>: whitespace as a space, anything else as itself. */
const TEXT_BYTE = new Uint8Array(256);
for (let c = 0; c < 256; c++) TEXT_BYTE[c] = COLLAPSIBLE[c] === 1 ? 32 : c;

function isCollapsible(c: number): boolean {
  return COLLAPSIBLE[c] === 1;
}

/**
 * Byte length of the character at `k` if JavaScript's regex `\s` matches it (UTF-8), else 0: the
 * closing-tag search must take exactly the blanks the regex `</script\s*>` would.
 */
function spaceBytes(b: Uint8Array, k: number): number {
  const c = b[k] as number;
  if (c === 32 || (c >= 9 && c <= 13)) return 1;
  if (c === 0xc2) return b[k + 1] === 0xa0 ? 2 : 0;
  const c1 = b[k + 1] as number;
  const c2 = b[k + 2] as number;
  if (c === 0xe1) return c1 === 0x9a && c2 === 0x80 ? 3 : 0;
  if (c === 0xe2) {
    if (c1 === 0x80) return (c2 >= 0x80 && c2 <= 0x8a) || c2 === 0xa8 || c2 === 0xa9 || c2 === 0xaf ? 3 : 0;
    return c1 === 0x81 && c2 === 0x9f ? 3 : 0;
  }
  if (c === 0xe3) return c1 === 0x80 && c2 === 0x80 ? 3 : 0;
  if (c === 0xef) return c1 === 0xbb && c2 === 0xbf ? 3 : 0;
  return 0;
}

/** True when b[k, k + word.length) is `word` (lower-case ASCII) in any case. */
function wordAt(b: Uint8Array, k: number, word: string): boolean {
  for (let j = 0; j < word.length; j++) {
    const c = b[k + j];
    if (c === undefined || (isTagNameStart(c) ? c | 0x20 : c) !== word.charCodeAt(j)) return false;
  }
  return true;
}

/**
 * Where the content dropped after `<name>` ends: past the first `</name>` (blanks allowed before
 * the '>', any case), or for an unclosed `<head>` at the first `<body`. -1 when there is none. A
 * search that ran to the end is remembered per name, so thousands of unclosed `<script>` tags in
 * hostile input cost one search each, not one pass each.
 */
function dropEnd(b: Buffer, from: number, name: string, exhausted: Set<string>): number {
  if (!exhausted.has(name)) {
    for (let k = b.indexOf('</', from); k !== -1; k = b.indexOf('</', k + 2)) {
      if (!wordAt(b, k + 2, name)) continue;
      let j = k + 2 + name.length;
      for (let w = spaceBytes(b, j); w > 0; w = spaceBytes(b, j)) j += w;
      if (b[j] === 62) return j + 1;
    }
    exhausted.add(name);
  }
  if (name !== 'head') return -1;
  // Many mails never close <head>; end it at <body> instead of losing the whole message.
  if (!exhausted.has('<body')) {
    for (let k = b.indexOf('<', from); k !== -1; k = b.indexOf('<', k + 1)) {
      if (wordAt(b, k + 1, 'body') && (b[k + 5] === 62 || spaceBytes(b, k + 5) > 0)) return k;
    }
    exhausted.add('<body');
  }
  return from;
}

/**
 * Copies html[from, to) into out at len as text: collapsed, or (`pre`) with CR LF and lone CR made
 * LF. Returns the new length. A plain function, so the caller's length stays a register.
 */
function copyText(html: Buffer, from: number, to: number, pre: boolean, out: Buffer, len: number): number {
  let w = len;
  for (let k = from; k < to; k++) {
    const c = html[k] as number;
    if (pre) {
      if (c !== 13) out[w++] = c;
      else {
        out[w++] = 10;
        if (k + 1 < to && html[k + 1] === 10) k++;
      }
    } else if (isCollapsible(c)) {
      out[w++] = 32;
      while (k + 1 < to && isCollapsible(html[k + 1] as number)) k++;
    } else {
      out[w++] = c;
    }
  }
  return w;
}

/** The text of an HTML document, rendered into bytes (UTF-8), and the link targets of its tags. */
interface Rendered {
  bytes: Buffer;
  length: number;
  hasAmpersand: boolean;
  links: string[];
}

/**
 * Renders UTF-8 HTML (see the module comment for the rules) in one pass over its bytes: text is
 * copied into one buffer (never longer than the input), tags become separators. Working on bytes
 * spares decoding the document into one large string, and copying text into one buffer beat
 * joining a slice per text run (27 against 34 ms for the benchmark's 4 MB of HTML).
 */
function render(html: Buffer, meter: Meter): Rendered {
  const n = html.length;
  let tags = 0;
  const out = Buffer.allocUnsafe(n);
  let len = 0;
  const links: string[] = [];
  const exhausted = new Set<string>();
  let preDepth = 0;
  let i = 0;
  while (i < n) {
    // Text up to the next '<'. The hot loop: outside <pre>, every byte is written and the length
    // advances unless the byte is whitespace after whitespace, all without a branch on the byte's
    // kind (branching on it cost about a third of the render in mispredictions).
    let lt = i;
    if (preDepth > 0) {
      lt = html.indexOf(60, i);
      if (lt === -1) lt = n;
      len = copyText(html, i, lt, true, out, len);
    } else {
      let afterSpace = 0;
      for (; lt < n; lt++) {
        const c = html[lt] as number;
        if (c === 60 /* < */) break;
        const space = COLLAPSIBLE[c] as number;
        out[len] = TEXT_BYTE[c] as number;
        len += 1 - (space & afterSpace);
        afterSpace = space;
      }
    }
    if (lt >= n) break;
    const next = html[lt + 1];
    if (next === 33 /* ! */ && html[lt + 2] === 45 && html[lt + 3] === 45) {
      const close = html.indexOf('-->', lt + 4);
      if (close === -1) break; // an unclosed comment hides the rest, as in a browser
      i = close + 3;
      continue;
    }
    // The tag name, read by hand: `<name` or `</name`, a letter then letters, digits or '-'.
    const closing = next === 47; /* / */
    const nameStart = closing ? lt + 2 : lt + 1;
    const isTag = next !== 33 && next !== 63 /* ? */ && isTagNameStart(html[nameStart] ?? -1);
    if (!isTag && next !== 33 && next !== 63) {
      out[len++] = 60; // "a < b" is text
      i = lt + 1;
      continue;
    }
    if (!isTag) {
      const close = html.indexOf(62, lt);
      if (close === -1) {
        // No '>' anywhere after this point, so no later '<' can start a tag either: the rest is text.
        len = copyText(html, lt, n, preDepth > 0, out, len);
        break;
      }
      i = close + 1; // <!DOCTYPE …>, <?xml …?>, <![CDATA[ …
      continue;
    }
    if (++tags === CHECK_EVERY_TAGS) {
      tags = 0;
      meter.check();
    }
    // The tag's name and its key (see nameKey), then up to '>' noting any '='.
    let k = nameStart;
    let key = 0;
    for (; k < n; k++) {
      const d = NAME_DIGIT[html[k] as number] as number;
      if (d === 0) break;
      key = key * 38 + d;
    }
    const nameEnd = k;
    let equals = false;
    for (; k < n; k++) {
      const c = html[k];
      if (c === 62 /* > */) break;
      if (c === 61 /* = */) equals = true;
    }
    if (k >= n) {
      len = copyText(html, lt, n, preDepth > 0, out, len);
      break;
    }
    const close = k;
    const kind =
      nameEnd - nameStart > MAX_KEYED_NAME ? KIND_OTHER : key < SHORT_KEYS ? (SHORT_KIND[key] as number) : kindOf(key);
    i = close + 1;
    // Only a tag with an '=' and the word href or src can carry a link: most tags are never decoded.
    if (!closing && equals && hasLinkWord(html, lt, close)) {
      for (const link of linksOf(html.toString('utf8', lt, close + 1))) links.push(link);
    }
    if (!closing && kind === KIND_DROP && html[close - 1] !== 47 /* "/>" */) {
      const end = dropEnd(html, i, html.toString('latin1', nameStart, nameEnd).toLowerCase(), exhausted);
      if (end === -1) break; // unclosed script/style swallows the rest, as in a browser
      i = end;
      continue;
    }
    if (kind === KIND_PRE) preDepth = Math.max(0, preDepth + (closing ? -1 : 1));
    if (kind === KIND_LINE || kind === KIND_PRE) out[len++] = 10;
    else if (kind === KIND_CELL) out[len++] = 9;
  }
  // '&' is looked for once at the end, not in every loop that copies text.
  const hasAmpersand = out.subarray(0, len).includes(38);
  return { bytes: out, length: len, hasAmpersand, links };
}

/**
 * Drops blank lines and trims lines (leading spaces, trailing blanks and control characters) in
 * place; returns the new length. Blank lines carry nothing for scanning; dropping them keeps
 * "html:line N" short and stable.
 */
function trimLines(b: Buffer, length: number): number {
  let w = 0;
  for (let a = 0; a <= length;) {
    let nl = b.indexOf(10, a);
    if (nl === -1 || nl > length) nl = length;
    let e = nl;
    while (a < e && b[a] === 32) a++;
    while (e > a && (b[e - 1] as number) <= 32) e--;
    if (e > a) {
      if (w > 0) b[w++] = 10;
      b.copyWithin(w, a, e);
      w += e - a;
    }
    a = nl + 1;
  }
  return w;
}

/** b[0, length) in pieces of whole lines, decoded as UTF-8; none for nothing. */
function pieces(b: Buffer, length: number): string[] {
  const out: string[] = [];
  if (length > 0) {
    forEachPiece(
      length,
      (i) => b.indexOf(10, i),
      (a, e) => out.push(b.toString('utf8', a, e)),
    );
  }
  return out;
}

/** Converts HTML to text for indicator scanning (see the module comment for the rules). */
export function htmlToText(html: string): string {
  return htmlToPieces(html).join('\n');
}

/**
 * {@link htmlToText} in pieces of whole lines, to be read as if joined with '\n': the scanner takes
 * them one at a time, so the text never exists as one large string. A string is encoded as UTF-8
 * first; bytes are taken as UTF-8. `meter` is checked every few thousand tags (deadline, cancel).
 */
export function htmlToPieces(html: string | Buffer, meter: Meter = UNMETERED): string[] {
  const r = render(typeof html === 'string' ? Buffer.from(html, 'utf8') : html, meter);
  let body: string[];
  if (!r.hasAmpersand) {
    body = pieces(r.bytes, trimLines(r.bytes, r.length));
  } else {
    // Entities can make blanks and line breaks (&nbsp; &NewLine;): lines are trimmed after decoding.
    const text = decodeEntities(r.bytes.toString('utf8', 0, r.length));
    const lines: string[] = [];
    for (let a = 0; a <= text.length;) {
      let nl = text.indexOf('\n', a);
      if (nl === -1) nl = text.length;
      let b = nl;
      while (a < b && text.charCodeAt(a) === 32) a++;
      while (b > a && text.charCodeAt(b - 1) <= 32) b--;
      if (b > a) lines.push(text.slice(a, b));
      a = nl + 1;
    }
    body = lines.length === 0 ? [] : [lines.join('\n')];
  }
  const uniqueLinks = [...new Set(r.links.map((l) => decodeEntities(l).trim()).filter((l) => l !== ''))];
  if (uniqueLinks.length > 0) body.push(['', ...uniqueLinks].join('\n'));
  return body;
}

/** True when html[from, to) contains "href" or "src" in any case. */
function hasLinkWord(html: Uint8Array, from: number, to: number): boolean {
  for (let k = from; k < to; k++) {
    const c = (html[k] as number) | 0x20;
    if (c === 104 /* h */) {
      if (
        ((html[k + 1] as number) | 0x20) === 114 &&
        ((html[k + 2] as number) | 0x20) === 101 &&
        ((html[k + 3] as number) | 0x20) === 102
      ) {
        return true;
      }
    } else if (c === 115 /* s */) {
      if (((html[k + 1] as number) | 0x20) === 114 && ((html[k + 2] as number) | 0x20) === 99) return true;
    }
  }
  return false;
}

/** A character that JavaScript's regex `\s` matches. */
export function isSpace(c: number): boolean {
  if (c <= 32) return c === 32 || (c >= 9 && c <= 13);
  if (c < 0xa0) return false;
  return (
    c === 0xa0 ||
    c === 0x1680 ||
    (c >= 0x2000 && c <= 0x200a) ||
    c === 0x2028 ||
    c === 0x2029 ||
    c === 0x202f ||
    c === 0x205f ||
    c === 0x3000 ||
    c === 0xfeff
  );
}

/**
 * The href and src values of one tag, in order: an attribute name after a blank, quote or '/',
 * then `=` (blanks around it allowed), then a quoted value or an unquoted run. Read by hand; the
 * unit tests check it against the equivalent regular expression.
 */
export function linksOf(tag: string): string[] {
  const links: string[] = [];
  const n = tag.length;
  // k is the blank, quote or '/' before a name; -1 stands for the start of the tag.
  for (let k = -1; k < n; k++) {
    const c = k === -1 ? 32 : tag.charCodeAt(k);
    if (!isSpace(c) && c !== 34 && c !== 39 && c !== 47) continue;
    let i = k + 1;
    const h = tag.charCodeAt(i) | 0x20;
    const r = tag.charCodeAt(i + 1) | 0x20;
    if (h === 104 && r === 114 && (tag.charCodeAt(i + 2) | 0x20) === 101 && (tag.charCodeAt(i + 3) | 0x20) === 102) {
      i += 4; // href
    } else if (h === 115 && r === 114 && (tag.charCodeAt(i + 2) | 0x20) === 99) {
      i += 3; // src
    } else {
      continue;
    }
    while (i < n && isSpace(tag.charCodeAt(i))) i++;
    if (tag.charCodeAt(i) !== 61 /* = */) continue;
    i++;
    while (i < n && isSpace(tag.charCodeAt(i))) i++;
    const q = tag.charCodeAt(i);
    let end: number;
    if (q === 34 || q === 39) {
      const close = tag.indexOf(q === 34 ? '"' : "'", i + 1);
      if (close === -1) continue;
      links.push(tag.slice(i + 1, close));
      end = close + 1;
    } else {
      let j = i;
      for (; j < n; j++) {
        const d = tag.charCodeAt(j);
        if (isSpace(d) || d === 34 || d === 39 || d === 62) break;
      }
      if (j === i) continue;
      links.push(tag.slice(i, j));
      end = j;
    }
    k = end - 1; // the next attribute's blank or quote must come after this value
  }
  return links;
}
