/**
 * SIGTERM drains the worker (src/worker.ts main()): /readyz turns 503 at once, the worker stops polling, the
 * activity in flight finishes within SHUTDOWN_GRACE and the process exits 0. A second worker then completes the
 * sweep: nothing is lost and nothing is done twice. The first worker's SMTP server holds the report's DATA until
 * the test releases it, which pins the sweep at "report in flight" when the SIGTERM arrives.
 */
import { SMTPServer } from 'smtp-server';
import { standInSmtpLogin } from '../helpers/mail-auth';
import { createServer, type AddressInfo } from 'node:net';
import { randomBytes } from 'node:crypto';
import type { SweepInput, SweepResult } from '../../src/shared/types';
import { spawnWorker, waitUntilReady, type ChildWorker } from '../helpers/child-worker';
import { buildAdvisory } from '../../scripts/sample-advisories';
import {
  appendMessage,
  ipSet,
  isolatedSetup,
  mailboxContents,
  reportsFor,
  waitFor,
  type TestSetup,
} from '../helpers/stack';
import { connectClient } from '../../src/temporal-connection';

const GRACE_S = 20;

let setup: TestSetup;
let holding: SMTPServer;
/** Reports the holding server accepted (their X-Mail2waf-Sweep header), and the DATA it is holding. */
const accepted: string[] = [];
let held: { sweep: string; release: () => void } | undefined;
const workers: ChildWorker[] = [];

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  const { port } = s.address() as AddressInfo;
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}

async function get(port: number, path: string) {
  const res = await fetch(`http://127.0.0.1:${port}${path}`);
  return { status: res.status, body: (await res.text()).trim() };
}

beforeAll(async () => {
  setup = await isolatedSetup();
  holding = new SMTPServer({
    ...standInSmtpLogin(setup.env),
    disabledCommands: ['STARTTLS'],
    logger: false,
    onData(stream, _session, callback) {
      let raw = '';
      stream.on('data', (d: Buffer) => (raw += d.toString()));
      stream.on('end', () => {
        const sweep = /^X-Mail2waf-Sweep: *(.+)$/im.exec(raw)?.[1]?.trim() ?? '?';
        held = {
          sweep,
          release: () => {
            accepted.push(sweep);
            callback();
          },
        };
      });
    },
  });
  await new Promise<void>((resolve) => holding.listen(0, '127.0.0.1', resolve));
});

afterAll(async () => {
  for (const w of workers) await w.kill();
  held?.release();
  await new Promise<void>((resolve) => holding.close(() => resolve()));
  await setup?.cleanup();
});

