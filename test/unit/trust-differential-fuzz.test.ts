/**
 * Issue 10, differential fuzz: the trust gate and mailauth read the same header section. Seeded random header
 * sections mix valid and hostile constructs (nested comments, quoted strings, encoded words, groups, CR / LF /
 * CRLF variations, leading whitespace, colonless lines, duplicate From, control characters, unicode). For every
 * one, either the gate refuses it as ambiguous (or finds no single author), or the From address the gate reads
 * is exactly the one mailauth reads, with mailauth's own code: its DKIM verifier (message splitter, header reader
 * tools.parseHeaders and bundled addressparser) gives `headerFrom`, which DKIM alignment and DMARC use.
 *
 * `npm test` runs a fixed seed and a few thousand cases; FUZZ_CASES=200000 (and FUZZ_SEED) run more.
 */
import { gatherFacts } from '../../src/activities/authenticate';
import { screenMessage, splitAddress, type TrustConfig } from '../../src/policy/trust';
import { seeded } from '../helpers/random';

// mailauth ships no type declarations: its DKIM verifier, which reads the headers and the From for DMARC.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { dkimVerify } = require('mailauth/lib/dkim/verify') as {
  dkimVerify(raw: Buffer, opts: { resolver: unknown }): Promise<{ headerFrom: string[] }>;
};

const CASES = Number(process.env.FUZZ_CASES ?? 3000);
const SEED = Number(process.env.FUZZ_SEED ?? 20261120);

// Every domain is trusted, so no message is refused merely as "untrusted": each reading is compared.
const config: TrustConfig = {
  trustedSenders: ['cert.example', 'cert-example.com', 'evil.example'],
  mtaHosts: ['mx.mail2waf.test'],
  trustedArcSealers: [],
};

const ADDRESSES = ['advisories@cert.example', 'a@cert-example.com', 'x@evil.example'];
const EOLS = ['\r\n', '\r\n', '\r\n', '\n', '\r', '\r\r\n', '\n\r'];

function fromValue(r: ReturnType<typeof seeded>): string {
  const addr = () => ADDRESSES[r.below(ADDRESSES.length)]!;
  const pieces = [
    () => addr(),
    () => `<${addr()}>`,
    () => `CERT <${addr()}>`,
    () => `"${addr()}" <${addr()}>`,
    () => `"CERT, \\"Inc\\"" <${addr()}>`,
    () => `=?utf-8?q?${addr().replace('@', '=40')}?= <${addr()}>`,
    () => `=?utf-8?B?Q0VSVA==?= <${addr()}>`,
    () => `(${addr()})`,
    () => `(c (d) <${addr()}>)`,
    () => `(CERT)`,
    () => `g: ${addr()};`,
    () => `undisclosed:;`,
    () => `${addr()} (${addr()})`,
    () => `${addr()}\r\n (x)`,
    () => `${addr()}\r\n\t<${addr()}>`,
    () => `Ünïcødé <${addr()}>`,
    () => `\u00a0${addr()}`,
    () => `${addr().replace('@', ' @ ')}`,
    () => `${addr()}, ${addr()}`,
    () => `"unterminated <${addr()}>`,
    () => `<${addr()}`,
    () => `${addr()}>`,
    () => `\\${addr()}`,
    () => `a@[203.0.113.25]`,
    () => `"a b"@cert.example`,
    () => ',',
    () => ' ',
    () => '\t',
    () => '\x00',
    () => '\v',
  ];
  // Half the values are one of the well-formed shapes (the first seven), the rest a mix of anything.
  if (r.unit() < 0.5) return pieces[r.below(7)]!();
  let v = '';
  for (let n = 1 + r.below(3); n > 0; n--) v += pieces[r.below(pieces.length)]!();
  return v;
}

