import {
  extractIndicators,
  MAX_WHERE,
  mergeIndicators,
  prefixWhere,
  scanText,
  type FoundIndicator,
} from '../../src/extraction/scan';
import { MAX_HELD } from '../../src/extraction/pending-hits';

/** Just the values, in first-seen order. */
const values = (text: string): string[] => scanText(text, 't').map((f) => f.value);
/** The fields the sweep carries. */
const core = (list: FoundIndicator[]) => list.map((f) => ({ value: f.value, version: f.version, where: f.where }));

describe('scanText: IPv4', () => {
  test.each([
    ['plain', 'bad host 185.220.101.7 seen', ['185.220.101.7']],
    ['several on a line', '1.1.1.1, 8.8.8.8;9.9.9.9', ['1.1.1.1', '8.8.8.8', '9.9.9.9']],
    ['sentence end', 'Block 5.6.7.8.', ['5.6.7.8']],
    ['ellipsis before', 'and...5.6.7.8 too', ['5.6.7.8']],
    ['quoted and bracketed', '"5.6.7.8" (6.7.8.9) <7.8.9.10>', ['5.6.7.8', '6.7.8.9', '7.8.9.10']],
    ['label with colon', 'IP:9.8.7.6 src=1.2.3.4', ['9.8.7.6', '1.2.3.4']],
    ['leading zeros are decimal', '010.020.004.017', ['10.20.4.17']],
    ['port', 'connect 1.2.3.4:8080 now', ['1.2.3.4']],
    ['CJK text without spaces', '恶意地址1.2.3.4。', ['1.2.3.4']],
    ['tab separated', 'a\t1.2.3.4\tb', ['1.2.3.4']],
    ['JSON', '{"ip":"203.0.113.9","n":1}', ['203.0.113.9']],
  ])('%s', (_name, text, expected) => {
    expect(values(text)).toEqual(expected);
  });

  test.each([
    ['octet over 255 is not cut to a smaller address', '999.1.1.1'],
    ['256 is not cut to 56', '256.12.4.9'],
    ['4-digit octet', '1234.1.1.1'],
    ['OID', 'OID 1.3.6.1.4.1 is not an IP'],
    ['OID with 4-part prefix', '1.3.6.1.4.1.311.21.20'],
    ['version with five parts', 'version 1.2.3.4.5 released'],
    ['reverse DNS', '4.3.2.1.in-addr.arpa'],
    ['hostname label', 'host.1.2.3.4 or 1.2.3.4.example.com'],
    ['glued to letters before', 'abc1.2.3.4 v1.2.3.4'],
    ['glued to letters after', '1.2.3.4abc 1.2.3.4x'],
    ['glued to underscore', '_1.2.3.4 1.2.3.4_'],
    ['three parts', '1.2.3 and 10.0.0'],
    ['empty part', '1..2.3.4 1.2..3.4'],
    ['a decimal number', '3.14159 and 2024.01.02'],
    ['invalid prefix is not guessed', '1.2.3.4/24abc 1.2.3.4/24/ 1.2.3.4/99999'],
  ])('%s: nothing', (_name, text) => {
    expect(values(text)).toEqual([]);
  });

  test('no 4-part window of a long dotted run', () => {
    expect(values('1.2.3.4.5.6.7.8.9')).toEqual([]);
    expect(values('x 10.0.0.1.2 y')).toEqual([]);
  });
});

describe('scanText: defanged and URL forms', () => {
  test.each([
    ['hxxp://5[.]6[.]7[.]8/', ['5.6.7.8']],
    ['http://1.2.3.4:8080/x', ['1.2.3.4']],
    ['https://user@1.2.3.4/login', ['1.2.3.4']],
    ['5(.)6(.)7(.)8', ['5.6.7.8']],
    ['5[dot]6[dot]7[dot]8', ['5.6.7.8']],
    ['5 [.] 6 [.] 7 [.] 8', ['5.6.7.8']],
    ['5.6.7[.]8', ['5.6.7.8']],
    ['5\\.6\\.7\\.8', ['5.6.7.8']],
    ['1.2\u200b.3.4', ['1.2.3.4']],
    ['2001[:]db8[:][:]1', ['2001:db8::1']],
    ['hxxps[://][2001:db8::5]:8443/', ['2001:db8::5']],
  ])('%j', (text, expected) => {
    expect(values(text)).toEqual(expected);
  });

  test('a /24 after a URL host is a path, not a prefix', () => {
    expect(values('http://1.2.3.4/24')).toEqual(['1.2.3.4']);
    expect(values('hxxp://1[.]2[.]3[.]4/16/index.html')).toEqual(['1.2.3.4']);
  });
});

