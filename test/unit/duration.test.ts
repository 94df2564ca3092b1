import { parseTtl } from '../../src/cli/blocklist';
import { durationMs } from '../../src/shared/duration';

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
