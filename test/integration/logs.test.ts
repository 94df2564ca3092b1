/**
 * The logs of a real worker process (src/worker.ts main()) on the real stack, from start through a sweep of a
 * signed advisory to a drain: every stdout line is a JSON object with time, level and message (stdout is a pipe,
 * so JSON is the default), activity lines carry the workflow id, run id and activity type, sync lines the target;
 * nothing goes to stderr; and no line holds a secret of the stack (passwords, payload keys, OAuth2 secrets), the
 * DKIM private key or the advisory's body text.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Client } from '@temporalio/client';
import type { SweepInput, SweepResult } from '../../src/shared/types';
import { connectClient } from '../../src/temporal-connection';
import { buildAdvisory } from '../../scripts/sample-advisories';
import { appendMessage, isolatedSetup, repoRoot, type TestSetup } from '../helpers/stack';

let setup: TestSetup;
let proc: ChildProcess | undefined;
let stdout = '';
let stderr = '';
let client: Client;

beforeAll(async () => {
  setup = await isolatedSetup();
  // No LOG_FORMAT: a pipe is not a terminal, so production's JSON. INFO is the production level.
  const env: Record<string, string | undefined> = {
    ...process.env,
    ...setup.env,
    HEALTH_PORT: 'off',
    WATCH_MAILBOX: 'false',
    LOG_LEVEL: 'INFO',
  };
  delete env.LOG_FORMAT;
  proc = spawn(process.execPath, ['--import', 'tsx', join(repoRoot, 'src', 'worker.ts')], {
    cwd: repoRoot,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  proc.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
  proc.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const deadline = Date.now() + 120_000;
  while (!/mail2waf worker: task queue/.test(stdout)) {
    if (proc.exitCode !== null) throw new Error(`worker exited with ${proc.exitCode}:\n${stdout}${stderr}`);
    if (Date.now() > deadline) throw new Error(`worker not ready:\n${stdout}${stderr}`);
    await new Promise((r) => setTimeout(r, 200));
  }
  client = await connectClient(setup.env);
});

afterAll(async () => {
  if (proc && proc.exitCode === null) proc.kill('SIGKILL');
  await client?.connection.close();
  await setup?.cleanup();
});

/** Every secret the stack holds, from its env file and credentials file, and the DKIM key's base64 lines. */
function stackSecrets(): string[] {
  const secrets: string[] = [];
  const kv = (text: string) =>
    text
      .split('\n')
      .map((l) => /^([A-Z0-9_]+)=(.*)$/.exec(l.trim()))
      .filter((m): m is RegExpExecArray => m !== null);
  const credentials = join(repoRoot, '.stack', 'credentials');
  if (existsSync(credentials)) for (const [, , v] of kv(readFileSync(credentials, 'utf8'))) secrets.push(v!);
  for (const [k, v] of Object.entries(setup.env)) if (/PASSWORD|SECRET|TOKEN|PAYLOAD_KEYS/.test(k)) secrets.push(v);
  const parts = secrets.flatMap((s) => [s, ...s.split(',').map((k) => k.slice(k.indexOf(':') + 1))]);
  const dkim = setup.env.STACK_DKIM_KEY;
  if (dkim && existsSync(dkim)) {
    const pem = readFileSync(dkim, 'utf8');
    parts.push(...pem.split('\n').filter((l) => l.length >= 40 && !l.startsWith('-----')));
  }
  // Dummy values shorter than this (moto's "testing") are words, not secrets.
  return [...new Set(parts.map((s) => s.trim()).filter((s) => s.length >= 8))];
}

test('a sweep of a signed advisory logs JSON lines with workflow fields and no secret, key or body text', async () => {
  const body = `Indicators from operation ${randomBytes(6).toString('hex')}: block 193.142.146.91 at once.`;
  await appendMessage(
    setup,
    await buildAdvisory({
      subject: 'Logs test advisory',
      text: `${body}\n`,
      messageId: `<logs-${randomBytes(4).toString('hex')}@cert.example>`,
    }),
  );
  const input: SweepInput = { target: setup.config.target, mailbox: setup.config.mailbox, maxMessages: 50 };
  const result: SweepResult = await client.workflow.execute('mailboxSweepWorkflow', {
    workflowId: `test-logs-sweep-${randomBytes(4).toString('hex')}`,
    taskQueue: setup.config.taskQueue,
    args: [input],
  });
  expect(result.block?.added).toEqual(['193.142.146.91']);

  // A drain, so that its lines are in the log too; forwarded core lines are buffered for 100 ms.
  const exited = new Promise<number | null>((r) => proc!.once('exit', (code) => r(code)));
  proc!.kill('SIGTERM');
  expect(await exited).toBe(0);

  expect(stderr).toBe('');
  const lines = stdout.split('\n').filter((l) => l.length > 0);
  expect(lines.length).toBeGreaterThan(5);
  const records = lines.map((line) => {
    try {
      return JSON.parse(line) as Record<string, unknown>;
    } catch {
      throw new Error(`not a JSON line: ${line}`);
    }
  });
  for (const r of records) {
    expect(typeof r.time).toBe('string');
    expect(Number.isNaN(Date.parse(r.time as string))).toBe(false);
    expect(['trace', 'debug', 'info', 'warn', 'error']).toContain(r.level);
    expect(typeof r.message).toBe('string');
  }
  const activityLines = records.filter((r) => typeof r.activityType === 'string');
  expect(activityLines.length).toBeGreaterThan(0);
  for (const r of activityLines) expect(r).toMatchObject({ workflowId: expect.any(String), runId: expect.any(String) });
  expect(activityLines.map((r) => r.activityType)).toEqual(expect.arrayContaining(['analyzeMessage', 'syncIpSets']));
  expect(records.find((r) => r.activityType === 'syncIpSets')).toMatchObject({ target: setup.config.target.name });
  expect(records.map((r) => r.message)).toEqual(
    expect.arrayContaining([
      expect.stringMatching(/^mail2waf worker: task queue/),
      'mail2waf worker: drained, exiting',
    ]),
  );

  const secrets = stackSecrets();
  expect(secrets.length).toBeGreaterThan(3);
  const all = stdout + stderr;
  for (const secret of secrets) expect({ leaked: all.includes(secret) }).toEqual({ leaked: false });
  expect(all).not.toContain(body);
  expect(all).not.toContain('block 193.142.146.91 at once');
});
