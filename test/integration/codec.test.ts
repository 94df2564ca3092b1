/**
 * Encrypted payloads on the real stack: a sweep run by a worker with the stack's payload key leaves a history in
 * which the `temporal` CLI, without the codec, finds none of the advisory's subject, sender or addresses (not in
 * clear, not in base64); through `mail2waf codec-server` (`--codec-endpoint`, `--codec-auth`) they are all there.
 * The codec server refuses calls without the token and answers the Web UI's CORS preflight.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { buildAdvisory } from '../../scripts/sample-advisories';
import type { SweepInput, SweepResult } from '../../src/shared/types';
import { appendMessage, isolatedSetup, repoRoot, type TestSetup } from '../helpers/stack';
import { startWorker, type RunningWorker } from '../helpers/worker';

const run = promisify(execFile);
let setup: TestSetup;
let w: RunningWorker;

beforeAll(async () => {
  setup = await isolatedSetup();
  w = await startWorker(setup);
});
afterAll(async () => {
  await w?.stop();
  await setup?.cleanup();
});

/**
 * Everything a reader of the history can see: the JSON as printed, plus every base64 string in it decoded (the
 * CLI prints payload data as base64, so a clear payload would hide from a plain text search).
 */
export function readable(json: string): string {
  const parts = [json];
  const walk = (v: unknown) => {
    if (typeof v === 'string') {
      if (v.length >= 8 && /^[A-Za-z0-9+/]+={0,2}$/.test(v)) parts.push(Buffer.from(v, 'base64').toString('latin1'));
    } else if (Array.isArray(v)) v.forEach(walk);
    else if (v && typeof v === 'object') Object.values(v).forEach(walk);
  };
  walk(JSON.parse(json));
  return parts.join('\n');
}

/** The history as `temporal workflow show --output json` prints it; extra flags add the codec endpoint. */
export async function showHistory(env: Record<string, string>, workflowId: string, extra: string[] = []) {
  // The test's own settings only: no TEMPORAL_CODEC_* from the shell may decode behind our back.
  const childEnv = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('TEMPORAL_CODEC')));
  const { stdout } = await run(
    env.STACK_TEMPORAL_BIN ?? process.env.TEMPORAL_CLI_PATH ?? 'temporal',
    ['workflow', 'show', '--workflow-id', workflowId, '--output', 'json', '--address', env.TEMPORAL_ADDRESS!]
      .concat(['--namespace', env.TEMPORAL_NAMESPACE ?? 'default'])
      .concat(extra),
    { env: childEnv, maxBuffer: 64 * 1024 * 1024 },
  );
  return stdout;
}

/** `mail2waf codec-server` as an operator runs it, on a free port; resolves with its URL from its first line. */
export async function startCodecServer(env: Record<string, string>): Promise<{ url: string; child: ChildProcess }> {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', join(repoRoot, 'src', 'client.ts'), 'codec-server', '--port', '0'],
    { cwd: repoRoot, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let err = '';
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`codec-server did not start:\n${err}`)), 60_000);
    child.stderr!.on('data', (d: Buffer) => {
      err += d.toString();
      const m = /codec-server: (http:\/\/127\.0\.0\.1:\d+)/.exec(err);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]!);
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`codec-server exited (${code}):\n${err}`));
    });
  });
  return { url, child };
}

export async function stopChild(child: ChildProcess) {
  if (child.exitCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  await exited;
}

test('the raw history hides the advisory; the codec server shows it to the CLI; no token, no decode', async () => {
  expect(setup.config.payloadKeys).toBeDefined(); // stack-up writes PAYLOAD_KEYS into .stack/env
  const tag = randomBytes(4).toString('hex');
  const subject = `Codec check ${tag}: FIN7 infrastructure`;
  const sender = `cert-${tag}@cert.example`;
  const messageTag = `codec-${randomBytes(6).toString('hex')}`;
  const addresses = [`185.220.${100 + (parseInt(tag.slice(0, 2), 16) % 100)}.${parseInt(tag.slice(2, 4), 16)}`];
  addresses.push(`2a0b:f4c2:${tag.slice(0, 4)}::17`);
  await appendMessage(
    setup,
    await buildAdvisory({
      from: `CERT <${sender}>`,
      subject,
      text: `Block ${addresses[0]} and ${addresses[1]} (C2).`,
      messageId: `<${messageTag}@cert.example>`,
    }),
  );
  const input: SweepInput = { target: setup.config.target, mailbox: setup.config.mailbox, searchAttributes: true };
  const workflowId = `test-codec-${tag}`;
  const result: SweepResult = await w.client.workflow.execute('mailboxSweepWorkflow', {
    workflowId,
    taskQueue: setup.config.taskQueue,
    args: [input],
  });
  // The client decodes what the worker encrypted: the run did its job.
  expect(result.block?.added).toEqual(expect.arrayContaining(addresses));
  const needles = [subject, sender, messageTag, ...addresses];

  const raw = readable(await showHistory(setup.env, workflowId));
  expect(raw).toContain('binary/encrypted');
  for (const n of needles) expect(raw).not.toContain(n);

  const token = randomBytes(24).toString('hex');
  const { url, child } = await startCodecServer({ ...setup.env, CODEC_SERVER_TOKEN: token });
  try {
    const decoded = readable(
      await showHistory(setup.env, workflowId, ['--codec-endpoint', url, '--codec-auth', `Bearer ${token}`]),
    );
    for (const n of needles) expect(decoded).toContain(n);
    expect(decoded).not.toContain('binary/encrypted');

    // Without the token (or with another one) nothing is decoded.
    const body = JSON.stringify({ payloads: [] });
    const post = (headers: Record<string, string>) =>
      fetch(`${url}/decode`, { method: 'POST', headers: { 'Content-Type': 'application/json', ...headers }, body });
    expect((await post({})).status).toBe(401);
    expect((await post({ Authorization: `Bearer ${randomBytes(24).toString('hex')}` })).status).toBe(401);
    expect((await post({ Authorization: `Bearer ${token}` })).status).toBe(200);
    await expect(
      showHistory(setup.env, workflowId, ['--codec-endpoint', url, '--codec-auth', 'Bearer wrong']),
    ).rejects.toThrow();

    // The Web UI's preflight (its origin, the headers it sends) is answered; another origin is not.
    const preflight = (origin: string) =>
      fetch(`${url}/decode`, {
        method: 'OPTIONS',
        headers: {
          Origin: origin,
          'Access-Control-Request-Method': 'POST',
          'Access-Control-Request-Headers': 'authorization,content-type,x-namespace',
        },
      });
    const ok = await preflight('http://127.0.0.1:8233');
    expect(ok.status).toBe(204);
    expect(ok.headers.get('access-control-allow-origin')).toBe('http://127.0.0.1:8233');
    expect(ok.headers.get('access-control-allow-credentials')).toBe('true');
    expect(ok.headers.get('access-control-allow-headers')?.toLowerCase().split(/,\s*/)).toEqual(
      expect.arrayContaining(['authorization', 'content-type', 'x-namespace']),
    );
    const evil = await preflight('https://evil.example');
    expect(evil.status).toBe(403);
    expect(evil.headers.get('access-control-allow-origin')).toBeNull();
  } finally {
    await stopChild(child);
  }
});
