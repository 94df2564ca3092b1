import { decodeEntities, htmlToText, linksOf } from '../../src/extraction/html';
import { scanText } from '../../src/extraction/scan';
import { seeded } from '../helpers/random';

describe('htmlToText', () => {
  test('inline tags are removed without inserting spaces', () => {
    expect(htmlToText('<p>IP 1.2.<b>3</b>.4 and <span>5</span>.<i>6</i>.7.8</p>')).toBe('IP 1.2.3.4 and 5.6.7.8');
  });

  test('script, style, head and comments are dropped', () => {
    const html =
      '<html><head><title>9.9.9.9</title><style>p{color:red} /* 8.8.8.8 */</style></head>' +
      '<body><script>var ip = "7.7.7.7";</script><!-- 6.6.6.6 --><p>1.2.3.4</p></body></html>';
    expect(htmlToText(html)).toBe('1.2.3.4');
  });

  test('an unclosed <head> ends at <body> instead of swallowing the message', () => {
    expect(htmlToText('<html><head><meta charset="utf-8"><body><p>1.2.3.4</p>')).toBe('1.2.3.4');
  });

  test('block elements become line breaks', () => {
    expect(htmlToText('<div>1.1.1.1</div><div>2.2.2.2</div>1.2.3.4<br>5.6.7.8<li>a</li><li>b</li>')).toBe(
      '1.1.1.1\n2.2.2.2\n1.2.3.4\n5.6.7.8\na\nb',
    );
  });

  test('table cells are kept apart, rows are lines', () => {
    const html =
      '<table><tr><th>IP</th><th>Port</th></tr><tr><td>1.2.3.4</td><td>443</td></tr>' +
      '<tr><td>5.6.7.8</td><td>22</td></tr></table>';
    const text = htmlToText(html);
    expect(text.split('\n')).toEqual(['\tIP\t\tPort', '\t1.2.3.4\t\t443', '\t5.6.7.8\t\t22']);
    // The cell boundary stops "1.2.3.4" and "443" from reading as one token.
    expect(scanText(text, 'html').map((f) => f.value)).toEqual(['1.2.3.4', '5.6.7.8']);
  });

  test('whitespace collapses like HTML, except in <pre>', () => {
    expect(htmlToText('<p>a\n   b\t\tc</p>')).toBe('a b c');
    expect(htmlToText('<pre>1.2.3.4\n5.6.7.8</pre>')).toBe('1.2.3.4\n5.6.7.8');
    // Inside <pre> (any case) blanks stay as written; CR LF and lone CR become LF; after it, collapsing resumes.
    expect(htmlToText('a<PRE>x\f\ty  z\r\nw\rv</Pre> b  c')).toBe('a\nx\f\ty  z\nw\nv\nb c');
    // Text beyond U+00FF takes the same rules.
    expect(htmlToText('<p>é  €\t–</p><pre>€\f–</pre>')).toBe('é € –\n€\f–');
  });

  test('links are read from href and src in any case, and only from tags', () => {
    const text = htmlToText(
      '<A HREF="http://1.2.3.4/">x</A><img Src=\'5.6.7.8\'><p>href=9.9.9.9</p><td colspan="2">y</td>',
    );
    expect(text.split('\n')).toEqual(['x', 'href=9.9.9.9', '\ty', '', 'http://1.2.3.4/', '5.6.7.8']);
  });

  test('entities are decoded: numeric, hex and named', () => {
    expect(htmlToText('<p>1&#46;2&#x2e;3&period;4 &amp; 5&#x2E;6.7.8&nbsp;x &lt;ok&gt;</p>')).toBe(
      '1.2.3.4 & 5.6.7.8 x <ok>',
    );
  });

  test('link and image targets are appended on their own lines', () => {
    const html =
      '<p>Click <a href="http://9.8.7.6/login">here</a> or <a href=\'hxxp://5[.]4[.]3[.]2\'>there</a></p>' +
      '<img src=http://1.1.1.1/pixel.gif alt=x><a href="http://9.8.7.6/login">again</a>';
    const lines = htmlToText(html).split('\n');
    expect(lines.slice(0, 3)).toEqual(['Click here or there', 'again', '']);
    expect(lines.slice(-3)).toEqual(['http://9.8.7.6/login', 'hxxp://5[.]4[.]3[.]2', 'http://1.1.1.1/pixel.gif']);
  });

  test('entities inside link targets are decoded', () => {
    expect(htmlToText('<a href="http://1.2.3.4/?a=1&amp;b=2">x</a>').split('\n').pop()).toBe('http://1.2.3.4/?a=1&b=2');
  });

  test('a lone "<" is text and a tag cut off at the end is dropped', () => {
    expect(htmlToText('if a < b then 1.2.3.4')).toBe('if a < b then 1.2.3.4');
    expect(htmlToText('1.2.3.4 <a href')).toBe('1.2.3.4 <a href');
  });

  test('doctype and processing instructions are dropped', () => {
    expect(htmlToText('<!DOCTYPE html><?xml version="1.0"?><p>1.2.3.4</p>')).toBe('1.2.3.4');
  });

  // The timeout is the hang guard: quadratic handling of these would run for minutes.
  test('hostile input finishes', () => {
    expect(htmlToText('<a'.repeat(500_000))).toBe('<a'.repeat(500_000)); // no '>': the rest is text
    expect(htmlToText('<script>'.repeat(200_000))).toBe(''); // unclosed script swallows the rest
    expect(htmlToText('<head>'.repeat(200_000))).toBe('');
    expect(htmlToText('<!--'.repeat(200_000))).toBe('');
    expect(htmlToText('&#'.repeat(500_000))).toBe('&#'.repeat(500_000));
  }, 30_000);
});

