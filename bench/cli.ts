/**
 * `npm run bench:cli`: how long the compiled `mail2waf` takes to answer, against a bare `node -e 0` in the same run.
 * Times `mail2waf --help`, `mail2waf --version` and `mail2waf extract --ips <small file>` of bin/mail2waf running lib/,
 * from a copy of bin/, lib/ and package.json in a temporary folder (what an installed package runs, and safe from
 * edits to src/ during the run, which would send bin/mail2waf to the sources), each in its own process, RUNS processes each (default 15, at least 10), taken
 * in turns (node, help, version, extract, node, …) so that any drift of the machine falls on every command alike,
 * and pinned to one CPU core when `taskset` is there. Prints each command line, its median and fastest wall time
 * in ms, and the median's ratio to node's.
 *
 * Goals (issue 11): --help and --version within 3× a bare node start, extract of a small file within 5×. Exit
 * code 1 when one is missed. lib/ must be current: when it is missing or older than src/, this runs
 * `npm run build` first (bin/mail2waf would otherwise run the sources through tsx and this would time tsx).
 *
 *   npm run bench:cli [-- --runs 25]
 */
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readdirSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const root = resolve(__dirname, '..');

interface Case {
  name: string;
  args: string[];
  /** The goal: at most this many times node's median. */
  goal?: number;
}

function newestMtime(dir: string): number {
  let newest = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    newest = Math.max(newest, e.isDirectory() ? newestMtime(p) : e.name.endsWith('.ts') ? statSync(p).mtimeMs : 0);
  }
  return newest;
}

function libIsCurrent(): boolean {
  try {
    return statSync(join(root, 'lib', 'client.js')).mtimeMs >= newestMtime(join(root, 'src'));
  } catch {
    return false;
  }
}

function hasTaskset(): boolean {
  return process.platform === 'linux' && spawnSync('taskset', ['-c', '0', 'true']).status === 0;
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
};

function main() {
  const runsAt = process.argv.indexOf('--runs');
  const runs = runsAt > 0 ? Number(process.argv[runsAt + 1]) : 15;
  if (!Number.isInteger(runs) || runs < 10) throw new Error('--runs must be a whole number, 10 or more');

  if (!libIsCurrent()) {
    console.error('bench:cli: lib/ is missing or older than src/ — running npm run build first');
    const built = spawnSync('npm', ['run', 'build'], { cwd: root, stdio: 'inherit' });
    if (built.status !== 0) throw new Error('npm run build failed');
  }

  const dir = mkdtempSync(join(tmpdir(), 'mail2waf-bench-cli-'));
  // The package as installed: bin/, lib/ and package.json, with the checkout's node_modules (runtime deps included).
  const pkg = join(dir, 'mail2waf');
  for (const part of ['bin', 'lib', 'package.json']) cpSync(join(root, part), join(pkg, part), { recursive: true });
  symlinkSync(join(root, 'node_modules'), join(pkg, 'node_modules'));
  const bin = join(pkg, 'bin', 'mail2waf');
  const small = join(dir, 'advisory.txt');
  writeFileSync(small, 'Block these: 185.220.101[.]47, 45.95.169.0/24 and 2001:db8::1 (documentation).\n');
  try {
    const cases: Case[] = [
      { name: 'node -e 0', args: ['-e', '0'] },
      { name: 'mail2waf --help', args: [bin, '--help'], goal: 3 },
      { name: 'mail2waf --version', args: [bin, '--version'], goal: 3 },
      { name: 'mail2waf extract --ips', args: [bin, 'extract', '--ips', small], goal: 5 },
    ];
    const pin = hasTaskset();
    const command = (c: Case) =>
      pin ? ['taskset', '-c', '0', process.execPath, ...c.args] : [process.execPath, ...c.args];
    const env = { ...process.env, NODE_OPTIONS: '' };

    // One untimed round: every command must work, and bin/mail2waf must run lib/ (no note about the sources).
    for (const c of cases) {
      const [cmd, ...args] = command(c);
      const r = spawnSync(cmd!, args, { env, encoding: 'utf8' });
      if (r.status !== 0 || r.stderr.trim() !== '') {
        throw new Error(`${command(c).join(' ')} exited ${r.status}: ${r.stderr.trim() || r.stdout.trim()}`);
      }
    }

    const times = new Map<Case, number[]>(cases.map((c) => [c, []]));
    for (let i = 0; i < runs; i++) {
      for (const c of cases) {
        const [cmd, ...args] = command(c);
        const started = process.hrtime.bigint();
        const r = spawnSync(cmd!, args, { env, stdio: ['ignore', 'ignore', 'pipe'] });
        const ms = Number(process.hrtime.bigint() - started) / 1e6;
        if (r.status !== 0 || r.stderr.length > 0) {
          throw new Error(`${command(c).join(' ')} exited ${r.status}: ${r.stderr.toString().trim()}`);
        }
        times.get(c)!.push(ms);
      }
    }

    const base = median(times.get(cases[0]!)!);
    console.log(
      `bench:cli — Node ${process.version}, ${runs} processes per command, in turns${pin ? ', pinned to CPU 0' : ''}`,
    );
    let missed = 0;
    for (const c of cases) {
      const t = times.get(c)!;
      const m = median(t);
      const ratio = m / base;
      const verdict =
        c.goal === undefined ? '' : ratio <= c.goal ? `  goal ≤ ${c.goal}×: met` : `  goal ≤ ${c.goal}×: MISSED`;
      if (c.goal !== undefined && ratio > c.goal) missed++;
      console.log(
        `${c.name.padEnd(24)} median ${m.toFixed(0).padStart(5)} ms  fastest ${Math.min(...t)
          .toFixed(0)
          .padStart(5)} ms  ${ratio.toFixed(1).padStart(4)}× node${verdict}`,
      );
      console.log(`  $ ${command(c).join(' ').replaceAll(dir, '<tmp>')}`);
    }
    process.exitCode = missed > 0 ? 1 : 0;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

try {
  main();
} catch (err) {
  console.error(`bench:cli failed: ${(err as Error).message}`);
  process.exit(2);
}
