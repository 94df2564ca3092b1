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
 * The rules, each matched by hand at a candidate position (see TRIGGERS), in this order:
 * 1. `[.]` `(.)` `{.}` `[dot]` `(dot)` `{dot}` in any case, up to three blanks inside on each side,
 *    and up to three blanks on either side eaten too (`1.2.3 [.] 4` reads `1.2.3.4`);
 * 2. `[://]` and the like → `://`;
 * 3. `[:]` `(:)` `{:}` (blanks inside allowed) → `:`;
 * 4. `[/]` → `/`;
 * 5. `\.` → `.`;
 * 6. half-bracketed dots between two letters or digits: `1.2.3[.4`, `example.]com`;
 * 7. a single-space-padded dot between digits: `1 . 2` → `1.2` (exactly one space each side, so
 *    "ends at 5. 6 more" is left alone);
 * 8. `hxxp`, `hXXp`, `h**p` (and the `s` forms) as a whole word.
 * The unit tests hold the same rules as one regular expression and check on random text that both
 * agree; the regex, run over the whole text, stopped at every digit, dot and 'h' and cost several
 * times more. Every rule looks at a bounded number of characters, so the pass is linear.
 */
const BRACKET_DOT = 1;
const SCHEME_SEPARATOR = 2;
const COLON = 3;
const SLASH = 4;
const ESCAPED_DOT = 5;
const HALF_BRACKETED_DOT = 6;
const SPACED_DOT = 7;
const SCHEME = 8;

function isAlnum(c: number): boolean {
  return (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122);
}

function isBlank(c: number): boolean {
  return c === 32 || c === 9;
}

function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}

function isOpen(c: number): boolean {
  return c === 91 || c === 40 || c === 123; // [ ( {
}

function isClose(c: number): boolean {
  return c === 93 || c === 41 || c === 125; // ] ) }
}

/** Index after up to three blanks from `i`. */
function blanks3(t: string, i: number): number {
  let k = i;
  while (k - i < 3 && isBlank(t.charCodeAt(k))) k++;
  return k;
}

// The last match of matchAt: its end, its rule, and for rule 8 whether it is the `s` form.
let matchEnd = 0;
let matchSecure = false;

/** The rule that matches at `at` (setting matchEnd), or 0 for none. */
function matchAt(t: string, at: number): number {
  const c = t.charCodeAt(at);
  if (isOpen(c)) {
    let i = blanks3(t, at + 1);
    let j = -1;
    const d = t.charCodeAt(i);
    if (d === 46) j = i + 1;
    else if ((d | 0x20) === 100 && (t.charCodeAt(i + 1) | 0x20) === 111 && (t.charCodeAt(i + 2) | 0x20) === 116) {
      j = i + 3; // "dot" in any case
    }
    if (j !== -1) {
      const k = blanks3(t, j);
      if (isClose(t.charCodeAt(k))) {
        matchEnd = k + 1;
        return BRACKET_DOT;
      }
    }
    if (t.startsWith('://', at + 1) && isClose(t.charCodeAt(at + 4))) {
      matchEnd = at + 5;
      return SCHEME_SEPARATOR;
    }
    i = blanks3(t, at + 1);
    if (t.charCodeAt(i) === 58) {
      const k = blanks3(t, i + 1);
      if (isClose(t.charCodeAt(k))) {
        matchEnd = k + 1;
        return COLON;
      }
    }
    if (c === 91 && t.charCodeAt(at + 1) === 47 && t.charCodeAt(at + 2) === 93) {
      matchEnd = at + 3;
      return SLASH;
    }
    if (c === 91 && t.charCodeAt(at + 1) === 46 && isAlnum(t.charCodeAt(at + 2))) {
      matchEnd = at + 2;
      return HALF_BRACKETED_DOT;
    }
    return 0;
  }
  if (c === 92 /* \ */) {
    if (t.charCodeAt(at + 1) !== 46) return 0;
    matchEnd = at + 2;
    return ESCAPED_DOT;
  }
  if (c === 46) {
    if (t.charCodeAt(at + 1) !== 93 || !isAlnum(t.charCodeAt(at + 2))) return 0;
    matchEnd = at + 2;
    return HALF_BRACKETED_DOT;
  }
  if (isDigit(c)) {
    if (!t.startsWith(' . ', at + 1) || !isDigit(t.charCodeAt(at + 4))) return 0;
    matchEnd = at + 4;
    return SPACED_DOT;
  }
  // 'h' or 'H', then "xx" (any case) or "**", then 'p', an optional 's', and no word character after.
  const x1 = t.charCodeAt(at + 1);
  const x2 = t.charCodeAt(at + 2);
  const stars = x1 === 42 && x2 === 42;
  if (!stars && ((x1 | 0x20) !== 120 || (x2 | 0x20) !== 120)) return 0;
  if ((t.charCodeAt(at + 3) | 0x20) !== 112) return 0;
  const s = (t.charCodeAt(at + 4) | 0x20) === 115;
  const after = t.charCodeAt(s ? at + 5 : at + 4);
  if (isAlnum(after) || after === 95) return 0;
  matchEnd = s ? at + 5 : at + 4;
  matchSecure = s;
  return SCHEME;
}

