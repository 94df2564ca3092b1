/**
 * Hostile mail against the real worker: a message whose analysis fails on every attempt is quarantined as
 * analysis-failed while the sweep goes on (and the next sweep is not stuck on it), and mail built to blow up
 * payloads (a huge subject, hundreds of long attachment names) yields a sweep whose every history event stays
 * far below Temporal's 2 MB payload limit.
 */
import { temporal } from '@temporalio/proto';
import { randomBytes } from 'node:crypto';
import type { SweepInput, SweepResult } from '../../src/shared/types';
import { PayloadLimits } from '../../src/shared/limits';
import { buildAdvisory } from '../../scripts/sample-advisories';
import { appendMessage, ipSet, isolatedSetup, mailboxContents, type TestSetup } from '../helpers/stack';
import { startWorker, type RunningWorker } from '../helpers/worker';

let setup: TestSetup;
let w: RunningWorker;
let analyses = 0;

beforeAll(async () => {
  setup = await isolatedSetup();
  // The fault a parser bug would cause: analysing this one message throws, on every attempt.
  w = await startWorker(setup, {
    wrapActivities: (a) => ({
      ...a,
      async analyzeMessage(ref) {
        const result = await a.analyzeMessage(ref);
        analyses += 1;
        if (result.subject === 'poison') throw new TypeError('Cannot read properties of undefined (reading "parts")');
        return result;
      },
    }),
  });
});

afterAll(async () => {
  await w?.stop();
  await setup?.cleanup();
});

async function sweep(): Promise<{ result: SweepResult; workflowId: string }> {
  const input: SweepInput = { target: setup.config.target, mailbox: setup.config.mailbox, maxMessages: 50 };
  const workflowId = `test-hostile-${randomBytes(4).toString('hex')}`;
  const result = await w.client.workflow.execute('mailboxSweepWorkflow', {
    workflowId,
    taskQueue: setup.config.taskQueue,
    args: [input],
  });
  return { result: result as SweepResult, workflowId };
}

test('a message that fails analysis on every attempt is quarantined; the sweep and the next one go on', async () => {
  await appendMessage(setup, await buildAdvisory({ subject: 'poison', text: '185.220.120.1', messageId: '<p@x>' }));
  await appendMessage(setup, await buildAdvisory({ subject: 'fine', text: '185.220.120.2', messageId: '<ok@x>' }));
  const { result } = await sweep();
  const byId = Object.fromEntries(result.messages.map((m) => [m.messageId ?? `uid ${m.uid}`, m]));
  expect(byId['<ok@x>']).toMatchObject({ status: 'processed' });
  const poisoned = result.messages.find((m) => m.reasonCode === 'analysis-failed');
  expect(poisoned).toMatchObject({ status: 'quarantined' });
  expect(poisoned?.reason).toMatch(/analysis failed on every attempt: .*Cannot read properties of undefined/);
  expect(analyses).toBe(4); // the poison three times (its retries), the good one once
  expect((await ipSet(setup, 'v4')).addresses).toEqual(['185.220.120.2/32']);
  const q = await mailboxContents(setup, setup.config.quarantineMailbox);
  expect(q.map((m) => m.keywords)).toEqual([expect.arrayContaining(['mail2waf-analysis-failed'])]);
  // The inbox is empty: the next sweep has nothing to choke on.
  expect(await mailboxContents(setup, setup.config.mailbox)).toEqual([]);
  expect((await sweep()).result.messages).toEqual([]);
});

test('mail built to blow up payloads keeps every history event small', async () => {
  const longName = (i: number) => `${'report-'.repeat(140)}${i}.txt`; // ~1 KB file names
  await appendMessage(
    setup,
    await buildAdvisory({
      subject: `Advisory ${'A'.repeat(200_000)}`,
      text: '185.220.121.1',
      messageId: `<${'m'.repeat(5000)}@cert.example>`,
      attachments: Array.from({ length: 150 }, (_, i) => ({
        filename: longName(i),
        contentType: 'text/plain',
        content: `185.220.${122 + (i >> 7)}.${(i & 127) + 1}\n`,
      })),
    }),
  );
  const { result, workflowId } = await sweep();
  const m = result.messages[0]!;
  expect(m.subject!.length).toBeLessThanOrEqual(PayloadLimits.subject);
  expect(m.messageId!.length).toBeLessThanOrEqual(PayloadLimits.messageId);
  expect(m.indicatorCount).toBeGreaterThan(100);

  const history = await w.client.workflow.getHandle(workflowId).fetchHistory();
  const sizes = (history.events ?? []).map(
    (e) =>
      temporal.api.history.v1.HistoryEvent.encode(temporal.api.history.v1.HistoryEvent.fromObject(e)).finish().length,
  );
  expect(Math.max(...sizes)).toBeLessThan(512 * 1024);
});
