/** The worker as a separate process (`src/worker.ts` through tsx), so that tests can SIGKILL it for real. */
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { repoRoot } from './stack';

export interface ChildWorker {
  proc: ChildProcess;
  output: () => string;
  kill(signal?: NodeJS.Signals): Promise<number | null>;
}

export function spawnWorker(env: Record<string, string>): ChildWorker {
  // `node --import tsx`, not the tsx CLI: the CLI runs the program in a child process, and a SIGKILL of the
  // parent would leave the real worker running.
  const proc = spawn(process.execPath, ['--import', 'tsx', join(repoRoot, 'src', 'worker.ts')], {
    cwd: repoRoot,
    // No health listener unless the test asks for one: child workers (and a demo worker) would share port 9464.
    // No mailbox watch unless asked either: these tests start their sweeps themselves and count them.
    env: { ...process.env, HEALTH_PORT: 'off', WATCH_MAILBOX: 'false', ...env, LOG_LEVEL: 'WARN' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return childWorker(proc);
}

/** Follows a spawned worker process: its combined output, and a kill that waits for the exit. */
export function childWorker(proc: ChildProcess): ChildWorker {
  let out = '';
  proc.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  proc.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((resolve) =>
    proc.on('exit', (code, sig) => resolve(code ?? (sig ? -1 : null))),
  );
  return {
    proc,
    output: () => out,
    async kill(signal = 'SIGKILL') {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill(signal);
      return exited;
    },
  };
}

/** Resolves when the worker has printed its start line (after preflight and bundling), rejects if it exits. */
export async function waitUntilReady(w: ChildWorker, timeoutMs = 120_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!/mail2waf worker: task queue/.test(w.output())) {
    if (w.proc.exitCode !== null) throw new Error(`worker exited with ${w.proc.exitCode}:\n${w.output()}`);
    if (Date.now() > deadline) throw new Error(`worker not ready after ${timeoutMs} ms:\n${w.output()}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** Runs the worker to completion (for fail-fast tests): exit code and everything it printed. */
export async function runWorkerToExit(env: Record<string, string>, timeoutMs = 60_000) {
  const w = spawnWorker(env);
  const timer = setTimeout(() => w.proc.kill('SIGKILL'), timeoutMs);
  const code = await new Promise<number | null>((resolve) => w.proc.on('exit', (c) => resolve(c)));
  clearTimeout(timer);
  return { code, output: w.output() };
}
