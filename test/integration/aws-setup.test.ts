/** `mail2waf aws setup` against moto: plan without --apply, create with it, add a Web ACL rule, idempotent. */
import {
  CreateWebACLCommand,
  GetWebACLCommand,
  ListIPSetsCommand,
  ListWebACLsCommand,
  WAFV2Client,
} from '@aws-sdk/client-wafv2';
import { cliJson } from '../helpers/cli';
import { stackEnv, uniqueName } from '../helpers/stack';

const env = stackEnv();
const name = uniqueName('setup');
const cliEnv = { ...env, WAF_TARGET_NAME: name, WAF_IPSET_V4_NAME: `${name}-v4`, WAF_IPSET_V6_NAME: `${name}-v6` };
const waf = new WAFV2Client({ region: env.AWS_REGION, endpoint: env.AWS_ENDPOINT_URL_WAFV2 });

const setup = (args: string[]) => cliJson(['aws', 'setup', ...args], cliEnv);

const ourSets = async () =>
  ((await waf.send(new ListIPSetsCommand({ Scope: 'REGIONAL' }))).IPSets ?? []).filter((s) => s.Name?.startsWith(name));

test('plans first, creates with --apply, and a second run changes nothing', async () => {
  const plan = await setup([]);
  expect(plan.code).toBe(0);
  expect(plan.doc.result.steps.map((s: { action: string; done: boolean }) => [s.action, s.done])).toEqual([
    ['create-ip-set', false],
    ['create-ip-set', false],
  ]);
  expect(await ourSets()).toHaveLength(0);

  const applied = await setup(['--apply']);
  expect(applied.doc.result.steps.every((s: { done: boolean }) => s.done)).toBe(true);
  expect((await ourSets()).map((s) => s.Name).sort()).toEqual([`${name}-v4`, `${name}-v6`]);

  const again = await setup(['--apply']);
  expect(again.doc.result.steps.map((s: { action: string }) => s.action)).toEqual(['ip-set-exists', 'ip-set-exists']);
  expect(await ourSets()).toHaveLength(2);
});

test('adds one blocking rule to an existing Web ACL, once, keeping its other rules', async () => {
  const acl = `${name}-acl`;
  await waf.send(
    new CreateWebACLCommand({
      Name: acl,
      Scope: 'REGIONAL',
      DefaultAction: { Allow: {} },
      Rules: [
        {
          Name: 'existing',
          Priority: 3,
          Action: { Count: {} },
          Statement: { GeoMatchStatement: { CountryCodes: ['AQ'] } },
          VisibilityConfig: { SampledRequestsEnabled: false, CloudWatchMetricsEnabled: false, MetricName: 'existing' },
        },
      ],
      VisibilityConfig: { SampledRequestsEnabled: false, CloudWatchMetricsEnabled: false, MetricName: acl },
    }),
  );
  const missing = await setup(['--web-acl', 'no-such-acl']);
  expect(missing.code).toBe(1);
  expect(missing.doc.error.message).toMatch(/Web ACL "no-such-acl" not found/);

  const plan = await setup(['--web-acl', acl]);
  expect(plan.doc.result.steps.at(-1)).toMatchObject({ action: 'add-web-acl-rule', done: false });
  await setup(['--web-acl', acl, '--apply']);
  const again = await setup(['--web-acl', acl, '--apply']);
  expect(again.doc.result.steps.at(-1)).toMatchObject({ action: 'web-acl-rule-exists', done: true });

  const summary = (await waf.send(new ListWebACLsCommand({ Scope: 'REGIONAL' }))).WebACLs!.find((a) => a.Name === acl)!;
  const got = await waf.send(new GetWebACLCommand({ Name: acl, Id: summary.Id, Scope: 'REGIONAL' }));
  const rules = got.WebACL!.Rules!;
  expect(rules.map((r) => [r.Name, r.Priority])).toEqual([
    ['existing', 3],
    ['mail2waf-block', 4],
  ]);
  const arns = rules[1]!.Statement!.OrStatement!.Statements!.map((s) => s.IPSetReferenceStatement!.ARN);
  expect(arns).toEqual((await ourSets()).sort((a, b) => a.Name!.localeCompare(b.Name!)).map((s) => s.ARN));
  expect(rules[1]!.Action).toEqual({ Block: {} });
});
