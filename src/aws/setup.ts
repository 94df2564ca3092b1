/**
 * `mail2waf aws setup`: makes a target's two IP sets exist and, optionally, a Web ACL rule that blocks them.
 * It first computes a plan from what AWS has, prints it, and changes things only when asked to apply; a second
 * run finds nothing to do. Web ACLs are never created or otherwise changed: they belong to their owners.
 */
import {
  CreateIPSetCommand,
  GetWebACLCommand,
  ListIPSetsCommand,
  ListWebACLsCommand,
  UpdateWebACLCommand,
  type IPSetSummary,
  type Rule,
  type WAFV2Client,
} from '@aws-sdk/client-wafv2';
import type { TargetRef } from '../shared/types';

export const RULE_NAME = 'mail2waf-block';
const DESCRIPTION = 'Managed by mail2waf: addresses from threat advisories';

export interface SetupStep {
  action: 'create-ip-set' | 'ip-set-exists' | 'add-web-acl-rule' | 'web-acl-rule-exists';
  resource: string;
  detail: string;
  done: boolean;
}

export class SetupError extends Error {
  override name = 'SetupError';
}

async function listAll<T>(fetch: (marker?: string) => Promise<{ items?: T[]; next?: string }>): Promise<T[]> {
  const all: T[] = [];
  let marker: string | undefined;
  do {
    const page = await fetch(marker);
    all.push(...(page.items ?? []));
    marker = page.items && page.items.length > 0 ? page.next : undefined;
  } while (marker);
  return all;
}

async function ipSets(client: WAFV2Client, target: TargetRef): Promise<IPSetSummary[]> {
  return listAll(async (NextMarker) => {
    const r = await client.send(new ListIPSetsCommand({ Scope: target.scope, NextMarker, Limit: 100 }));
    return { items: r.IPSets, next: r.NextMarker };
  });
}

function blockRule(priority: number, arns: string[]): Rule {
  return {
    Name: RULE_NAME,
    Priority: priority,
    Action: { Block: {} },
    Statement: {
      OrStatement: { Statements: arns.map((ARN) => ({ IPSetReferenceStatement: { ARN } })) },
    },
    VisibilityConfig: { SampledRequestsEnabled: true, CloudWatchMetricsEnabled: true, MetricName: RULE_NAME },
  };
}

/** Plans (and with apply, performs) the setup. Every step says whether it is done. */
export async function awsSetup(
  client: WAFV2Client,
  target: TargetRef,
  opts: { webAcl?: string; apply: boolean },
): Promise<{ steps: SetupStep[]; applied: boolean }> {
  const steps: SetupStep[] = [];
  const existing = await ipSets(client, target);
  const arns: string[] = [];
  for (const [name, version] of [
    [target.ipSetV4Name, 'IPV4'],
    [target.ipSetV6Name, 'IPV6'],
  ] as const) {
    const found = existing.find((s) => s.Name === name);
    if (found?.ARN) {
      arns.push(found.ARN);
      steps.push({ action: 'ip-set-exists', resource: name, detail: `${found.ARN}`, done: true });
      continue;
    }
    const step: SetupStep = {
      action: 'create-ip-set',
      resource: name,
      detail: `${version} IP set, scope ${target.scope}, region ${target.region}`,
      done: false,
    };
    steps.push(step);
    if (opts.apply) {
      const created = await client.send(
        new CreateIPSetCommand({
          Name: name,
          Scope: target.scope,
          IPAddressVersion: version,
          Addresses: [],
          Description: DESCRIPTION,
        }),
      );
      arns.push(created.Summary!.ARN!);
      step.done = true;
    }
  }

  if (opts.webAcl) {
    const acls = await listAll(async (NextMarker) => {
      const r = await client.send(new ListWebACLsCommand({ Scope: target.scope, NextMarker, Limit: 100 }));
      return { items: r.WebACLs, next: r.NextMarker };
    });
    const summary = acls.find((a) => a.Name === opts.webAcl);
    if (!summary) {
      throw new SetupError(
        `Web ACL "${opts.webAcl}" not found in scope ${target.scope}, region ${target.region} — mail2waf adds a rule to an existing Web ACL, it does not create one`,
      );
    }
    const got = await client.send(new GetWebACLCommand({ Name: summary.Name, Id: summary.Id, Scope: target.scope }));
    const acl = got.WebACL!;
    const rules = acl.Rules ?? [];
    const ours = rules.find((r) => r.Name === RULE_NAME);
    if (ours) {
      steps.push({ action: 'web-acl-rule-exists', resource: opts.webAcl, detail: `rule ${RULE_NAME}`, done: true });
    } else {
      const priority = rules.reduce((max, r) => Math.max(max, (r.Priority ?? 0) + 1), 0);
      const step: SetupStep = {
        action: 'add-web-acl-rule',
        resource: opts.webAcl,
        detail: `rule ${RULE_NAME} (priority ${priority}) blocking ${target.ipSetV4Name} and ${target.ipSetV6Name}`,
        done: false,
      };
      steps.push(step);
      if (opts.apply) {
        if (arns.length < 2) throw new SetupError('the IP sets must exist before the rule can reference them');
        // UpdateWebACL replaces the whole Web ACL: everything we do not change is sent back as it was.
        await client.send(
          new UpdateWebACLCommand({
            Name: acl.Name,
            Id: acl.Id,
            Scope: target.scope,
            LockToken: got.LockToken,
            DefaultAction: acl.DefaultAction,
            Description: acl.Description,
            Rules: [...rules, blockRule(priority, arns)],
            VisibilityConfig: acl.VisibilityConfig,
            CustomResponseBodies: acl.CustomResponseBodies,
            CaptchaConfig: acl.CaptchaConfig,
            ChallengeConfig: acl.ChallengeConfig,
            TokenDomains: acl.TokenDomains,
            AssociationConfig: acl.AssociationConfig,
          }),
        );
        step.done = true;
      }
    }
  }
  return { steps, applied: opts.apply };
}
