/**
 * The benchmark corpus: about 20 MB of advisory-shaped documents (prose, CSV exports, HTML, STIX 2.1
 * bundles) with about 100,000 planted addresses, a quarter of them defanged or inside URLs, plus
 * traps that are not addresses (999.1.1.1, 256.12.4.9, versions, OIDs, reverse-DNS names, clock
 * times, MAC addresses, User-Agent tokens). Every document comes with the set of values an analyst
 * expects from it, so engines are scored on values found, invented and missed.
 *
 * Deterministic: a seeded PRNG, no clock, no environment. The same seed gives the same bytes.
 */
import { formatCidr, parseCidr, rangeToCidrs } from '../src/net/ip';
import { specialRangeOf } from '../src/net/special-ranges';

export interface CorpusDoc {
  name: string;
  text: string;
  /** Values written literally (canonical). */
  planted: Set<string>;
  /** CIDR covers of written ranges (canonical): expected from an engine that reads ranges. */
  derived: Set<string>;
}

/** mulberry32: small, fast, good enough for a synthetic corpus. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const WORDS = (
  'the actor operators campaign infrastructure observed hosting servers payload loader beacon traffic ' +
  'victims network analysts report indicators block edge firewall sensor outbound inbound connection ' +
  'phishing credential harvesting panel kit exploit vulnerability customers partners ' +
  'telemetry suggests rotating weekly daily persistence lateral movement exfiltration archive staged ' +
  'through proxies residential bulletproof provider registered domains certificates resolved recently'
).split(' ');

class Gen {
  readonly r: () => number;
  private readonly used = new Set<string>();

  constructor(seed: number) {
    this.r = prng(seed);
  }

  int(n: number): number {
    return Math.floor(this.r() * n);
  }

  pick<T>(list: readonly T[]): T {
    return list[this.int(list.length)] as T;
  }

  words(n: number): string {
    const out: string[] = [];
    for (let i = 0; i < n; i++) out.push(this.pick(WORDS));
    return out.join(' ');
  }

  /** A public IPv4 address not used before (2% of the time a private or documentation one, also a real value). */
  v4(): string {
    for (;;) {
      const special = this.r() < 0.02;
      const a = special ? this.pick([10, 192, 172]) : 1 + this.int(223);
      const ip = special
        ? a === 10
          ? `10.${this.int(256)}.${this.int(256)}.${1 + this.int(254)}`
          : a === 192
            ? `192.168.${this.int(256)}.${1 + this.int(254)}`
            : `172.${16 + this.int(16)}.${this.int(256)}.${1 + this.int(254)}`
        : `${a}.${this.int(256)}.${this.int(256)}.${1 + this.int(254)}`;
      if (!special && specialRangeOf(ip) !== undefined) continue;
      if (this.used.has(ip)) continue;
      this.used.add(ip);
      return ip;
    }
  }

  v6(): string {
    for (;;) {
      const g = () => this.int(0x10000).toString(16);
      const prefix = this.pick(['2a0e', '2a03', '2a10', '2001:67c', '2a06', '2604', '2607']);
      const form = this.int(3);
      const ip =
        form === 0
          ? `${prefix}:${g()}:${g()}::${g()}`
          : form === 1
            ? `${prefix}:${g()}:${g()}:${g()}:${g()}:${g()}:${g()}`.split(':').slice(0, 8).join(':')
            : `${prefix}:${g()}::${g()}:${g()}`;
      const parsed = parseCidr(ip);
      if (parsed === undefined || this.used.has(parsed.network)) continue;
      this.used.add(parsed.network);
      return ip;
    }
  }
}

/** One planted mention: the text written, and the values it should yield. */
interface Mention {
  text: string;
  planted: string[];
  derived: string[];
}

function canonical(v: string): string {
  const c = parseCidr(v);
  if (c === undefined) throw new Error(`corpus bug: ${v}`);
  return formatCidr(c);
}

