/**
 * The demo's second half (scripts/demo.sh starts the stack and the worker first): puts two sample advisories
 * into the inbox, waits for the sweep the worker's mailbox watch starts (or runs one), and prints what was blocked, where the report went and the Web UI URL.
 */
import { imapClient } from '../src/activities/imap';
import { loadWorkerConfig } from '../src/config';
import { connectClient } from '../src/temporal-connection';
import { SWEEP_WORKFLOW_PREFIX } from '../src/shared/constants';
import type { Client } from '@temporalio/client';
import type { SweepInput, SweepResult } from '../src/shared/types';
import type { mailboxSweepWorkflow } from '../src/workflows/sweep';
import { watchSweepWorkflowId } from '../src/watch/mailbox-watch';
import { formatSweep } from '../src/cli/sweep';
import { csvAdvisory, defangedAdvisory } from './sample-advisories';

/**
 * The worker's mailbox watch sweeps new mail within seconds (WATCH_MAILBOX, on by default): wait for the watch
 * sweep that handled the demo's messages rather than starting a second sweep of the same mail.
 */
async function watchedSweep(client: Client, workflowId: string, messageIds: string[]) {
  const deadline = Date.now() + 120_000;
  while (Date.now() < deadline) {
    const handle = client.workflow.getHandle<typeof mailboxSweepWorkflow>(workflowId);
    const described = await handle.describe().catch(() => undefined);
    if (described && described.status.name !== 'RUNNING') {
      const result: SweepResult = await handle.result().catch(() => ({}) as SweepResult);
      const seen = new Set((result.messages ?? []).map((m) => m.messageId));
      if (messageIds.every((id) => seen.has(id))) return { workflowId, result };
    }
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error(`the worker's mailbox watch did not sweep the demo's messages within 2 minutes (${workflowId})`);
}

/** Without the watch: one sweep now, as `mail2waf run --wait` starts it. */
async function startedSweep(client: Client, taskQueue: string, input: SweepInput) {
  const workflowId = `${SWEEP_WORKFLOW_PREFIX}-demo-${new Date().toISOString().replace(/[:.]/g, '-')}`;
  const result = await client.workflow.execute<typeof mailboxSweepWorkflow>('mailboxSweepWorkflow', {
    workflowId,
    taskQueue,
    args: [input],
  });
  return { workflowId, result };
}

async function main() {
  const config = loadWorkerConfig();
  const imap = imapClient(config.imap);
  await imap.connect();
  const stamp = Date.now();
  await imap.append(config.mailbox, await csvAdvisory(`<demo-csv-${stamp}@cert.example>`));
  await imap.append(config.mailbox, await defangedAdvisory(`<demo-defanged-${stamp}@cert.example>`));
  await imap.logout();
  console.log(`put 2 sample advisories into ${config.imap.user} ${config.mailbox}`);

  const client = await connectClient();
  const ids = [`<demo-csv-${stamp}@cert.example>`, `<demo-defanged-${stamp}@cert.example>`];
  const { workflowId, result } = config.watch.enabled
    ? await watchedSweep(client, watchSweepWorkflowId(config.scheduleId, config.mailbox), ids)
    : await startedSweep(client, config.taskQueue, { target: config.target, mailbox: config.mailbox });
  await client.connection.close();

  const ui = process.env.TEMPORAL_UI_URL ?? 'http://127.0.0.1:8233';
  console.log(`\n${formatSweep(result)}\n`);
  console.log(
    `IP sets (moto at ${process.env.AWS_ENDPOINT_URL_WAFV2}): ${config.target.ipSetV4Name}, ${config.target.ipSetV6Name}`,
  );
  console.log(
    `report: IMAP ${config.imap.host}:${config.imap.port}, user ${process.env.REPORT_IMAP_USER}, ` +
      `password ${process.env.REPORT_IMAP_PASSWORD} (INBOX), Message-ID ${result.reportMessageId}`,
  );
  console.log(`Web UI: ${ui}/namespaces/default/workflows/${workflowId}`);
  console.log(`blocklist: ${ui}/namespaces/default/workflows/mail2waf-blocklist-${config.target.name}`);
  console.log(
    '\nEverything is still running. Try: ./bin/mail2waf list, ./bin/mail2waf status; stop with: npm run stack:down',
  );
}

main().catch((err) => {
  console.error(`demo failed: ${(err as Error).message}`);
  process.exit(2);
});