describe('scanText: CIDR', () => {
  test.each([
    ['1.2.3.0/24', ['1.2.3.0/24']],
    // Host bits set: reported as the network.
    ['1.2.3.4/24', ['1.2.3.0/24']],
    ['195.178.188.66/29', ['195.178.188.64/29']],
    ['1.2.3.4/32', ['1.2.3.4']],
    ['10.0.0.0/8.', ['10.0.0.0/8']],
    ['(10.0.0.0/8)', ['10.0.0.0/8']],
    ['1.2.3.0/24,5.6.7.0/24', ['1.2.3.0/24', '5.6.7.0/24']],
    ['1.2.3.4/255.255.255.0', ['1.2.3.0/24']],
    ['1.2.3.4/path', ['1.2.3.4']],
    ['2001:db8::/32', ['2001:db8::/32']],
    ['2001:db8:1:2::5/64', ['2001:db8:1:2::/64']],
    ['2001:db8::1/128', ['2001:db8::1']],
    ['::ffff:1.2.3.0/120', ['1.2.3.0/24']],
  ])('%j', (text, expected) => {
    expect(values(text)).toEqual(expected);
  });

  test('an invalid netmask or prefix yields nothing', () => {
    expect(values('1.2.3.4/255.0.255.0')).toEqual([]);
    expect(values('2001:db8::/129')).toEqual([]);
  });

  test('a number above the address size after the slash is a port: the address is taken', () => {
    expect(values('1.2.3.4/33 5.6.7.8/8080')).toEqual(['1.2.3.4', '5.6.7.8']);
    expect(values('2001:db8::1/8443')).toEqual(['2001:db8::1']);
    expect(values('1.2.3.4/65536')).toEqual([]);
  });
});

describe('scanText: IPv6', () => {
  test.each([
    ['2001:db8::1', ['2001:db8::1']],
    ['2001:DB8:0:0:1:0:0:1', ['2001:db8::1:0:0:1']],
    ['2001:0db8:0000:0000:0000:0000:0000:0001', ['2001:db8::1']],
    ['fe80::1%eth0', ['fe80::1']],
    ['::1', ['::1']],
    ['[2001:db8::1]:443', ['2001:db8::1']],
    ['http://[2001:db8::2]/x', ['2001:db8::2']],
    ['address 2001:db8::3.', ['2001:db8::3']],
    ['address 2001:db8::4: blocked', ['2001:db8::4']],
    ['IP:2001:db8::5', ['2001:db8::5']],
    ['src:2001:db8::6', ['2001:db8::6']],
    ['::ffff:1.2.3.4', ['1.2.3.4']],
    ['64:ff9b::1.2.3.4', ['64:ff9b::102:304']],
    ['2001:db8::1, 2001:db8::2', ['2001:db8::1', '2001:db8::2']],
  ])('%j', (text, expected) => {
    expect(values(text)).toEqual(expected);
  });

  test.each([
    ['clock time', 'at 23:06:41 UTC'],
    ['clock time with fraction', '23:06:41.123'],
    ['ISO timestamp', '2024-05-01T10:23:45Z'],
    ['MAC address', '00:1a:2b:3c:4d:5e'],
    ['EUI-64 written like a MAC', '00:1a:2b:ff:fe:3c:4d:5e'],
    ['C++ scope', 'std::vector and Foo::Bar'],
    ['bare double colon', 'a :: b'],
    ['glued to a word', 'x2001:db8::1 2001:db8::1g'],
    ['too many groups', '1:2:3:4:5:6:7:8:9'],
    ['two double colons', '1::2::3'],
    ['dotted tail that is not IPv4', '2001:db8::1.2.3.4.5'],
  ])('%s: nothing', (_name, text) => {
    expect(values(text)).toEqual([]);
  });
});

