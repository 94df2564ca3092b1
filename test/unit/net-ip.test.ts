import { isIPv6 } from 'node:net';
import {
  cidrBounds,
  cidrContains,
  cidrOverlaps,
  compareIp,
  formatCidr,
  parseCidr,
  parseIp,
  rangeToCidrs,
  toWafEntry,
} from '../../src/net/ip';
import { seeded } from '../helpers/random';

describe('parseIp', () => {
  test.each([
    ['1.2.3.4', 4, '1.2.3.4'],
    ['0.0.0.0', 4, '0.0.0.0'],
    ['255.255.255.255', 4, '255.255.255.255'],
    // Leading zeros are decimal, not octal: 010 is ten.
    ['010.020.004.017', 4, '10.20.4.17'],
    ['001.002.003.004', 4, '1.2.3.4'],
    ['2001:db8::1', 6, '2001:db8::1'],
    ['2001:DB8:0:0:1:0:0:1', 6, '2001:db8::1:0:0:1'],
    ['2001:0db8:0000:0000:0000:0000:0000:0001', 6, '2001:db8::1'],
    ['2001:db8:0:0:0:0:2:1', 6, '2001:db8::2:1'],
    // RFC 5952 §4.2.2: a single zero group is not compressed.
    ['2001:db8:0:1:1:1:1:1', 6, '2001:db8:0:1:1:1:1:1'],
    // RFC 5952 §4.2.3: on equal runs the first one is compressed.
    ['2001:0:0:1:0:0:0:1', 6, '2001:0:0:1::1'],
    ['2001:db8:0:0:1:0:0:1', 6, '2001:db8::1:0:0:1'],
    ['::', 6, '::'],
    ['::1', 6, '::1'],
    ['1::', 6, '1::'],
    ['1:2:3:4:5:6:7::', 6, '1:2:3:4:5:6:7:0'],
    ['::2:3:4:5:6:7:8', 6, '0:2:3:4:5:6:7:8'],
    ['FE80::ABCD', 6, 'fe80::abcd'],
    // IPv4-mapped IPv6 is the IPv4 address, in dotted or hex spelling.
    ['::ffff:1.2.3.4', 4, '1.2.3.4'],
    ['::FFFF:0102:0304', 4, '1.2.3.4'],
    ['0:0:0:0:0:ffff:10.0.0.1', 4, '10.0.0.1'],
    // Other embedded IPv4 forms stay IPv6 and are printed in hex.
    ['64:ff9b::192.0.2.33', 6, '64:ff9b::c000:221'],
    ['::1.2.3.4', 6, '::102:304'],
  ])('%s → IPv%s %s', (text, version, address) => {
    expect(parseIp(text)).toEqual({ version, address });
  });

  test.each([
    '',
    ' 1.2.3.4',
    '1.2.3.4 ',
    '1.2.3',
    '1.2.3.4.5',
    '256.1.1.1',
    '999.1.1.1',
    '1.2.3.-4',
    '+1.2.3.4',
    '0001.2.3.4',
    '1..2.3',
    '1.2.3.4/32',
    '0x1.2.3.4',
    '1:2:3:4:5:6:7',
    '1:2:3:4:5:6:7:8:9',
    '1:2:3:4:5:6:7:8::',
    '1::2::3',
    ':1::',
    '1:::2',
    '12345::1',
    'g::1',
    'fe80::1%eth0',
    '::ffff:1.2.3',
    '1.2.3.4::',
    '::1.2.3.4:5',
    '2001:db8::1'.repeat(10),
  ])('rejects %j', (text) => {
    expect(parseIp(text)).toBeUndefined();
  });
});

