/** One test per rule of "what is an address" (issue 3), on the text scanner. */
import { extractIndicators, scanText } from '../../src/extraction/scan';
import { refang } from '../../src/extraction/refang';

const values = (text: string): string[] => scanText(text, 't').map((f) => f.value);
const one = (text: string, value: string) => {
  const f = scanText(text, 'body').find((i) => i.value === value);
  if (f === undefined) throw new Error(`${value} not found in ${JSON.stringify(text)}`);
  return f;
};

describe('refang: the forms of issue 3', () => {
  test.each([
    ['1 . 2 . 3 . 4', '1.2.3.4'],
    ['185.220.101 . 47', '185.220.101.47'],
    ['1[ DOT ]2 [dot] 3{Dot}4', '1.2.3.4'],
    ['hxxp[:]//1.2.3.4', 'http://1.2.3.4'],
    ['hXXps[://]evil', 'https://evil'],
  ])('%j → %j', (input, output) => {
    expect(refang(input)).toBe(output);
  });

  test('only a single space each side of the dot, between digits', () => {
    expect(refang('ends at 5. 6 more')).toBe('ends at 5. 6 more');
    expect(refang('1  .  2')).toBe('1  .  2');
    expect(refang('a . b')).toBe('a . b');
  });

  test('shxxp is a word, not a scheme', () => {
    expect(refang('shxxp://x')).toBe('shxxp://x');
  });
});

describe('not addresses', () => {
  test.each([
    ['version', 'version 1.2.3.4'],
    ['Version with colon', 'Version: 1.2.3.4'],
    ['ver.', 'ver. 1.2.3.4'],
    ['v and a space', 'v 1.2.3.4'],
    ['build', 'build 10.0.1.2'],
    ['release', 'release 2.3.4.5'],
    ['rev', '(rev 2.1.0.3)'],
    ['firmware', 'firmware=10.4.2.17'],
    ['fw', 'fw 1.2.3.4'],
    ['patch', 'patch 4.4.4.4'],
    ['oid', 'oid 1.2.3.4'],
    ['section', 'see section 4.2.1.1.'],
    ['§', '§ 4.2.1.1 and §4.2.1.2'],
    ['a connecting word', 'reports its version as 3.1.4.1'],
    ['User-Agent token', 'Mozilla/5.0 Firefox/115.0.1.2'],
    ['User-Agent token at the start of a line', 'user agent:\nChrome/120.0.1.2 and\nEdg/120.0.2.91'],
    ['name-version', 'agent-4.2.1.7 openssl-1.1.1.1'],
    ['reverse DNS', '47.101.220.185.in-addr.arpa'],
    ['DNSBL name', '4.3.2.1.zen.spamhaus.org'],
    ['dotted date of five parts', '2026.11.19.12.30'],
    ['certificate fingerprint', 'SHA1 Fingerprint=A1:B2:C3:D4:E5:F6:07:18:29:3A:4B:5C:6D:7E:8F:90:A1:B2:C3:D4'],
    ['MAC, upper case', '00:1A:2B:3C:4D:5E'],
    ['four-digit part', '1.2.3.1234'],
    ['shifted sub-match', '256.12.4.9 and 1256.1.1.1'],
    ['clock time with the date', '2026-11-19 23:06:41'],
  ])('%s', (_name, text) => {
    expect(values(text)).toEqual([]);
  });

  test('a marker only stops the quad right after it', () => {
    expect(values('version 1.2.3.4 then 5.6.7.8')).toEqual(['5.6.7.8']);
    expect(values('server 1.2.3.4')).toEqual(['1.2.3.4']);
    expect(values('preview 1.2.3.4')).toEqual(['1.2.3.4']); // ends in "v", is not "v"
    expect(values('an IP of 1.2.3.4')).toEqual(['1.2.3.4']);
    expect(values('GET /api/1.2.3.4 and http://proxy/5.6.7.8')).toEqual(['1.2.3.4', '5.6.7.8']);
  });
});

describe('address forms', () => {
  test.each([
    ['SMTP IPv6 address literal', 'from [IPv6:2001:67c:2e8::25] by mx', ['2001:67c:2e8::25']],
    ['ip#port', '185.220.101.47#443', ['185.220.101.47']],
    ['ip:port', '185.220.101.47:8443', ['185.220.101.47']],
    ['[v6]:port', '[2a0e:97c0:3e3::10]:443', ['2a0e:97c0:3e3::10']],
    ['ip/port above 32', '185.220.101.47/8080', ['185.220.101.47']],
    ['unbracketed IPv6 ending in a port-like group is literal', '2001:db8::1:443', ['2001:db8::1:443']],
    ['zone id stripped', 'fe80::1%eth0', ['fe80::1']],
    ['IPv4-mapped IPv6 is the IPv4 address', '::ffff:185.220.101.47', ['185.220.101.47']],
    ['IPv4-embedded IPv6', '64:ff9b::185.220.101.47', ['64:ff9b::b9dc:652f']],
    ['RFC 5952 lower case and compression', '2001:0DB8:0000:0000:0000:0000:0002:0001', ['2001:db8::2:1']],
    ['leading zeros are decimal', '010.020.004.017 185.220.101.047', ['10.20.4.17', '185.220.101.47']],
    ['URL host in any scheme', 'ftp://1.2.3.4/x ssh://root@5.6.7.8:22', ['1.2.3.4', '5.6.7.8']],
    ['in a query string', 'https://x.example/r?next=9.8.7.6&a=1', ['9.8.7.6']],
    ['/24 after a URL host is a path', 'hxxp://1[.]2[.]3[.]4/24', ['1.2.3.4']],
  ])('%s', (_name, text, expected) => {
    expect(values(text)).toEqual(expected);
  });

  test('CIDR with host bits set is its network, flagged', () => {
    const f = one('195.178.188.66/29', '195.178.188.64/29');
    expect(f.hostBitsSet).toBe(true);
    expect(one('195.178.188.64/29', '195.178.188.64/29').hostBitsSet).toBeUndefined();
    expect(one('2001:db8::5/64', '2001:db8::/64').hostBitsSet).toBe(true);
  });

  test('/32 and /128 are the bare address', () => {
    expect(values('1.2.3.4/32 2001:db8::1/128')).toEqual(['1.2.3.4', '2001:db8::1']);
  });
});