describe('scanText: ranges', () => {
  test('a-b yields both ends and the minimal cover, never the members', () => {
    const expected = ['10.0.0.1', '10.0.0.6', '10.0.0.2/31', '10.0.0.4/31'];
    expect(values('10.0.0.1-10.0.0.6')).toEqual(expected);
    expect(values('10.0.0.1 - 10.0.0.6')).toEqual(expected);
    expect(values('10.0.0.1 \u2013 10.0.0.6')).toEqual(expected);
    expect(values('10.0.0.1-10.0.0.6')).not.toContain('10.0.0.3');
  });

  test('an aligned range covers with one CIDR', () => {
    expect(values('192.0.2.0 - 192.0.2.255')).toEqual(['192.0.2.0', '192.0.2.255', '192.0.2.0/24']);
  });

  test('last-octet shorthand', () => {
    expect(values('185.220.101.0-255')).toEqual(['185.220.101.0', '185.220.101.255', '185.220.101.0/24']);
    expect(values('5.6.7.8-9')).toEqual(['5.6.7.8', '5.6.7.9', '5.6.7.8/31']);
  });

  test('IPv6 range', () => {
    expect(values('2001:db8::1 - 2001:db8::3')).toEqual(['2001:db8::1', '2001:db8::3', '2001:db8::2/127']);
  });

  test('a reversed or mixed range yields only the endpoints', () => {
    expect(values('10.0.0.9 - 10.0.0.1')).toEqual(['10.0.0.9', '10.0.0.1']);
    expect(values('10.0.0.1 - 2001:db8::1')).toEqual(['10.0.0.1', '2001:db8::1']);
  });

  test('a dash followed by something else is not a range', () => {
    expect(values('5.6.7.8 - bad host')).toEqual(['5.6.7.8']);
    expect(values('5.6.7.8-2024')).toEqual(['5.6.7.8']);
    expect(values('5.6.7.8-3')).toEqual(['5.6.7.8']); // end below start: not shorthand
    expect(values('1.2.3.0/24 - 1.2.4.0/24')).toEqual(['1.2.3.0/24', '1.2.4.0/24']);
  });

  test('ranges do not span lines', () => {
    expect(values('10.0.0.1 -\n10.0.0.6')).toEqual(['10.0.0.1', '10.0.0.6']);
  });
});

describe('scanText: where and dedup', () => {
  test('where is "<label>:line <n>"', () => {
    const found = scanText('first\n\n1.2.3.4\nx 5.6.7.8', 'attachment iocs.csv');
    expect(core(found)).toEqual([
      { value: '1.2.3.4', version: 4, where: ['attachment iocs.csv:line 3'] },
      { value: '5.6.7.8', version: 4, where: ['attachment iocs.csv:line 4'] },
    ]);
  });

  test('CRLF line endings count lines once', () => {
    expect(scanText('a\r\nb\r\n1.2.3.4', 'body')[0]?.where).toEqual(['body:line 3']);
  });

  test('duplicates merge by canonical value, keeping distinct places', () => {
    const found = scanText('1.2.3.4\n001.002.003.004\n::ffff:1.2.3.4 and 1.2.3.4/32\n1.2.3.4', 'body');
    expect(core(found)).toEqual([
      { value: '1.2.3.4', version: 4, where: ['body:line 1', 'body:line 2', 'body:line 3', 'body:line 4'] },
    ]);
  });

  test(`where is capped at ${MAX_WHERE} entries`, () => {
    const found = scanText(Array(50).fill('1.2.3.4').join('\n'), 'body');
    expect(found).toHaveLength(1);
    expect(found[0]?.where).toHaveLength(MAX_WHERE);
  });

  test('version is reported', () => {
    expect(scanText('1.2.3.4 2001:db8::1', 'x').map((f) => f.version)).toEqual([4, 6]);
  });

  test('extractIndicators labels with "text"', () => {
    expect(core(extractIndicators('\n9.9.9.9'))).toEqual([{ value: '9.9.9.9', version: 4, where: ['text:line 2'] }]);
  });

  test('mergeIndicators and prefixWhere combine lists from several parts', () => {
    const a = scanText('1.2.3.4', 'body');
    const b = scanText('x\n1.2.3.4\n5.6.7.8', 'html');
    expect(core(mergeIndicators(a, b))).toEqual([
      { value: '1.2.3.4', version: 4, where: ['body:line 1', 'html:line 2'] },
      { value: '5.6.7.8', version: 4, where: ['html:line 3'] },
    ]);
    expect(prefixWhere(a, 'attachment f.eml > ')[0]?.where).toEqual(['attachment f.eml > body:line 1']);
  });
});

describe('scanText: realistic advisory', () => {
  test('finds exactly the indicators', () => {
    const advisory = [
      'TLP:CLEAR — Advisory 2024-117 (rev 1.2.3)',
      'Observed 2024-05-01 23:06:41 UTC from the following infrastructure:',
      '  * 185[.]220[.]101[.]7 (C2, hxxp://185.220.101.7:8443/gate.php)',
      '  * 45.133.1.0/24 — bulletproof hosting',
      '  * 91.92.240.10 - 91.92.240.13',
      '  * 2a0e:97c0:3e3::/48 and [2a0e:97c0:3e3::10]:443',
      'SNMP OID 1.3.6.1.4.1.9 and agent v4.2.1.7 are not indicators;',
      'nor is the PTR 7.101.220.185.in-addr.arpa or our gateway MAC 00:1a:2b:3c:4d:5e.',
    ].join('\n');
    expect(values(advisory)).toEqual([
      '185.220.101.7',
      '45.133.1.0/24',
      '91.92.240.10',
      '91.92.240.13',
      '91.92.240.10/31',
      '91.92.240.12/31',
      '2a0e:97c0:3e3::/48',
      '2a0e:97c0:3e3::10',
    ]);
  });
});