/**
 * What a defang can start with, found with indexOf (a memchr over the string): the brackets and
 * backslash that start rules 1-6; the ']' of rule 6's ".]"; the ". " of rule 7's " . " (a dot
 * followed by a space, so the dots inside addresses are never handed to the rules, though the
 * search itself stops at each of them); the `x`/`X`/`*` of rule 8.
 */
const TRIGGERS = ['[', '(', '{', '\\', ']', '. ', 'x', 'X', '*'];
/** {@link TRIGGERS} without rule 7's. */
const TRIGGERS_BUT_SPACED_DOT = TRIGGERS.filter((t) => t !== '. ');

/**
 * Where a match could start, given a trigger at `p` (-1: it cannot). A match may start before its
 * trigger (".]" at the dot, " . " at the digit), but never at or after another trigger's position
 * in between, so taking triggers in order still tries matches in order.
 */
function matchStart(t: string, p: number): number {
  const c = t.charCodeAt(p);
  if (c === 93 /* ] */) return t.charCodeAt(p - 1) === 46 ? p - 1 : -1; // rule 6 ".]"
  if (c === 46 /* the '.' of ". " */) {
    // rule 7: "<digit> . <digit>", the match starting at the digit
    return t.charCodeAt(p - 1) === 32 && isDigit(t.charCodeAt(p - 2)) ? p - 2 : -1;
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

/** Removes zero-width characters and soft hyphens (a no-op, found in O(1), for most text). */
function dropInvisible(text: string): string {
  // indexOf of a character above U+00FF in a one-byte string returns at once: V8 knows it cannot be there.
  for (const ch of ['\u00AD', '\u200B', '\u200C', '\u200D', '\u2060', '\uFEFF']) {
    if (text.indexOf(ch) !== -1) return text.replace(INVISIBLE, '');
  }
  return text;
}

/**
 * Returns `text` with common defanging undone. Linear time; line structure preserved.
 *
 * `spacedDots: false` leaves out rule 7 (`1 . 2`), whose trigger, a dot before a space, is the
 * costliest to look for: the search stops at every dot of every address. Where rule 7 would have
 * matched, its five characters (digit, space, dot, space, digit) are left exactly as they were, so a
 * reader that finds no such five characters in the result has the same text as the full refang's.
 */
export function refang(text: string, spacedDots = true): string {
  const t = dropInvisible(text);
  const triggers = spacedDots ? TRIGGERS : TRIGGERS_BUT_SPACED_DOT;
  // Matches are tried only at candidate positions, in order: one cursor per trigger character,
  // the smallest taken each time.
  const cursors = new Int32Array(triggers.length);
  for (let c = 0; c < triggers.length; c++) cursors[c] = nextTrigger(t, triggers[c] as string, 0);
  // Pieces joined once at the end: a flat string, which the scanner reads much faster than the rope
  // that repeated `+=` builds.
  const out: string[] = [];
  let last = 0;
  /** No match may start before this: it is past the previous match. */
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
    cursors[k] = nextTrigger(t, triggers[k] as string, p + 1);
    const at = matchStart(t, p);
    if (at < resume) continue;
    const rule = matchAt(t, at);
    if (rule === 0) continue;
    let chunkEnd = at;
    let next = matchEnd;
    resume = next;
    let replacement: string;
    if (rule === BRACKET_DOT) {
      // Eat up to three blanks on each side.
      for (let b = 0; b < 3 && chunkEnd > last && isBlank(t.charCodeAt(chunkEnd - 1)); b++) chunkEnd--;
      for (let b = 0; b < 3 && next < t.length && isBlank(t.charCodeAt(next)); b++) next++;
      replacement = '.';
    } else if (rule === SCHEME) {
      if (at > 0 && (isAlnum(t.charCodeAt(at - 1)) || t.charCodeAt(at - 1) === 95)) continue; // "shxxp": not a scheme
      replacement = matchSecure ? 'https' : 'http';
    } else if (rule === SPACED_DOT) {
      replacement = `${t.charAt(at)}.`; // "1 . " → "1."
    } else if (rule === SCHEME_SEPARATOR) {
      replacement = '://';
    } else if (rule === COLON) {
      replacement = ':';
    } else if (rule === SLASH) {
      replacement = '/';
    } else if (rule === HALF_BRACKETED_DOT) {
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
