/**
 * Text from mail (subjects, senders, notes, where an address was seen, reasons) printed where people read it: the
 * plain-text report and the CLI's human output. Whoever writes the mail controls that text, so it must not be
 * able to add a line (a forged "Blocked" list in the report), drive the terminal (ANSI escape sequences that
 * clear the screen, retitle the window or hide text), or reorder what is shown (bidi overrides, zero-width
 * characters). Each such character is replaced by a visible escape (`\n`, `\x1b`, `\u202e`), so the operator
 * sees that it was there. Pure and bundle-safe (no Node built-ins): workflows and activities may use it.
 */

/** Default cap of one field in a line of text. */
export const TEXT_FIELD_MAX = 300;

const NAMED: Record<number, string> = { 9: '\\t', 10: '\\n', 13: '\\r' };

/**
 * True for characters that must not reach a reader as they are: C0 controls and DEL, C1 controls (U+0080–U+009F,
 * among them CSI U+009B, which terminals read like ESC [), the line and paragraph separators, bidi embeddings,
 * overrides and isolates, direction marks, zero-width characters and the byte order mark.
 */
function isUnsafe(c: number, keepLayout: boolean): boolean {
  if (c < 0x20) return !(keepLayout && (c === 10 || c === 9));
  if (c < 0x7f) return false;
  if (c <= 0x9f) return true; // DEL and C1
  if (c < 0x200b) return c === 0x061c; // Arabic letter mark
  return (
    (c >= 0x200b && c <= 0x200f) || // zero-width space, ZWNJ, ZWJ, LRM, RLM
    (c >= 0x2028 && c <= 0x202e) || // line / paragraph separator, LRE RLE PDF LRO RLO
    (c >= 0x2060 && c <= 0x2064) || // word joiner, invisible operators
    (c >= 0x2066 && c <= 0x2069) || // LRI RLI FSI PDI
    c === 0xfeff
  );
}

function escapeChar(c: number): string {
  const named = NAMED[c];
  if (named) return named;
  if (c < 0x100) return `\\x${c.toString(16).padStart(2, '0')}`;
  return `\\u${c.toString(16).padStart(4, '0')}`;
}

function escape(s: string, maxLen: number, keepLayout: boolean): string {
  let out = '';
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    const piece = isUnsafe(c, keepLayout) ? escapeChar(c) : s[i]!;
    if (out.length + piece.length > maxLen) {
      // A cut high surrogate would leave invalid UTF-16: drop it with the rest.
      const last = out.charCodeAt(out.length - 1);
      if (last >= 0xd800 && last <= 0xdbff) out = out.slice(0, -1);
      return `${out}… (${s.length} chars)`;
    }
    out += piece;
  }
  return out;
}

/**
 * `s` as one line of safe text, at most about `maxLen` characters (a cut is marked with its original length).
 * Use it for every mail-controlled field printed in the report or the CLI's human output; JSON output needs
 * nothing (JSON.stringify already escapes controls).
 */
export function oneLine(s: unknown, maxLen = TEXT_FIELD_MAX): string {
  return escape(s === undefined || s === null ? '' : String(s), maxLen, false);
}

/**
 * Whole output for a terminal: line breaks and tabs stay (the printer's own layout), every other control character,
 * escape sequence introducer and bidi or zero-width character is made visible. The last guard before stdout,
 * behind the per-field {@link oneLine} of each formatter.
 */
export function terminalSafe(text: string): string {
  return escape(text, Number.MAX_SAFE_INTEGER, true);
}
