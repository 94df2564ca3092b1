/**
 * The IAM policies in iam/ grant exactly the AWS WAF calls the code makes: every `new XxxCommand(` of
 * @aws-sdk/client-wafv2 in a code path appears in that path's policy as `wafv2:Xxx`, and the policy grants no
 * other wafv2 action. Code paths: `mail2waf aws setup` is src/aws/**; everything else under src/ runs in the
 * worker or beside it with the worker's credentials (activities, worker preflight, health checks, doctor).
 */
import * as wafv2 from '@aws-sdk/client-wafv2';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

const root = join(__dirname, '..', '..');
const src = join(root, 'src');

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? files(path) : path.endsWith('.ts') ? [path] : [];
  });
}

/** WAFv2 commands constructed in a file (the class must be one @aws-sdk/client-wafv2 exports). */
function wafCommandsIn(text: string): string[] {
  if (!text.includes('@aws-sdk/client-wafv2')) return [];
  const out = new Set<string>();
  for (const m of text.matchAll(/\bnew\s+([A-Z]\w*)Command\s*\(/g)) {
    if (`${m[1]}Command` in wafv2) out.add(m[1]!);
  }
  return [...out];
}

/** action → files that send it, for the files `include` selects. */
function sentBy(include: (rel: string) => boolean): Map<string, string[]> {
  const map = new Map<string, string[]>();
  for (const path of files(src)) {
    const rel = relative(root, path);
    if (!include(rel)) continue;
    for (const c of wafCommandsIn(readFileSync(path, 'utf8')))
      map.set(`wafv2:${c}`, [...(map.get(`wafv2:${c}`) ?? []), rel]);
  }
  return map;
}

interface Statement {
  Sid?: string;
  Effect: string;
  Action: string | string[];
  Resource: string | string[];
  Condition?: unknown;
}

function policy(name: string): { Version: string; Statement: Statement[] } {
  return JSON.parse(readFileSync(join(root, 'iam', name), 'utf8'));
}

const list = (x: string | string[]) => (Array.isArray(x) ? x : [x]);
const granted = (p: { Statement: Statement[] }) => [...new Set(p.Statement.flatMap((s) => list(s.Action)))].sort();

const isSetup = (rel: string) => rel.startsWith('src/aws/');

describe.each([
  ['worker-policy.json', (rel: string) => !isSetup(rel)],
  ['setup-policy.json', isSetup],
])('%s', (file, include) => {
  const doc = policy(file);
  const sent = sentBy(include);

  test('grants every WAFv2 call its code path sends, and nothing more', () => {
    // On failure: the call named here was added to (or removed from) the code; update iam/ and the README.
    expect(granted(doc)).toEqual([...sent.keys()].sort());
  });

  test('is a plain Allow policy: list calls on "*", everything else on IP set or Web ACL ARNs', () => {
    expect(doc.Version).toBe('2012-10-17');
    for (const s of doc.Statement) {
      expect(s.Effect).toBe('Allow');
      for (const action of list(s.Action)) expect(action).toMatch(/^wafv2:[A-Z]\w+$/);
      const resources = list(s.Resource);
      // List calls have no resource-level permissions in IAM; nothing else may use "*".
      if (list(s.Action).every((a) => /^wafv2:List/.test(a))) expect(resources).toEqual(['*']);
      else {
        for (const r of resources) {
          expect(r).toMatch(
            /^arn:aws:wafv2:(REGION|us-east-1):ACCOUNT_ID:(regional|global)\/(ipset|webacl)\/[\w*-]+\/\*$/,
          );
          // CloudFront (global) resources live in us-east-1 only.
          expect(r.includes(':global/')).toBe(r.startsWith('arn:aws:wafv2:us-east-1:'));
        }
      }
    }
  });
});

test('the scan finds what the code sends (so an empty scan cannot pass by accident)', () => {
  const worker = sentBy((rel) => !isSetup(rel));
  expect([...worker.keys()]).toEqual(
    expect.arrayContaining(['wafv2:GetIPSet', 'wafv2:UpdateIPSet', 'wafv2:ListIPSets']),
  );
  expect(worker.get('wafv2:UpdateIPSet')).toEqual(
    expect.arrayContaining(['src/activities/waf.ts', 'src/doctor/waf.ts']),
  );
  expect([...sentBy(isSetup).keys()]).toEqual(expect.arrayContaining(['wafv2:CreateIPSet', 'wafv2:UpdateWebACL']));
  expect(wafCommandsIn("import { X } from '@aws-sdk/client-wafv2'; new Command('x'); new FooCommand({});")).toEqual([]);
  expect(
    wafCommandsIn("import { GetIPSetCommand } from '@aws-sdk/client-wafv2'; await c.send(new GetIPSetCommand({}))"),
  ).toEqual(['GetIPSet']);
});