test('SIGTERM mid-sweep: readiness drops, the report in flight finishes, exit 0 in the grace; a new worker completes the sweep once', async () => {
  const healthPort = await freePort();
  const first = spawnWorker({
    ...setup.env,
    SMTP_PORT: String((holding.server.address() as AddressInfo).port),
    HEALTH_PORT: String(healthPort),
    SHUTDOWN_GRACE: `${GRACE_S}s`,
    // This test starts its sweep itself; the mailbox watch would start another one for the same mail.
    WATCH_MAILBOX: 'false',
  });
  workers.push(first);
  await waitUntilReady(first);
  expect(first.output()).toContain(`health http://127.0.0.1:${healthPort}/readyz`);
  const ready = await waitFor('/readyz to say ready', async () => {
    const r = await get(healthPort, '/readyz');
    return r.status === 200 && r;
  });
  expect(JSON.parse(ready.body)).toMatchObject({
    status: 'ready',
    reasons: [],
    worker: 'RUNNING',
    checks: { temporal: { ok: true }, imap: { ok: true }, waf: { ok: true } },
  });
  expect(await get(healthPort, '/livez')).toEqual({ status: 200, body: 'ok' });

  const values = ['185.220.103.1', '185.220.103.7', '185.220.103.9'];
  for (const [i, v] of values.entries()) {
    await appendMessage(
      setup,
      await buildAdvisory({ subject: `advisory ${i}`, text: `C2 at ${v}\n`, messageId: `<drain-${i}@cert.example>` }),
    );
  }
  const client = await connectClient();
  const input: SweepInput = { target: setup.config.target, mailbox: setup.config.mailbox };
  const handle = await client.workflow.start('mailboxSweepWorkflow', {
    workflowId: `test-drain-sweep-${randomBytes(4).toString('hex')}`,
    taskQueue: setup.config.taskQueue,
    args: [input],
  });

  // Analysis and blocks are done, the report is on the wire (its DATA held), the messages are not moved yet.
  await waitFor('the report to be in flight', async () => held?.sweep === handle.workflowId, 120_000).catch(
    async (err: Error) => {
      const d = await handle.describe();
      throw new Error(
        `${err.message}; held ${held?.sweep}; pending ${JSON.stringify(d.raw.pendingActivities?.map((a) => [a.activityType?.name, a.attempt, a.lastFailure?.message]))}\n${first.output()}`,
      );
    },
  );
  const exited = new Promise<number | null>((resolve) => first.proc.on('exit', (code) => resolve(code)));
  first.proc.kill('SIGTERM');

  const draining = await waitFor('/readyz to turn 503', async () => {
    const r = await get(healthPort, '/readyz');
    return r.status === 503 && r;
  });
  expect(JSON.parse(draining.body)).toMatchObject({
    status: 'not-ready',
    reasons: ['shutting down: no new tasks are taken, in-flight activities are finishing'],
    worker: 'DRAINING',
  });
  expect((await get(healthPort, '/livez')).status).toBe(200);
  // The worker waits for its activity instead of dropping it.
  await new Promise((r) => setTimeout(r, 1_500));
  expect(first.proc.exitCode).toBeNull();
  expect(first.output()).toMatch(/SIGTERM — draining: no new tasks; in-flight activities have 20 s to finish/);

  held!.release();
  const code = await exited;
  if (code !== 0) throw new Error(`the drained worker exited ${code}:\n${first.output()}`);
  // Exit 0 and "drained" mean the grace did not run out (an expired grace exits 2): no clock needed.
  expect(first.output()).toMatch(/drained, exiting/);
  await expect(fetch(`http://127.0.0.1:${healthPort}/livez`)).rejects.toThrow();

  // The first worker finished the report; the sweep waits for a worker to move the messages.
  expect(accepted).toEqual([handle.workflowId]);
  expect((await handle.describe()).status.name).toBe('RUNNING');
  expect(await mailboxContents(setup, setup.config.mailbox)).toHaveLength(3);

  const second = spawnWorker({ ...setup.env, WATCH_MAILBOX: 'false' });
  workers.push(second);
  await waitUntilReady(second);
  const result = (await handle.result()) as SweepResult;

  expect(result.messages.map((m) => m.status)).toEqual(['processed', 'processed', 'processed']);
  expect((await ipSet(setup, 'v4')).addresses).toEqual(['185.220.103.1/32', '185.220.103.7/32', '185.220.103.9/32']);
  expect(await mailboxContents(setup, setup.config.mailbox)).toHaveLength(0);
  expect((await mailboxContents(setup, setup.config.processedMailbox)).map((m) => m.messageId).sort()).toEqual([
    '<drain-0@cert.example>',
    '<drain-1@cert.example>',
    '<drain-2@cert.example>',
  ]);

  // Exactly one report: the one the draining worker finished; the second worker did not send another.
  const history = await handle.fetchHistory();
  const scheduled = (name: string) =>
    history.events?.filter((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === name).length;
  expect(scheduled('sendReport')).toBe(1);
  expect(scheduled('analyzeMessage')).toBe(3);
  expect(scheduled('moveMessages')).toBe(1);
  expect(accepted).toEqual([handle.workflowId]);
  expect(await reportsFor(setup, handle.workflowId)).toHaveLength(0);
  await client.connection.close();
});
