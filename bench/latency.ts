/**
 * `npm run bench:latency`: seconds from arrival to block on the real local stack (Temporal dev server, moto,
 * Dovecot): from the IMAP APPEND of an advisory to its address being in the WAF IP set, read with GetIPSet every
 * 50 ms.
 *
 * 1. triggered: the worker runs with WATCH_MAILBOX=false; right after the append, a sweep is started by the
 *    client call `mail2waf run --wait` makes (workflow start of mailboxSweepWorkflow; the CLI's own start-up,
 *    about a second of Node loading modules, is not counted).
 * 2. passive: the worker runs with the watch on (the default) and nothing else happens: append only.
 * 3. after a Dovecot restart: the worker keeps running with the watch on; Dovecot is stopped and started, and
 *    an advisory appended as soon as it greets again must be blocked; the watch reconnects on its own.
 *
 * The worker is a real child process (`src/worker.ts`, the same main() as `mail2waf worker`). Dovecot is a
 * private instance over the stack's mail store on a port of its own (test/helpers/private-dovecot.ts): the
 * restart would otherwise break whatever else uses the shared stack. Samples are taken one at a time, each once
 * the inbox is empty again (an advisory arriving at an idle mailbox; a burst is one sweep, see the tests).
 *
 * Options: --n N (samples per mode, default 20), --restarts N (default 5). Goals (issue 12): passive p50 ≤ 2 s,
 * p95 ≤ 5 s; after a restart ≤ 10 s. Exit code 1 when a goal is missed or an address never arrives.
 */
import { ListIPSetsCommand, GetIPSetCommand } from '@aws-sdk/client-wafv2';
import { randomBytes } from 'node:crypto';
import { cpus } from 'node:os';
import { buildAdvisory } from '../scripts/sample-advisories';
import type { mailboxSweepWorkflow } from '../src/workflows/sweep';
import { sweepInputOf } from '../src/sweep-input';
import { connectClient } from '../src/temporal-connection';
import { spawnWorker, waitUntilReady, type ChildWorker } from '../test/helpers/child-worker';
import { startPrivateDovecot, type PrivateDovecot } from '../test/helpers/private-dovecot';
import { isolatedSetup, mailboxContents, stackEnv, uniqueName, withImap, type TestSetup } from '../test/helpers/stack';

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  const v = i >= 0 ? Number(process.argv[i + 1]) : fallback;
  if (!Number.isInteger(v) || v < 1) throw new Error(`--${name} wants a positive whole number`);
  return v;
}

const N = arg('n', 20);
const RESTARTS = arg('restarts', 5);
const POLL_MS = 50;
const TIMEOUT_MS = 120_000;

function quantile(sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)]!;
}

function summary(ms: number[]) {
  const s = [...ms].sort((a, b) => a - b);
  return { n: s.length, p50: quantile(s, 0.5), p95: quantile(s, 0.95), max: s[s.length - 1]! };
}

const sec = (ms: number) => `${(ms / 1000).toFixed(2)} s`;

function randomIp(): string {
  const b = randomBytes(3);
  return `45.${1 + (b[0]! % 250)}.${b[1]}.${1 + (b[2]! % 250)}`;
}

