/**
 * The demo's second half (scripts/demo.sh starts the stack and the worker first): puts two sample advisories
 * into the inbox, runs one sweep, and prints what was blocked, where the report went and the Web UI URL.
 */
import { imapClient } from '../src/activities/imap';
import { loadWorkerConfig } from '../src/config';
import { connectClient } from '../src/temporal-connection';
import { SWEEP_WORKFLOW_PREFIX } from '../src/shared/constants';
import type { SweepResult } from '../src/shared/types';
import { formatSweep } from '../src/cli/sweep';
import { csvAdvisory, defangedAdvisory } from './sample-advisories';

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
  const workflowId = `${SWEEP_WORKFLOW_PREFIX}-demo-${new Date().toISOString().replace(/[:.]/g, '-')}`;
  const result: SweepResult = await client.workflow.execute('mailboxSweepWorkflow', {
    workflowId,
    taskQueue: config.taskQueue,
    args: [
      {
        target: config.target,
        mailbox: config.mailbox,
        maxMessages: config.maxMessagesPerSweep,
        dryRun: config.dryRun,
        guardrails: config.guardrails,
      },
    ],
  });
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
