/** `mail2waf run`: start one sweep now, optionally wait for its result. */
import type { Command } from 'commander';
import { SWEEP_WORKFLOW_PREFIX } from '../shared/constants';
import type { SweepInput, SweepResult } from '../shared/types';
import type { mailboxSweepWorkflow } from '../workflows/sweep';
import { sweepInputOf } from '../sweep-input';
import type { CliContext } from './context';
import type { Printer } from './output';

export function sweepInput(ctx: CliContext, opts: { dryRun?: boolean; mailbox?: string }): SweepInput {
  return sweepInputOf(ctx.config(), opts);
}

export function formatSweep(r: SweepResult): string {
  const b = r.block ?? { added: [], alreadyPresent: [], refused: [], synced: true };
  const lines = [
    `sweep ${r.sweepId}${r.dryRun ? ' (dry run)' : ''}: ${r.messages.length} message(s)`,
    `  ${r.dryRun ? 'would block' : 'blocked'}: ${b.added.join(', ') || 'none'}`,
    `  already blocked: ${b.alreadyPresent.join(', ') || 'none'}`,
    ...b.refused.map((x) => `  refused ${x.value}: ${x.code} — ${x.reason}`),
    ...(r.approval && r.approval.status !== 'not-needed'
      ? [`  approval: ${r.approval.status} (${r.approval.heldBecause?.reason})`]
      : []),
    ...(r.notBlocked?.length ? [`  not blocked: ${r.notBlocked.length} address(es) held back`] : []),
    ...r.messages
      .filter((m) => m.status === 'quarantined')
      .map((m) => `  quarantined uid ${m.uid}: ${m.reasonCode} — ${m.reason}`),
    ...(r.held ?? []).map(
      (h) => `  held uid ${h.uids.join(', ')} for approval (${h.kind}): mail2waf approve|reject ${h.approvalId}`,
    ),
    r.reportMessageId ? `  report ${r.reportMessageId} sent to ${r.reportSentTo}` : '  no report (nothing to report)',
  ];
  return lines.join('\n');
}

export function registerSweep(program: Command, ctx: CliContext, printer: () => Printer) {
  program
    .command('run')
    .description('start a sweep of the advisory mailbox now')
    .option('--wait', 'wait for the sweep to finish and print its result')
    .option('--dry-run', 'analyse and report without touching AWS WAF or moving mail')
    .option('--mailbox <name>', 'mailbox to sweep (default IMAP_MAILBOX)')
    .action(async (opts: { wait?: boolean; dryRun?: boolean; mailbox?: string }) => {
      const client = await ctx.client();
      const workflowId = `${SWEEP_WORKFLOW_PREFIX}-manual-${new Date().toISOString().replace(/[:.]/g, '-')}`;
      const handle = await client.workflow.start<typeof mailboxSweepWorkflow>('mailboxSweepWorkflow', {
        workflowId,
        taskQueue: ctx.config().taskQueue,
        args: [sweepInput(ctx, opts)],
        staticSummary: `sweep of mailbox ${opts.mailbox ?? ctx.config().mailbox}${opts.dryRun ? ' (dry run)' : ''}: mail2waf run by ${ctx.actor()}`,
      });
      if (!opts.wait) {
        printer().result({ workflowId, runId: handle.firstExecutionRunId }, (r) => `started sweep ${r.workflowId}`);
        return;
      }
      const result: SweepResult = await handle.result();
      printer().result(result, formatSweep);
    });
}