// Throughput is measured by `npm run bench:extract`, not asserted here; the test timeouts are hang
// guards for input that would make a non-linear scanner run for minutes.
describe('scanText: large and hostile input', () => {
  test('20 MB of advisory-like text', () => {
    const line =
      'Seen 185.220.101.7 via hxxp://evil[.]example/x from 2001:db8:9::1 at 23:06:41 OID 1.3.6.1.4.1 face added\n';
    const text = line.repeat(Math.ceil(20e6 / line.length));
    const found = scanText(text, 'body');
    expect(found.map((f) => f.value)).toEqual(['185.220.101.7', '2001:db8:9::1']);
    expect(found[0]?.seen).toBe(Math.ceil(20e6 / line.length));
  }, 30_000);

  test.each([
    ['1.', 'a long dotted run'],
    ['1:', 'a long colon run'],
    ['1.1.1.1:', 'alternating addresses and colons'],
    ['1.1.1.1-', 'dash chains'],
    ['1.1.1.1/', 'slash chains'],
    ['[.]', 'defang markers'],
  ])(
    '4 MB of %j (%s) finishes',
    (unit) => {
      const text = unit.repeat(Math.ceil(4e6 / unit.length));
      const found = scanText(text, 'x');
      expect(found.length).toBeLessThanOrEqual(2);
    },
    30_000,
  );
});

// A piece is first read without refang rule 7 ("1 . 2") and read again in full only when it has a
// "<digit> . <digit>": what the first reading found must be dropped, never counted twice.
describe('scanText: a piece read again for "1 . 2"', () => {
  test('hits before the spaced dots on the same line are counted once', () => {
    const found = scanText('8.8.8.8 then 1 . 2 . 3 . 4, and 8.8.8.8', 't');
    expect(found.map((f) => [f.value, f.seen])).toEqual([
      ['8.8.8.8', 2],
      ['1.2.3.4', 1],
    ]);
  });

  test('a quad the full refang makes part of a longer run is dropped', () => {
    // "9.9.9.9 . 5" refangs to "9.9.9.9.5": five parts, a version string, not an address.
    expect(values('seen 9.9.9.9 . 5 here')).toEqual([]);
  });

  test('over many pieces, every line keeps its number and every sighting its count', () => {
    const lines: string[] = [];
    for (let i = 1; i <= 6000; i++)
      lines.push(i % 1000 === 0 ? `row ${i}: 1 . 2 . 3 . ${i / 1000}` : `row ${i}: 10.0.${i >> 8}.${i & 255}`);
    const found = scanText(lines.join('\n'), 't');
    expect(found).toHaveLength(6000);
    const spaced = found.filter((f) => f.value.startsWith('1.2.3.'));
    expect(spaced.map((f) => f.where[0])).toEqual([1, 2, 3, 4, 5, 6].map((k) => `t:line ${k * 1000}`));
    expect(found.every((f) => f.seen === 1)).toBe(true);
  });
});

// One very long line is one piece: its sightings cannot all be held until the piece is read, so past
// MAX_HELD the scanner settles at once whether the line holds a "1 . 2".
describe('scanText: a line too long to hold its sightings', () => {
  const addresses = (count: number) =>
    Array.from({ length: count }, (_, i) => `45.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`);

  test(`more than ${MAX_HELD} sightings and no "1 . 2": every one recorded once`, () => {
    const list = addresses(MAX_HELD + 5000);
    const found = scanText(`${list.join(' ')} ${list[7]}`, 't');
    expect(found.map((f) => f.value)).toEqual(list);
    expect(found.map((f) => f.seen)).toEqual(list.map((_, i) => (i === 7 ? 2 : 1)));
  });

  test('a "1 . 2" after that many: the line is read again in full, nothing counted twice', () => {
    const list = addresses(MAX_HELD + 5000);
    const found = scanText(`${list.join(' ')} 1 . 2 . 3 . 4`, 't');
    expect(found.map((f) => f.value)).toEqual([...list, '1.2.3.4']);
    expect(found.every((f) => f.seen === 1)).toBe(true);
  });
});
