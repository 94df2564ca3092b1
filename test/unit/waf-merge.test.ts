import { mergeIpSet } from '../../src/activities/waf';

test('adds ours, removes only what is listed, keeps foreign entries and their spelling', () => {
  const m = mergeIpSet(
    ['101.32.0.0/16', '45.133.1.20/32', 'garbage'],
    ['45.133.1.20', '185.220.101.47'],
    ['5.188.86.170'],
  );
  expect(m.next).toEqual(['101.32.0.0/16', '45.133.1.20/32', 'garbage', '185.220.101.47/32']);
  expect(m).toMatchObject({ added: 1, removed: 0, foreign: ['101.32.0.0/16', 'garbage'] });
});

test('removal matches by canonical form, and never removes something we also want', () => {
  const m = mergeIpSet(
    ['2A03:B0C0:3:D0::1A4F:1/128', '91.215.85.0/24'],
    ['91.215.85.0/24'],
    ['2a03:b0c0:3:d0::1a4f:1', '91.215.85.0/24'],
  );
  expect(m.next).toEqual(['91.215.85.0/24']);
  expect(m.removed).toBe(1);
  expect(m.added).toBe(0);
});

test('an unchanged set is reported as no change', () => {
  const m = mergeIpSet(['185.220.101.47/32'], ['185.220.101.47'], []);
  expect(m).toMatchObject({ added: 0, removed: 0, next: ['185.220.101.47/32'] });
});
