/**
 * Undo the "defanging" that advisories apply so indicators are not clickable: `1[.]2[.]3[.]4`,
 * `hxxp://`, `2001[:]db8[:][:]1`, `1 . 2 . 3 . 4`, zero-width characters inserted to break auto-linking.
 *
 * One combined regular expression, tried only where one of its first characters occurs (found with
 * indexOf): one pass per rule cost more than the whole address scan, and even one global pass of the
 * combined regex stopped at every digit, dot and 'h'. Every alternative starts with a literal
 * character and has only bounded repetition, so the pass stays linear on hostile input (a megabyte of
 * blanks or of `[` cannot make it backtrack). Newlines are never removed or added, so line numbers
 * stay valid for the scanner.
 */

// Zero-width space/non-joiner/joiner, word joiner, BOM / zero-width no-break space, soft hyphen.
const INVISIBLE = /[\u200B-\u200D\u2060\uFEFF\u00AD]/g;

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

/** One regex for all rules, tried only at a candidate position (sticky): see {@link defangCandidates}. */
const DEFANG_AT = new RegExp(DEFANG.source, 'y');

/**
 * The characters a defang can involve: the brackets and backslash that start rules 1-6, the '.' of
 * rules 6-7, and the `x`/`X`/`*` of rule 8. Each is found with indexOf (a memchr over the string);
 * a regex stepping through every digit, dot and 'h' of the text cost ten times more.
 */
const TRIGGERS = ['[', '(', '{', '\\', '.', 'x', 'X', '*'];

/** Where a DEFANG match could start, given a trigger character at `p` (-1: it cannot). */
function matchStart(t: string, p: number): number {
  const c = t.charCodeAt(p);
  if (c === 46 /* . */) {
    if (t.charCodeAt(p + 1) === 93 /* ] */) return p; // rule 6 ".]"
    // rule 7: "<digit> . <digit>", the match starting at the digit
    if (t.charCodeAt(p - 1) === 32 && t.charCodeAt(p + 1) === 32 && isDigit(t.charCodeAt(p - 2))) return p - 2;
    return -1;
  }
  if (c === 120 || c === 88 || c === 42 /* x X * */) {
    const h = t.charCodeAt(p - 1);
    return h === 104 || h === 72 ? p - 1 : -1; // rule 8 starts at the 'h' before "xx" / "**"
  }
  return p;
}

/** The next occurrence of trigger `ch` at or after `from` where a match could start (-1: none). */
function nextTrigger(t: string, ch: string, from: number): number {
  let p = t.indexOf(ch, from);
  while (p !== -1 && matchStart(t, p) === -1) p = t.indexOf(ch, p + 1);
  return p;
}

function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}

/** Removes zero-width characters and soft hyphens (a no-op, found in O(1), for most text). */
function dropInvisible(text: string): string {
  // indexOf of a character above U+00FF in a one-byte string returns at once: V8 knows it cannot be there.
  for (const ch of ['\u00AD', '\u200B', '\u200C', '\u200D', '\u2060', '\uFEFF']) {
    if (text.indexOf(ch) !== -1) return text.replace(INVISIBLE, '');
  }
  return text;
}

/** Returns `text` with common defanging undone. Linear time; line structure preserved. */
export function refang(text: string): string {
  const t = dropInvisible(text);
  // The match positions of the global DEFANG regex, found by trying it (sticky) only at candidate
  // positions, in order: one cursor per trigger character, the smallest taken each time.
  const cursors = new Int32Array(TRIGGERS.length);
  for (let c = 0; c < TRIGGERS.length; c++) cursors[c] = nextTrigger(t, TRIGGERS[c] as string, 0);
  // Pieces joined once at the end: a flat string, which the scanner reads much faster than the rope
  // that repeated `+=` builds.
  const out: string[] = [];
  let last = 0;
  /** Where the regex would resume: no match may start before it (it is past the previous match). */
  let resume = 0;
  for (;;) {
    let k = -1;
    let p = Infinity;
    for (let c = 0; c < cursors.length; c++) {
      const at = cursors[c] as number;
      if (at !== -1 && at < p) {
        p = at;
        k = c;
      }
    }
    if (k === -1) break;
    cursors[k] = nextTrigger(t, TRIGGERS[k] as string, p + 1);
    const at = matchStart(t, p);
    if (at < resume) continue;
    DEFANG_AT.lastIndex = at;
    const m = DEFANG_AT.exec(t);
    if (m === null) continue;
    const match = m[0];
    const c0 = match.charCodeAt(0);
    let chunkEnd = at;
    let replacement: string;
    let next = at + match.length;
    resume = next;
    if (m[1] !== undefined) {
      // Bracketed dot: eat up to three blanks on each side.
      for (let b = 0; b < 3 && chunkEnd > last && isBlank(t.charCodeAt(chunkEnd - 1)); b++) chunkEnd--;
      for (let b = 0; b < 3 && next < t.length && isBlank(t.charCodeAt(next)); b++) next++;
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
    resume = next;
  }
  if (last === 0) return t;
  out.push(t.slice(last));
  return out.join('');
}