describe('parseCidr', () => {
  test.each([
    ['1.2.3.4', { version: 4, network: '1.2.3.4', prefix: 32, hostBitsSet: false }],
    ['10.0.0.0/8', { version: 4, network: '10.0.0.0', prefix: 8, hostBitsSet: false }],
    ['10.1.2.3/8', { version: 4, network: '10.0.0.0', prefix: 8, hostBitsSet: true }],
    ['195.178.188.66/29', { version: 4, network: '195.178.188.64', prefix: 29, hostBitsSet: true }],
    ['0.0.0.0/0', { version: 4, network: '0.0.0.0', prefix: 0, hostBitsSet: false }],
    ['1.2.3.4/0', { version: 4, network: '0.0.0.0', prefix: 0, hostBitsSet: true }],
    ['2001:db8::1', { version: 6, network: '2001:db8::1', prefix: 128, hostBitsSet: false }],
    ['2001:DB8::1/32', { version: 6, network: '2001:db8::', prefix: 32, hostBitsSet: true }],
    ['2001:db8:abcd:12::/64', { version: 6, network: '2001:db8:abcd:12::', prefix: 64, hostBitsSet: false }],
    // IPv4-mapped: the prefix moves down by 96.
    ['::ffff:10.0.0.0/104', { version: 4, network: '10.0.0.0', prefix: 8, hostBitsSet: false }],
    ['::ffff:1.2.3.4', { version: 4, network: '1.2.3.4', prefix: 32, hostBitsSet: false }],
    ['::ffff:1.2.3.4/120', { version: 4, network: '1.2.3.0', prefix: 24, hostBitsSet: true }],
    // Below /96 the block is wider than the mapped space, so it stays IPv6.
    ['::ffff:0:0/95', { version: 6, network: '::fffe:0:0', prefix: 95, hostBitsSet: true }],
  ])('%s', (text, expected) => {
    expect(parseCidr(text)).toEqual(expected);
  });

  test.each([
    '1.2.3.4/33',
    '1.2.3.4/',
    '1.2.3.4/+8',
    '1.2.3.4/ 8',
    '1.2.3.4 /8',
    '1.2.3.4/8 ',
    '1.2.3.4/-1',
    '1.2.3.4/8/8',
    '1.2.3.4/0x8',
    '1.2.3.4/1000',
    '2001:db8::/129',
    '1234.1.1.1/8',
    '/8',
    'localhost',
  ])('rejects %j', (text) => {
    expect(parseCidr(text)).toBeUndefined();
  });
});

describe('formatCidr', () => {
  test('bare address for a single host, network/prefix otherwise', () => {
    expect(formatCidr({ version: 4, network: '1.2.3.4', prefix: 32 })).toBe('1.2.3.4');
    expect(formatCidr({ version: 4, network: '1.2.3.0', prefix: 24 })).toBe('1.2.3.0/24');
    expect(formatCidr({ version: 6, network: '2001:db8::1', prefix: 128 })).toBe('2001:db8::1');
    expect(formatCidr({ version: 6, network: '2001:db8::', prefix: 32 })).toBe('2001:db8::/32');
  });

  test('round-trips parseCidr output', () => {
    const parsed = parseCidr('10.1.2.3/8');
    expect(parsed).toBeDefined();
    expect(formatCidr(parsed!)).toBe('10.0.0.0/8');
  });
});

describe('toWafEntry', () => {
  test.each([
    ['1.2.3.4', '1.2.3.4/32'],
    ['1.2.3.0/24', '1.2.3.0/24'],
    ['195.178.188.66/29', '195.178.188.64/29'],
    ['2001:db8::1', '2001:db8::1/128'],
    ['2001:DB8:0:0::/48', '2001:db8::/48'],
    ['::ffff:1.2.3.4', '1.2.3.4/32'],
    ['010.0.0.1', '10.0.0.1/32'],
  ])('%s → %s', (value, entry) => {
    expect(toWafEntry(value)).toBe(entry);
  });

  test('throws on invalid input', () => {
    expect(() => toWafEntry('1.2.3.256')).toThrow(/not an IP address or CIDR/);
    expect(() => toWafEntry('')).toThrow(/not an IP address or CIDR/);
  });

  test('throws on /0, which WAF rejects', () => {
    expect(() => toWafEntry('0.0.0.0/0')).toThrow(/\/0/);
    expect(() => toWafEntry('::/0')).toThrow(/default route/);
  });
});

