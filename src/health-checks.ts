/**
 * The periodic readiness checks of the outside systems, each one cheap call (like the worker's start-up
 * preflight), each failure worded as an instruction for the operator. Used by src/health.ts through `main()`.
 */
import { ListIPSetsCommand, type WAFV2Client } from '@aws-sdk/client-wafv2';
import type { Client } from '@temporalio/client';
import { connectImap, imapLoginHint } from './activities/imap';
import { isOAuth2Error } from './oauth';
import type { WorkerConfig } from './config';
import type { Check } from './health';
import { describeAddress } from './temporal-connection';

/** Temporal answers on the worker's own connection (GetSystemInfo: no namespace data, no side effects). */
export function temporalCheck(client: Client): Check {
  return async () => {
    try {
      await client.workflowService.getSystemInfo({});
    } catch (err) {
      throw new Error(
        `Temporal at ${describeAddress()} did not answer (${(err as Error).message}) — check the server and TEMPORAL_ADDRESS`,
      );
    }
  };
}

/** IMAP login and a STATUS of the inbox the sweeps read (it proves the login and the mailbox, reads no mail). */
export function imapCheck(config: Pick<WorkerConfig, 'imap' | 'mailbox'>): Check {
  return async () => {
    const { imap, mailbox } = config;
    let client: Awaited<ReturnType<typeof connectImap>>;
    try {
      client = await connectImap(imap, () => undefined);
    } catch (err) {
      const e = err as Error & { authenticationFailed?: boolean };
      throw new Error(
        isOAuth2Error(err)
          ? `IMAP login for ${imap.user}: ${e.message}`
          : e.authenticationFailed
            ? `IMAP login failed for ${imap.user} at ${imap.host}:${imap.port} — check ${imapLoginHint(imap)}`
            : `IMAP server ${imap.host}:${imap.port} unreachable (${e.message}) — check IMAP_HOST, IMAP_PORT and IMAP_SECURE`,
      );
    }
    try {
      await client.status(mailbox, { messages: true });
    } catch (err) {
      throw new Error(`IMAP mailbox "${mailbox}" cannot be read (${(err as Error).message}) — check IMAP_MAILBOX`);
    } finally {
      await client.logout().catch(() => client.close());
    }
  };
}

/** One ListIPSets (Limit 1) per region and scope of the targets: credentials, endpoint and permission. */
export function wafCheck(
  targets: WorkerConfig['targets'],
  wafClient: (region: string) => Pick<WAFV2Client, 'send'>,
): Check {
  const places = [...new Map(targets.map((t) => [`${t.region}/${t.scope}`, t])).values()];
  return async () => {
    const problems: string[] = [];
    for (const target of places) {
      try {
        await wafClient(target.region).send(new ListIPSetsCommand({ Scope: target.scope, Limit: 1 }));
      } catch (err) {
        problems.push(
          `AWS WAF (${target.scope}) in ${target.region} did not answer (${(err as Error).name}: ${(err as Error).message}) — check AWS credentials, AWS_REGION and AWS_ENDPOINT_URL_WAFV2`,
        );
      }
    }
    if (problems.length > 0) throw new Error(problems.join('; '));
  };
}
