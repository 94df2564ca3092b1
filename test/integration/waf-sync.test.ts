/**
 * The sync activity against moto: a writer that changes the IP set between our GetIPSet and our UpdateIPSet
 * makes our write fail on the stale LockToken; we read again and re-apply, and neither side loses an entry.
 */
import { WAFV2Client } from '@aws-sdk/client-wafv2';
import { MockActivityEnvironment } from '@temporalio/testing';
import { createWafActivities, type SyncInput } from '../../src/activities/waf';
import type { SyncReport } from '../../src/shared/types';
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
