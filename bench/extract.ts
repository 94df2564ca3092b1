/**
 * `npm run bench:extract`: mail2waf's extraction against the npm package ioc-extractor (refang on),
 * on the same deterministic ~20 MB corpus, in one run. Each engine runs in its own child process,
 * pinned to the same CPU core when `taskset` is available, so throughput and peak RSS are its own.
 *
 * Two mail2waf rows: `mail2waf` in values mode (`places: false`: values, counts and blockability
 * verdicts, what `extract --ips` prints, like for like with the peer, which returns values only) and
 * `mail2waf-full` (also every place with its excerpt, what `extract --json` prints). Each engine
 * process warms up with three untimed passes and is timed on the median of five: steady-state
 * throughput, as in a long-running worker. Every engine runs in three processes, taken in turns
 * (mail2waf, full, peer, mail2waf, …), and its MB/s is the median process's: one process can come
 * out several per cent slower or faster than the next (where the JIT and the collector settle), and
 * taking turns spreads any drift of the machine over every engine alike. Peak RSS is the highest of
 * the three; the values found must be the same in all three (else the run fails).
 *
 * Prints, per engine: MB/s, values found, values invented (not planted), planted values missed,
 * peak RSS, and the throughput ratios; then precision and recall on the labelled fixtures
 * (test/fixtures/advisories). Exit code 1 when mail2waf misses its targets (values mode ≥ 5× the
 * peer's throughput; both modes invent nothing and miss nothing planted).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { buildCorpus } from './corpus';

interface EngineRun {
  engine: string;
  bytes: number;
  ms: number;
  maxRssMb: number;
  found: Record<string, string[]>;
  fixtures?: Record<string, string[]>;
}

const root = resolve(__dirname, '..');
const fixturesDir = join(root, 'test', 'fixtures', 'advisories');

function hasTaskset(): boolean {
  return process.platform === 'linux' && spawnSync('taskset', ['-c', '0', 'true']).status === 0;
}

function runEngine(engine: string, dir: string, core: number | undefined): EngineRun {
  const node = [process.execPath, '--import', 'tsx', join(__dirname, 'engine.ts'), engine, dir, fixturesDir];
  const [cmd, ...args] = core === undefined ? node : ['taskset', '-c', String(core), ...node];
  const r = spawnSync(cmd as string, args, { cwd: root, encoding: 'utf8', maxBuffer: 512 * 1024 * 1024 });
  if (r.status !== 0) throw new Error(`${engine} failed (exit ${r.status}): ${r.stderr}`);
  return JSON.parse(r.stdout) as EngineRun;
}

/** Processes per engine, taken in turns; the median one is reported, and all of them printed. */
const ROUNDS = 3;

/**
 * The run with the median time of an engine's runs, with every run's MB/s and the highest peak RSS.
 * Throws when the runs found different values: extraction is deterministic, so that is a bug.
 */
function medianRun(runs: EngineRun[]): { run: EngineRun; mbps: number[]; maxRssMb: number } {
  const found = new Set(runs.map((r) => JSON.stringify([r.found, r.fixtures])));
  if (found.size > 1) throw new Error(`${runs[0]?.engine} found different values in different processes`);
  const sorted = [...runs].sort((a, b) => a.ms - b.ms);
  return {
    run: sorted[Math.floor(sorted.length / 2)] as EngineRun,
    mbps: runs.map((r) => r.bytes / 1e6 / (r.ms / 1000)),
    maxRssMb: Math.max(...runs.map((r) => r.maxRssMb)),
  };
}

function pct(n: number): string {
  return `${(n * 100).toFixed(1)}%`;
}

