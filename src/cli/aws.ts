/** `mail2waf aws setup`: create the target's IP sets (and a Web ACL rule); plan first, act only with --apply. */
import type { Command } from 'commander';
import type { SetupStep } from '../aws/setup';
import type { CliContext } from './context';
import { UserError, type Printer } from './output';
import { lazy } from './lazy';

function describe(step: SetupStep): string {
  const verb: Record<SetupStep['action'], string> = {
    'create-ip-set': step.done ? 'created IP set' : 'would create IP set',
    'ip-set-exists': 'IP set exists',
    'add-web-acl-rule': step.done ? 'added to Web ACL' : 'would add to Web ACL',
    'web-acl-rule-exists': 'Web ACL already has',
  };
  return `  ${verb[step.action]} ${step.resource}: ${step.detail}`;
}

export function registerAws(program: Command, ctx: CliContext, printer: () => Printer) {
  const aws = program.command('aws').description('AWS setup for a target');
  aws
    .command('setup')
    .description("create the target's IPv4 and IPv6 IP sets if missing; with --web-acl, add a rule that blocks them")
    .option('--web-acl <name>', 'existing Web ACL to add the blocking rule to')
    .option('--apply', 'make the changes (without it, only the plan is printed)')
    .action(async (opts: { webAcl?: string; apply?: boolean }) => {
      const { target } = ctx.config();
      // The AWS SDK is loaded by this command only (src/client.ts keeps start-up cheap).
      const { WAFV2Client } = lazy.waf();
      const { awsSetup, SetupError } = lazy.awsSetup();
      const client = new WAFV2Client({ region: target.region, endpoint: ctx.env('AWS_ENDPOINT_URL_WAFV2') });
      const result = await awsSetup(client, target, { webAcl: opts.webAcl, apply: opts.apply ?? false }).catch(
        (err) => {
          if (err instanceof SetupError) throw new UserError(err.message);
          throw new Error(
            `AWS WAF call failed (${(err as Error).name}: ${(err as Error).message}) — check AWS credentials and region`,
          );
        },
      );
      const pending = result.steps.filter((s) => !s.done).length;
      printer().result(result, (r) =>
        [
          `target ${target.name} (${target.scope}, ${target.region}):`,
          ...r.steps.map(describe),
          pending === 0 ? 'nothing to do.' : r.applied ? '' : `${pending} change(s) planned; run again with --apply.`,
        ]
          .filter(Boolean)
          .join('\n'),
      );
    });
}
