/**
 * The blocklist workflow on the real Temporal dev server with a recording stand-in for the sync activity
 * (the real activity is tested against moto in test/integration): coalescing and continue-as-new.
 */
import { Client, Connection, WorkflowUpdateStage } from '@temporalio/client';
import { NativeConnection, Worker } from '@temporalio/worker';
import { randomBytes } from 'node:crypto';
import {
  blockUpdate,
  configureUpdate,
  listQuery,
  statusQuery,
  unblockSignal,
  unblockUpdate,
} from '../../src/shared/messages';
import type { BlocklistInput, SyncPlan, SyncReport, TargetRef } from '../../src/shared/types';
import { stackEnv } from '../helpers/stack';
import { workflowBundle } from '../helpers/worker';

let native: NativeConnection;
let client: Client;
const syncCalls: SyncPlan[] = [];
/** While closed, the stand-in sync waits: lets a test queue requests behind a write that is in flight. */
let gate: Promise<void> = Promise.resolve();

const target: TargetRef = { name: 't', scope: 'REGIONAL', region: 'us-east-1', ipSetV4Name: 'a', ipSetV6Name: 'b' };
const side = (n: number) => ({ added: n, removed: 0, foreign: 0, total: n, wrote: n > 0 });

const activities = {
  async syncIpSets({ plan }: { plan: SyncPlan }): Promise<SyncReport> {
    syncCalls.push(plan);
    await gate;
    return {
      at: new Date().toISOString(),
      v4: side(plan.v4.ours.length),
      v6: side(plan.v6.ours.length),
      foreign: { v4: [], v6: [] },
    };
  },
};

beforeAll(async () => {
  const env = stackEnv();
  native = await NativeConnection.connect({ address: env.TEMPORAL_ADDRESS });
  client = new Client({ connection: await Connection.connect({ address: env.TEMPORAL_ADDRESS }) });
});
afterAll(async () => {
  await client?.connection.close();
  await native?.close();
});

async function withWorker<T>(fn: (taskQueue: string) => Promise<T>): Promise<T> {
  const taskQueue = `wf-test-${randomBytes(4).toString('hex')}`;
  const worker = await Worker.create({
    connection: native,
    taskQueue,
    workflowBundle: await workflowBundle(),
    activities,
  });
  return worker.runUntil(fn(taskQueue));
}

const req = (i: number) => ({
  requestId: `r${i}`,
  candidates: [
    {
      value: `185.${200 + i}.105.1`,
      source: { kind: 'message' as const, ref: `<m${i}@x>`, at: '2026-11-28T00:00:00Z' },
    },
  ],
});

test('block requests that arrive during a write are coalesced into the next single write', async () => {
  syncCalls.length = 0;
  let open = () => {};
  gate = new Promise((resolve) => (open = resolve));
  await withWorker(async (taskQueue) => {
    const input: BlocklistInput = { target };
    const handle = await client.workflow.start('blocklistWorkflow', {
      taskQueue,
      workflowId: `bl-${taskQueue}`,
      args: [input],
    });
    // Eight requests are accepted while the first write is held in flight. (The server admits at most ten
    // in-flight updates per workflow by default, and these all wait for their write.)
    const updates = [];
    for (let i = 1; i <= 8; i++) {
      updates.push(
        await handle.startUpdate(blockUpdate, { args: [req(i)], waitForStage: WorkflowUpdateStage.ACCEPTED }),
      );
    }
    open();
    const results = await Promise.all(updates.map((u) => u.result()));
    expect(results.every((r) => r.synced && r.added.length === 1)).toBe(true);
    // Exactly two writes: the one in flight, and one that carries everything queued behind it.
    expect(syncCalls).toHaveLength(2);
    expect(syncCalls[1]?.v4.ours).toHaveLength(8);

    // A repeated request id is answered from memory and changes nothing.
    const again = await handle.executeUpdate(blockUpdate, { args: [req(1)], updateId: 'retry-of-r1' });
    expect(again.added).toEqual(['185.201.105.1']);
    expect(syncCalls).toHaveLength(2);
    await handle.terminate('test done');
  });
});

test('continues as new at the configured threshold and carries its state', async () => {
  await withWorker(async (taskQueue) => {
    const input: BlocklistInput = { target, continueAsNewAfterEvents: 40 };
    const handle = await client.workflow.start('blocklistWorkflow', {
      taskQueue,
      workflowId: `bl-${taskQueue}`,
      args: [input],
    });
    for (let i = 1; i <= 12; i++) await handle.executeUpdate(blockUpdate, { args: [req(i)] });
    const latest = client.workflow.getHandle(handle.workflowId);
    const d = await latest.describe();
    expect(d.runId).not.toBe(handle.firstExecutionRunId);
    const entries = await latest.query(listQuery);
    expect(entries).toHaveLength(12);
    const status = await latest.query(statusQuery);
    expect(status.historyLength).toBeLessThan(40);
    await latest.terminate('test done');
  });
});

test('each removal reaches the sync plan with why it left: unblock Update, unblock Signal, policy', async () => {
  syncCalls.length = 0;
  gate = Promise.resolve();
  await withWorker(async (taskQueue) => {
    const policy = { neverBlock: [], minPrefixV4: 16, minPrefixV6: 32 };
    const handle = await client.workflow.start('blocklistWorkflow', {
      taskQueue,
      workflowId: `bl-${taskQueue}`,
      args: [{ target, policy } satisfies BlocklistInput],
    });
    for (let i = 1; i <= 3; i++) await handle.executeUpdate(blockUpdate, { args: [req(i)] });
    const lastPlan = () => syncCalls.at(-1)!.v4;

    await handle.executeUpdate(unblockUpdate, { args: [{ value: '185.201.105.1', actor: 'a', reason: 'r' }] });
    expect(lastPlan()).toMatchObject({ remove: ['185.201.105.1'] });
    expect(lastPlan().reasons).toEqual({ '185.201.105.1': 'update' });

    const before = syncCalls.length;
    await handle.signal(unblockSignal, { value: '185.202.105.1', actor: 'web-ui', reason: 'r' });
    for (const deadline = Date.now() + 10_000; syncCalls.length === before;) {
      if (Date.now() > deadline) throw new Error('the signalled unblock was not synced');
      await new Promise((r) => setTimeout(r, 100));
    }
    // Once a sync carried a removal, the next plans no longer give its reason.
    expect(lastPlan().reasons).toEqual({ '185.202.105.1': 'signal' });

    await handle.executeUpdate(configureUpdate, {
      args: [{ ...policy, neverBlock: [{ cidr: '185.203.105.1/32', label: 'ours' }] }],
    });
    expect(lastPlan().ours).toEqual([]);
    expect(lastPlan().reasons).toEqual({ '185.203.105.1': 'policy' });
    await handle.terminate('test done');
  });
});
