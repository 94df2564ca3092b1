/**
 * The sync activity against moto: a writer that changes the IP set between our GetIPSet and our UpdateIPSet
 * makes our write fail on the stale LockToken; we read again and re-apply, and neither side loses an entry.
 */
import { WAFV2Client } from '@aws-sdk/client-wafv2';
import { MockActivityEnvironment } from '@temporalio/testing';
import { createWafActivities, type SyncInput } from '../../src/activities/waf';
import { applyBlock, applyUnblock, desiredIpSets, emptyBlocklistState, expireDue } from '../../src/policy/blocklist';
import type { BlocklistState, SyncReport } from '../../src/shared/types';
import { foreignWrite, ipSet, isolatedSetup, type TestSetup } from '../helpers/stack';

let setup: TestSetup;

beforeAll(async () => {
  setup = await isolatedSetup();
});
afterAll(async () => setup?.cleanup());

const emptyPlan = { v4: { ours: [], remove: [] }, v6: { ours: [], remove: [] } };

test('a concurrent writer between our read and our write loses nothing, nor do we', async () => {
  const client = new WAFV2Client({ region: setup.env.AWS_REGION, endpoint: setup.env.AWS_ENDPOINT_URL_WAFV2 });
  let intercepted = 0;
  // Just before our first UpdateIPSet goes out, another writer updates the set: our LockToken is now stale.
  client.middlewareStack.add(
    (next, context) => async (args) => {
      if (context.commandName === 'UpdateIPSetCommand' && intercepted++ === 0) {
        await foreignWrite(setup, 'v4', (a) => [...a, '101.33.0.0/16']);
      }
      return next(args);
    },
    { step: 'initialize', name: 'concurrentWriter' },
  );
  const { syncIpSets } = createWafActivities({ wafClient: () => client });
  const report = await new MockActivityEnvironment().run<[SyncInput], SyncReport, typeof syncIpSets>(syncIpSets, {
    target: setup.config.target,
    plan: { ...emptyPlan, v4: { ours: ['185.220.101.48', '91.215.86.0/24'], remove: [] } },
  });

  expect(intercepted).toBe(2); // the first write was refused, the second (after a fresh read) went through
  const v4 = await ipSet(setup, 'v4');
  expect(v4.addresses).toEqual(['101.33.0.0/16', '185.220.101.48/32', '91.215.86.0/24']);
  expect(report.v4).toMatchObject({ added: 2, wrote: true, foreign: 1 });
  expect(report.foreign.v4).toEqual(['101.33.0.0/16']);
});

test('removes only what it is told to remove, and keeps foreign spellings untouched', async () => {
  await foreignWrite(setup, 'v6', () => ['2A03:B0C0:3:D0::1/128']);
  const client = new WAFV2Client({ region: setup.env.AWS_REGION, endpoint: setup.env.AWS_ENDPOINT_URL_WAFV2 });
  const { syncIpSets } = createWafActivities({ wafClient: () => client });
  const env = new MockActivityEnvironment();
  await env.run(syncIpSets, {
    target: setup.config.target,
    plan: { ...emptyPlan, v6: { ours: ['2a03:b0c0:3:d0::2'], remove: [] } },
  });
  expect((await ipSet(setup, 'v6')).addresses).toEqual(['2A03:B0C0:3:D0::1/128', '2a03:b0c0:3:d0::2/128']);

  await env.run(syncIpSets, {
    target: setup.config.target,
    plan: { ...emptyPlan, v6: { ours: [], remove: ['2a03:b0c0:3:d0::2'] } },
  });
  expect((await ipSet(setup, 'v6')).addresses).toEqual(['2A03:B0C0:3:D0::1/128']);

  // A second identical sync writes nothing: the LockToken does not change.
  const token = (await ipSet(setup, 'v6')).lockToken;
  const again = await env.run<[SyncInput], SyncReport, typeof syncIpSets>(syncIpSets, {
    target: setup.config.target,
    plan: { ...emptyPlan, v6: { ours: [], remove: ['2a03:b0c0:3:d0::2'] } },
  });
  expect(again.v6.wrote).toBe(false);
  expect((await ipSet(setup, 'v6')).lockToken).toBe(token);
});

