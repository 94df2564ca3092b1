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
 * Written as a single forward pass with indexOf / sticky regexes so hostile HTML (unclosed tags,
 * megabytes of `<`) stays linear.
 */

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

/**
 * A tag name as a number: base 38 over [a-z0-9-], case folded, for names of up to 10 characters
 * (38^10 < 2^53, so it is exact). 0 for anything longer or with other characters: no listed element.
 */
function nameKey(t: string, from: number, to: number): number {
  if (to - from > 10) return 0;
  let key = 0;
  for (let k = from; k < to; k++) {
    const c = t.charCodeAt(k) | 0x20; // ASCII letters to lower case; digits and '-' keep their codes
    const d = c >= 97 && c <= 122 ? c - 96 : c >= 48 && c <= 57 ? c - 21 : c === 45 ? 37 : -1;
    if (d < 0) return 0;
    key = key * 38 + d;
  }
  return key;
}

/** Open-addressing table from name key to kind: a tag is classified without a Map lookup or a string. */
const KIND_SLOTS = 1024;
const KIND_KEYS = new Float64Array(KIND_SLOTS).fill(-1);
const KIND_VALUES = new Uint8Array(KIND_SLOTS);

function slotOf(key: number): number {
  return (Math.imul(key | 0, 0x9e3779b1) ^ ((key / 4294967296) | 0)) >>> 22; // 10 bits
}

