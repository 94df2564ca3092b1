/**
 * Caps on text that comes from mail and enters a workflow payload. Temporal refuses a payload over 2 MB and a
 * history over 50 MB; an outsider controls subjects, senders, attachment names and notes, so every one of them
 * is cut where it enters a payload, and the cut is visible (an ellipsis and the original length).
 * Bundle-safe: used by activities and workflows alike.
 */

export const PayloadLimits = {
  subject: 300,
  from: 320,
  messageId: 300,
  reason: 1_000,
  /** One "where" locator (part, attachment name, line). */
  where: 160,
  /** Locators kept per address. */
  wherePerIndicator: 2,
  note: 300,
  notes: 20,
  /** Addresses that keep their locators; beyond this only the value travels (the blocklist needs no more). */
  indicatorsWithPlaces: 500,
} as const;

/** `s` cut to at most `max` characters (never splitting a surrogate pair), with the cut made visible. */
export function capString(s: string, max: number): string {
  if (s.length <= max) return s;
  const suffix = `… (${s.length} chars)`;
  let end = Math.max(0, max - suffix.length);
  const code = s.charCodeAt(end - 1);
  if (code >= 0xd800 && code <= 0xdbff) end -= 1; // a high surrogate without its pair would be invalid UTF-16
  return `${s.slice(0, end)}${suffix}`;
}

/** Optional text capped, undefined kept. */
export function capOptional(s: string | undefined, max: number): string | undefined {
  return s === undefined ? undefined : capString(s, max);
}

/** A list of notes: at most `PayloadLimits.notes`, each capped, with a last note saying how many were left out. */
export function capNotes(notes: string[]): string[] {
  const kept = notes.slice(0, PayloadLimits.notes).map((n) => capString(n, PayloadLimits.note));
  if (notes.length > PayloadLimits.notes) kept.push(`${notes.length - PayloadLimits.notes} more note(s) left out`);
  return kept;
}
