import { parseTtl } from '../../src/cli/blocklist';
import { durationMs, durationProblem, MAX_DURATION_MS } from '../../src/shared/duration';

test('durations as operators write them', () => {
  expect(durationMs('500ms')).toBe(500);
  expect(durationMs('30s')).toBe(30_000);
  expect(durationMs('5m')).toBe(300_000);
  expect(durationMs('12h')).toBe(43_200_000);
  expect(durationMs('30d')).toBe(2_592_000_000);
  expect(durationMs('often')).toBeUndefined();
  expect(durationMs('5 m')).toBeUndefined();
});

test('--ttl: a duration, "permanent", or nothing (policy default); anything else is the user\'s to fix', () => {
  expect(parseTtl('7d')).toBe(7 * 86_400_000);
  expect(parseTtl('permanent')).toBeNull();
  expect(parseTtl(undefined)).toBeUndefined();
  expect(() => parseTtl('0d')).toThrow(/is not a duration/);
  expect(() => parseTtl('soon')).toThrow(/is not a duration/);
});

test('durations are capped at 3650 days, with a message that names the setting', () => {
  expect(durationMs('3650d')).toBe(MAX_DURATION_MS);
  expect(durationMs('3651d')).toBeUndefined();
  expect(durationMs('99999999999999999999999d')).toBeUndefined();
  expect(durationProblem('BLOCK_TTL', '3651d')).toBe('BLOCK_TTL "3651d" is longer than the maximum, 3650d (10 years)');
  expect(durationProblem('BLOCK_TTL', 'soon')).toMatch(/^BLOCK_TTL "soon" is not a duration/);
  expect(durationProblem('BLOCK_TTL', '30d')).toBeUndefined();
  expect(() => parseTtl('100000d')).toThrow('--ttl "100000d" is longer than the maximum, 3650d (10 years)');
  expect(parseTtl('3650d')).toBe(MAX_DURATION_MS);
});
