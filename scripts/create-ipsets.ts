/**
 * Creates the local stack's WAFv2 IP sets in moto if they are missing (idempotent; used by
 * scripts/stack-up.sh, and handy after `POST /moto-api/reset` or a moto restart, which lose them).
 *
 *   set -a; . ./.stack/env; set +a; node_modules/.bin/tsx scripts/create-ipsets.ts
 *
 * Reads AWS_ENDPOINT_URL_WAFV2 (required: this script only ever talks to a local emulator),
 * AWS_REGION, WAF_SCOPE, WAF_IPSET_V4_NAME and WAF_IPSET_V6_NAME.
 */
import { CreateIPSetCommand, ListIPSetsCommand, WAFV2Client } from '@aws-sdk/client-wafv2';
import type { IPAddressVersion, IPSetSummary, Scope } from '@aws-sdk/client-wafv2';

const DESCRIPTION = 'Managed by mail2waf';

async function listAll(client: WAFV2Client, scope: Scope): Promise<IPSetSummary[]> {
  const out: IPSetSummary[] = [];
  let marker: string | undefined;
  do {
    const page = await client.send(new ListIPSetsCommand({ Scope: scope, Limit: 100, NextMarker: marker }));
    out.push(...(page.IPSets ?? []));
    marker = page.IPSets?.length ? page.NextMarker : undefined;
  } while (marker);
  return out;
}

async function main(): Promise<void> {
  const endpoint = process.env.AWS_ENDPOINT_URL_WAFV2;
  if (!endpoint) {
    throw new Error('AWS_ENDPOINT_URL_WAFV2 is not set (this script only creates IP sets in a local emulator)');
  }
  const region = process.env.AWS_REGION ?? 'us-east-1';
  const scope = (process.env.WAF_SCOPE ?? 'REGIONAL') as Scope;
  const wanted: Array<[string, IPAddressVersion]> = [
    [process.env.WAF_IPSET_V4_NAME ?? 'mail2waf-v4', 'IPV4'],
    [process.env.WAF_IPSET_V6_NAME ?? 'mail2waf-v6', 'IPV6'],
  ];
  const client = new WAFV2Client({
    region,
    endpoint,
    credentials: {
      accessKeyId: process.env.AWS_ACCESS_KEY_ID ?? 'testing',
      secretAccessKey: process.env.AWS_SECRET_ACCESS_KEY ?? 'testing',
    },
    maxAttempts: 3,
  });

  const existing = await listAll(client, scope);
  for (const [name, version] of wanted) {
    const found = existing.find((s) => s.Name === name);
    if (found) {
      console.log(`ip set ${name}: exists (${found.Id})`);
      continue;
    }
    const res = await client.send(
      new CreateIPSetCommand({
        Name: name,
        Scope: scope,
        IPAddressVersion: version,
        Addresses: [],
        Description: DESCRIPTION,
      }),
    );
    console.log(`ip set ${name}: created (${res.Summary?.Id})`);
  }
}

main().catch((err: unknown) => {
  const e = err as Error;
  console.error(`create-ipsets: ${e.name}: ${e.message}`);
  process.exit(1);
});
