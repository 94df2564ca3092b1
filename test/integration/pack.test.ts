/**
 * The package as an operator installs it: `npm run build`, `npm pack`, the tarball installed into an empty folder
 * with `npm install --omit=dev`, and `mail2waf worker` from that folder's node_modules/.bin against the real stack.
 * It must run the compiled code with the prebuilt workflow bundle and without any devDependency (no tsx, no
 * TypeScript), and a sweep through it must block an advisory's address in the target's IP set.
 */
import { execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  realpathSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildAdvisory } from '../../scripts/sample-advisories';
import { connectClient } from '../../src/temporal-connection';
import type { SweepInput, SweepResult } from '../../src/shared/types';
import { childWorker, waitUntilReady, type ChildWorker } from '../helpers/child-worker';
import { appendMessage, ipSet, isolatedSetup, mailboxContents, repoRoot, type TestSetup } from '../helpers/stack';

let setup: TestSetup;
let dir: string;
let worker: ChildWorker | undefined;

/** npm with the output captured (shown when it fails); `npm` from PATH runs on the Node this test runs on. */
function npm(args: string[], cwd: string): string {
  try {
    return execFileSync('npm', args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 180_000 });
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string; message: string };
    throw new Error(`npm ${args.join(' ')} failed: ${e.message}\n${e.stdout ?? ''}\n${e.stderr ?? ''}`);
  }
}

function startInstalledWorker(app: string, env: Record<string, string>): ChildWorker {
  const proc = spawn(join(app, 'node_modules', '.bin', 'mail2waf'), ['worker'], {
    cwd: app,
    // The stack's settings, an isolated task queue, mailboxes and IP sets; no health listener (the demo's worker
    // may hold the default port); no mailbox watch (the test starts the one sweep it checks).
    env: { ...process.env, ...env, LOG_LEVEL: 'WARN', HEALTH_PORT: 'off', WATCH_MAILBOX: 'false' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return childWorker(proc);
}

beforeAll(async () => {
  setup = await isolatedSetup();
  // realpath: on some systems the temp folder is a symlink, and the worker reports the resolved bundle path.
  dir = realpathSync(mkdtempSync(join(tmpdir(), 'mail2waf-pack-')));
}, 60_000);

afterAll(async () => {
  await worker?.kill();
  await setup?.cleanup();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

test('the packed tarball, installed without devDependencies, runs `mail2waf worker` and a sweep blocks', async () => {
  npm(['run', 'build'], repoRoot);
  expect(existsSync(join(repoRoot, 'lib', 'workflow-bundle.js'))).toBe(true);

  const packed = JSON.parse(npm(['pack', '--json', '--pack-destination', dir], repoRoot)) as {
    filename: string;
    files: { path: string }[];
  }[];
  const tarball = join(dir, packed[0]!.filename);
  const files = packed[0]!.files.map((f) => f.path);
  expect(files).toEqual(expect.arrayContaining(['package.json', 'bin/mail2waf', 'lib/client.js', 'lib/worker.js']));
  expect(files).toContain('lib/workflow-bundle.js');
  expect(files.filter((f) => f.startsWith('src/') || f.startsWith('test/') || f.startsWith('scripts/'))).toEqual([]);

  const app = join(dir, 'app');
  mkdirSync(app);
  writeFileSync(join(app, 'package.json'), '{ "name": "mail2waf-pack-test", "private": true }\n');
  // --prefer-offline: what the checkout installed is in npm's cache; anything missing comes from the registry.
  npm(['install', '--omit=dev', '--no-audit', '--no-fund', '--prefer-offline', tarball], app);
  const installed = readdirSync(join(app, 'node_modules'));
  expect(installed).toContain('mail2waf');
  // Nothing a test, the stack or the build needs: the worker must run without them.
  for (const dev of ['tsx', 'typescript', 'jest', 'ts-jest', 'smtp-server', '@temporalio/testing']) {
    expect(existsSync(join(app, 'node_modules', dev))).toBe(false);
  }

  const version = execFileSync(join(app, 'node_modules', '.bin', 'mail2waf'), ['--version'], { encoding: 'utf8' });
  expect(version.trim()).toBe(JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')).version);

  worker = startInstalledWorker(app, setup.env);
  await waitUntilReady(worker, 90_000);
  expect(worker.output()).toContain(
    `workflows from ${join(app, 'node_modules', 'mail2waf', 'lib', 'workflow-bundle.js')}`,
  );
  expect(worker.output()).not.toMatch(/bundled at start|tsx/);

  const value = `185.220.109.${1 + (randomBytes(1)[0]! % 200)}`;
  await appendMessage(
    setup,
    await buildAdvisory({ subject: 'C2 servers', text: `Block ${value} now.\n`, messageId: `<pack-${value}@x>` }),
  );
  const client = await connectClient();
  try {
    const input: SweepInput = { target: setup.config.target, mailbox: setup.config.mailbox };
    const result = (await client.workflow.execute('mailboxSweepWorkflow', {
      workflowId: `test-pack-sweep-${randomBytes(4).toString('hex')}`,
      taskQueue: setup.config.taskQueue,
      args: [input],
    })) as SweepResult;
    expect(result.messages.map((m) => m.status)).toEqual(['processed']);
    expect(result.block?.added).toEqual([value]);
  } finally {
    await client.connection.close();
  }
  expect((await ipSet(setup, 'v4')).addresses).toContain(`${value}/32`);
  expect(await mailboxContents(setup, setup.config.processedMailbox)).toHaveLength(1);

  // SIGTERM stops the installed worker cleanly.
  expect(await worker.kill('SIGTERM')).toBe(0);
}, 240_000);