test('a missing IP set is a non-retryable error that names the fix', async () => {
  const client = new WAFV2Client({ region: setup.env.AWS_REGION, endpoint: setup.env.AWS_ENDPOINT_URL_WAFV2 });
  const { syncIpSets } = createWafActivities({ wafClient: () => client });
  await expect(
    new MockActivityEnvironment().run(syncIpSets, {
      target: { ...setup.config.target, ipSetV4Name: 'no-such-set' },
      plan: emptyPlan,
    }),
  ).rejects.toMatchObject({
    type: 'WafNotFound',
    nonRetryable: true,
    message: expect.stringMatching(/does not exist/),
  });
});

test('a foreign entry with the same value as one of ours stays when ours ends', async () => {
  await foreignWrite(setup, 'v4', () => ['45.133.1.20/32', '101.32.0.0/16']);
  await foreignWrite(setup, 'v6', () => []);
  const client = new WAFV2Client({ region: setup.env.AWS_REGION, endpoint: setup.env.AWS_ENDPOINT_URL_WAFV2 });
  const { syncIpSets } = createWafActivities({ wafClient: () => client });
  const env = new MockActivityEnvironment();
  // moto lists addresses in sorted order. What the blocklist workflow does with each sync: plan from its state, run the activity, keep the report.
  const state: BlocklistState = emptyBlocklistState();
  state.policy = { neverBlock: [], minPrefixV4: 16, minPrefixV6: 32, ttlMs: 86_400_000 };
  const sync = async () => {
    const plan = desiredIpSets(state);
    const report = await env.run<[SyncInput], SyncReport, typeof syncIpSets>(syncIpSets, {
      target: setup.config.target,
      plan,
    });
    state.pendingRemovals = state.pendingRemovals.filter(
      (v) => !plan.v4.remove.includes(v) && !plan.v6.remove.includes(v),
    );
    state.written = { v4: plan.v4.ours, v6: plan.v6.ours };
    state.lastSync = report;
    return report;
  };
  const t0 = '2026-11-01T00:00:00.000Z';
  const msg = (value: string) => ({ value, source: { kind: 'message' as const, ref: '<a@cert.example>', at: t0 } });

  applyBlock(state, { requestId: 'a', candidates: [msg('45.133.1.20'), msg('185.220.101.47')] }, t0);
  const first = await sync();
  expect(first.shared?.v4).toEqual(['45.133.1.20']);
  expect((await ipSet(setup, 'v4')).addresses).toEqual(['101.32.0.0/16', '185.220.101.47/32', '45.133.1.20/32']);

  expireDue(state, '2026-11-02T00:00:00.000Z'); // both of ours end
  const second = await sync();
  expect(second.v4).toMatchObject({ removed: 1, wrote: true });
  expect((await ipSet(setup, 'v4')).addresses).toEqual(['101.32.0.0/16', '45.133.1.20/32']);
  expect([...second.foreign.v4].sort()).toEqual(['101.32.0.0/16', '45.133.1.20/32']);

  // Blocked again and unblocked by hand: still theirs, still there; one of ours alone goes.
  applyBlock(state, { requestId: 'b', candidates: [msg('45.133.1.20'), msg('185.220.101.48')] }, t0);
  expect((await sync()).shared?.v4).toEqual(['45.133.1.20']);
  applyUnblock(state, { value: '45.133.1.20', actor: 'alice', reason: 'fp' }, t0);
  applyUnblock(state, { value: '185.220.101.48', actor: 'alice', reason: 'fp' }, t0);
  await sync();
  expect((await ipSet(setup, 'v4')).addresses).toEqual(['101.32.0.0/16', '45.133.1.20/32']);
});