/** A random indicator mention; about a quarter are defanged or inside URLs. */
function mention(g: Gen): Mention {
  const roll = g.r();
  if (roll < 0.06) {
    const ip = g.v6();
    const c = canonical(ip);
    const form = g.int(3);
    const text = form === 0 ? ip : form === 1 ? `[${ip}]:${g.pick([443, 8443, 22])}` : ip.toUpperCase();
    return { text, planted: [c], derived: [] };
  }
  if (roll < 0.09) {
    // CIDR, sometimes written with host bits set.
    const base = g.v4().split('.');
    const prefix = g.pick([24, 24, 22, 20, 29]);
    const text = `${base.join('.')}/${prefix}`;
    return { text, planted: [canonical(text)], derived: [] };
  }
  if (roll < 0.1) {
    // Range: dash, spaced dash or last-octet shorthand.
    const base = g.v4().split('.');
    const lo = g.int(200);
    const hi = lo + 1 + g.int(50);
    const first = `${base[0]}.${base[1]}.${base[2]}.${lo}`;
    const last = `${base[0]}.${base[1]}.${base[2]}.${hi}`;
    const form = g.int(3);
    const text = form === 0 ? `${first}-${last}` : form === 1 ? `${first} - ${last}` : `${first}-${hi}`;
    return { text, planted: [first, last], derived: rangeToCidrs(first, last) };
  }
  if (roll < 0.105) {
    // Zero-padded octets, as some exports write them: decimal, not octal, and never truncated.
    const ip = g.v4();
    const padded = ip
      .split('.')
      .map((o) => o.padStart(3, '0'))
      .join('.');
    return { text: padded, planted: [ip], derived: [] };
  }
  const ip = g.v4();
  if (roll < 0.75) return { text: ip, planted: [ip], derived: [] };
  // The defanged / URL quarter.
  const d = ip.split('.');
  const forms = [
    () => d.join('[.]'),
    () => d.join('(.)'),
    () => d.join('[dot]'),
    () => `${d.slice(0, 3).join('.')}[.]${d[3]}`,
    () => `hxxp://${d.join('[.]')}/${g.words(1)}.php`,
    () => `http://${ip}/${g.words(1)}/${g.int(100)}`,
    () => `https://${ip}:${g.pick([8443, 8080, 4444])}/gate`,
    () => `hxxps://admin@${ip}/login`,
  ];
  return { text: g.pick(forms)(), planted: [ip], derived: [] };
}

/** Text that looks like addresses to a regex and is not one. */
function trap(g: Gen): string {
  const n = () => g.int(256);
  return g.pick([
    () => `999.${n()}.${n()}.${n()}`,
    () => `256.${n()}.${n()}.${n()}`,
    () => `${300 + g.int(600)}.${n()}.${n()}.${n()}`,
    () => `version ${g.int(20)}.${g.int(10)}.${g.int(10)}.${g.int(100)}`,
    () => `build ${g.int(20)}.${g.int(10)}.${g.int(100)}.${g.int(100)}`,
    () => `Firefox/${100 + g.int(30)}.${g.int(10)}.${g.int(10)}.${g.int(10)}`,
    () => `OID 1.3.6.1.4.1.${g.int(50000)}.${g.int(10)}`,
    () => `${g.int(10)}.${g.int(10)}.${g.int(10)}.${g.int(100)}.${g.int(100)}`,
    () => `${n()}.${n()}.${n()}.${n()}.in-addr.arpa`,
    () =>
      `${String(g.int(24)).padStart(2, '0')}:${String(g.int(60)).padStart(2, '0')}:${String(g.int(60)).padStart(2, '0')}`,
    () => Array.from({ length: 6 }, () => n().toString(16).padStart(2, '0')).join(':'),
    () => `v${g.int(10)}.${g.int(10)}.${g.int(10)}.${g.int(10)}`,
    () => `std::vector<int>`,
  ])();
}

function proseDoc(g: Gen, name: string, targetBytes: number): CorpusDoc {
  const doc: CorpusDoc = { name, text: '', planted: new Set(), derived: new Set() };
  const lines: string[] = [`TLP:CLEAR Advisory ${name}`, ''];
  let size = 0;
  while (size < targetBytes) {
    const parts: string[] = [];
    for (let s = 0; s < 4; s++) {
      let sentence = g.words(6 + g.int(10));
      if (g.r() < 0.3) {
        const m = mention(g);
        m.planted.forEach((v) => doc.planted.add(v));
        m.derived.forEach((v) => doc.derived.add(v));
        sentence += ` ${m.text}`;
      }
      if (g.r() < 0.12) sentence += ` (${trap(g)})`;
      parts.push(`${sentence.charAt(0).toUpperCase()}${sentence.slice(1)}.`);
    }
    const line = parts.join(' ');
    lines.push(line);
    size += line.length + 1;
  }
  doc.text = lines.join('\n');
  return doc;
}

