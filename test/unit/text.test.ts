import { oneLine, terminalSafe } from '../../src/shared/text';

test('oneLine escapes line breaks, controls, ANSI, bidi and zero-width characters visibly', () => {
  expect(oneLine('a\r\nb\tc')).toBe('a\\r\\nb\\tc');
  expect(oneLine('\x1b[2Jclear')).toBe('\\x1b[2Jclear');
  expect(oneLine('\x9b31m')).toBe('\\x9b31m');
  expect(oneLine('\x00\x7f')).toBe('\\x00\\x7f');
  expect(oneLine('evil\u202etxt.exe')).toBe('evil\\u202etxt.exe');
  expect(oneLine('a\u2066b\u2069c\u200bd\ufeffe\u2028f')).toBe('a\\u2066b\\u2069c\\u200bd\\ufeffe\\u2028f');
  expect(oneLine('Grüße — 東京 🙂')).toBe('Grüße — 東京 🙂');
  expect(oneLine(undefined)).toBe('');
});

test('oneLine caps length and never splits a surrogate pair', () => {
  expect(oneLine('x'.repeat(10), 5)).toBe('xxxxx… (10 chars)');
  expect(oneLine('abcd🙂🙂', 5)).toBe('abcd… (8 chars)');
  expect(oneLine('\n'.repeat(10), 5)).toBe('\\n\\n… (10 chars)');
});

test('terminalSafe keeps the layout lines and nothing else', () => {
  expect(terminalSafe('a\nb\x1b[2J\rc\td')).toBe('a\nb\\x1b[2J\\rc\td');
});
