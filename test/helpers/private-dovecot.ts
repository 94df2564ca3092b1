/**
 * A second, private Dovecot instance over the stack's own mail store, on a port of its own, that a test or the
 * latency bench may stop and start at will: restarting the stack's shared Dovecot would break every other test
 * running against the stack at the same moment. Same binary, same generated configuration (.stack/dovecot),
 * same users and mailboxes; only the instance name, runtime directory, log and ports differ.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, connect } from 'node:net';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { repoRoot } from './stack';

export interface PrivateDovecot {
  port: number;
  /** Stops the server (SIGTERM to the master, as stack-down does) and waits until it is gone. */
  stop(): Promise<void>;
  /** Starts it again on the same port and waits for the IMAP greeting. */
  start(): Promise<void>;
  /** stop() then start(). */
  restart(): Promise<void>;
  /** Stops it for good and removes its runtime directory. */
  dispose(): Promise<void>;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

/** Resolves once the server greets with `* OK`. */
async function greets(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(port, '127.0.0.1');
    const done = (ok: boolean) => {
      s.destroy();
      resolve(ok);
    };
    s.setTimeout(2000, () => done(false));
    s.once('error', () => done(false));
    s.once('data', (d) => done(d.toString().startsWith('* OK')));
  });
}

/** `extraConfig` is appended to the configuration (e.g. a `protocol imap { imap_capability = … }` without IDLE). */
export async function startPrivateDovecot(extraConfig = ''): Promise<PrivateDovecot> {
  const base = readFileSync(join(repoRoot, '.stack', 'dovecot', 'dovecot.conf'), 'utf8');
  const port = await freePort();
  // Short: Dovecot's socket paths live under base_dir and may not exceed ~108 bytes.
  const dir = `/tmp/m2w-p${randomBytes(3).toString('hex')}`;
  mkdirSync(dir, { recursive: true });
  const conf = base
    .replace(/^instance_name = .*$/m, `instance_name = ${dir.slice(5)}`)
    .replace(/^base_dir = .*$/m, `base_dir = ${dir}/run`)
    .replace(/^state_dir = .*$/m, `state_dir = ${dir}/state`)
    .replace(/^log_path = .*$/m, `log_path = ${dir}/dovecot.log`)
    .replace(/^protocols = .*$/m, 'protocols = imap')
    .replace(/(inet_listener imap \{[^}]*port = )\d+/, `$1${port}`)
    .replace(/(inet_listener lmtp \{[^}]*port = )\d+/, '$10');
  const confPath = join(dir, 'dovecot.conf');
  writeFileSync(confPath, `${conf}\n${extraConfig}\n`);
  let child: ChildProcess | undefined;

  const api: PrivateDovecot = {
    port,
    async start() {
      // detached: its own process group, so that stop() ends the master and every child it forked.
      child = spawn('dovecot', ['-F', '-c', confPath], { detached: true, stdio: 'ignore' });
      const deadline = Date.now() + 20_000;
      while (!(await greets(port))) {
        if (child.exitCode !== null)
          throw new Error(`private dovecot exited (${child.exitCode}); see ${dir}/dovecot.log`);
        if (Date.now() > deadline) throw new Error(`private dovecot did not greet on ${port}; see ${dir}/dovecot.log`);
        await new Promise((r) => setTimeout(r, 100));
      }
    },
    async stop() {
      const c = child;
      if (!c || c.exitCode !== null) return;
      const exited = new Promise((r) => c.once('exit', r));
      process.kill(-c.pid!, 'SIGTERM');
      await exited;
      // Children that outlive the master (imap processes closing their connections) would keep the port.
      for (let i = 0; i < 50; i++) {
        try {
          process.kill(-c.pid!, 0);
        } catch {
          break;
        }
        await new Promise((r) => setTimeout(r, 100));
      }
      child = undefined;
    },
    async restart() {
      await api.stop();
      await api.start();
    },
    async dispose() {
      await api.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  await api.start();
  return api;
}
