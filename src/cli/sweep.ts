/** `mail2waf run`: start one sweep now, optionally wait for its result. */
import type { Command } from 'commander';
import { mailboxSweepId, SWEEP_WORKFLOW_PREFIX } from '../shared/constants';
import type { SweepInput, SweepResult } from '../shared/types';
import { sweepInputOf } from '../sweep-input';
import type { CliContext } from './context';
import type { Printer } from './output';
import { lazy } from './lazy';

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

/** Starts the mailbox's sweep under its one id, or finds the one running (started by the watch or the Schedule). */
async function startOrJoin(ctx: CliContext, workflowId: string, input: SweepInput, dryRun: boolean) {
  const s = await lazy.sweepStart().startOrJoinSweep(await ctx.client(), {
    workflowId,
    taskQueue: ctx.config().taskQueue,
    input,
    staticSummary: `sweep of mailbox ${input.mailbox}${dryRun ? ' (dry run)' : ''}: mail2waf run by ${ctx.actor()}`,
  });
  const runId = s.startedRunId ?? (await s.handle.describe()).runId;
  return { ...s, runId };
}

export function registerSweep(program: Command, ctx: CliContext, printer: () => Printer) {
  program
    .command('run')
    .description('start a sweep of the advisory mailbox now (or join the one running)')
    .option('--wait', 'wait for the sweep to finish and print its result')
    .option('--dry-run', 'analyse and report without touching AWS WAF or moving mail')
    .option('--mailbox <name>', 'mailbox to sweep (default IMAP_MAILBOX)')
    .action(async (opts: { wait?: boolean; dryRun?: boolean; mailbox?: string }) => {
      const input = sweepInput(ctx, opts);
      // One id per mailbox, shared with the watch and the Schedule: never two sweeps of a mailbox at once. A dry
      // run changes nothing, so it runs beside them under an id of its own.
      const workflowId = opts.dryRun
        ? `${SWEEP_WORKFLOW_PREFIX}-dry-run-${new Date().toISOString().replace(/[:.]/g, '-')}`
        : mailboxSweepId(ctx.config().scheduleId, input.mailbox);
      let s = await startOrJoin(ctx, workflowId, input, opts.dryRun === true);
      if (!opts.wait) {
        printer().result({ workflowId, runId: s.runId, joined: s.joined }, (r) =>
          r.joined
            ? `a sweep of ${input.mailbox} is running already (${r.workflowId}); mail that came after it started goes to the next one (run --wait waits for it, then sweeps again)`
            : `started sweep ${r.workflowId}`,
        );
        return;
      }
      if (s.joined) {
        // The running sweep may have listed the inbox before the mail this run is for: let it end, then sweep.
        await s.handle.result().catch(() => undefined);
        s = await startOrJoin(ctx, workflowId, input, false);
      }
      const result: SweepResult = await s.handle.result();
      printer().result(result, formatSweep);
    });
}