describe('cidrContains / cidrOverlaps', () => {
  test('containment of addresses and CIDRs', () => {
    expect(cidrContains('10.0.0.0/8', '10.1.2.3')).toBe(true);
    expect(cidrContains('10.0.0.0/8', '10.255.0.0/16')).toBe(true);
    expect(cidrContains('10.0.0.0/8', '10.0.0.0/8')).toBe(true);
    expect(cidrContains('10.0.0.0/8', '11.0.0.0')).toBe(false);
    expect(cidrContains('10.0.0.0/16', '10.0.0.0/8')).toBe(false);
    expect(cidrContains('2001:db8::/32', '2001:db8:1::1')).toBe(true);
    expect(cidrContains('2001:db8::/32', '2001:db9::1')).toBe(false);
  });

  test('host bits in a string argument are ignored', () => {
    expect(cidrContains('10.9.9.9/8', '10.1.1.1')).toBe(true);
  });

  test('accepts ParsedCidr values', () => {
    const outer = parseCidr('192.168.0.0/16')!;
    const inner = parseCidr('192.168.4.0/24')!;
    expect(cidrContains(outer, inner)).toBe(true);
    expect(cidrContains(inner, outer)).toBe(false);
  });

  test('different versions never contain or overlap', () => {
    expect(cidrContains('0.0.0.0/1', '::1')).toBe(false);
    expect(cidrOverlaps('::/0', '1.2.3.4')).toBe(false);
  });

  test('IPv4-mapped IPv6 is compared as IPv4', () => {
    expect(cidrContains('10.0.0.0/8', '::ffff:10.0.0.1')).toBe(true);
  });

  test('overlap is symmetric and includes partial overlap of wider blocks', () => {
    expect(cidrOverlaps('0.0.0.0/1', '10.0.0.0/8')).toBe(true);
    expect(cidrOverlaps('10.0.0.0/8', '0.0.0.0/1')).toBe(true);
    expect(cidrOverlaps('10.0.0.0/8', '11.0.0.0/8')).toBe(false);
    expect(cidrOverlaps('2001:db8::/31', '2001:db8:ffff::/48')).toBe(true);
  });

  test('an invalid string throws instead of answering false', () => {
    expect(() => cidrContains('10.0.0.0/33', '10.0.0.1')).toThrow();
    expect(() => cidrOverlaps('10.0.0.0/8', 'nonsense')).toThrow();
  });

  test('cidrBounds gives first and last address', () => {
    expect(cidrBounds('10.0.0.0/30')).toEqual({ version: 4, prefix: 30, first: 0x0a000000n, last: 0x0a000003n });
  });
});

describe('compareIp', () => {
  test('orders numerically, not lexically', () => {
    expect(compareIp('9.0.0.0', '10.0.0.0')).toBeLessThan(0);
    expect(compareIp('10.0.0.2', '10.0.0.10')).toBeLessThan(0);
    expect(compareIp('2001:db8::10', '2001:db8::9')).toBeGreaterThan(0);
    expect(compareIp('1.2.3.4', '::ffff:1.2.3.4')).toBe(0);
  });

  test('throws on mixed versions or CIDRs', () => {
    expect(() => compareIp('1.2.3.4', '::1')).toThrow(/cannot compare/);
    expect(() => compareIp('1.2.3.0/24', '1.2.3.4')).toThrow();
  });
});