function main(): void {
  const started = Date.now();
  const docs = buildCorpus();
  const dir = mkdtempSync(join(tmpdir(), 'mail2waf-bench-'));
  let bytes = 0;
  let plantedCount = 0;
  let derivedCount = 0;
  for (const d of docs) {
    writeFileSync(join(dir, d.name), d.text);
    bytes += Buffer.byteLength(d.text);
    plantedCount += d.planted.size;
    derivedCount += d.derived.size;
  }
  const core = hasTaskset() ? cpus().length - 1 : undefined;
  console.log(
    `corpus: ${docs.length} documents, ${(bytes / 1e6).toFixed(1)} MB, ${plantedCount} planted values ` +
      `(+${derivedCount} range covers), built in ${Date.now() - started} ms; ` +
      (core === undefined ? 'not pinned (no taskset)' : `every engine pinned to CPU ${core}`),
  );

  const engines = ['mail2waf', 'mail2waf-full', 'ioc-extractor'];
  const perEngine = engines.map((): EngineRun[] => []);
  for (let round = 0; round < ROUNDS; round++) engines.forEach((e, i) => perEngine[i]?.push(runEngine(e, dir, core)));
  rmSync(dir, { recursive: true, force: true });
  const medians = perEngine.map(medianRun);
  const runs = medians.map((m) => m.run);

  const rows: string[][] = [
    ['engine', 'MB/s', 'each process', 'values found', 'invented', 'missed planted', 'missed range covers', 'peak RSS'],
  ];
  const score: Record<string, { mbps: number; invented: number; missed: number }> = {};
  for (const [k, run] of runs.entries()) {
    let found = 0;
    let invented = 0;
    let missed = 0;
    let missedDerived = 0;
    const examples: string[] = [];
    for (const d of docs) {
      const got = new Set(run.found[d.name] ?? []);
      found += got.size;
      for (const v of got) {
        if (!d.planted.has(v) && !d.derived.has(v)) {
          invented++;
          if (examples.length < 5) examples.push(v);
        }
      }
      for (const v of d.planted) if (!got.has(v)) missed++;
      for (const v of d.derived) if (!got.has(v)) missedDerived++;
    }
    const mbps = run.bytes / 1e6 / (run.ms / 1000);
    score[run.engine] = { mbps, invented, missed };
    rows.push([
      run.engine,
      mbps.toFixed(1),
      (medians[k]?.mbps ?? []).map((m) => m.toFixed(1)).join(' / '),
      String(found),
      `${invented}${examples.length ? ` (e.g. ${examples.join(', ')})` : ''}`,
      String(missed),
      String(missedDerived),
      `${(medians[k]?.maxRssMb ?? run.maxRssMb).toFixed(0)} MB`,
    ]);
  }
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  for (const r of rows) console.log(r.map((c, i) => c.padEnd(widths[i] ?? 0)).join('  '));
  const ours = score['mail2waf']!;
  const full = score['mail2waf-full']!;
  const peer = score['ioc-extractor']!;
  const ratio = ours.mbps / peer.mbps;
  console.log(
    `throughput ratio mail2waf / ioc-extractor: ${ratio.toFixed(1)}x (values); ` +
      `${(full.mbps / peer.mbps).toFixed(1)}x with every place and excerpt (mail2waf-full)`,
  );

  // Precision and recall on the labelled fixtures (pairs of file and value).
  const labels = JSON.parse(readFileSync(join(fixturesDir, 'labels.json'), 'utf8')) as Record<string, string[]>;
  console.log(
    'labelled fixtures (test/fixtures/advisories; the peer gets the text our readers extract from PDF, XLSX and zip):',
  );
  for (const run of runs) {
    let tp = 0;
    let fp = 0;
    let fn = 0;
    const wrong: string[] = [];
    for (const [name, want] of Object.entries(labels)) {
      const got = new Set(run.fixtures?.[name] ?? []);
      for (const v of got) {
        if (want.includes(v)) tp++;
        else {
          fp++;
          if (wrong.length < 6) wrong.push(`+${v}`);
        }
      }
      for (const v of want) {
        if (!got.has(v)) {
          fn++;
          if (wrong.length < 12) wrong.push(`-${v}`);
        }
      }
    }
    console.log(
      `  ${run.engine.padEnd(13)} precision ${pct(tp / Math.max(1, tp + fp))}  recall ${pct(tp / Math.max(1, tp + fn))}` +
        `  (${tp} right, ${fp} invented, ${fn} missed${wrong.length ? `: ${wrong.join(' ')}` : ''})`,
    );
  }
  console.log('command: npm run bench:extract');
  const ok = ratio >= 5 && ours.invented + full.invented === 0 && ours.missed + full.missed === 0;
  if (!ok) console.log('TARGET MISSED: mail2waf must be ≥5× the peer, invent nothing and miss nothing planted');
  process.exitCode = ok ? 0 : 1;
}

main();