function csvDoc(g: Gen, name: string, targetBytes: number): CorpusDoc {
  const doc: CorpusDoc = { name, text: '', planted: new Set(), derived: new Set() };
  const lines = ['indicator,type,first_seen,confidence,comment'];
  let size = 0;
  while (size < targetBytes) {
    const m = mention(g);
    m.planted.forEach((v) => doc.planted.add(v));
    m.derived.forEach((v) => doc.derived.add(v));
    const comment = g.r() < 0.1 ? trap(g) : g.words(9);
    const line = `"${m.text}",ip,2026-11-${String(1 + g.int(28)).padStart(2, '0')}T${String(g.int(24)).padStart(2, '0')}:00:00Z,${g.pick(['high', 'medium', 'low'])},${comment}`;
    lines.push(line);
    size += line.length + 1;
  }
  doc.text = lines.join('\n');
  return doc;
}

function htmlDoc(g: Gen, name: string, targetBytes: number): CorpusDoc {
  const doc: CorpusDoc = { name, text: '', planted: new Set(), derived: new Set() };
  const out: string[] = [`<html><head><title>${name}</title><style>td { padding: 2px }</style></head><body>`];
  out.push(`<h1>Advisory ${name}</h1><table><tr><th>Indicator</th><th>Port</th><th>Notes</th></tr>`);
  let size = 0;
  while (size < targetBytes) {
    const m = mention(g);
    m.planted.forEach((v) => doc.planted.add(v));
    m.derived.forEach((v) => doc.derived.add(v));
    const notes = g.r() < 0.1 ? trap(g) : g.words(10);
    const row =
      g.r() < 0.8
        ? `<tr><td>${m.text}</td><td>${g.pick([443, 80, 22, 8080])}</td><td>${notes}</td></tr>`
        : `<tr><td colspan="3"><p>${g.words(8)} <a href="http://example.invalid/${g.int(1000)}">${m.text}</a></p></td></tr>`;
    out.push(row);
    size += row.length + 1;
  }
  out.push('</table></body></html>');
  doc.text = out.join('\n');
  return doc;
}

function stixDoc(g: Gen, name: string, targetBytes: number): CorpusDoc {
  const doc: CorpusDoc = { name, text: '', planted: new Set(), derived: new Set() };
  const objects: unknown[] = [];
  let size = 0;
  const hex = (n: number) => Array.from({ length: n }, () => g.int(16).toString(16)).join('');
  const uuid = () => `${hex(8)}-${hex(4)}-4${hex(3)}-a${hex(3)}-${hex(12)}`;
  while (size < targetBytes) {
    // STIX values are never defanged: plain addresses and CIDRs.
    const v6 = g.r() < 0.08;
    const ip = v6 ? g.v6() : g.v4();
    const value = !v6 && g.r() < 0.05 ? canonical(`${ip}/24`) : canonical(ip);
    doc.planted.add(value);
    const type = v6 ? 'ipv6-addr' : 'ipv4-addr';
    const o =
      g.r() < 0.7
        ? {
            type: 'indicator',
            spec_version: '2.1',
            id: `indicator--${uuid()}`,
            created: '2026-11-18T10:23:45.000Z',
            modified: '2026-11-18T10:23:45.000Z',
            name: g.words(3),
            description: g.r() < 0.2 ? `${g.words(6)} (${trap(g)})` : g.words(8),
            pattern: `[${type}:value = '${value}']`,
            pattern_type: 'stix',
            valid_from: '2026-11-18T10:23:45Z',
          }
        : { type, spec_version: '2.1', id: `${type}--${uuid()}`, value };
    const json = JSON.stringify(o);
    objects.push(o);
    size += json.length + 2;
  }
  doc.text = JSON.stringify({ type: 'bundle', id: `bundle--${uuid()}`, objects }, null, 1);
  return doc;
}

/** Builds the corpus: about `totalBytes` of documents of about 200 KB each, in four formats. */
export function buildCorpus(seed = 20261120, totalBytes = 20 * 1024 * 1024): CorpusDoc[] {
  const g = new Gen(seed);
  const docs: CorpusDoc[] = [];
  let size = 0;
  for (let i = 0; size < totalBytes; i++) {
    const kind = i % 10;
    const target = 150_000 + g.int(100_000);
    const doc =
      kind < 4
        ? proseDoc(g, `advisory-${i}.txt`, target)
        : kind < 7
          ? csvDoc(g, `export-${i}.csv`, target)
          : kind < 9
            ? htmlDoc(g, `report-${i}.html`, target)
            : stixDoc(g, `bundle-${i}.json`, target);
    docs.push(doc);
    size += Buffer.byteLength(doc.text);
  }
  return docs;
}
