/** The IPv4 fast path of blockability gives exactly the general path's answers. */
import { blockability, blockabilityOfV4, specialRangeOf, SPECIAL_RANGES_V4 } from '../../src/net/special-ranges';
import { parseV4 } from '../../src/net/ip';

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
  let seed = 7;
  for (let i = 0; i < 20_000; i++) {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
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