describe('decodeEntities', () => {
  test.each([
    ['&#46;', '.'],
    ['&#x2e;', '.'],
    ['&#X2E;', '.'],
    ['&#58;&colon;', '::'],
    ['&amp;#46;', '&#46;'],
    ['&amp', '&'],
    ['&copy', '&copy'],
    ['&unknown;', '&unknown;'],
    ['&#0;', '\ufffd'],
    ['&#xD800;', '\ufffd'],
    ['&#160;', ' '],
  ])('%j → %j', (input, output) => {
    expect(decodeEntities(input)).toBe(output);
  });
});

describe('linksOf', () => {
  /** The reference: the attribute rule as one regular expression, run globally over the tag. */
  function reference(tag: string): string[] {
    const re = /(?:^|[\s"'/])(?:href|src)\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'>]+))/gi;
    const out: string[] = [];
    for (let m = re.exec(tag); m !== null; m = re.exec(tag)) out.push((m[1] ?? m[2] ?? m[3]) as string);
    return out;
  }

  test('reads quoted and unquoted values, any case, blanks around "="', () => {
    expect(linksOf(`<a HREF = "http://1.2.3.4/x" src='y' href=z>`)).toEqual(['http://1.2.3.4/x', 'y', 'z']);
    expect(linksOf('<a xhref="no" data-src="no" href="yes"/>')).toEqual(['yes']);
  });

  test('agrees with the regular expression on 100,000 random tags', () => {
    const pieces = [
      '<a',
      ' ',
      '\t',
      '\u00a0',
      '/',
      '"',
      "'",
      '=',
      'href',
      'HREF',
      'src',
      'Src',
      'x',
      '1.2.3.4',
      '>',
      'hre',
    ];
    const random = seeded(11);
    const differ: string[] = [];
    for (let i = 0; i < 100_000; i++) {
      const tag = random.join(pieces, 12);
      if (JSON.stringify(linksOf(tag)) !== JSON.stringify(reference(tag))) differ.push(tag);
    }
    expect(differ.slice(0, 5)).toEqual([]);
  });
});
