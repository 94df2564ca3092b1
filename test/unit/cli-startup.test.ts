/**
 * `mail2waf --help`, `--version` and `extract` start fast because they never load the Temporal SDK, the AWS SDK or
 * the mail libraries (src/cli/lazy.ts). Checked in a fresh node process (jest's module registry is its own).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../../src/client';

const root = join(__dirname, '..', '..');
/** Packages the start of these commands must not load (by their own name; mailparser's private copies are its own). */
const HEAVY = /^(@temporalio|@aws-sdk|imapflow|nodemailer|mailauth|@grpc|zod)\//;

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'mail2waf-startup-'));
  writeFileSync(join(dir, 'a.txt'), 'C2 at 185.220.101[.]47\n');
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Runs the CLI from the sources in a new node process: its exit code, output, and the heavy modules it loaded. */
function loadedBy(args: string[]) {
  const script = `
    const { runCli } = require('./src/client');
    let out = '';
    runCli(${JSON.stringify(args)}, { out: (s) => (out += s), err: (s) => (out += s), env: {} }).then((code) => {
      // The package each file belongs to, named by its first node_modules/ (who depends on it from the project).
      const packages = Object.keys(require.cache).map((f) => f.split('/node_modules/')[1]).filter(Boolean);
      const heavy = [...new Set(packages.filter((p) => ${HEAVY}.test(p)).map((p) => p.split('/').slice(0, 2).join('/')))];
      process.stdout.write(JSON.stringify({ code, out, heavy }));
    });`;
  const r = spawnSync(process.execPath, ['--import', 'tsx', '-e', script], { cwd: root, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(r.stderr);
  return JSON.parse(r.stdout) as { code: number; out: string; heavy: string[] };
}

test.each([[['--help']], [['--version']], [['extract', '--ips', '<file>']]])(
  'mail2waf %j loads no SDK and no mail library',
  (args) => {
    const r = loadedBy(args.map((a) => (a === '<file>' ? join(dir, 'a.txt') : a)));
    expect(r.code).toBe(0);
    expect(r.heavy).toEqual([]);
  },
  60_000,
);

test('--version prints the package version; --help lists the worker', async () => {
  let out = '';
  expect(await runCli(['--version'], { out: (s) => (out += s), err: () => undefined, env: {} })).toBe(0);
  expect(out.trim()).toBe(JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).version);
  out = '';
  expect(await runCli(['--help'], { out: (s) => (out += s), err: () => undefined, env: {} })).toBe(0);
  expect(out).toMatch(/^\s+worker\s/m);
});
