/**
 * Worker Deployment Versioning on the real dev server: a changed worker (build B) is rolled out while a sweep and
 * the blocklist run on build A. The sweep that started on A finishes on A (pinned: every activity of it runs on
 * A's worker), the blocklist moves to B at its next task (auto-upgrade), new sweeps start on B, and `mail2waf
 * deployment` says when A carries no pinned run any more. Build ids are derived from the workflow code, so the
 * changed bundle is a new version without anyone naming it.
 */
import { randomBytes } from 'node:crypto';
import { Context } from '@temporalio/activity';
import type { Client } from '@temporalio/client';
import { buildAdvisory } from '../../scripts/sample-advisories';
import type { Activities } from '../../src/activities';
import type { WorkerConfig } from '../../src/config';
import { blocklistWorkflowId } from '../../src/shared/constants';
import type { SweepInput } from '../../src/shared/types';
import { mailboxSweepWorkflow } from '../../src/workflows/sweep';
import { connectClient } from '../../src/temporal-connection';
import { createWorker } from '../../src/worker';
import { promoteOnStart } from '../../src/versioning';
import { cliJson } from '../helpers/cli';
import { spawnWorker } from '../helpers/child-worker';
import { appendMessage, ipSet, isolatedSetup, uniqueName, waitFor, type TestSetup } from '../helpers/stack';
import { workflowBundle } from '../helpers/worker';

interface Ran {
  build: 'a' | 'b';
  activity: string;
  workflowId: string;
}

let setup: TestSetup;
let client: Client;
const ran: Ran[] = [];
const stops: (() => Promise<void>)[] = [];
let deployment: string;

/** Gate on analyzeMessage in build A: holds a sweep mid-run, on A, for as long as the test wants. */
let gate: { armed: boolean; reached: boolean; release: () => void; opened: Promise<void> };
function armGate() {
  let release!: () => void;
  const opened = new Promise<void>((r) => (release = r));
  gate = { armed: true, reached: false, release, opened };
}

/** Records which build ran each activity, for which workflow; A's analyzeMessage waits at the gate when armed. */
function recording(build: 'a' | 'b') {
  return (activities: Activities): Activities => {
    const wrapped: Record<string, unknown> = {};
    for (const [name, fn] of Object.entries(activities) as [string, (...a: unknown[]) => Promise<unknown>][]) {
      wrapped[name] = async (...args: unknown[]) => {
        ran.push({ build, activity: name, workflowId: Context.current().info.workflowExecution?.workflowId ?? '' });
        if (build === 'a' && name === 'analyzeMessage' && gate?.armed) {
          gate.reached = true;
          await gate.opened;
        }
        return fn(...args);
      };
    }
    return wrapped as unknown as Activities;
  };
}

async function startBuild(build: 'a' | 'b', code: string) {
  const config: WorkerConfig = { ...setup.config, versioning: { deploymentName: deployment, promote: 'never' } };
  const w = await createWorker(config, { workflowBundle: { code }, wrapActivities: recording(build) });
  const running = w.worker.run();
  stops.push(async () => {
    if (w.worker.getState() === 'RUNNING') w.worker.shutdown();
    await running;
    await w.connection.close();
  });
  return w.version!;
}

function startSweep(name: string) {
  const input: SweepInput = { target: setup.config.target, mailbox: setup.config.mailbox, maxMessages: 10 };
  return client.workflow.start(mailboxSweepWorkflow, {
    workflowId: `${name}-${randomBytes(3).toString('hex')}`,
    taskQueue: setup.config.taskQueue,
    args: [input],
  });
}

const ranBy = (workflowId: string) => new Set(ran.filter((r) => r.workflowId === workflowId).map((r) => r.build));

async function versioningInfo(workflowId: string) {
  const d = await client.workflow.getHandle(workflowId).describe();
  const v = d.raw.workflowExecutionInfo?.versioningInfo;
  return { behavior: v?.behavior, buildId: v?.deploymentVersion?.buildId };
}

beforeAll(async () => {
  const name = uniqueName('rollout');
  deployment = `${name}-deploy`;
  setup = await isolatedSetup(name, { WORKER_DEPLOYMENT_NAME: deployment });
  client = await connectClient();
});

afterAll(async () => {
  gate?.release();
  for (const stop of stops.reverse()) await stop().catch(() => undefined);
  await client?.connection.close();
  await setup?.cleanup();
});

