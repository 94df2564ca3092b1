/**
 * Sees through the link wrappers of forwarded mail and URL encoding, so the host inside is scanned.
 *
 * A reported phish usually arrives with every link rewritten by the recipient's mail gateway:
 * - Microsoft Defender Safe Links: `https://eur01.safelinks.protection.outlook.com/?url=http%3A%2F%2F1.2.3.4%2Fx&data=…`
 * - Proofpoint URL Defense v1/v2: `https://urldefense.proofpoint.com/v2/url?u=http-3A__1.2.3.4_login&d=…`
 * - Proofpoint URL Defense v3: `https://urldefense.com/v3/__http://1.2.3.4/login__;!!…`
 * and query strings carry URLs percent-encoded (`?next=http%3A%2F%2F1.2.3.4%2F`). Without unwrapping,
 * `%2F1.2.3.4` or `__1.2.3.4_login` glue the address to a word and it is (rightly) not taken.
 *
 * Each step runs only when a cheap `indexOf` says it can match, and every pattern has bounded
 * repetition, so ordinary text pays nothing and hostile text stays linear. Newlines are never
 * introduced (`%0A` is not decoded), so line numbers stay valid.
 */

// Only the characters that shape a URL's authority are decoded: enough to expose a host, and no
// control characters or line breaks. `%25` (an encoded '%') is undone first, so double-encoded
// wrappers (a Safe Link around a URL Defense link) come out too.
const DOUBLE_PERCENT = /%25(?=2[3EFef6]|3[ABDFabdf]|40|5[BDbd])/g;
const PERCENT = /%(2[3EFef6]|3[ABDFabdf]|40|5[BDbd])/g;
const URLDEFENSE_V2 = /https?:\/\/urldefense\.proofpoint\.com\/v2\/url\?u=([A-Za-z0-9\-_.~]{1,4096})/gi;
// The start of a URL Defense v3 link; the rest of the link (`<url>__;<replacements>!`, each part at
// most 4096 characters, the URL on one line) is read by hand in {@link replaceV3}: as one pattern,
// `([^\n]{1,4096}?)__;([A-Za-z0-9\-_=]{0,4096})!` was tried up to 4096 characters from every start, and
// text of nothing but starts cost 4096 steps a character (0.4 s a MB).
const URLDEFENSE_V3_START = /https?:\/\/urldefense(?:\.proofpoint)?\.com\/v3\/__/gi;
const V3_MAX = 4096;
// URL Defense v3 encodes runs of replaced characters as `**X`, X giving the run length.
const V3_RUN_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

function percentChar(hex: string): string {
  return String.fromCharCode(parseInt(hex, 16));
}

/** URL Defense v2 encodes '%' as '-' and '/' as '_': `http-3A__1.2.3.4_x` is `http://1.2.3.4/x`. */
function decodeV2(u: string): string {
  return u.replace(/_/g, '/').replace(/-([0-9A-Fa-f]{2})/g, (_m, hex: string) => percentChar(hex));
}

/**
 * URL Defense v3 replaces some characters of the URL with `*` and lists them, base64url-encoded,
 * after `__;`. Undoing it needs those bytes; a malformed list leaves the `*` in place (the host is
 * almost never one of the replaced characters, so the address is still found).
 */
function decodeV3(url: string, encoded: string): string {
  let replacements: string[];
  try {
    replacements = [...Buffer.from(encoded, 'base64url').toString('utf8')];
  } catch {
    return url;
  }
  let next = 0;
  return url.replace(/\*\*([A-Za-z0-9\-_])|\*/g, (m: string, runChar: string | undefined) => {
    const length = runChar === undefined ? 1 : V3_RUN_ALPHABET.indexOf(runChar) + 2;
    if (next + length > replacements.length) return m;
    const out = replacements.slice(next, next + length).join('');
    next += length;
    return out;
  });
}

/** True for the characters of a v3 replacement list: [A-Za-z0-9\-_=]. */
function isV3ListChar(c: number): boolean {
  return (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || (c >= 48 && c <= 57) || c === 45 || c === 95 || c === 61;
}

/**
 * Replaces every URL Defense v3 link, as
 * `t.replace(/https?:\/\/urldefense(?:\.proofpoint)?\.com\/v3\/__([^\n]{1,4096}?)__;([A-Za-z0-9\-_=]{0,4096})!/gi, …)`
 * would, in linear time: the first `__;` after a start that ends a link (its list of at most 4096
 * characters followed by '!') is found once and remembered for every later start that can reach it.
 */
function replaceV3(t: string): string {
  let out = '';
  let copied = 0;
  // The first good `__;` at or after `goodFrom` is `good` (Infinity: none); `__;` before `scanned` are judged.
  let good = -1;
  let goodFrom = Infinity;
  const firstGood = (from: number): number => {
    if (good >= from && goodFrom <= from) return good;
    for (let p = t.indexOf('__;', from); p !== -1; p = t.indexOf('__;', p + 1)) {
      let e = p + 3;
      const cap = Math.min(t.length, e + V3_MAX + 1);
      while (e < cap && isV3ListChar(t.charCodeAt(e))) e++;
      if (e - (p + 3) <= V3_MAX && t.charCodeAt(e) === 33 /* ! */) {
        good = p;
        goodFrom = from;
        return p;
      }
    }
    good = Infinity;
    goodFrom = from;
    return Infinity;
  };
  let nl = -2; // the first line break at or after the current start (-1: none)
  URLDEFENSE_V3_START.lastIndex = 0;
  for (let m = URLDEFENSE_V3_START.exec(t); m !== null; m = URLDEFENSE_V3_START.exec(t)) {
    const start = m.index;
    const urlStart = start + m[0].length;
    const p = firstGood(urlStart + 1);
    if (nl !== -1 && nl < urlStart) nl = t.indexOf('\n', urlStart);
    if (p - urlStart > V3_MAX || (nl !== -1 && nl < p)) {
      URLDEFENSE_V3_START.lastIndex = start + 1;
      continue;
    }
    let e = p + 3;
    while (isV3ListChar(t.charCodeAt(e))) e++;
    out += t.slice(copied, start) + ` ${decodeV3(t.slice(urlStart, p), t.slice(p + 3, e))} `;
    copied = e + 1;
    URLDEFENSE_V3_START.lastIndex = copied;
  }
  return copied === 0 ? t : out + t.slice(copied);
}

/** Returns `text` with Safe Links / URL Defense wrappers replaced by their target and URL-shaping percent-escapes decoded. */
export function unwrapUrls(text: string): string {
  let t = text;
  // Both wrapper patterns need "?u=" (v2) or "__;" (v3): searching for those first characters is a
  // memchr, while a search for "urldefense" itself cost 9 ms on 20 MB.
  if ((t.includes('?u=') || t.includes('?U=') || t.includes('__;')) && t.includes('urldefense')) {
    t = replaceV3(t);
    t = t.replace(URLDEFENSE_V2, (_m, u: string) => ` ${decodeV2(u)}`);
  }
  if (t.includes('%')) {
    t = t.replace(DOUBLE_PERCENT, '%');
    // Safe Links (`?url=`), URL Defense v1 (`?u=`) and any query-string URL: plain percent-encoding.
    t = t.replace(PERCENT, (_m, hex: string) => percentChar(hex));
  }
  return t;
}
