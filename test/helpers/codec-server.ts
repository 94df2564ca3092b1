/** The codec server and the `temporal` CLI as an operator uses them, for the encryption and Web UI tests. */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { repoRoot } from './stack';

const run = promisify(execFile);

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
