/**
 * `mail2waf find <address|message-id|sender>`: the sweeps and approvals that saw it, newest first, through the
 * Mail2waf* search attributes (a visibility query, so it works on runs long finished). With a search key set,
 * the value is hashed exactly as the worker stored it.
 */
import type { Command } from 'commander';
import type { CliContext } from './context';
import { oneLine } from '../shared/text';
import { lazy } from './lazy';
import { UserError, type Printer } from './output';

export interface FoundRun {
  workflowId: string;
  runId: string;
  type: string;
  status: string;
  startTime: string;
  closeTime?: string;
  outcome?: string;
  held?: boolean;
  /** Which attribute matched: address, message id or sender. */
  matched: string;
}

/** What the user typed, as the worker stores it: a canonical address, else a message id or sender as is. */
function searchTerm(input: string): { attribute: string; value: string; matched: string } {
  const text = input.trim();
  if (text.includes('@')) {
    return text.startsWith('<') || !/^[^<>\s]+@[^<>\s]+$/.test(text)
      ? { attribute: 'Mail2wafMessageIds', value: text, matched: 'message id' }
      : { attribute: 'Mail2wafSenders', value: text, matched: 'sender' };
  }
  // The blocklist's own canonical form (a host as a bare address), which is what sweeps store.
  const canonical = lazy.blocklistPolicy().canonicalOrRefusal(text);
  if (!('code' in canonical)) return { attribute: 'Mail2wafAddresses', value: canonical.value, matched: 'address' };
  throw new UserError(`"${text}" is not an address, a CIDR, a <message-id> or a sender address`);
}

function formatRuns(r: { term: string; runs: FoundRun[] }): string {
  if (r.runs.length === 0) return `no sweep or approval saw ${oneLine(r.term)}`;
  return [
    `${r.runs.length} run(s) saw ${oneLine(r.term)}:`,
    ...r.runs.map(
      (f) =>
        `  ${f.startTime}  ${f.workflowId}  ${f.type === 'approvalWorkflow' ? 'approval' : 'sweep'}  ` +
        `${f.status.toLowerCase()}${f.outcome ? `  ${f.outcome}` : ''}${f.held ? '  (waiting for approval)' : ''}`,
    ),
  ].join('\n');
}

export function registerFind(program: Command, ctx: CliContext, printer: () => Printer) {
  program
    .command('find <term>')
    .description('list the sweeps and approvals that saw an address, a <message-id> or a sender')
    .option('--limit <n>', 'at most this many runs', '50')
    .action(async (term: string, opts: { limit: string }) => {
      const { attribute, value, matched } = searchTerm(term);
      const { searchValue } = lazy.searchKeys();
      const stored = searchValue(value, ctx.readConfig().searchKey);
      const client = await ctx.client();
      const limit = Math.max(1, Number(opts.limit) || 50);
      const runs: FoundRun[] = [];
      const query = `${attribute} = '${stored.replace(/'/g, "\\'")}'`;
      for await (const wf of client.workflow.list({ query })) {
        const outcome = wf.searchAttributes?.Mail2wafOutcome?.[0];
        const held = wf.searchAttributes?.Mail2wafHeld?.[0];
        runs.push({
          workflowId: wf.workflowId,
          runId: wf.runId,
          type: wf.type,
          status: wf.status.name,
          startTime: wf.startTime.toISOString(),
          ...(wf.closeTime ? { closeTime: wf.closeTime.toISOString() } : {}),
          ...(typeof outcome === 'string' ? { outcome } : {}),
          ...(typeof held === 'boolean' ? { held } : {}),
          matched,
        });
        if (runs.length >= limit) break;
      }
      printer().result({ term: value, runs }, formatRuns);
    });
}
