/**
 * Never two sweeps of one mailbox at once, whoever starts them: while a sweep is held mid-run, a Schedule tick
 * (its trigger workflow) and `mail2waf run` both find it and start nothing; `run --wait` waits for it and then
 * sweeps again, so mail that came meanwhile is not left for the next tick. A dry run changes nothing and may run
 * beside it.
 */
import { randomBytes } from 'node:crypto';
import type { Client } from '@temporalio/client';
import { buildAdvisory } from '../../scripts/sample-advisories';
import type { Activities } from '../../src/activities';
import { mailboxSweepId } from '../../src/shared/constants';
import type { SweepResult } from '../../src/shared/types';
import { scheduledSweepWorkflow } from '../../src/workflows/sweep-trigger';
import { sweepInputOf } from '../../src/sweep-input';
import { cliJson } from '../helpers/cli';
import { appendMessage, ipSet, isolatedSetup, waitFor, type TestSetup } from '../helpers/stack';
import { startWorker, type RunningWorker } from '../helpers/worker';

let setup: TestSetup;
let w: RunningWorker;
let client: Client;
let release: () => void = () => undefined;
let held = false;
let hold = false;

/** analyzeMessage waits while `hold` is set: the sweep stays running as long as the test needs. */
function holding(activities: Activities): Activities {
  const opened = new Promise<void>((r) => (release = r));
  return {
    ...activities,
    analyzeMessage: async (ref) => {
      if (hold) {
        held = true;
        await opened;
      }
      return activities.analyzeMessage(ref);
    },
  };
}

beforeAll(async () => {
  setup = await isolatedSetup();
  w = await startWorker(setup, { wrapActivities: holding });
  client = w.client;
});

afterAll(async () => {
  release();
  await w?.stop();
  await setup?.cleanup();
});

async function runningSweeps(): Promise<string[]> {
  const ids: string[] = [];
  const query = `WorkflowType = 'mailboxSweepWorkflow' AND ExecutionStatus = 'Running' AND TaskQueue = '${setup.config.taskQueue}'`;
  for await (const wf of client.workflow.list({ query })) ids.push(wf.workflowId);
  return ids;
}

test('a sweep held mid-run: a Schedule tick and mail2waf run join it; run --wait sweeps again after it', async () => {
  const sweepId = mailboxSweepId(setup.config.scheduleId, setup.config.mailbox);
  await appendMessage(setup, await buildAdvisory({ subject: 'Exclusion one', text: 'C2 at 45.155.208.11\n' }));
  hold = true;
  const first = await cliJson(['run'], setup.env);
  expect(first).toMatchObject({ code: 0, doc: { ok: true, result: { workflowId: sweepId, joined: false } } });
  await waitFor('the first sweep to be inside its analysis', async () => held);

  // A Schedule tick: its trigger finds the running sweep and leaves the mailbox to it.
  const tick = await client.workflow.execute(scheduledSweepWorkflow, {
    workflowId: `${setup.config.scheduleId}-tick-${randomBytes(3).toString('hex')}`,
    taskQueue: setup.config.taskQueue,
    args: [{ sweepWorkflowId: sweepId, sweep: sweepInputOf(setup.config) }],
  });
  expect(tick).toEqual({ sweepWorkflowId: sweepId, joined: true });
  // mail2waf run does the same.
  const second = await cliJson(['run'], setup.env);
  expect(second.doc.result).toEqual({ workflowId: sweepId, runId: first.doc.result.runId, joined: true });
  // A dry run changes nothing: it may run beside the sweep (under an id of its own).
  const dry = await cliJson(['run', '--dry-run'], setup.env);
  expect(dry.doc.result.workflowId).not.toBe(sweepId);
  expect(dry.doc.result.joined).toBe(false);
  expect((await runningSweeps()).filter((id) => id === sweepId)).toEqual([sweepId]);

  // Mail arrives while the sweep is held; run --wait joins, waits, and sweeps again: the new advisory is blocked.
  await appendMessage(setup, await buildAdvisory({ subject: 'Exclusion two', text: 'C2 at 45.155.209.22\n' }));
  const waited = cliJson(['run', '--wait'], setup.env);
  await new Promise((r) => setTimeout(r, 1000));
  hold = false;
  release();
  const { code, doc } = await waited;
  expect(code).toBe(0);
  const result = doc.result as SweepResult;
  expect(result.sweepId).toBe(sweepId);
  // The result is the fresh sweep's, not the joined one's: it took only the mail that came meanwhile.
  expect(result.messages.map((m) => [m.subject, m.status])).toEqual([['Exclusion two', 'processed']]);
  const v4 = (await ipSet(setup, 'v4')).addresses;
  expect(v4).toEqual(expect.arrayContaining(['45.155.208.11/32', '45.155.209.22/32']));
  // Two runs of the one id, one after the other (the first and the one run --wait started), never side by side.
  const runs: { runId: string; start: number; close: number }[] = [];
  for await (const wf of client.workflow.list({ query: `WorkflowId = '${sweepId}'` })) {
    runs.push({ runId: wf.runId, start: wf.startTime.getTime(), close: wf.closeTime?.getTime() ?? Infinity });
  }
  runs.sort((a, b) => a.start - b.start);
  expect(runs).toHaveLength(2);
  expect(runs[0]!.close).toBeLessThanOrEqual(runs[1]!.start);
});
