/**
 * Durations as operators write them (`30s`, `5m`, `12h`, `30d`, `500ms`): one parser for config and CLI.
 * Bundle-safe: the blocklist workflow checks time-to-live values with the same cap.
 */
export const DURATION_PATTERN = /^(\d+)(ms|s|m|h|d)$/;

const UNIT_MS = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

/**
 * The longest duration anything accepts: 3650 days (10 years). Longer is a typo (`30000d`), and an unbounded
 * one overflows Date arithmetic (`new Date(now + ttl).toISOString()` throws past year 275760), which inside a
 * workflow handler would fail the update instead of refusing it. "Permanent" is said as such, not as 10^9 days.
 */
export const MAX_DURATION_MS = 3650 * UNIT_MS.d;
export const MAX_DURATION_TEXT = '3650d (10 years)';

/** Milliseconds of a duration, or undefined when `text` is not one or is longer than {@link MAX_DURATION_MS}. */
export function durationMs(text: string): number | undefined {
  const m = DURATION_PATTERN.exec(text.trim());
  if (!m) return undefined;
  const ms = Number(m[1]) * UNIT_MS[m[2] as keyof typeof UNIT_MS];
  return isValidDurationMs(ms) ? ms : undefined;
}

/** True for a finite, non-negative whole number of milliseconds no longer than {@link MAX_DURATION_MS}. */
export function isValidDurationMs(ms: unknown): ms is number {
  return typeof ms === 'number' && Number.isInteger(ms) && ms >= 0 && ms <= MAX_DURATION_MS;
}

/**
 * Why `text` is not an acceptable duration for the setting `name`, or undefined when it is. Names the setting,
 * so that a message read in a log says what to fix.
 */
export function durationProblem(name: string, text: string): string | undefined {
  const m = DURATION_PATTERN.exec(text.trim());
  if (!m) return `${name} "${text}" is not a duration such as 30s, 5m, 12h or 30d`;
  if (durationMs(text) === undefined) return `${name} "${text}" is longer than the maximum, ${MAX_DURATION_TEXT}`;
  return undefined;
}
