/** Two targets side by side (a REGIONAL pair and a CLOUDFRONT pair): a sweep fills both, the CLI keeps them apart. */
import { CreateIPSetCommand, DeleteIPSetCommand, GetIPSetCommand, ListIPSetsCommand } from '@aws-sdk/client-wafv2';
import { csvAdvisory } from '../../scripts/sample-advisories';
import { appendMessage, ipSet, isolatedSetup, uniqueName, type TestSetup } from '../helpers/stack';
import { startWorker, type RunningWorker } from '../helpers/worker';
import { cliJson } from '../helpers/cli';

const name = uniqueName('tt');
const edge = `${name}-edge`;
let setup: TestSetup;
let w: RunningWorker;

beforeAll(async () => {
  setup = await isolatedSetup(name, {
    WAF_TARGETS: `${name}=REGIONAL:us-east-1:${name}-v4:${name}-v6,${edge}=CLOUDFRONT::${edge}-v4:${edge}-v6`,
  });
  for (const [suffix, version] of [
    ['v4', 'IPV4'],
    ['v6', 'IPV6'],
  ] as const) {
    await setup.waf.send(
      new CreateIPSetCommand({
        Name: `${edge}-${suffix}`,
        Scope: 'CLOUDFRONT',
        IPAddressVersion: version,
        Addresses: [],
      }),
    );
  }
  w = await startWorker(setup);
});

afterAll(async () => {
  await w?.stop();
  const list = await setup.waf.send(new ListIPSetsCommand({ Scope: 'CLOUDFRONT' }));
  for (const s of list.IPSets ?? []) {
    if (s.Name?.startsWith(edge)) {
      await setup.waf.send(
        new DeleteIPSetCommand({ Name: s.Name, Id: s.Id, Scope: 'CLOUDFRONT', LockToken: s.LockToken }),
      );
    }
  }
  await setup?.cleanup();
});

async function edgeV4(): Promise<string[]> {
  const list = await setup.waf.send(new ListIPSetsCommand({ Scope: 'CLOUDFRONT' }));
  const id = list.IPSets!.find((s) => s.Name === `${edge}-v4`)!.Id;
  const got = await setup.waf.send(new GetIPSetCommand({ Name: `${edge}-v4`, Scope: 'CLOUDFRONT', Id: id }));
  return [...(got.IPSet?.Addresses ?? [])].sort();
}

const cli = (args: string[]) => cliJson(args, { ...setup.env, MAIL2WAF_ACTOR: 'tester' });

test('a sweep blocks into every target; the CLI acts on the one it is told', async () => {
  expect(setup.config.targets.map((t) => [t.name, t.scope, t.region])).toEqual([
    [name, 'REGIONAL', 'us-east-1'],
    [edge, 'CLOUDFRONT', 'us-east-1'],
  ]);
  await appendMessage(setup, await csvAdvisory('<two-targets@cert.example>'));
  const run = await cli(['run', '--wait']);
  expect(run.code).toBe(0);
  const expected = ['185.220.101.47/32', '45.133.1.20/32', '91.215.85.0/24'].sort();
  expect((await ipSet(setup, 'v4')).addresses).toEqual(expected);
  expect(await edgeV4()).toEqual(expected);
  expect(Object.keys(run.doc.result.blocks)).toEqual([name, edge]);

  const un = await cli(['unblock', '45.133.1.20', '--reason', 'edge only', '--target', edge]);
  expect(un.code).toBe(0);
  expect(await edgeV4()).not.toContain('45.133.1.20/32');
  expect((await ipSet(setup, 'v4')).addresses).toContain('45.133.1.20/32');

  const regional = await cli(['list']);
  const edgeList = await cli(['list', '--target', edge]);
  expect(regional.doc.result.map((e: { value: string }) => e.value)).toContain('45.133.1.20');
  expect(edgeList.doc.result.map((e: { value: string }) => e.value)).not.toContain('45.133.1.20');

  const unknown = await cli(['list', '--target', 'nope']);
  expect(unknown.code).toBe(1);
  expect(unknown.doc.error.message).toMatch(/unknown target "nope" — configured targets: /);
});
