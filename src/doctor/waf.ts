/**
 * AWS WAF: for each target, each IP set is found by name, is of the right IP version, can be read, and can be
 * written. The write is a no-op UpdateIPSet (the same addresses and description, with the lock token just
 * read): it changes nothing but the lock token, and proves the credentials may write before an advisory needs it.
 */
import {
  GetIPSetCommand,
  ListIPSetsCommand,
  UpdateIPSetCommand,
  WAFOptimisticLockException,
  type IPSetSummary,
  type WAFV2Client,
} from '@aws-sdk/client-wafv2';
import type { TargetRef } from '../shared/types';
import { error, fail, messageOf, ok, type CheckResult } from './types';

export interface WafCheckOptions {
  /** Skip the no-op UpdateIPSet (read-only credentials, or a cautious operator). */
  write: boolean;
  /** Pause between writes: AWS allows about one Create/Update call per second per account and Region. */
  writeGapMs?: number;
}

const PERMISSION_ERRORS = new Set([
  'AccessDeniedException',
  'UnrecognizedClientException',
  'InvalidSignatureException',
]);
const CREDENTIAL_ERRORS = new Set(['CredentialsProviderError', 'ExpiredTokenException']);

/** fail for an AWS answer that the operator must act on; error for no answer at all. */
function awsProblem(name: string, what: string, action: string, err: unknown): CheckResult {
  const e = err as Error;
  if (PERMISSION_ERRORS.has(e.name)) {
    return fail(
      name,
      `${what}: not allowed to call wafv2:${action} (${messageOf(e)})`,
      "attach iam/worker-policy.json to the worker's role (README: AWS permissions)",
    );
  }
  if (CREDENTIAL_ERRORS.has(e.name)) {
    return fail(
      name,
      `${what}: no usable AWS credentials (${messageOf(e)})`,
      'give the worker AWS credentials (role, AWS_PROFILE or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY)',
    );
  }
  return error(
    name,
    `${what}: ${action} failed (${e.name}: ${messageOf(e)})`,
    'check AWS_REGION, AWS_ENDPOINT_URL_WAFV2 and the network; try again',
  );
}

async function listAll(client: WAFV2Client, scope: TargetRef['scope']): Promise<IPSetSummary[]> {
  const all: IPSetSummary[] = [];
  let marker: string | undefined;
  do {
    const page = await client.send(new ListIPSetsCommand({ Scope: scope, NextMarker: marker, Limit: 100 }));
    all.push(...(page.IPSets ?? []));
    marker = page.IPSets && page.IPSets.length > 0 ? page.NextMarker : undefined;
  } while (marker);
  return all;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function checkWaf(
  targets: TargetRef[],
  wafClient: (region: string) => WAFV2Client,
  opts: WafCheckOptions,
): Promise<CheckResult[]> {
  const results: CheckResult[] = [];
  let wrote = false;
  for (const target of targets) {
    const client = wafClient(target.region);
    const sides = [
      { version: 'IPV4', key: 'v4', name: target.ipSetV4Name, other: target.ipSetV6Name },
      { version: 'IPV6', key: 'v6', name: target.ipSetV6Name, other: target.ipSetV4Name },
    ] as const;
    const setting = (v: 'v4' | 'v6') => `WAF_IPSET_${v.toUpperCase()}_NAME (or WAF_TARGETS for target ${target.name})`;
    let sets: IPSetSummary[];
    try {
      sets = await listAll(client, target.scope);
    } catch (err) {
      for (const s of sides) {
        results.push(
          awsProblem(
            `waf.${target.name}.${s.key}`,
            `IP sets of ${target.scope} in ${target.region}`,
            'ListIPSets',
            err,
          ),
        );
      }
      continue;
    }
    for (const s of sides) {
      const name = `waf.${target.name}.${s.key}`;
      const what = `IP set ${s.name} (${target.scope}, ${target.region})`;
      const summary = sets.find((x) => x.Name === s.name);
      if (!summary?.Id) {
        const existing = sets.map((x) => x.Name).filter(Boolean);
        results.push(
          fail(
            name,
            `${what} not found${existing.length ? `; there are: ${existing.slice(0, 10).join(', ')}${existing.length > 10 ? ', …' : ''}` : '; there is no IP set in this scope and Region'}`,
            `create it (mail2waf aws setup --apply) or fix ${setting(s.key)}`,
          ),
        );
        continue;
      }
      let got;
      try {
        got = await client.send(new GetIPSetCommand({ Name: s.name, Scope: target.scope, Id: summary.Id }));
      } catch (err) {
        results.push(awsProblem(name, what, 'GetIPSet', err));
        continue;
      }
      const version = got.IPSet?.IPAddressVersion;
      if (version !== s.version) {
        results.push(
          fail(
            name,
            `${what} is an ${version ?? 'unknown-version'} set, but it is configured as the ${s.version === 'IPV4' ? 'IPv4' : 'IPv6'} set`,
            s.name === s.other
              ? `the same set is named for both versions: give ${setting(s.key)} an ${s.version} set`
              : `swap the names, or give ${setting(s.key)} an ${s.version} set (an IP set's version is fixed at creation)`,
          ),
        );
        continue;
      }
      const count = got.IPSet?.Addresses?.length ?? 0;
      if (!opts.write) {
        results.push(
          ok(
            name,
            `${what}: ${s.version}, ${count} entr${count === 1 ? 'y' : 'ies'}, readable (write not checked: --no-write)`,
          ),
        );
        continue;
      }
      try {
        if (wrote && opts.writeGapMs) await sleep(opts.writeGapMs);
        await noOpWrite(client, target, s.name, summary.Id, got);
        wrote = true;
        results.push(
          ok(name, `${what}: ${s.version}, ${count} entr${count === 1 ? 'y' : 'ies'}, readable and writable`),
        );
      } catch (err) {
        results.push(awsProblem(name, what, 'UpdateIPSet', err));
      }
    }
  }
  return results;
}

/**
 * UpdateIPSet with exactly what GetIPSet returned. A concurrent writer (the worker, a person) makes it fail with
 * WAFOptimisticLockException: that proves the permission as well as a success would, so it counts as writable.
 */
async function noOpWrite(
  client: WAFV2Client,
  target: TargetRef,
  name: string,
  id: string,
  got: { IPSet?: { Addresses?: string[]; Description?: string }; LockToken?: string },
): Promise<void> {
  try {
    await client.send(
      new UpdateIPSetCommand({
        Name: name,
        Scope: target.scope,
        Id: id,
        Addresses: got.IPSet?.Addresses ?? [],
        // UpdateIPSet replaces the whole object: without the description it would be erased.
        Description: got.IPSet?.Description,
        LockToken: got.LockToken,
      }),
    );
  } catch (err) {
    if (!(err instanceof WAFOptimisticLockException)) throw err;
  }
}
