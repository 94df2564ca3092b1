/**
 * The blocklist workflow on the real Temporal dev server with a recording stand-in for the sync activity
 * (the real activity is tested against moto in test/integration): coalescing and continue-as-new.
 */
import { Client, Connection } from '@temporalio/client';
import { NativeConnection, Worker } from '@temporalio/worker';
import { randomBytes } from 'node:crypto';
import { blockUpdate, listQuery, statusQuery } from '../../src/shared/messages';
import type { BlocklistInput, SyncPlan, SyncReport, TargetRef } from '../../src/shared/types';
import { stackEnv } from '../helpers/stack';
import { workflowBundle } from '../helpers/worker';

let native: NativeConnection;
let client: Client;
const syncCalls: SyncPlan[] = [];

const target: TargetRef = { name: 't', scope: 'REGIONAL', region: 'us-east-1', ipSetV4Name: 'a', ipSetV6Name: 'b' };
const side = (n: number) => ({ added: n, removed: 0, foreign: 0, total: n, wrote: n > 0 });

const activities = {
  async syncIpSets({ plan }: { plan: SyncPlan }): Promise<SyncReport> {
    syncCalls.push(plan);
    return { at: new Date().toISOString(), v4: side(plan.v4.ours.length), v6: side(plan.v6.ours.length), foreign: { v4: [], v6: [] } };
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
  const worker = await Worker.create({ connection: native, taskQueue, workflowBundle: await workflowBundle(), activities });
  return worker.runUntil(fn(taskQueue));
}

const req = (i: number) => ({
  requestId: `r${i}`,
  candidates: [{ value: `185.220.105.${i}`, source: { kind: 'message' as const, ref: `<m${i}@x>`, at: '2026-11-28T00:00:00Z' } }],
});

test('a burst of block requests coalesces into a few IP-set writes', async () => {
  syncCalls.length = 0;
  await withWorker(async (taskQueue) => {
    const input: BlocklistInput = { target };
    const handle = await client.workflow.start('blocklistWorkflow', { taskQueue, workflowId: `bl-${taskQueue}`, args: [input] });
    const results = await Promise.all(Array.from({ length: 20 }, (_, i) => handle.executeUpdate(blockUpdate, { args: [req(i + 1)] })));
    expect(results.every((r) => r.synced && r.added.length === 1)).toBe(true);
    // The last write carries all twenty; there were far fewer writes than requests.
    expect(syncCalls.at(-1)?.v4.ours).toHaveLength(20);
    expect(syncCalls.length).toBeLessThanOrEqual(5);

    // A repeated request id is answered from memory and changes nothing.
    const before = syncCalls.length;
    const again = await handle.executeUpdate(blockUpdate, { args: [req(1)], updateId: 'retry-of-r1' });
    expect(again.added).toEqual(['185.220.105.1']);
    expect(syncCalls.length).toBe(before);
    await handle.terminate('test done');
  });
});

test('continues as new at the configured threshold and carries its state', async () => {
  await withWorker(async (taskQueue) => {
    const input: BlocklistInput = { target, continueAsNewAfterEvents: 40 };
    const handle = await client.workflow.start('blocklistWorkflow', { taskQueue, workflowId: `bl-${taskQueue}`, args: [input] });
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
