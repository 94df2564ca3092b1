/**
 * Findable runs: a sweep and the approval it starts set the Mail2waf* search attributes, and `mail2waf find`
 * lists them by address, by message id and by sender; with SEARCH_KEY set the stored values are keyed hashes
 * (nothing readable in the visibility store) and `find` still finds them.
 */
import { randomBytes } from 'node:crypto';
import type { SweepInput, SweepResult } from '../../src/shared/types';
import { buildAdvisory, reportedPhish } from '../../scripts/sample-advisories';
import { appendMessage, isolatedSetup, waitFor, type TestSetup } from '../helpers/stack';
import { startWorker, type RunningWorker } from '../helpers/worker';
import { cliJson } from '../helpers/cli';

let setup: TestSetup;
let w: RunningWorker;
const SEARCH_KEY = randomBytes(32).toString('base64');

beforeAll(async () => {
  setup = await isolatedSetup(undefined, { SEARCH_KEY });
  w = await startWorker(setup);
});
afterAll(async () => {
  await w?.stop();
  await setup?.cleanup();
});

async function sweep(): Promise<SweepResult> {
  const input: SweepInput = {
    target: setup.config.target,
    mailbox: setup.config.mailbox,
    holdForApproval: ['reported-phish'],
    searchAttributes: true,
  };
  return w.client.workflow.execute('mailboxSweepWorkflow', {
    workflowId: `test-find-${randomBytes(4).toString('hex')}`,
    taskQueue: setup.config.taskQueue,
    args: [input],
  });
}

test('find lists the sweep that blocked an address and the approval that holds another', async () => {
  const advisory = `<find-${randomBytes(3).toString('hex')}@cert.example>`;
  await appendMessage(setup, await buildAdvisory({ subject: 'C2', text: 'C2 at 185.220.124.7', messageId: advisory }));
  await appendMessage(setup, await reportedPhish('45.9.148.44'));
  const result = await sweep();
  const approvalId = result.held![0]!.approvalId;
  const env = { ...setup.env, SEARCH_KEY };

  const byAddress = async (term: string) => (await cliJson(['find', term], env)).doc.result.runs;
  await waitFor('the sweep to be visible by address', async () => (await byAddress('185.220.124.7')).length === 1);
  expect((await byAddress('185.220.124.7/32'))[0]).toMatchObject({
    workflowId: result.sweepId,
    type: 'mailboxSweepWorkflow',
    outcome: 'held', // one of its messages waits for a person
  });
  await waitFor('the approval to be visible', async () =>
    (await byAddress('45.9.148.44')).some((r: { workflowId: string }) => r.workflowId === approvalId),
  );
  const held = (await byAddress('45.9.148.44')).find((r: { workflowId: string }) => r.workflowId === approvalId);
  expect(held).toMatchObject({ type: 'approvalWorkflow', held: true, outcome: 'held' });
  expect(
    (await cliJson(['find', advisory], env)).doc.result.runs.map((r: { workflowId: string }) => r.workflowId),
  ).toEqual([result.sweepId]);
  expect(
    (await cliJson(['find', 'alice@mail2waf.test'], env)).doc.result.runs.map(
      (r: { workflowId: string }) => r.workflowId,
    ),
  ).toEqual(expect.arrayContaining([result.sweepId, approvalId]));

  // The stored values are keyed hashes: without the key nothing is found, and the raw attribute is not the address.
  const withoutKey = Object.fromEntries(Object.entries(setup.env).filter(([k]) => k !== 'SEARCH_KEY'));
  expect((await cliJson(['find', '185.220.124.7'], withoutKey)).doc.result.runs).toEqual([]);
  const described = await w.client.workflow.getHandle(result.sweepId).describe();
  const stored = described.searchAttributes.Mail2wafAddresses as string[];
  expect(stored.length).toBeGreaterThan(0);
  expect(stored.every((v) => /^h1:[0-9a-f]{24}$/.test(v))).toBe(true);
  expect(JSON.stringify(described.searchAttributes)).not.toContain('185.220.124.7');
  expect(JSON.stringify(described.searchAttributes)).not.toContain('alice@');
});
