import { parseCidr } from '../../src/net/ip';
import { blockability, SPECIAL_RANGES_V4, SPECIAL_RANGES_V6, specialRangeOf } from '../../src/net/special-ranges';

describe('special-range tables', () => {
  test('every entry is a canonical CIDR with host bits clear', () => {
    for (const r of [...SPECIAL_RANGES_V4, ...SPECIAL_RANGES_V6]) {
      const parsed = parseCidr(r.cidr);
      expect(parsed).toBeDefined();
      expect(parsed!.hostBitsSet).toBe(false);
      expect(r.description).not.toBe('');
    }
  });

  test.each([
    ['0.0.0.0/8', 'this-network'],
    ['10.0.0.0/8', 'private'],
    ['172.16.0.0/12', 'private'],
    ['192.168.0.0/16', 'private'],
    ['100.64.0.0/10', 'cgnat'],
    ['127.0.0.0/8', 'loopback'],
    ['169.254.0.0/16', 'link-local'],
    ['192.0.0.0/24', 'ietf-protocol'],
    ['192.0.2.0/24', 'documentation'],
    ['198.51.100.0/24', 'documentation'],
    ['203.0.113.0/24', 'documentation'],
    ['198.18.0.0/15', 'benchmarking'],
    ['192.88.99.0/24', '6to4-relay'],
    ['224.0.0.0/4', 'multicast'],
    ['240.0.0.0/4', 'reserved'],
    ['255.255.255.255/32', 'broadcast'],
  ])('IPv4 table has %s as %s', (cidr, code) => {
    expect(SPECIAL_RANGES_V4).toContainEqual(expect.objectContaining({ cidr, code }));
  });

  test.each([
    ['::1/128', 'loopback'],
    ['::/128', 'unspecified'],
    ['::ffff:0:0/96', 'ipv4-mapped'],
    ['64:ff9b::/96', 'nat64'],
    ['64:ff9b:1::/48', 'nat64'],
    ['100::/64', 'discard'],
    ['2001::/32', 'teredo'],
    ['2001:2::/48', 'benchmarking'],
    ['2001:10::/28', 'orchid'],
    ['2001:20::/28', 'orchid'],
    ['2001:db8::/32', 'documentation'],
    ['3fff::/20', 'documentation'],
    ['2002::/16', '6to4'],
    ['fc00::/7', 'unique-local'],
    ['fe80::/10', 'link-local'],
    ['ff00::/8', 'multicast'],
  ])('IPv6 table has %s as %s', (cidr, code) => {
    expect(SPECIAL_RANGES_V6).toContainEqual(expect.objectContaining({ cidr, code }));
  });
});

describe('specialRangeOf', () => {
  test.each([
    ['10.1.2.3', 'private', '10.0.0.0/8', 'inside'],
    ['172.31.255.255', 'private', '172.16.0.0/12', 'inside'],
    ['192.168.1.0/24', 'private', '192.168.0.0/16', 'inside'],
    ['100.64.1.1', 'cgnat', '100.64.0.0/10', 'inside'],
    ['127.0.0.1', 'loopback', '127.0.0.0/8', 'inside'],
    ['0.0.0.0', 'this-network', '0.0.0.0/8', 'inside'],
    ['169.254.169.254', 'link-local', '169.254.0.0/16', 'inside'],
    ['192.0.0.9', 'ietf-protocol', '192.0.0.0/24', 'inside'],
    ['192.0.2.10', 'documentation', '192.0.2.0/24', 'inside'],
    ['198.19.0.1', 'benchmarking', '198.18.0.0/15', 'inside'],
    ['192.88.99.1', '6to4-relay', '192.88.99.0/24', 'inside'],
    ['239.1.1.1', 'multicast', '224.0.0.0/4', 'inside'],
    ['250.0.0.1', 'reserved', '240.0.0.0/4', 'inside'],
    // The most specific range wins: broadcast sits inside reserved 240/4.
    ['255.255.255.255', 'broadcast', '255.255.255.255', 'inside'],
    ['::1', 'loopback', '::1', 'inside'],
    ['::', 'unspecified', '::', 'inside'],
    ['fe80::1', 'link-local', 'fe80::/10', 'inside'],
    ['fd12:3456::1', 'unique-local', 'fc00::/7', 'inside'],
    ['ff02::1', 'multicast', 'ff00::/8', 'inside'],
    ['2001:db8::1', 'documentation', '2001:db8::/32', 'inside'],
    ['3fff:1::1', 'documentation', '3fff::/20', 'inside'],
    ['64:ff9b::1.2.3.4', 'nat64', '64:ff9b::/96', 'inside'],
    ['100::1', 'discard', '100::/64', 'inside'],
    ['2001:0:4136:e378::1', 'teredo', '2001::/32', 'inside'],
    ['2001:2::5', 'benchmarking', '2001:2::/48', 'inside'],
    ['2001:10::1', 'orchid', '2001:10::/28', 'inside'],
    ['2002:c000:204::1', '6to4', '2002::/16', 'inside'],
    // Anything outside 2000::/3 that has no more specific entry.
    ['fe00::1', 'not-global-unicast', '8000::/1', 'inside'],
    ['4000::1', 'not-global-unicast', '4000::/2', 'inside'],
    ['1::1', 'not-global-unicast', '::/3', 'inside'],
    // IPv4-mapped IPv6 is judged as the IPv4 address it maps.
    ['::ffff:10.0.0.1', 'private', '10.0.0.0/8', 'inside'],
    ['::ffff:127.0.0.1', 'loopback', '127.0.0.0/8', 'inside'],
  ])('%s → %s (%s, %s)', (value, code, range, relation) => {
    expect(specialRangeOf(value)).toMatchObject({ code, range, relation });
  });

  test.each([
    // Wider blocks that merely overlap a special range are hits too.
    ['0.0.0.0/1', 'this-network', '0.0.0.0/8'],
    ['8.0.0.0/6', 'private', '10.0.0.0/8'],
    ['192.0.0.0/16', 'ietf-protocol', '192.0.0.0/24'],
    ['192.168.0.0/15', 'private', '192.168.0.0/16'],
    // Several overlapped ranges: the lowest one is named.
    ['160.0.0.0/3', 'link-local', '169.254.0.0/16'],
    ['2001:db8::/31', 'documentation', '2001:db8::/32'],
    ['::/1', 'not-global-unicast', '::/3'],
    ['2000::/3', 'ietf-protocol', '2001::/23'],
  ])('%s overlaps %s %s', (value, code, range) => {
    expect(specialRangeOf(value)).toMatchObject({ code, range, relation: 'overlaps' });
  });

  test.each(['8.8.8.8', '1.1.1.1', '185.220.101.7', '100.128.0.1', '172.32.0.1', '2606:4700::1111', '2a00:1450::/32'])(
    '%s is an ordinary public address',
    (value) => {
      expect(specialRangeOf(value)).toBeUndefined();
    },
  );

  test('unparsable input gives undefined', () => {
    expect(specialRangeOf('not an ip')).toBeUndefined();
  });
});