describe('rangeToCidrs', () => {
  test.each([
    ['10.0.0.0', '10.0.0.255', ['10.0.0.0/24']],
    ['10.0.0.1', '10.0.0.6', ['10.0.0.1', '10.0.0.2/31', '10.0.0.4/31', '10.0.0.6']],
    ['1.2.3.4', '1.2.3.4', ['1.2.3.4']],
    ['192.168.0.0', '192.168.1.255', ['192.168.0.0/23']],
    ['0.0.0.0', '255.255.255.255', ['0.0.0.0/0']],
    ['255.255.255.254', '255.255.255.255', ['255.255.255.254/31']],
    ['10.0.0.255', '10.0.1.0', ['10.0.0.255', '10.0.1.0']],
    ['2001:db8::', '2001:db8::ffff', ['2001:db8::/112']],
    ['2001:db8::1', '2001:db8::3', ['2001:db8::1', '2001:db8::2/127']],
    ['::', 'ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff', ['::/0']],
  ])('%s - %s', (start, end, cover) => {
    expect(rangeToCidrs(start, end)).toEqual(cover);
  });

  test('the cover is exact: sizes add up and blocks are contiguous', () => {
    const cover = rangeToCidrs('1.2.3.7', '1.2.9.200');
    let next = cidrBounds('1.2.3.7').first;
    for (const c of cover) {
      const b = cidrBounds(c);
      expect(b.first).toBe(next);
      next = b.last + 1n;
    }
    expect(next - 1n).toBe(cidrBounds('1.2.9.200').first);
    // Minimal: no two neighbours could merge into one aligned block.
    expect(cover.length).toBeLessThanOrEqual(62);
  });

  test('worst-case IPv4 cover has 62 entries', () => {
    expect(rangeToCidrs('0.0.0.1', '255.255.255.254')).toHaveLength(62);
  });

  test('rejects reversed, mixed and invalid ends', () => {
    expect(() => rangeToCidrs('10.0.0.9', '10.0.0.1')).toThrow(/after its end/);
    expect(() => rangeToCidrs('10.0.0.1', '::1')).toThrow();
    expect(() => rangeToCidrs('10.0.0.1', 'x')).toThrow();
  });
});

test('IPv6 validity agrees with node:net on 300,000 random strings of address characters', () => {
  const pieces = ['0', '1', '9', 'a', 'f', 'F', 'g', ':', ':', '::', '.', '255', '256', 'ffff', '12345', '1.2.3.4'];
  const random = seeded(5);
  let valid = 0;
  const differ: string[] = [];
  for (let i = 0; i < 300_000; i++) {
    const s = random.join(pieces, 16);
    // mail2waf reads zero-padded octets as decimal (010.1.2.3 is 10.1.2.3); node:net refuses them.
    const tail = s.slice(s.lastIndexOf(':') + 1);
    if (!s.includes(':') || (tail.includes('.') && /(^|\.)0[0-9]/.test(tail))) continue;
    const ours = parseIp(s) !== undefined;
    if (ours) valid++;
    if (ours !== isIPv6(s)) differ.push(s);
  }
  expect(valid).toBeGreaterThan(1000);
  expect(differ.slice(0, 5)).toEqual([]);
});

test('IPv4 range covers tile the range exactly with the largest aligned blocks (20,000 random ranges)', () => {
  const next = seeded(9).u32;
  const text = (n: number) => `${n >>> 24}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`;
  const ranges: [number, number][] = [
    [0, 0xffffffff],
    [0x80000000, 0xffffffff],
    [0xffffffff, 0xffffffff],
  ];
  for (let i = 0; i < 20_000; i++) {
    const a = next();
    ranges.push([a, Math.min(0xffffffff, a + (next() % [1, 7, 255, 65536, 2 ** 20, 2 ** 31][i % 6]!))]);
  }
  for (const [a, b] of ranges) {
    let cur = BigInt(a);
    for (const cidr of rangeToCidrs(text(a), text(b))) {
      const bounds = cidrBounds(cidr);
      expect([cidr, bounds.first]).toEqual([cidr, cur]); // contiguous from the range's start
      const size = bounds.last - bounds.first + 1n;
      // Largest: the doubled block would be misaligned or run past the end.
      expect(cur % (size * 2n) !== 0n || cur + size * 2n - 1n > BigInt(b) || size === 1n << 32n).toBe(true);
      cur = bounds.last + 1n;
    }
    expect(cur).toBe(BigInt(b) + 1n); // and ends exactly at the range's end
  }
});