describe('ranges', () => {
  test('"from a to b" yields the endpoints and the cover, marked as derived', () => {
    const found = scanText('Block from 91.215.85.10 to 91.215.85.13.', 'body');
    expect(found.map((f) => f.value)).toEqual(['91.215.85.10', '91.215.85.13', '91.215.85.10/31', '91.215.85.12/31']);
    expect(found[0]?.derivedFromRange).toBeUndefined();
    expect(found[2]?.derivedFromRange).toBe('91.215.85.10-91.215.85.13');
  });

  test('"from a to b" across networks is a connection, not a range', () => {
    expect(values('traffic from 10.0.0.5 to 185.220.101.47')).toEqual(['10.0.0.5', '185.220.101.47']);
  });

  test('short form, dash forms and en dash', () => {
    expect(values('5.188.86.170-175')).toEqual(['5.188.86.170', '5.188.86.175', '5.188.86.170/31', '5.188.86.172/30']);
    expect(values('80.94.95.0 – 80.94.95.3')).toEqual(['80.94.95.0', '80.94.95.3', '80.94.95.0/30']);
  });

  test('a cover value that is also written literally is not marked derived', () => {
    const found = scanText('10.0.0.0-10.0.0.255 and 10.0.0.0/24', 'body');
    expect(found.find((f) => f.value === '10.0.0.0/24')?.derivedFromRange).toBeUndefined();
  });
});

describe('blockability and places', () => {
  test('special-purpose space is extracted but marked not blockable, with the reason code', () => {
    const found = extractIndicators('10.1.2.3 185.220.101.47 0.0.0.0/0 198.51.100.7 fe80::1 2002::/16 0.0.0.0/1');
    const byValue = Object.fromEntries(found.map((f) => [f.value, f]));
    expect(byValue['185.220.101.47']).toMatchObject({ blockable: true });
    expect(byValue['185.220.101.47']?.reasonCode).toBeUndefined();
    expect(byValue['10.1.2.3']).toMatchObject({ blockable: false, reasonCode: 'private' });
    expect(byValue['0.0.0.0/0']).toMatchObject({ blockable: false, reasonCode: 'default-route' });
    expect(byValue['198.51.100.7']).toMatchObject({ blockable: false, reasonCode: 'documentation' });
    expect(byValue['fe80::1']).toMatchObject({ blockable: false, reasonCode: 'link-local' });
    expect(byValue['2002::/16']).toMatchObject({ blockable: false, reasonCode: '6to4' });
    // Judged as ranges: 0.0.0.0/1 overlaps 10.0.0.0/8.
    expect(byValue['0.0.0.0/1']).toMatchObject({ blockable: false });
    expect(byValue['10.1.2.3']?.reason).toMatch(/private range 10\.0\.0\.0\/8/);
  });

  test('every place has part, line and a short excerpt; duplicates are counted', () => {
    const text = 'intro\nThe C2 at 185[.]220[.]101[.]47 answered on 443.\n' + 'x '.repeat(100) + '185.220.101.47\n';
    const [f] = scanText(text, 'attachment iocs.txt');
    expect(f?.seen).toBe(2);
    expect(f?.places[0]).toEqual({
      where: 'attachment iocs.txt:line 2',
      part: 'attachment',
      attachment: 'iocs.txt',
      line: 2,
      excerpt: 'The C2 at 185.220.101.47 answered on 443.',
    });
    expect(f?.places[1]?.excerpt.startsWith('…')).toBe(true);
    expect(f?.where).toEqual(['attachment iocs.txt:line 2', 'attachment iocs.txt:line 3']);
  });
});

test('a bare "::" with a prefix is a network (so it can be refused); a bare "::" in prose is not', () => {
  expect(extractIndicators('half the internet: ::/1 and ::/0').map((i) => [i.value, i.blockable])).toEqual([
    ['::/1', false],
    ['::/0', false],
  ]);
  expect(extractIndicators('Foo :: Bar, std::vector, a :: /1')).toEqual([]);
});