test('a changed worker rolls out while a sweep and the blocklist run: the sweep stays on its build, the blocklist moves', async () => {
  const { code } = await workflowBundle();
  const a = await startBuild('a', code);
  // The changed build: other workflow code, so another derived build id.
  // Prepended: the bundle ends with its source map, which the SDK reads from the end.
  const b = { code: `// mail2waf rollout test: build B\n${code}` };
  expect(a.buildId).toMatch(/^\d+\.\d+\.\d+.*-[0-9a-f]{12}$/);

  // A new deployment has no current version: the first worker's promotion (WORKER_PROMOTE=first) fills it.
  expect((await promoteOnStart(client, { ...a, promote: 'first' })).action).toBe('promoted');

  // Sweep 1 on A starts the blocklist (on A too).
  await appendMessage(setup, await buildAdvisory({ subject: 'Rollout one', text: 'C2 at 45.155.205.61\n' }));
  const s1 = await startSweep('rollout-s1');
  await s1.result();
  expect((await ipSet(setup, 'v4')).addresses).toContain('45.155.205.61/32');
  const blocklistId = blocklistWorkflowId(setup.config.target.name);
  expect(await versioningInfo(blocklistId)).toEqual({ behavior: expect.anything(), buildId: a.buildId });

  // Sweep 2 starts on A and is held inside its analysis, on A's worker.
  armGate();
  await appendMessage(setup, await buildAdvisory({ subject: 'Rollout two', text: 'C2 at 45.155.206.72\n' }));
  const s2 = await startSweep('rollout-s2');
  await waitFor('sweep 2 inside its analysis on build A', async () => gate.reached);

  // Build B starts beside A. WORKER_PROMOTE=first keeps A current: a rollout is the operator's decision.
  const bVersion = await startBuild('b', b.code);
  expect(bVersion.buildId).not.toBe(a.buildId);
  expect(await promoteOnStart(client, { ...bVersion, promote: 'first' })).toEqual({
    action: 'kept',
    current: a.buildId,
  });
  const env = { ...setup.env, WORKER_DEPLOYMENT_NAME: deployment };
  const before = await waitFor('sweep 2 counted as pinned to A', async () => {
    const s = await cliJson(['deployment'], env);
    return s.doc.result.openPinned[a.buildId] >= 1 ? s : undefined;
  });
  expect(before.code).toBe(0);
  expect(before.doc.result.current).toBe(a.buildId);
  expect(before.doc.result.versions.map((v: { buildId: string }) => v.buildId).sort()).toEqual(
    [a.buildId, bVersion.buildId].sort(),
  );

  // The rollout: B becomes current while sweep 2 is still running on A.
  const promoted = await cliJson(['deployment', 'promote', bVersion.buildId], env);
  expect(promoted).toEqual({
    code: 0,
    doc: { ok: true, result: { deployment, current: bVersion.buildId, previous: a.buildId, settled: true } },
  });

  // Sweep 2 goes on: every one of its activities runs on A, the build that started it.
  gate.armed = false;
  gate.release();
  const r2 = await s2.result();
  expect(r2.block?.added).toEqual(['45.155.206.72']);
  expect(ranBy(s2.workflowId)).toEqual(new Set(['a']));
  expect(await versioningInfo(s2.workflowId)).toEqual({ behavior: expect.anything(), buildId: a.buildId });
  expect((await ipSet(setup, 'v4')).addresses).toContain('45.155.206.72/32');

  // A new sweep starts on B only.
  await appendMessage(setup, await buildAdvisory({ subject: 'Rollout three', text: 'C2 at 45.155.207.83\n' }));
  const s3 = await startSweep('rollout-s3');
  await s3.result();
  expect(ranBy(s3.workflowId)).toEqual(new Set(['b']));
  expect((await ipSet(setup, 'v4')).addresses).toContain('45.155.207.83/32');

  // The blocklist moved to B: it writes WAF there now. (The task that carries an Update can still reach the worker
  // that ran the workflow last, so sweep 2's own write may have been A's; Temporal moves an auto-upgrade workflow at
  // its next regular task, and by sweep 3's write it has.)
  const blocklistSyncs = ran.filter((r) => r.workflowId === blocklistId && r.activity === 'syncIpSets');
  expect(blocklistSyncs.at(-1)?.build).toBe('b');
  expect(await versioningInfo(blocklistId)).toEqual({ behavior: expect.anything(), buildId: bVersion.buildId });

  // Nothing is pinned to A any more: the status says its workers can be stopped.
  const after = await waitFor('no pinned run left on A', async () => {
    const s = await cliJson(['deployment'], env);
    return s.doc.result.openPinned[a.buildId] === 0 ? s : undefined;
  });
  expect(after.doc.result.current).toBe(bVersion.buildId);
});

test('pinned and auto-upgrade behaviours are what each workflow declares', async () => {
  // Checked on the runs above: a sweep is PINNED, the blocklist AUTO_UPGRADE (enum values from Temporal's API).
  const sweeps = ran.filter((r) => r.workflowId.startsWith('rollout-s1')).map((r) => r.workflowId);
  const { behavior: sweepBehavior } = await versioningInfo(sweeps[0]!);
  const { behavior: blocklistBehavior } = await versioningInfo(blocklistWorkflowId(setup.config.target.name));
  const { temporal } = await import('@temporalio/proto');
  const B = temporal.api.enums.v1.VersioningBehavior;
  expect(sweepBehavior).toBe(B.VERSIONING_BEHAVIOR_PINNED);
  expect(blocklistBehavior).toBe(B.VERSIONING_BEHAVIOR_AUTO_UPGRADE);
});

test('the worker process derives its build id from its workflow code and, first of its deployment, makes it current', async () => {
  const name = uniqueName('rollout-proc');
  const env = { ...setup.env, WORKER_DEPLOYMENT_NAME: name, MAIL2WAF_TASK_QUEUE: `${name}-tq` };
  const w = spawnWorker(env);
  try {
    const line = await waitFor(
      'the worker to promote its build',
      async () => /build ([\w.+-]+) is now the current version of ([\w.-]+)/.exec(w.output()) ?? undefined,
      120_000,
    );
    const [, buildId, deploymentName] = line;
    expect(deploymentName).toBe(name);
    expect(buildId).toMatch(/^\d+\.\d+\.\d+\S*-[0-9a-f]{12}$/);
    const status = await cliJson(['deployment'], env);
    expect(status.doc.result).toMatchObject({ name, current: buildId, versions: [{ buildId, status: 'current' }] });
    // doctor reads the same deployment: a build is current.
    const doctor = await cliJson(['doctor', '--no-write'], env);
    const check = (doctor.doc.result.checks as { name: string }[]).find((c) => c.name === 'temporal.deployment');
    expect(check).toEqual({
      name: 'temporal.deployment',
      status: 'ok',
      detail: `deployment ${name}: build ${buildId} is current`,
    });
  } finally {
    expect(await w.kill('SIGTERM')).toBe(0);
  }
});
