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

describe('entries someone else also put in the set', () => {
  test('a fresh value of ours already present is reported shared; one we add is not', () => {
    const m = mergeIpSet(['203.0.113.0/24', '45.133.1.20/32'], ['45.133.1.20', '185.220.101.47'], [], {
      fresh: ['45.133.1.20', '185.220.101.47'],
    });
    expect(m.shared).toEqual(['45.133.1.20/32']);
    expect(m.added).toBe(1);
  });

  test('a shared value, or one to keep, is not removed when ours ends', () => {
    const m = mergeIpSet(
      ['45.133.1.20/32', '91.215.85.0/24', '5.188.86.170/32'],
      [],
      ['45.133.1.20', '91.215.85.0/24', '5.188.86.170'],
      {
        shared: ['45.133.1.20'],
        keep: ['91.215.85.0/24'],
      },
    );
    expect(m.next).toEqual(['45.133.1.20/32', '91.215.85.0/24']);
    expect(m.removed).toBe(1);
    expect(m.shared).toEqual([]); // no longer ours: plain foreign again
    expect(m.foreign).toEqual(['45.133.1.20/32', '91.215.85.0/24']);
  });

  test("what this activity wrote itself is never taken for someone else's", () => {
    const m = mergeIpSet(['45.133.1.20/32'], ['45.133.1.20'], [], {
      fresh: ['45.133.1.20'],
      sentByUs: new Set(['45.133.1.20/32']),
    });
    expect(m.shared).toEqual([]);
  });
});
