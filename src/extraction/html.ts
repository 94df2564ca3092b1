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

const TAG_NAME = /<(\/?)([a-zA-Z][a-zA-Z0-9-]*)/y;
const NEEDS_COLLAPSE = /[\t\r\n\f]| {2}/;
const LINK_ATTR = /(?:^|[\s"'/])(?:href|src)\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'>]+))/gi;
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

/** Converts HTML to text for indicator scanning (see the module comment for the rules). */
export function htmlToText(html: string): string {
  const parts: string[] = [];
  const links: string[] = [];
  const find = makeFinder(html);
  let preDepth = 0;
  let i = 0;
  const pushText = (raw: string): void => {
    if (raw === '') return;
    // HTML whitespace collapses to one space, except inside <pre> where line breaks are content.
    // Most text chunks have nothing to collapse: test first, replace only when needed.
    if (preDepth > 0) parts.push(raw.includes('\r') ? raw.replace(/\r\n?/g, '\n') : raw);
    else parts.push(NEEDS_COLLAPSE.test(raw) ? raw.replace(/[ \t\r\n\f]+/g, ' ') : raw);
  };
  while (i < html.length) {
    const lt = html.indexOf('<', i);
    if (lt === -1) {
      pushText(html.slice(i));
      break;
    }
    pushText(html.slice(i, lt));
    if (html.startsWith('<!--', lt)) {
      const close = html.indexOf('-->', lt + 4);
      if (close === -1) break; // an unclosed comment hides the rest, as in a browser
      i = close + 3;
      continue;
    }
    const next = html.charCodeAt(lt + 1);
    TAG_NAME.lastIndex = lt;
    const m = next === 33 /* ! */ || next === 63 /* ? */ ? null : TAG_NAME.exec(html);
    if (m === null && next !== 33 && next !== 63) {
      pushText('<'); // "a < b" is text
      i = lt + 1;
      continue;
    }
    const close = html.indexOf('>', lt);
    if (close === -1) {
      // No '>' anywhere after this point, so no later '<' can start a tag either: the rest is text.
      pushText(html.slice(lt));
      break;
    }
    if (m === null) {
      i = close + 1; // <!DOCTYPE …>, <?xml …?>, <![CDATA[ …
      continue;
    }
    const closing = m[1] === '/';
    const name = (m[2] as string).toLowerCase();
    const tag = html.slice(lt, close + 1);
    i = close + 1;
    if (!closing) collectLinks(tag, links);
    if (!closing && DROP_CONTENT.has(name) && !tag.endsWith('/>')) {
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
    if (name === 'pre') preDepth = Math.max(0, preDepth + (closing ? -1 : 1));
    if (LINE_BREAK.has(name)) parts.push('\n');
    else if (CELL.has(name)) parts.push('\t');
  }
  const text = decodeEntities(parts.join(''));
  // Blank lines carry nothing for scanning; dropping them keeps "html:line N" short and stable.
  const lines: string[] = [];
  for (const raw of text.split('\n')) {
    let a = 0;
    let b = raw.length;
    while (a < b && raw.charCodeAt(a) === 32) a++;
    while (b > a && raw.charCodeAt(b - 1) <= 32) b--;
    if (b > a) lines.push(a === 0 && b === raw.length ? raw : raw.slice(a, b));
  }
  const uniqueLinks = [...new Set(links.map((l) => decodeEntities(l).trim()).filter((l) => l !== ''))];
  if (uniqueLinks.length > 0) lines.push('', ...uniqueLinks);
  return lines.join('\n');
}

function collectLinks(tag: string, links: string[]): void {
  if (!/(?:href|src)/i.test(tag)) return;
  LINK_ATTR.lastIndex = 0;
  for (let m = LINK_ATTR.exec(tag); m !== null; m = LINK_ATTR.exec(tag)) {
    const value = m[1] ?? m[2] ?? m[3];
    if (value !== undefined) links.push(value);
  }
}
