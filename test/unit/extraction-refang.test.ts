import { refang } from '../../src/extraction/refang';

describe('refang', () => {
  test.each([
    ['1[.]2[.]3[.]4', '1.2.3.4'],
    ['1(.)2(.)3(.)4', '1.2.3.4'],
    ['1{.}2{.}3{.}4', '1.2.3.4'],
    ['1[dot]2[DOT]3(Dot)4', '1.2.3.4'],
    ['1{dot}2{dot}3{dot}4', '1.2.3.4'],
    ['1[ . ]2[ dot ]3[\t.\t]4', '1.2.3.4'],
    // Spaces around the brackets go too.
    ['1 [.] 2 [.] 3 [.] 4', '1.2.3.4'],
    ['evil [dot] example [dot] com', 'evil.example.com'],
    // Half-bracketed dots.
    ['1.2.3[.4', '1.2.3.4'],
    ['example.]com', 'example.com'],
    ['1\\.2\\.3\\.4', '1.2.3.4'],
    ['2001[:]db8[:][:]1', '2001:db8::1'],
    ['2001(:)db8{:}{:}1', '2001:db8::1'],
    ['http[://]evil.example', 'http://evil.example'],
    ['hxxp://evil.example', 'http://evil.example'],
    ['hXXp://evil.example', 'http://evil.example'],
    ['HXXPS://evil.example', 'https://evil.example'],
    ['h**p://evil.example', 'http://evil.example'],
    ['hxxps[://]5[.]6[.]7[.]8/x', 'https://5.6.7.8/x'],
    ['http[/]evil', 'http/evil'],
    // Zero-width characters and soft hyphens inserted to break auto-linking.
    ['1.2\u200b.3.4', '1.2.3.4'],
    ['1.\u200c2.\u200d3.\u20604\ufeff', '1.2.3.4'],
    ['185.\u00ad220.101.7', '185.220.101.7'],
  ])('%j → %j', (input, output) => {
    expect(refang(input)).toBe(output);
  });

  test('leaves ordinary text alone', () => {
    const text = 'Dear team, please (see attached). Version 1.2 [draft] at 10:30; {json: true} hxxpd hxxpx';
    expect(refang(text)).toBe(text);
  });

  test('keeps line breaks, so line numbers survive', () => {
    const text = 'a [.]\nb\n\n1[.]2[.]3[.]4\n';
    expect(refang(text).split('\n')).toHaveLength(text.split('\n').length);
    expect(refang(text).split('\n')[3]).toBe('1.2.3.4');
  });

  test('runs in linear time on hostile input', () => {
    const started = Date.now();
    refang(' \t'.repeat(1_000_000) + '[');
    refang('[ '.repeat(1_000_000));
    refang('h'.repeat(1_000_000) + 'xxp');
    refang('[.'.repeat(1_000_000));
    expect(Date.now() - started).toBeLessThan(2000);
  });
});
