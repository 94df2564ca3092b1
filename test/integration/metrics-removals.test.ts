/**
 * `mail2waf_addresses_total` counts an address leaving the IP set when the write that takes it out succeeds,
 * whatever took it out of the blocklist: `mail2waf unblock` (the unblock Update), the Web UI's unblock Signal,
 * its time to live, a policy change. A real worker process (src/worker.ts main()) on the real stack; an address
 * that someone else also put in the set stays there when we unblock it, and is not counted.
 */
import type { Client } from '@temporalio/client';
import { submitPolicy } from '../../src/blocklist-client';
import { blocklistWorkflowId } from '../../src/shared/constants';
import { syncUpdate, unblockSignal } from '../../src/shared/messages';
import { connectClient } from '../../src/temporal-connection';
import { spawnWorker, waitUntilReady, type ChildWorker } from '../helpers/child-worker';
import { cliJson } from '../helpers/cli';
import { freePort, parseExposition, type Sample } from '../helpers/prometheus';
import { foreignWrite, ipSet, isolatedSetup, waitFor, type TestSetup } from '../helpers/stack';

let setup: TestSetup;
let worker: ChildWorker | undefined;
let client: Client;
let port: number;

beforeAll(async () => {
  setup = await isolatedSetup();
  port = await freePort();
  worker = spawnWorker({ ...setup.env, HEALTH_PORT: String(port) });
  await waitUntilReady(worker);
  client = await connectClient(setup.env);
});

afterAll(async () => {
  await worker?.kill('SIGKILL');
  await client?.connection.close();
  await setup?.cleanup();
});

const cli = (args: string[]) => cliJson(args, { ...setup.env, MAIL2WAF_ACTOR: 'tester' });

async function samples(): Promise<Sample[]> {
  const res = await fetch(`http://127.0.0.1:${port}/metrics`);
  expect(res.status).toBe(200);
  return parseExposition(await res.text());
}

const REMOVALS = ['expired', 'unblocked', 'evicted'];

/** Removals in mail2waf_addresses_total of this test's target, by `action` or `action/reason`, non-zero only. */
async function removalCounts(): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const s of await samples()) {
    if (s.name !== 'mail2waf_addresses_total' || s.labels.target !== setup.config.target.name) continue;
    if (!REMOVALS.includes(s.labels.action!) || s.value === 0) continue;
    out[s.labels.reason ? `${s.labels.action}/${s.labels.reason}` : s.labels.action!] = s.value;
  }
  return out;
}

const has = async (version: 'v4' | 'v6', entry: string) => (await ipSet(setup, version)).addresses.includes(entry);

test('unblocks by Update and Signal, an expiry and a policy change are counted once each, when they leave the set', async () => {
  const target = setup.config.target;
  // Someone else's entry, before we block the same address: ours ends, theirs stays.
  await foreignWrite(setup, 'v4', (a) => [...a, '45.133.1.20/32']);

  for (const [value, ttl] of [
    ['185.220.101.11', 'permanent'],
    ['2a03:b0c0:3:d0::1a4f:11', 'permanent'],
    ['185.220.101.14', 'permanent'],
    ['45.133.1.20', 'permanent'],
    ['185.220.101.13', '8s'],
  ] as const) {
    const { code, doc } = await cli(['block', value, '--reason', 'metrics test', '--ttl', ttl]);
    expect({ code, added: doc.result.added }).toEqual({ code: 0, added: [value] });
  }
  expect(await removalCounts()).toEqual({});

  // 1. `mail2waf unblock` (the Update), which answers once the removal is in WAF.
  const unblocked = await cli(['unblock', '185.220.101.11', '--reason', 'false positive']);
  expect(unblocked.doc.result).toMatchObject({ removed: ['185.220.101.11'], synced: true });
  expect(await has('v4', '185.220.101.11/32')).toBe(false);
  // Someone else's too: it leaves our blocklist but stays in the set, so nothing left the set.
  expect((await cli(['unblock', '45.133.1.20', '--reason', 'theirs'])).doc.result.synced).toBe(true);
  expect(await has('v4', '45.133.1.20/32')).toBe(true);

  // 2. The Web UI's unblock Signal.
  const handle = client.workflow.getHandle(blocklistWorkflowId(target.name));
  await handle.signal(unblockSignal, { value: '2a03:b0c0:3:d0::1a4f:11', actor: 'web-ui', reason: 'customer' });
  await waitFor('the signalled unblock in WAF', async () => !(await has('v6', '2a03:b0c0:3:d0::1a4f:11/128')));

  // 3. A policy change that forbids an entry (what a worker does at start with a new NEVER_BLOCK).
  const installed = await submitPolicy(client, setup.config.taskQueue, target, {
    ...setup.config.policy,
    neverBlock: [...setup.config.policy.neverBlock, { cidr: '185.220.101.14/32', label: 'metrics test' }],
  });
  expect(installed).toMatchObject({ unblocked: [{ value: '185.220.101.14' }], synced: true });

  // 4. The 8 s time to live ends.
  await waitFor('the expiry in WAF', async () => !(await has('v4', '185.220.101.13/32')), 60_000);

  const expected = {
    'unblocked/update': 1,
    'unblocked/signal': 1,
    'unblocked/policy': 1,
    expired: 1,
  };
  // The counter moves right after the write that WAF already shows: give the worker a moment to get there.
  await waitFor(
    'the counts',
    async () => JSON.stringify(await removalCounts()) === JSON.stringify(expected),
    10_000,
  ).catch(() => undefined);
  expect(await removalCounts()).toEqual(expected);

  // A later sync has nothing left to remove: nothing is counted twice.
  await handle.executeUpdate(syncUpdate);
  expect(await removalCounts()).toEqual(expected);
  expect(await has('v4', '45.133.1.20/32')).toBe(true);
});
