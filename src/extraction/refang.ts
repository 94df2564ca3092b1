/**
 * Undo the "defanging" that advisories apply so indicators are not clickable: `1[.]2[.]3[.]4`,
 * `hxxp://`, `2001[:]db8[:][:]1`, zero-width characters inserted to break auto-linking.
 *
 * Every pattern here starts with a literal character and has only bounded or non-overlapping
 * repetition, so each replacement is a single linear pass (no backtracking blow-up on hostile input).
 * Newlines are never removed or added, so line numbers stay valid for the scanner.
 */

// Zero-width space/non-joiner/joiner, word joiner, BOM / zero-width no-break space, soft hyphen.
const INVISIBLE = /[\u200B-\u200D\u2060\uFEFF\u00AD]/g;
// [.] (.) {.} [dot] (dot) {dot}, any case, spaces or tabs allowed inside the brackets.
const BRACKET_DOT = /[[({][ \t]*(?:\.|dot)[ \t]*[\])}]/gi;
// Half-bracketed dots between two alphanumerics: 1.2.3[.4, example.]com.
const HALF_BRACKET_DOT = /(?<=[0-9A-Za-z])(?:\[\.|\.\])(?=[0-9A-Za-z])/g;
const ESCAPED_DOT = /\\\./g;
const BRACKET_SCHEME_SEP = /[[({]:\/\/[\])}]/g;
const BRACKET_COLON = /[[({][ \t]*:[ \t]*[\])}]/g;
const BRACKET_SLASH = /\[\/\]/g;
// hxxp, hXXp, h**p (and the https forms) as the start of a word.
const HXXP = /\bh(?:xx|\*\*)p(s?)(?=[^0-9A-Za-z_]|$)/gi;

function isBlank(c: number): boolean {
  return c === 32 || c === 9;
}

/**
 * Replaces bracketed dots with '.', also eating spaces or tabs around the brackets so that
 * `1.2.3 [.] 4` reads `1.2.3.4`. Done by hand instead of with `[ \t]*` at the start of a regex,
 * which would rescan a long run of spaces from every position (quadratic).
 */
function replaceBracketDots(text: string): string {
  BRACKET_DOT.lastIndex = 0;
  let out = '';
  let last = 0;
  for (let m = BRACKET_DOT.exec(text); m !== null; m = BRACKET_DOT.exec(text)) {
    let chunkEnd = m.index;
    while (chunkEnd > last && isBlank(text.charCodeAt(chunkEnd - 1))) chunkEnd--;
    out += text.slice(last, chunkEnd) + '.';
    last = m.index + m[0].length;
    while (last < text.length && isBlank(text.charCodeAt(last))) last++;
    BRACKET_DOT.lastIndex = last;
  }
  return last === 0 ? text : out + text.slice(last);
}

/** Returns `text` with common defanging undone. Linear time; line structure preserved. */
export function refang(text: string): string {
  let t = text.replace(INVISIBLE, '');
  t = replaceBracketDots(t);
  t = t.replace(HALF_BRACKET_DOT, '.');
  t = t.replace(ESCAPED_DOT, '.');
  t = t.replace(BRACKET_SCHEME_SEP, '://');
  t = t.replace(BRACKET_COLON, ':');
  t = t.replace(BRACKET_SLASH, '/');
  t = t.replace(HXXP, (_m, s: string) => `http${s.toLowerCase()}`);
  return t;
}
