/** The IPv4 fast path of blockability gives exactly the general path's answers. */
import {
  blockability,
  blockabilityOfV4,
  specialRangeOf,
  SPECIAL_RANGES_V4,
  SPECIAL_RANGES_V6,
} from '../../src/net/special-ranges';
import { cidrBounds, parseCidr, parseV4 } from '../../src/net/ip';
import { seeded } from '../helpers/random';

function general(value: string) {
  // The general path, forced by writing the address as a /32 CIDR.
  const b = blockability(`${value}/32`);
  return b.blockable ? b : { ...b, reason: b.reason.replace(`${value}/32`, value).replace(/\/32 /, ' ') };
}

test('every range edge and 20,000 random addresses agree', () => {
  const samples: string[] = [];
  for (const r of SPECIAL_RANGES_V4) {
    const [net, prefix] = r.cidr.split('/') as [string, string];
    const first = parseV4(net) as number;
    const last = first + 2 ** (32 - Number(prefix)) - 1;
    for (const n of [first - 1, first, last, last + 1]) {
      if (n >= 0 && n <= 0xffffffff) samples.push(`${n >>> 24}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`);
    }
  }
  const random = seeded(7);
  for (let i = 0; i < 20_000; i++) {
    const seed = random.u32();
    samples.push(`${seed >>> 24}.${(seed >>> 16) & 255}.${(seed >>> 8) & 255}.${seed & 255}`);
  }
  for (const v of samples) {
    const fast = blockability(v);
    expect(blockabilityOfV4(parseV4(v) as number)).toEqual(fast);
    expect(fast.blockable).toBe(general(v).blockable);
    if (!fast.blockable) expect(fast.code).toBe(specialRangeOf(`${v}/32`)?.code);
  }
});

test('the fast path names the canonical address', () => {
  expect(blockability('010.001.002.003')).toMatchObject({ blockable: false, code: 'private' });
  expect((blockability('010.001.002.003') as { reason: string }).reason).toMatch(
    /^10\.1\.2\.3 is in private range 10\.0\.0\.0\/8/,
  );
});

/** What blockability must say, from the BigInt range check alone. */
function expectedBlockable(value: string, minPrefixV4?: number, minPrefixV6?: number): boolean {
  const c = parseCidr(value);
  if (c === undefined || c.prefix === 0) return false;
  const min = c.version === 4 ? minPrefixV4 : minPrefixV6;
  if (min !== undefined && c.prefix < min) return false;
  return specialRangeOf(value) === undefined;
}

test('CIDRs and IPv6 values: the quick verdict agrees with the range check on range edges and 40,000 random values', () => {
  const rnd = seeded(11).below;
  const samples: string[] = [
    '::/0',
    '0.0.0.0/0',
    '::ffff:1.2.3.4',
    '::ffff:10.0.0.0/104',
    '2001:db8::/31',
    '1.2.3.4/033',
  ];
  // Edges of every IPv6 range, as single addresses and as CIDRs around them.
  for (const r of SPECIAL_RANGES_V6) {
    const b = cidrBounds(r.cidr, { keepMapped: true });
    for (const v of [b.first - 1n, b.first, b.last, b.last + 1n]) {
      if (v < 0n || v >= 1n << 128n) continue;
      const groups = Array.from({ length: 8 }, (_, k) => ((v >> BigInt(112 - 16 * k)) & 0xffffn).toString(16));
      const text = groups.join(':');
      samples.push(text, `${text}/${b.prefix}`, `${text}/${Math.max(1, b.prefix - 1)}`, `${text}/64`);
    }
  }
  const prefixes = [
    '2001',
    '2001:db8',
    '2002',
    '2a0e',
    '2604',
    '3fff',
    'fe80',
    'fc00',
    'ff02',
    '64:ff9b',
    '100',
    '2620:4f',
  ];
  for (let i = 0; i < 20_000; i++) {
    const head = prefixes[rnd(prefixes.length)] as string;
    const tail = Array.from({ length: 1 + rnd(3) }, () => rnd(0x10000).toString(16)).join(':');
    const cidr = rnd(2) === 0 ? '' : `/${rnd(129)}`;
    samples.push(`${head}:${tail}::${rnd(0x10000).toString(16)}${cidr}`);
    samples.push(`${rnd(256)}.${rnd(256)}.${rnd(256)}.${rnd(256)}/${rnd(33)}`);
  }
  for (const v of samples) {
    const b = blockability(v);
    expect([v, b.blockable]).toEqual([v, expectedBlockable(v)]);
    const withMin = blockability(v, { minPrefixV4: 16, minPrefixV6: 32 });
    expect([v, withMin.blockable]).toEqual([v, expectedBlockable(v, 16, 32)]);
  }
});
