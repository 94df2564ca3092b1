/**
 * Undo the "defanging" that advisories apply so indicators are not clickable: `1[.]2[.]3[.]4`,
 * `hxxp://`, `2001[:]db8[:][:]1`, `1 . 2 . 3 . 4`, zero-width characters inserted to break auto-linking.
 *
 * One combined regular expression, applied in one pass: on 20 MB of prose that is a few milliseconds,
 * where one pass per rule cost more than the whole address scan. Every alternative starts with a
 * literal character and has only bounded repetition, so the pass stays linear on hostile input (a
 * megabyte of blanks or of `[` cannot make it backtrack). Newlines are never removed or added, so line
 * numbers stay valid for the scanner.
 */

// Zero-width space/non-joiner/joiner, word joiner, BOM / zero-width no-break space, soft hyphen.
const INVISIBLE = /[\u200B-\u200D\u2060\uFEFF\u00AD]/g;
const HAS_INVISIBLE = /[\u200B-\u200D\u2060\uFEFF\u00AD]/;

/**
 * The alternatives. Each starts with a literal character, so the engine only stops where one of
 * `[ ( { \\ . 0-9 h H` occurs; checks that need the character before the match (a letter or digit
 * before a half-bracketed dot, no word before `hxxp`) are made in code, which also eats the blanks
 * before `[.]` without a regex that would rescan a long run of blanks from every position.
 * 1. `[.]` `(.)` `{.}` `[dot]` `(dot)` `{dot}` in any case, blanks inside, and blanks on either side
 *    eaten too (`1.2.3 [.] 4` reads `1.2.3.4`);
 * 2. `[://]` and the like → `://`;
 * 3. `[:]` `(:)` `{:}` → `:`;
 * 4. `[/]` → `/`;
 * 5. `\.` → `.`;
 * 6. half-bracketed dots between two letters or digits: `1.2.3[.4`, `example.]com`;
 * 7. a single-space-padded dot between digits: `1 . 2` → `1.2` (exactly one space each side, so
 *    "ends at 5. 6 more" is left alone);
 * 8. `hxxp`, `hXXp`, `h**p` (and the `s` forms) as a whole word start.
 */
const DEFANG =
  /([[({])[ \t]{0,3}(?:\.|[dD][oO][tT])[ \t]{0,3}[\])}]|[[({]:\/\/[\])}]|[[({][ \t]{0,3}:[ \t]{0,3}[\])}]|\[\/\]|\\\.|\[\.(?=[0-9A-Za-z])|\.\](?=[0-9A-Za-z])|[0-9] \. (?=[0-9])|[hH](?:[xX]{2}|\*\*)[pP]([sS]?)(?![0-9A-Za-z_])/g;

function isAlnum(c: number): boolean {
  return (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122);
}

function isBlank(c: number): boolean {
  return c === 32 || c === 9;
}

/** Returns `text` with common defanging undone. Linear time; line structure preserved. */
export function refang(text: string): string {
  const t = HAS_INVISIBLE.test(text) ? text.replace(INVISIBLE, '') : text;
  DEFANG.lastIndex = 0;
  // Pieces joined once at the end: a flat string, which the scanner reads much faster than the rope
  // that repeated `+=` builds.
  const out: string[] = [];
  let last = 0;
  for (let m = DEFANG.exec(t); m !== null; m = DEFANG.exec(t)) {
    const at = m.index;
    const match = m[0];
    const c0 = match.charCodeAt(0);
    let chunkEnd = at;
    let replacement: string;
    let next = at + match.length;
    if (m[1] !== undefined) {
      // Bracketed dot: eat up to three blanks on each side.
      for (let k = 0; k < 3 && chunkEnd > last && isBlank(t.charCodeAt(chunkEnd - 1)); k++) chunkEnd--;
      for (let k = 0; k < 3 && next < t.length && isBlank(t.charCodeAt(next)); k++) next++;
      replacement = '.';
    } else if (m[2] !== undefined) {
      if (at > 0 && (isAlnum(t.charCodeAt(at - 1)) || t.charCodeAt(at - 1) === 95)) continue; // "shxxp": not a scheme
      replacement = `http${m[2].toLowerCase()}`;
    } else if (c0 >= 48 && c0 <= 57) {
      replacement = `${match[0]}.`; // "1 . " → "1."
    } else if (match.includes('//')) {
      replacement = '://';
    } else if (match.includes(':')) {
      replacement = ':';
    } else if (match === '[/]') {
      replacement = '/';
    } else if (match === '[.' || match === '.]') {
      if (at === 0 || !isAlnum(t.charCodeAt(at - 1))) continue; // needs a letter or digit on both sides
      replacement = '.';
    } else {
      replacement = '.'; // "\."
    }
    out.push(t.slice(last, chunkEnd), replacement);
    last = next;
    DEFANG.lastIndex = next;
  }
  if (last === 0) return t;
  out.push(t.slice(last));
  return out.join('');
}
