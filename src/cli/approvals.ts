/**
 * `mail2waf approvals`, `approve <id>`, `reject <id>`: the held messages and their decisions. Approvals are
 * Updates, so the answer comes at once: accepted, or why not (unknown id, already decided, not waiting).
 * Sweeps of older builds that hold a whole run still take the Signals they were built with.
 */
import type { Client } from '@temporalio/client';
import type { Command } from 'commander';
import type { ApprovalAnswer, ApprovalState, ApprovalSummary } from '../shared/types';
import { oneLine } from '../shared/text';
import type { CliContext } from './context';
import { UserError, type Printer } from './output';
import { withTimeout } from '../with-timeout';
import { lazy } from './lazy';

/** How long one approval may take to answer its summary query before it is listed as unanswered. */
const QUERY_TIMEOUT_MS = 5_000;

/**
 * The approval workflows still waiting on this task queue (visibility query), each with what it would block and
 * from where. Queries run side by side, each bounded: a run whose worker is gone must not stall the list.
 */
export async function listApprovals(client: Client, taskQueue: string): Promise<ApprovalSummary[]> {
  const { approvalSummaryQuery } = lazy.messages();
  const query =
    `WorkflowType = 'approvalWorkflow' AND ExecutionStatus = 'Running' AND ` +
    `TaskQueue = '${taskQueue.replace(/'/g, "\\'")}'`;
  const asked: Promise<ApprovalSummary | undefined>[] = [];
  for await (const wf of client.workflow.list({ query })) {
    const answer = client.workflow.getHandle(wf.workflowId, wf.runId).query(approvalSummaryQuery);
    // Finished between the list and the query, or no worker answers: not listed.
    asked.push(withTimeout(answer, QUERY_TIMEOUT_MS).catch(() => undefined));
  }
  const out = (await Promise.all(asked)).filter((s): s is ApprovalSummary => s?.status === 'waiting');
  return out.sort((a, b) => (a.deadline ?? '').localeCompare(b.deadline ?? ''));
}

export function formatApprovals(list: ApprovalSummary[]): string {
  if (list.length === 0) return 'no message is waiting for approval';
  return list
    .map((s) => {
      const isNew = new Set(s.preview?.added ?? []);
      const senders = [...new Set(s.addresses.map((a) => oneLine(a.from ?? 'unknown sender', 80)))];
      return [
        `${s.approvalId} (${s.heldBecause.code}) — decide before ${s.deadline}`,
        `  from ${senders.join(', ')}; ${oneLine(s.heldBecause.reason, 200)}`,
        ...s.addresses
          .slice(0, 20)
          .map(
            (a) =>
              `  ${a.value}${isNew.has(a.value) ? ' (new)' : ''} — ${oneLine(a.subject ?? '(no subject)', 60)}` +
              `${a.where.length ? ` — ${oneLine(a.where[0]!, 60)}` : ''}`,
          ),
        s.addresses.length > 20 ? `  …and ${s.addresses.length - 20} more (--json lists them all)` : '',
      ]
        .filter(Boolean)
        .join('\n');
    })
    .join('\n\n');
}

function formatAnswer(a: ApprovalAnswer & { note?: string }): string {
  return `${a.approvalId}: ${a.status}${a.decidedBy ? ` by ${a.decidedBy}` : ''}${a.note ? ` — ${a.note}` : ''}`;
}

/** A sweep of an older build holds its whole run and answers only Signals: decide it the way it was built. */
async function decideLegacySweep(
  client: Client,
  run: string,
  verb: 'approve' | 'reject',
  decision: { actor: string; reason?: string },
): Promise<{ answer: ApprovalAnswer & { note?: string }; refused: boolean }> {
  const { approvalQuery, approveSignal, rejectSignal } = lazy.messages();
  const handle = client.workflow.getHandle(run);
  const before: ApprovalState = await handle.query(approvalQuery);
  if (before.status !== 'waiting') {
    return { answer: { approvalId: run, ...before, note: 'not waiting for approval' }, refused: true };
  }
  await handle.signal(verb === 'approve' ? approveSignal : rejectSignal, decision);
  let after = before;
  for (let i = 0; i < 50 && after.status === 'waiting'; i++) {
    await new Promise((r) => setTimeout(r, 200));
    after = await handle.query(approvalQuery);
  }
  return {
    answer: { approvalId: run, status: after.status, decidedBy: after.decidedBy },
    refused: after.status === 'waiting',
  };
}

export function registerApproval(program: Command, ctx: CliContext, printer: () => Printer) {
  program
    .command('approvals')
    .description('list the held messages waiting for approval: addresses, sender, message, deadline')
    .action(async () => {
      printer().result(await listApprovals(await ctx.client(), ctx.readConfig().taskQueue), formatApprovals);
    });
  for (const verb of ['approve', 'reject'] as const) {
    program
      .command(`${verb} <id>`)
      .description(`${verb} a held message (<id> is in the approval e-mail and in \`mail2waf approvals\`)`)
      .option('--reason <text>', 'why (kept in the workflow history and the report)')
      .action(async (id: string, opts: { reason?: string }) => {
        const client = await ctx.client();
        // Loaded here, not at start: registering the commands must stay cheap (src/client.ts).
        const { WorkflowNotFoundError, WorkflowUpdateFailedError } = lazy.temporalClient();
        const { approvalQuery, approveUpdate, rejectUpdate } = lazy.messages();
        const decision = { actor: ctx.actor(), reason: opts.reason };
        const handle = client.workflow.getHandle(id);
        const described = await handle.describe().catch((err) => {
          if (err instanceof WorkflowNotFoundError) {
            throw new UserError(`no approval "${id}" — copy its id from the approval e-mail or \`mail2waf approvals\``);
          }
          throw err;
        });
        if (described.type === 'mailboxSweepWorkflow') {
          const { answer, refused } = await decideLegacySweep(client, id, verb, decision);
          printer().result(answer, formatAnswer, refused);
          return;
        }
        if (described.type !== 'approvalWorkflow')
          throw new UserError(`"${id}" is a ${described.type}, not an approval`);
        if (described.status.name !== 'RUNNING') {
          const state = await handle.query(approvalQuery).catch(() => undefined);
          const answer = { approvalId: id, status: state?.status ?? 'not-needed', decidedBy: state?.decidedBy };
          printer().result({ ...answer, note: 'already decided' }, formatAnswer, true);
          return;
        }
        try {
          const answer = await handle.executeUpdate(verb === 'approve' ? approveUpdate : rejectUpdate, {
            args: [decision],
          });
          printer().result(answer, formatAnswer);
        } catch (err) {
          if (!(err instanceof WorkflowUpdateFailedError)) throw err;
          const state = await handle.query(approvalQuery);
          const note = (err.cause as Error | undefined)?.message ?? err.message;
          printer().result(
            { approvalId: id, status: state.status, decidedBy: state.decidedBy, note },
            formatAnswer,
            true,
          );
        }
      });
  }
}
