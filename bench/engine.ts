/**
 * One engine, one process: reads the corpus directory, warms up with three untimed passes over every
 * document (so every format's code is compiled, as in a long-running worker), then times five
 * passes and reports the median, and prints a JSON line with the figures and the values found. Run
 * by bench/extract.ts, so each engine's peak RSS is its own.
 *
 *   node --import tsx bench/engine.ts <mail2waf|mail2waf-full|ioc-extractor> <corpus-dir> [fixtures-dir]
 *
 * `mail2waf` is the values mode (`places: false`): values, counts and verdicts, like for like with
 * the peer, which returns values only. `mail2waf-full` also records every place with its excerpt.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { extractFromFile } from '../src/extraction/file';
import { pdfToText } from '../src/extraction/pdf';
import { xlsxToText } from '../src/extraction/xlsx';
import { readZip } from '../src/extraction/zip';
import { formatCidr, parseCidr } from '../src/net/ip';

type Engine = (name: string, bytes: Buffer) => Promise<string[]>;

const WARM_UP_PASSES = 3;
/** Timed passes over the corpus; the median is reported. */
const TIMED_PASSES = 5;

function ours(places: boolean): Engine {
  return async (name, bytes) => {
    const r = await extractFromFile(name, bytes, { maxPartBytes: 64 << 20, maxIndicators: 10_000_000, places });
    return r.indicators.map((i) => i.value);
  };
}

// eslint-disable-next-line @typescript-eslint/no-require-imports
const ioc = require('ioc-extractor') as {
  partialExtractIOC(s: string, only: string[], o: { refang: boolean }): { ipv4s?: string[]; ipv6s?: string[] };
};

/** The peer as its users call it: IPv4 and IPv6 only, refang on. Values canonicalised where they parse. */
const peer: Engine = async (_name, bytes) => {
  const r = ioc.partialExtractIOC(bytes.toString('utf8'), ['ipv4s', 'ipv6s'], { refang: true });
  return [...(r.ipv4s ?? []), ...(r.ipv6s ?? [])];
};

function canonical(v: string): string {
  const c = parseCidr(v);
  return c === undefined ? v : formatCidr(c);
}

/** Text a peer without format readers can be given for a binary fixture: what our readers extract. */
async function textFor(name: string, bytes: Buffer): Promise<Buffer> {
  const limits = { maxEntries: 1000, maxEntryBytes: 64 << 20, maxTotalBytes: 64 << 20, maxRatio: 1000 };
  if (name.endsWith('.pdf')) {
    const pdf = await pdfToText(bytes, { maxPages: 500, timeoutMs: 30_000, maxChars: 64 << 20, maxHeapMb: 512 });
    return Buffer.from(typeof pdf === 'string' ? '' : pdf.pages.join('\n'));
  }
  if (name.endsWith('.xlsx')) {
    const x = await xlsxToText(bytes, limits);
    return Buffer.from(typeof x === 'string' ? '' : x.text);
  }
  if (name.endsWith('.zip')) {
    const z = await readZip(bytes, limits);
    return Buffer.concat(z.entries.flatMap((e) => (e.content ? [e.content, Buffer.from('\n')] : [])));
  }
  return bytes;
}

async function main(): Promise<void> {
  const [which, dir, fixturesDir] = process.argv.slice(2);
  const engines: Record<string, Engine> = { mail2waf: ours(false), 'mail2waf-full': ours(true), 'ioc-extractor': peer };
  const engine = which === undefined ? undefined : engines[which];
  if (engine === undefined || dir === undefined) {
    throw new Error('usage: engine.ts <mail2waf|mail2waf-full|ioc-extractor> <corpus-dir> [fixtures-dir]');
  }
  const names = readdirSync(dir)
    .filter((n) => !n.endsWith('.truth.json'))
    .sort();
  const docs = names.map((n) => ({ name: n, bytes: readFileSync(join(dir, n)) }));
  // Warm-up: three untimed passes, the same for every engine, so the JIT has settled on every path.
  for (let pass = 0; pass < WARM_UP_PASSES; pass++) for (const d of docs) await engine(d.name, d.bytes);
  const bytes = docs.reduce((sum, d) => sum + d.bytes.length, 0);
  // Timed passes read every value of each document's result and let it go, as a worker does with
  // each message; holding every result of the corpus would time the garbage collector's work on a
  // heap no worker keeps. The values are collected for scoring in a separate, untimed pass.
  const passes: number[] = [];
  let checksum = 0;
  for (let pass = 0; pass < TIMED_PASSES; pass++) {
    const started = process.hrtime.bigint();
    for (const d of docs) for (const v of await engine(d.name, d.bytes)) checksum += v.length;
    passes.push(Number(process.hrtime.bigint() - started) / 1e6);
  }
  const ms = [...passes].sort((a, b) => a - b)[Math.floor(TIMED_PASSES / 2)] as number;
  const found: Record<string, string[]> = {};
  for (const d of docs) found[d.name] = await engine(d.name, d.bytes);
  // Peak RSS of the corpus pass, before the fixtures (a PDF fixture starts a reader thread).
  const maxRssMb = process.resourceUsage().maxRSS / 1024;
  for (const k of Object.keys(found)) found[k] = [...new Set((found[k] ?? []).map(canonical))];

  let fixtures: Record<string, string[]> | undefined;
  if (fixturesDir !== undefined) {
    const labels = JSON.parse(readFileSync(join(fixturesDir, 'labels.json'), 'utf8')) as Record<string, string[]>;
    fixtures = {};
    for (const name of Object.keys(labels)) {
      const raw = readFileSync(join(fixturesDir, name));
      const input = engine === peer ? await textFor(name, raw) : raw;
      fixtures[name] = [...new Set((await engine(name, input)).map(canonical))];
    }
  }
  process.stdout.write(
    `${JSON.stringify({ engine: which, bytes, ms, passes, checksum, maxRssMb, found, fixtures })}\n`,
  );
}

main().catch((err) => {
  process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
  process.exit(2);
});
