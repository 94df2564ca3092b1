/**
 * bin/mail2waf never runs a lib/ older than src/ without saying so: in a checkout whose sources changed after the
 * last build it runs the sources through tsx with a note; an installed package (no src/) runs lib/ as it is.
 * Checked on a small package laid out like ours, with stand-ins for lib/client.js and src/client.ts.
 */
import { spawnSync } from 'node:child_process';
import {
  copyFileSync,
  mkdirSync,
  mkdtempSync,
  rmSync,
  symlinkSync,
  unlinkSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const root = join(__dirname, '..', '..');
let pkg: string;

const stub = (said: string) =>
  `exports.runCli = async (argv) => { process.stdout.write(${JSON.stringify(said)} + ' ' + argv.join(' ')); return 0; };\n`;

beforeEach(() => {
  pkg = mkdtempSync(join(tmpdir(), 'mail2waf-bin-'));
  for (const d of ['bin', 'lib', 'src/cli']) mkdirSync(join(pkg, d), { recursive: true });
  copyFileSync(join(root, 'bin', 'mail2waf'), join(pkg, 'bin', 'mail2waf'));
  symlinkSync(join(root, 'node_modules'), join(pkg, 'node_modules'));
  writeFileSync(join(pkg, 'lib', 'client.js'), stub('compiled'));
  writeFileSync(join(pkg, 'src', 'client.ts'), stub('sources'));
  writeFileSync(join(pkg, 'src', 'cli', 'list.ts'), 'export {};\n');
});
afterEach(() => rmSync(pkg, { recursive: true, force: true }));

function age(path: string, secondsAgo: number) {
  const t = Date.now() / 1000 - secondsAgo;
  utimesSync(join(pkg, path), t, t);
}

function run(env: Record<string, string> = {}) {
  const r = spawnSync(process.execPath, [join(pkg, 'bin', 'mail2waf'), 'list'], {
    encoding: 'utf8',
    env: { PATH: process.env.PATH!, ...env },
  });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

test('a build newer than every source runs lib/, silently', () => {
  age('src/client.ts', 60);
  age('src/cli/list.ts', 60);
  expect(run()).toEqual({ code: 0, out: 'compiled list', err: '' });
});

test('a source changed after the build: the sources run through tsx, and stderr says why', () => {
  age('lib/client.js', 60);
  age('src/client.ts', 120);
  const r = run();
  expect(r.code).toBe(0);
  expect(r.out).toBe('sources list');
  expect(r.err).toBe(
    'mail2waf: src/cli/list.ts changed after the last build: running the sources through tsx (npm run build to use lib/)\n',
  );
});

test('without tsx (no devDependencies) a stale lib/ still runs, with a warning', () => {
  unlinkSync(join(pkg, 'node_modules')); // the symlink only
  age('lib/client.js', 60);
  const r = run();
  expect(r.out).toBe('compiled list');
  expect(r.err).toMatch(/^mail2waf: warning: lib\/ is older than src\/cli\/list\.ts and tsx is not installed/);
});

test('an installed package (no src/) runs lib/', () => {
  rmSync(join(pkg, 'src'), { recursive: true });
  expect(run()).toEqual({ code: 0, out: 'compiled list', err: '' });
});

test('no build at all: the sources, through tsx', () => {
  rmSync(join(pkg, 'lib'), { recursive: true });
  expect(run()).toMatchObject({ code: 0, out: 'sources list' });
});