function headerSection(r: ReturnType<typeof seeded>): string {
  const eol = () => (r.unit() < 0.85 ? '\r\n' : EOLS[r.below(EOLS.length)]!);
  const lines: string[] = [
    // Our MTA's line, always on top and well formed, so the screen gets as far as the From.
    'Received: from mail.cert.example (mail.cert.example [203.0.113.25]) by mx.mail2waf.test (Postfix); d\r\n',
  ];
  const kinds = [
    () => `From: ${fromValue(r)}${eol()}`,
    () => `From: ${fromValue(r)}${eol()}`,
    () => `FROM:${fromValue(r)}${eol()}`,
    () => `From : ${fromValue(r)}${eol()}`,
    () => ` From: ${fromValue(r)}${eol()}`,
    () => `\tFrom: ${fromValue(r)}${eol()}`,
    () => `\vFrom: ${fromValue(r)}${eol()}`,
    () => `\fFrom: ${fromValue(r)}${eol()}`,
    () => `\u00a0From: ${fromValue(r)}${eol()}`,
    () => `To: alice@mail2waf.test${eol()}`,
    () => `Subject: Advisory ${r.below(1000)}${eol()}`,
    () => `Subject: =?utf-8?q?Advisory?=${eol()}`,
    () => ` continued${eol()}`,
    () => `\tcontinued: with colon${eol()}`,
    () => `X-Note: a${eol()}`,
    () => `no colon here${eol()}`,
    () => `From ${ADDRESSES[0]} Fri Nov 20 10:00:00 2026${eol()}`,
    () => `X-Bin: \x00\x1b${eol()}`,
    () => `X-Lone: a\rFrom: ${fromValue(r)}${eol()}`,
    () => `Message-ID: <${r.below(1e6)}@cert.example>${eol()}`,
    () => `Content-Type: text/plain${eol()}`,
    () => eol(),
  ];
  // Half the sections are well-formed but for the From value: one From among ordinary fields.
  const hostile = r.unit() < 0.5;
  if (!hostile) {
    const at = r.below(4);
    for (let n = 0; n < 4; n++) lines.push(n === at ? `From: ${fromValue(r)}\r\n` : kinds[9 + r.below(3)]!());
  } else {
    for (let n = 1 + r.below(6); n > 0; n--) lines.push(kinds[r.below(kinds.length)]!());
  }
  return lines.join('');
}

test(
  `differential: the gate refuses or reads the From mailauth reads (${CASES} cases, seed ${SEED})`,
  async () => {
    const r = seeded(SEED);
    const resolver = async () => {
      throw Object.assign(new Error('no DNS in this test'), { code: 'ENOTFOUND' });
    };
    const disagreements: { header: string; gate: string; mailauth: string[] }[] = [];
    let compared = 0;
    let ambiguous = 0;
    for (let i = 0; i < CASES; i++) {
      const raw = Buffer.from(`${headerSection(r)}\r\nBlock 185.220.101.47.\r\n`, 'latin1');
      const facts = await gatherFacts(raw, config.mtaHosts);
      const screened = screenMessage(facts, config);
      if (screened?.code === 'ambiguous-headers') {
        ambiguous++;
        continue;
      }
      // One From header with one author is what the gate would trust (or refuse for another reason first).
      if (facts.from.headerCount !== 1 || facts.from.addresses.length !== 1) {
        expect(screened?.code).toBe('untrusted-sender');
        continue;
      }
      compared++;
      const gateFrom = facts.from.addresses[0]!.address.toLowerCase();
      const theirs = (await dkimVerify(raw, { resolver })).headerFrom.map((a) => a.toLowerCase());
      const sameDomain =
        theirs.length === 1 &&
        theirs[0] === gateFrom &&
        splitAddress(gateFrom)?.domain === theirs[0]!.slice(theirs[0]!.indexOf('@') + 1);
      if (!sameDomain && disagreements.length < 5) {
        disagreements.push({ header: raw.toString('latin1').split('\r\n\r\n')[0]!, gate: gateFrom, mailauth: theirs });
      }
    }
    expect(disagreements).toEqual([]);
    // Not vacuous: many messages are read and compared, many are refused as ambiguous.
    expect(compared).toBeGreaterThan(CASES * 0.15);
    expect(ambiguous).toBeGreaterThan(CASES * 0.15);
  },
  60_000 + CASES * 5,
);
