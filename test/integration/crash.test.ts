/**
 * SIGKILL the worker in the middle of a sweep and start a new one: the sweep completes, each advisory is
 * analysed and processed once, and one report is sent. The first worker talks to an SMTP server that defers
 * every message (451, like greylisting), which holds the sweep at its report step until we kill the worker.
 */
import type { Payload } from '@temporalio/common';
import { AesGcmCodec, parsePayloadKeys } from '../../src/codec';
import { SMTPServer } from 'smtp-server';
import { standInSmtpLogin } from '../helpers/mail-auth';
import type { AddressInfo } from 'node:net';
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

let setup: TestSetup;
let deferring: SMTPServer;
const workers: ChildWorker[] = [];

beforeAll(async () => {
  setup = await isolatedSetup();
  deferring = new SMTPServer({
    ...standInSmtpLogin(setup.env),
    disabledCommands: ['STARTTLS'],
    logger: false,
    onData(stream, _session, callback) {
      stream.resume();
      stream.on('end', () => callback(Object.assign(new Error('try again later'), { responseCode: 451 })));
    },
  });
  await new Promise<void>((resolve) => deferring.listen(0, '127.0.0.1', resolve));
});

afterAll(async () => {
  for (const w of workers) await w.kill();
  await new Promise<void>((resolve) => deferring.close(() => resolve()));
  await setup?.cleanup();
});

test('a worker killed mid-sweep is replaced and the sweep completes exactly once', async () => {
  const deferPort = String((deferring.server.address() as AddressInfo).port);
  const first = spawnWorker({ ...setup.env, SMTP_PORT: deferPort });
  workers.push(first);
  await waitUntilReady(first);

  const values = ['185.220.102.1', '185.220.102.2', '185.220.102.3'];
  for (const [i, v] of values.entries()) {
    await appendMessage(
      setup,
      await buildAdvisory({ subject: `advisory ${i}`, text: `C2 at ${v}\n`, messageId: `<crash-${i}@cert.example>` }),
    );
  }

  const client = await connectClient();
  const input: SweepInput = { target: setup.config.target, mailbox: setup.config.mailbox };
  const handle = await client.workflow.start('mailboxSweepWorkflow', {
    workflowId: `test-crash-sweep-${randomBytes(4).toString('hex')}`,
    taskQueue: setup.config.taskQueue,
    args: [input],
  });

  // Wait until the report has been deferred at least once: analysis and blocking are done, the move is not.
  await waitFor(
    'the report step to be retrying',
    async () => {
      const d = await handle.describe();
      return d.raw.pendingActivities?.some((a) => a.activityType?.name === 'sendReport' && (a.attempt ?? 0) >= 2);
    },
    120_000,
  );
  expect(await first.kill('SIGKILL')).toBe(-1);
  expect((await handle.describe()).status.name).toBe('RUNNING');
  expect(await mailboxContents(setup, setup.config.mailbox)).toHaveLength(3);

  const second = spawnWorker(setup.env);
  workers.push(second);
  await waitUntilReady(second);
  const result = (await handle.result()) as SweepResult;

  expect(result.messages.map((m) => m.status)).toEqual(['processed', 'processed', 'processed']);
  // Written as their minimal cover: .2 and .3 merge into one /31.
  expect((await ipSet(setup, 'v4')).addresses).toEqual(['185.220.102.1/32', '185.220.102.2/31']);
  expect(await reportsFor(setup, handle.workflowId)).toHaveLength(1);
  expect(await mailboxContents(setup, setup.config.mailbox)).toHaveLength(0);
  expect((await mailboxContents(setup, setup.config.processedMailbox)).map((m) => m.messageId).sort()).toEqual([
    '<crash-0@cert.example>',
    '<crash-1@cert.example>',
    '<crash-2@cert.example>',
  ]);

  // Each advisory was analysed once, and the blocks were recorded once: nothing was redone after the crash.
  const history = await handle.fetchHistory();
  const scheduled = (name: string) =>
    history.events?.filter((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === name).length;
  expect(scheduled('analyzeMessage')).toBe(3);
  // One preview (guardrails) and one write; the write was not repeated after the crash.
  // Payloads are encrypted when the stack sets PAYLOAD_KEYS: read them through the same codec as the worker.
  const codec = process.env.PAYLOAD_KEYS ? new AesGcmCodec(parsePayloadKeys(process.env.PAYLOAD_KEYS)) : undefined;
  const inputs = await Promise.all(
    (history.events ?? [])
      .map((e) => e.activityTaskScheduledEventAttributes)
      .filter((a) => a?.activityType?.name === 'recordBlocks')
      .map(async (a) => {
        const payload = a!.input!.payloads![0]! as Payload;
        const [plain] = codec ? await codec.decode([payload]) : [payload];
        return JSON.parse(Buffer.from(plain!.data!).toString('utf8'));
      }),
  );
  const writes = inputs.filter((arg) => !arg.request.preview);
  expect(scheduled('recordBlocks')).toBe(2);
  expect(writes).toHaveLength(1);
  expect(scheduled('moveMessages')).toBe(1);
  await waitFor('reports to settle', async () => (await reportsFor(setup, handle.workflowId)).length === 1);
  await client.connection.close();
});
