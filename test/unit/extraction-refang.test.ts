import { refang } from '../../src/extraction/refang';
import { seeded } from '../helpers/random';

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

  // A hang guard, not a speed claim: quadratic behaviour on these inputs would run for minutes and
  // hit the test's timeout; the results are checked so the inputs really went through.
  test('finishes on hostile input', () => {
    expect(refang(' \t'.repeat(1_000_000) + '[')).toHaveLength(2_000_001);
    expect(refang('[ '.repeat(1_000_000))).toHaveLength(2_000_000);
    expect(refang('h'.repeat(1_000_000) + 'xxp').endsWith('hhttp')).toBe(false);
    expect(refang('h'.repeat(1_000_000) + 'xxp')).toHaveLength(1_000_003);
    expect(refang('[.'.repeat(1_000_000))).toHaveLength(2_000_000);
  }, 20_000);

  /**
   * The reference: the combined regex run globally over the text, the obvious (and slower) way. The
   * engine tries the same regex only at candidate positions; on any input the two must agree.
   */
  function reference(text: string): string {
    const t = text.replace(/[\u200B-\u200D\u2060\uFEFF\u00AD]/g, '');
    const re =
      /([[({])[ \t]{0,3}(?:\.|[dD][oO][tT])[ \t]{0,3}[\])}]|[[({]:\/\/[\])}]|[[({][ \t]{0,3}:[ \t]{0,3}[\])}]|\[\/\]|\\\.|\[\.(?=[0-9A-Za-z])|\.\](?=[0-9A-Za-z])|[0-9] \. (?=[0-9])|[hH](?:[xX]{2}|\*\*)[pP]([sS]?)(?![0-9A-Za-z_])/g;
    const alnum = (c: number) => /[0-9A-Za-z]/.test(String.fromCharCode(c));
    let out = '';
    let last = 0;
    for (let m = re.exec(t); m !== null; m = re.exec(t)) {
      const at = m.index;
      const match = m[0];
      let chunkEnd = at;
      let next = at + match.length;
      let rep: string;
      if (m[1] !== undefined) {
        for (let k = 0; k < 3 && chunkEnd > last && /[ \t]/.test(t.charAt(chunkEnd - 1)); k++) chunkEnd--;
        for (let k = 0; k < 3 && next < t.length && /[ \t]/.test(t.charAt(next)); k++) next++;
        rep = '.';
      } else if (m[2] !== undefined) {
        if (at > 0 && (alnum(t.charCodeAt(at - 1)) || t.charAt(at - 1) === '_')) continue;
        rep = `http${m[2].toLowerCase()}`;
      } else if (/[0-9]/.test(match.charAt(0))) rep = `${match.charAt(0)}.`;
      else if (match.includes('//')) rep = '://';
      else if (match.includes(':')) rep = ':';
      else if (match === '[/]') rep = '/';
      else if (match === '[.' || match === '.]') {
        if (at === 0 || !alnum(t.charCodeAt(at - 1))) continue;
        rep = '.';
      } else rep = '.';
      out += t.slice(last, chunkEnd) + rep;
      last = next;
      re.lastIndex = next;
    }
    return out + t.slice(last);
  }

  test('agrees with the global regex on 100,000 random strings of defang material', () => {
    const pieces = ['[', ']', '(', ')', '{', '}', '.', ' ', '\t', 'dot', 'DoT', ':', '//', '/', '\\', 'h', 'H'];
    pieces.push('x', 'X', '*', 'p', 'P', 's', '1', '9', 'a', '_', '\n', '\u200b', '\u00ad');
    const random = seeded(20261128);
    const differ: string[] = [];
    for (let i = 0; i < 100_000; i++) {
      const s = random.join(pieces, 14);
      if (refang(s) !== reference(s)) differ.push(s);
    }
    expect(differ.slice(0, 5)).toEqual([]);
  });

  test('without rule 7, "1 . 2" is left as written and everything else is refanged', () => {
    expect(refang('1 . 2 . 3 . 4', false)).toBe('1 . 2 . 3 . 4');
    expect(refang('hxxp://5.6.7[.]8 and 1 . 2', false)).toBe('http://5.6.7.8 and 1 . 2');
  });

  // The scanner relies on this to refang a piece in full only when it meets "<digit> . <digit>".
  test('without rule 7, the result equals the full refang wherever it holds no "<digit> . <digit>"', () => {
    const pieces = [
      '1',
      '9',
      '.',
      ' . ',
      ' ',
      '\t',
      '[.]',
      ' [.] ',
      '(dot)',
      '.]',
      '[.',
      '\\.',
      'a',
      'hxxp',
      '\n',
      '\u200b',
    ];
    const random = seeded(20261129);
    let ruleSevenMattered = 0;
    const differ: string[] = [];
    for (let i = 0; i < 100_000; i++) {
      const s = random.join(pieces, 16);
      const lean = refang(s, false);
      if (lean === refang(s)) continue;
      ruleSevenMattered++;
      if (!/[0-9] \. [0-9]/.test(lean)) differ.push(s);
    }
    expect(differ.slice(0, 5)).toEqual([]);
    expect(ruleSevenMattered).toBeGreaterThan(100); // inputs where leaving rule 7 out made a difference
  });
});