function setKind(name: string, kind: number): void {
  const key = nameKey(name, 0, name.length);
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

/**
 * Index of the first match of `pattern` (a global regex source) at or after `from`, or -1, with the
 * answer "none" remembered per pattern: once a search ran to the end of the document, later searches
 * from further on cannot succeed, so hostile input with thousands of unclosed `<script>` stays linear.
 */
function makeFinder(html: string): (pattern: string, from: number, past: boolean) => number {
  const exhausted = new Set<string>();
  return (pattern, from, past) => {
    if (exhausted.has(pattern)) return -1;
    const re = new RegExp(pattern, 'gi');
    re.lastIndex = from;
    const m = re.exec(html);
    if (m === null) {
      exhausted.add(pattern);
      return -1;
    }
    return past ? m.index + m[0].length : m.index;
  };
}

function isTagNameStart(c: number): boolean {
  return (c >= 97 && c <= 122) || (c >= 65 && c <= 90);
}

function isTagNameChar(c: number): boolean {
  return isTagNameStart(c) || (c >= 48 && c <= 57) || c === 45;
}

function isCollapsible(c: number): boolean {
  return c === 32 || c === 9 || c === 10 || c === 12 || c === 13;
}

// What a text character needs in the hot copy loop: 0 nothing, else one of these.
const T_COLLAPSE = 1;
const T_TAG = 2;
const T_AMPERSAND = 3;
const TEXT_CLASS = new Uint8Array(256);
for (const c of [32, 9, 10, 12, 13]) TEXT_CLASS[c] = T_COLLAPSE;
TEXT_CLASS[60] = T_TAG;
TEXT_CLASS[38] = T_AMPERSAND;

/**
 * The text being rendered, as character codes in a growing byte buffer (switching to 16-bit codes
 * at the first character above U+00FF), turned into one string at the end. Pushing a slice per text
 * run and joining hundreds of thousands of them cost most of the rendering time.
 */
class TextBuffer {
  private bytes: Uint8Array | undefined;
  private wide: Uint16Array | undefined;
  length = 0;
  hasAmpersand = false;

  constructor(capacity: number) {
    this.bytes = new Uint8Array(Math.max(64, capacity));
  }

  push(c: number): void {
    if (c === 38 /* & */) this.hasAmpersand = true;
    if (this.bytes !== undefined) {
      if (c > 0xff) {
        this.widen();
        this.push(c);
        return;
      }
      if (this.length === this.bytes.length) {
        const grown = new Uint8Array(this.bytes.length * 2);
        grown.set(this.bytes);
        this.bytes = grown;
      }
      this.bytes[this.length++] = c;
      return;
    }
    const wide = this.wide as Uint16Array;
    if (this.length === wide.length) {
      const grown = new Uint16Array(wide.length * 2);
      grown.set(wide);
      this.wide = grown;
    }
    (this.wide as Uint16Array)[this.length++] = c;
  }

  /** Appends html[from, to) with HTML whitespace collapsed: each run of blanks and line breaks becomes one space. */
  pushCollapsed(html: string, from: number, to: number): void {
    let k = from;
    const bytes = this.bytes;
    if (bytes !== undefined && this.length + (to - from) <= bytes.length) {
      // The hot loop of rendering: one-byte text written straight into the buffer.
      let len = this.length;
      for (; k < to; k++) {
        const c = html.charCodeAt(k);
        if (c > 0xff) break; // the rest goes the general way, which widens the buffer
        if (isCollapsible(c)) {
          bytes[len++] = 32;
          while (k + 1 < to && isCollapsible(html.charCodeAt(k + 1))) k++;
          continue;
        }
        if (c === 38) this.hasAmpersand = true;
        bytes[len++] = c;
      }
      this.length = len;
    }
    for (; k < to; k++) {
      const c = html.charCodeAt(k);
      if (!isCollapsible(c)) {
        this.push(c);
        continue;
      }
      this.push(32);
      while (k + 1 < to && isCollapsible(html.charCodeAt(k + 1))) k++;
    }
  }

  /**
   * Appends html from `from` up to the next '<' with whitespace collapsed (as {@link pushCollapsed})
   * and returns the index of that '<', or -1 when the text runs to the end. One loop both finds the
   * tag and copies the text before it.
   */
  pushUntilTag(html: string, from: number): number {
    const n = html.length;
    let k = from;
    const bytes = this.bytes;
    if (bytes !== undefined && this.length + (n - from) <= bytes.length) {
      let len = this.length;
      for (; k < n; k++) {
        const c = html.charCodeAt(k);
        if (c > 0xff) break; // the rest goes the general way, which widens the buffer
        const t = TEXT_CLASS[c];
        if (t === 0) {
          bytes[len++] = c;
          continue;
        }
        if (t === T_TAG) break;
        if (t === T_COLLAPSE) {
          bytes[len++] = 32;
          while (k + 1 < n && isCollapsible(html.charCodeAt(k + 1))) k++;
          continue;
        }
        this.hasAmpersand = true;
        bytes[len++] = c;
      }
      this.length = len;
      if (k === n) return -1;
      if (html.charCodeAt(k) === 60) return k;
    }
    const lt = html.indexOf('<', k);
    this.pushCollapsed(html, k, lt === -1 ? n : lt);
    return lt;
  }

  /** Appends html[from, to) as preformatted text: only CR LF and lone CR become LF. */
  pushPre(html: string, from: number, to: number): void {
    for (let k = from; k < to; k++) {
      const c = html.charCodeAt(k);
      if (c !== 13) this.push(c);
      else {
        this.push(10);
        if (k + 1 < to && html.charCodeAt(k + 1) === 10) k++;
      }
    }
  }

  toString(): string {
    if (this.bytes !== undefined) return Buffer.from(this.bytes.buffer, 0, this.length).toString('latin1');
    return new TextDecoder('utf-16le').decode((this.wide as Uint16Array).subarray(0, this.length));
  }

  private widen(): void {
    const bytes = this.bytes as Uint8Array;
    this.wide = new Uint16Array(bytes.length);
    this.wide.set(bytes.subarray(0, this.length));
    this.bytes = undefined;
  }
}

/** Converts HTML to text for indicator scanning (see the module comment for the rules). */
export function htmlToText(html: string): string {
  return htmlToLines(html).join('\n');
}

/** {@link htmlToText} as its lines: the scanner takes them in pieces, never as one large string. */
export function htmlToLines(html: string): string[] {
  const out = new TextBuffer(html.length);
  const links: string[] = [];
  const find = makeFinder(html);
  let preDepth = 0;
  let i = 0;
  /** Text between tags. HTML whitespace collapses to one space, except inside <pre> where line breaks are content. */
  const pushText = (from: number, to: number): void => {
    if (preDepth > 0) out.pushPre(html, from, to);
    else out.pushCollapsed(html, from, to);
  };
  while (i < html.length) {
    let lt: number;
    if (preDepth > 0) {
      lt = html.indexOf('<', i);
      out.pushPre(html, i, lt === -1 ? html.length : lt);
    } else {
      lt = out.pushUntilTag(html, i);
    }
    if (lt === -1) break;
    const next = html.charCodeAt(lt + 1);
    if (next === 33 /* ! */ && html.startsWith('<!--', lt)) {
      const close = html.indexOf('-->', lt + 4);
      if (close === -1) break; // an unclosed comment hides the rest, as in a browser
      i = close + 3;
      continue;
    }
    // The tag name, read by hand: `<name` or `</name`, a letter then letters, digits or '-'.
    const closing = next === 47; /* / */
    const nameStart = closing ? lt + 2 : lt + 1;
    const isTag = next !== 33 && next !== 63 /* ? */ && isTagNameStart(html.charCodeAt(nameStart));
    if (!isTag && next !== 33 && next !== 63) {
      out.push(60); // "a < b" is text
      i = lt + 1;
      continue;
    }
    if (!isTag) {
      const close = html.indexOf('>', lt);
      if (close === -1) {
        // No '>' anywhere after this point, so no later '<' can start a tag either: the rest is text.
        pushText(lt, html.length);
        break;
      }
      i = close + 1; // <!DOCTYPE …>, <?xml …?>, <![CDATA[ …
      continue;
    }
    // One pass over the tag: its name (as a number, see nameKey), then up to '>' noting any '='.
    const n = html.length;
    let key = 0;
    let k = nameStart;
    for (; k < n; k++) {
      const c = html.charCodeAt(k);
      if (!isTagNameChar(c)) break;
      const lower = c | 0x20;
      key = key * 38 + (lower >= 97 ? lower - 96 : lower === 45 ? 37 : lower - 21);
    }
    const nameEnd = k;
    if (nameEnd - nameStart > 10) key = 0;
    let equals = false;
    for (; k < n; k++) {
      const c = html.charCodeAt(k);
      if (c === 62 /* > */) break;
      if (c === 61 /* = */) equals = true;
    }
    if (k === n) {
      // No '>' anywhere after this point, so no later '<' can start a tag either: the rest is text.
      pushText(lt, n);
      break;
    }
    const close = k;
    const kind = kindOf(key);
    i = close + 1;
    // Only a tag with an '=' and the word href or src can carry a link: most tags are never sliced.
    if (!closing && equals && hasLinkWord(html, lt, close)) links.push(...linksOf(html.slice(lt, close + 1)));
    if (!closing && kind === KIND_DROP && html.charCodeAt(close - 1) !== 47 /* "/>" */) {
      const name = html.slice(nameStart, nameEnd).toLowerCase();
      let end = find(`</${name}\\s*>`, i, true);
      if (name === 'head' && end === -1) {
        // Many mails never close <head>; end it at <body> instead of losing the whole message.
        const body = find('<body[\\s>]', i, false);
        end = body === -1 ? i : body;
      }
      if (end === -1) break; // unclosed script/style swallows the rest, as in a browser
      i = end;
      continue;
    }
    if (kind === KIND_PRE) preDepth = Math.max(0, preDepth + (closing ? -1 : 1));
    if (kind === KIND_LINE || kind === KIND_PRE) out.push(10);
    else if (kind === KIND_CELL) out.push(9);
  }
  const rendered = out.toString();
  const text = out.hasAmpersand ? decodeEntities(rendered) : rendered;
  // Blank lines carry nothing for scanning; dropping them keeps "html:line N" short and stable.
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
  const uniqueLinks = [...new Set(links.map((l) => decodeEntities(l).trim()).filter((l) => l !== ''))];
  if (uniqueLinks.length > 0) lines.push('', ...uniqueLinks);
  return lines;
}

/** True when html[from, to) contains "href" or "src" in any case. */
function hasLinkWord(html: string, from: number, to: number): boolean {
  for (let k = from; k < to; k++) {
    const c = html.charCodeAt(k) | 0x20;
    if (c === 104 /* h */) {
      if (
        (html.charCodeAt(k + 1) | 0x20) === 114 &&
        (html.charCodeAt(k + 2) | 0x20) === 101 &&
        (html.charCodeAt(k + 3) | 0x20) === 102
      ) {
        return true;
      }
    } else if (c === 115 /* s */) {
      if ((html.charCodeAt(k + 1) | 0x20) === 114 && (html.charCodeAt(k + 2) | 0x20) === 99) return true;
    }
  }
  return false;
}

/** A character that JavaScript's regex `\s` matches. */
function isSpace(c: number): boolean {
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
 * unit tests check it against the equivalent regular expression, which cost more than the rest of
 * rendering a link-heavy page.
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