describe('blockability', () => {
  test('ordinary public addresses and CIDRs are blockable', () => {
    expect(blockability('185.220.101.7')).toEqual({ blockable: true });
    expect(blockability('185.220.101.0/24', { minPrefixV4: 16 })).toEqual({ blockable: true });
    expect(blockability('2a00:1450:4001::/48', { minPrefixV6: 32 })).toEqual({ blockable: true });
  });

  test('invalid input', () => {
    expect(blockability('1.2.3')).toEqual({
      blockable: false,
      code: 'invalid',
      reason: '"1.2.3" is not an IP address or CIDR',
    });
  });

  test('/0 is always refused, with or without a prefix floor', () => {
    expect(blockability('0.0.0.0/0')).toMatchObject({ blockable: false, code: 'default-route' });
    expect(blockability('::/0', { minPrefixV6: 0 })).toMatchObject({ blockable: false, code: 'default-route' });
    const r = blockability('0.0.0.0/0');
    expect(!r.blockable && r.reason).toBe(
      '0.0.0.0/0 is a default route covering every IPv4 address; mail2waf never blocks /0',
    );
  });

  test('broader than the configured minimum prefix is too-broad', () => {
    const r = blockability('5.0.0.0/8', { minPrefixV4: 16 });
    expect(r).toMatchObject({ blockable: false, code: 'too-broad' });
    expect(!r.blockable && r.reason).toMatch(
      /5\.0\.0\.0\/8 is broader than the configured minimum prefix \/16 for IPv4/,
    );
    expect(blockability('2a00::/24', { minPrefixV6: 32 })).toMatchObject({ code: 'too-broad' });
    // The floor for one version does not apply to the other.
    expect(blockability('2a00::/24', { minPrefixV4: 16 })).toEqual({ blockable: true });
    // Exactly the floor is allowed.
    expect(blockability('5.5.0.0/16', { minPrefixV4: 16 })).toEqual({ blockable: true });
  });

  test('special ranges are refused with their code and a sentence', () => {
    expect(blockability('10.1.2.3')).toEqual({
      blockable: false,
      code: 'private',
      reason: '10.1.2.3 is in private range 10.0.0.0/8 (RFC 1918); mail2waf never blocks special-purpose addresses',
    });
    expect(blockability('::ffff:10.0.0.1')).toMatchObject({ code: 'private' });
    expect(blockability('fe80::1')).toMatchObject({ code: 'link-local' });
    expect(blockability('100.64.1.1')).toMatchObject({ code: 'cgnat' });
    expect(blockability('::1')).toMatchObject({ code: 'loopback' });
  });

  test('a CIDR that overlaps a special range is refused and the reason says "overlaps"', () => {
    const r = blockability('2001:db8::/31');
    expect(r).toMatchObject({ blockable: false, code: 'documentation' });
    expect(!r.blockable && r.reason).toBe(
      '2001:db8::/31 overlaps documentation range 2001:db8::/32 (RFC 3849); mail2waf never blocks special-purpose addresses',
    );
    expect(blockability('0.0.0.0/1')).toMatchObject({ code: 'this-network' });
    expect(blockability('::/1')).toMatchObject({ code: 'not-global-unicast' });
  });

  test('the reason shows the canonical value', () => {
    const r = blockability('192.168.001.077/16');
    expect(!r.blockable && r.reason).toMatch(/^192\.168\.0\.0\/16 is in private range 192\.168\.0\.0\/16/);
  });
});
