/** The worker fails fast, with a message naming the setting to fix, on missing settings or unreachable servers. */
import { spawn } from 'node:child_process';
import { createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { runWorkerToExit } from '../helpers/child-worker';
import { repoRoot, stackEnv } from '../helpers/stack';

test('a missing setting stops the worker at once and names the variable', async () => {
  const env = { ...stackEnv(), IMAP_HOST: '', REPORT_TO: 'not-an-address' };
  const { code, output } = await runWorkerToExit(env);
  expect(code).toBe(1);
  expect(output).toMatch(/IMAP_HOST is not set/);
  expect(output).toMatch(/REPORT_TO/);
});

test('an unreachable server stops the worker and says what to check', async () => {
  const env = { ...stackEnv(), IMAP_PORT: '1', AWS_ENDPOINT_URL_WAFV2: 'http://127.0.0.1:1' };
  const { code, output } = await runWorkerToExit(env);
  expect(code).toBe(1);
  expect(output).toMatch(/IMAP server 127\.0\.0\.1:1 unreachable .* check IMAP_HOST, IMAP_PORT/);
  expect(output).toMatch(/AWS WAF \(REGIONAL\) in us-east-1 did not answer .* AWS_ENDPOINT_URL_WAFV2/);
});

/** The worker (src/worker.ts, or `mail2waf worker` from the bin) run to its exit, stdout and stderr apart. */
async function runApart(env: Record<string, string>, args = [join(repoRoot, 'src', 'worker.ts')]) {
  const proc = spawn(process.execPath, args[0]!.endsWith('.ts') ? ['--import', 'tsx', ...args] : args, {
    cwd: repoRoot,
    // stdout is a pipe, as under a container runtime or systemd: JSON lines unless LOG_FORMAT says otherwise.
    env: { ...process.env, HEALTH_PORT: 'off', WATCH_MAILBOX: 'false', LOG_LEVEL: 'WARN', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  proc.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
  proc.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const timer = setTimeout(() => proc.kill('SIGKILL'), 90_000);
  const code = await new Promise<number | null>((resolve) => proc.on('close', (c) => resolve(c)));
  clearTimeout(timer);
  return { code, stdout, stderr };
}

/** Every line of `text` as a JSON object (throws on one that is not). */
function jsonLines(text: string): Record<string, unknown>[] {
  return text
    .split('\n')
    .filter((l) => l.length > 0)
    .map((l) => {
      try {
        return JSON.parse(l) as Record<string, unknown>;
      } catch {
        throw new Error(`not a JSON line: ${l}`);
      }
    });
}

function withoutLogFormat(): Record<string, string> {
  const env = { ...stackEnv() };
  delete env.LOG_FORMAT;
  return env;
}

describe('start-up failures in the logs’ format', () => {
  const saved = process.env.LOG_FORMAT;
  beforeAll(() => delete process.env.LOG_FORMAT);
  afterAll(() => {
    if (saved !== undefined) process.env.LOG_FORMAT = saved;
  });

  test('invalid settings, stdout a pipe: one JSON line on stderr naming every setting to fix, exit 1', async () => {
    const { code, stdout, stderr } = await runApart({ ...withoutLogFormat(), IMAP_HOST: '', REPORT_TO: 'x' });
    expect(code).toBe(1);
    expect(jsonLines(stdout)).toEqual([]);
    const lines = jsonLines(stderr);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({
      level: 'error',
      message: 'mail2waf worker cannot start: invalid configuration',
      component: 'worker',
      exitCode: 1,
      problems: expect.arrayContaining([
        expect.stringMatching(/IMAP_HOST is not set/),
        expect.stringMatching(/REPORT_TO/),
      ]),
    });
  });

  test('invalid settings with LOG_FORMAT=text: the readable form', async () => {
    const { code, stderr } = await runApart({ ...withoutLogFormat(), IMAP_HOST: '', LOG_FORMAT: 'text' });
    expect(code).toBe(1);
    expect(stderr).toMatch(/^mail2waf worker cannot start: invalid configuration:\n {2}- IMAP_HOST is not set\n/);
  });

  test('the health port in use and Temporal unreachable each give one JSON line that says what to set', async () => {
    const busy = createServer();
    await new Promise<void>((resolve) => busy.listen(0, '127.0.0.1', resolve));
    const port = (busy.address() as AddressInfo).port;
    try {
      const inUse = await runApart({ ...withoutLogFormat(), HEALTH_PORT: String(port) });
      expect(inUse.code).toBe(1);
      expect(jsonLines(inUse.stderr)).toEqual([
        expect.objectContaining({
          level: 'error',
          problems: [`HEALTH_PORT ${port} on 127.0.0.1 is already in use — set HEALTH_PORT to a free port, or off`],
        }),
      ]);
    } finally {
      busy.close();
    }
    const unreachable = await runApart({ ...withoutLogFormat(), TEMPORAL_ADDRESS: '127.0.0.1:1' });
    expect(unreachable.code).toBe(1);
    expect(jsonLines(unreachable.stdout).every((l) => typeof l.message === 'string')).toBe(true);
    expect(jsonLines(unreachable.stderr)).toEqual([
      expect.objectContaining({
        level: 'error',
        problems: [expect.stringMatching(/^Temporal at 127\.0\.0\.1:1 unreachable .* set TEMPORAL_ADDRESS$/)],
      }),
    ]);
  });

  test('`mail2waf worker` from the bin: its first note and its failure are JSON lines too', async () => {
    const { code, stdout, stderr } = await runApart(
      { ...withoutLogFormat(), TEMPORAL_NAMESPACE: `missing-${process.pid}` },
      [join(repoRoot, 'bin', 'mail2waf'), 'worker'],
    );
    expect(code).toBe(1);
    expect(jsonLines(stdout)[0]).toMatchObject({
      level: 'info',
      message: expect.stringMatching(/^mail2waf worker: workflows from /),
    });
    // Every line is JSON (jsonLines throws otherwise); in a checkout whose lib/ is older than src/ the bin adds a
    // warning that it runs the sources, so only the error lines are counted.
    expect(jsonLines(stderr).filter((l) => l.level === 'error')).toEqual([
      expect.objectContaining({
        level: 'error',
        message: 'mail2waf worker cannot start: invalid configuration',
        problems: [expect.stringMatching(/^Temporal namespace "missing-\d+" does not exist — set TEMPORAL_NAMESPACE/)],
      }),
    ]);
  });
});