async function main() {
  stackEnv();
  const dovecot: PrivateDovecot = await startPrivateDovecot();
  let setup: TestSetup | undefined;
  let worker: ChildWorker | undefined;
  // The stack's settings (payload keys included: sweeps' results are encrypted when PAYLOAD_KEYS is set).
  const client = await connectClient();
  try {
    setup = await isolatedSetup(uniqueName('latency'), { IMAP_PORT: String(dovecot.port) });
    const s = setup;
    const list = await s.waf.send(new ListIPSetsCommand({ Scope: 'REGIONAL' }));
    const v4 = list.IPSets!.find((x) => x.Name === s.config.target.ipSetV4Name)!;

    /** Milliseconds from just before the APPEND to the address in the IP set. */
    async function sample(ip: string, after?: () => Promise<unknown>): Promise<number> {
      const raw = await buildAdvisory({ subject: `Latency bench ${ip}`, text: `Block ${ip} now.\n` });
      const t0 = performance.now();
      await withImap(s.config, (c) => c.append(s.config.mailbox, raw));
      const started = after?.();
      for (;;) {
        const got = await s.waf.send(new GetIPSetCommand({ Scope: 'REGIONAL', Name: v4.Name, Id: v4.Id }));
        if (got.IPSet?.Addresses?.includes(`${ip}/32`)) break;
        if (performance.now() - t0 > TIMEOUT_MS) throw new Error(`${ip} not blocked after ${TIMEOUT_MS} ms`);
        await new Promise((r) => setTimeout(r, POLL_MS));
      }
      const ms = performance.now() - t0;
      await started;
      // The next sample starts at a quiet mailbox: the sweep has reported and moved the advisory.
      const deadline = Date.now() + TIMEOUT_MS;
      while ((await mailboxContents(s, s.config.mailbox)).length > 0) {
        if (Date.now() > deadline) throw new Error('the inbox did not empty');
        await new Promise((r) => setTimeout(r, 100));
      }
      await new Promise((r) => setTimeout(r, 1200)); // and the blocklist's write loop has had its pause
      return ms;
    }

    async function startWorker(watch: boolean) {
      await worker?.kill('SIGTERM');
      worker = spawnWorker({ ...s.env, WATCH_MAILBOX: String(watch), LOG_LEVEL: 'WARN' });
      await waitUntilReady(worker);
    }

    const results: Record<string, ReturnType<typeof summary>> = {};
    const progress = (what: string, i: number, ms: number) =>
      process.stderr.write(`  ${what} ${i + 1}/${what === 'restart' ? RESTARTS : N}: ${sec(ms)}\n`);

    // 1. triggered
    await startWorker(false);
    const triggered: number[] = [];
    for (let i = 0; i < N; i++) {
      const ms = await sample(randomIp(), () =>
        client.workflow.execute<typeof mailboxSweepWorkflow>('mailboxSweepWorkflow', {
          workflowId: `${s.config.scheduleId}-manual-${randomBytes(4).toString('hex')}`,
          taskQueue: s.config.taskQueue,
          args: [sweepInputOf(s.config)],
        }),
      );
      triggered.push(ms);
      progress('triggered', i, ms);
    }
    results.triggered = summary(triggered);

    // 2. passive
    await startWorker(true);
    const passive: number[] = [];
    for (let i = 0; i < N; i++) {
      const ms = await sample(randomIp());
      passive.push(ms);
      progress('passive', i, ms);
    }
    results.passive = summary(passive);

    // 3. after a Dovecot restart (the append waits until Dovecot greets again; the clock starts at the append)
    const restart: number[] = [];
    for (let i = 0; i < RESTARTS; i++) {
      await dovecot.restart();
      const ms = await sample(randomIp());
      restart.push(ms);
      progress('restart', i, ms);
    }
    results.restart = summary(restart);

    const args = process.argv.slice(2).join(' ');
    const command = `npm run bench:latency${args ? ` -- ${args}` : ''}`;
    console.log(`mail2waf latency: IMAP APPEND → address in the WAF IP set (GetIPSet every ${POLL_MS} ms)`);
    console.log(
      `  ${cpus().length} CPUs, Node ${process.version}, WATCH_DEBOUNCE ${s.env.WATCH_DEBOUNCE ?? '300ms'}, local stack`,
    );
    console.log('  mode                    n      p50      p95      max');
    for (const [name, r] of Object.entries(results)) {
      const label = {
        triggered: 'triggered (run --wait)',
        passive: 'passive (watch)',
        restart: 'after Dovecot restart',
      }[name]!;
      console.log(
        `  ${label.padEnd(22)} ${String(r.n).padStart(3)} ${sec(r.p50).padStart(8)} ${sec(r.p95).padStart(8)} ${sec(r.max).padStart(8)}`,
      );
    }
    console.log(`  command: ${command}`);
    const missed = [
      ...(results.passive.p50 > 2000 ? ['passive p50 > 2 s'] : []),
      ...(results.passive.p95 > 5000 ? ['passive p95 > 5 s'] : []),
      ...(results.restart.max > 10_000 ? ['after restart > 10 s'] : []),
    ];
    console.log(
      missed.length
        ? `  goals missed: ${missed.join(', ')}`
        : '  goals met: passive p50 ≤ 2 s, p95 ≤ 5 s; after restart ≤ 10 s',
    );
    process.exitCode = missed.length ? 1 : 0;
  } finally {
    await worker?.kill('SIGTERM');
    await setup?.cleanup().catch(() => undefined);
    await dovecot.dispose();
    await client.connection.close();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
