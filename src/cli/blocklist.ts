/** `mail2waf list | status | block | unblock`: the blocklist workflow of a target, seen and changed by hand. */
import { WorkflowNotFoundError, WorkflowUpdateFailedError } from '@temporalio/client';
import { randomUUID } from 'node:crypto';
import type { Command } from 'commander';
import { submitBlock, submitUnblock } from '../blocklist-client';
import { canonicalOrRefusal } from '../policy/blocklist';
import { blocklistWorkflowId } from '../shared/constants';
import { listQuery, statusQuery } from '../shared/messages';
import type { BlockResult, BlocklistEntry, BlocklistStatus, UnblockResult } from '../shared/types';
import type { CliContext } from './context';
import { table, UserError, type Printer } from './output';

function friendly(err: unknown, target: string): never {
  if (err instanceof WorkflowNotFoundError) {
    throw new UserError(`target "${target}" has no blocklist yet — run a sweep or \`mail2waf block\` first`);
  }
  if (err instanceof WorkflowUpdateFailedError) {
    throw new UserError(
      `the blocklist refused the request: ${(err.cause as Error | undefined)?.message ?? err.message}`,
    );
  }
  throw err;
}

function requireValue(raw: string): string {
  const canon = canonicalOrRefusal(raw);
  if ('code' in canon)
    throw new UserError(`${canon.reason} — give an address like 203.0.113.7 or a CIDR like 198.51.100.0/24`);
  return canon.value;
}

function requireReason(reason: string | undefined): string {
  if (!reason?.trim()) throw new UserError('--reason is required: say why, it is kept with the entry');
  return reason.trim();
}

function formatBlock(r: BlockResult): string {
  return [
    ...r.added.map((v) => `blocked ${v}`),
    ...r.alreadyPresent.map((v) => `already blocked ${v}`),
    ...r.refused.map((x) => `refused ${x.value}: ${x.code} — ${x.reason}`),
    r.synced ? 'AWS WAF is up to date.' : 'Recorded; the write to AWS WAF is still pending (see mail2waf status).',
  ].join('\n');
}

function formatUnblock(r: UnblockResult): string {
  return [
    ...r.removed.map((v) => `unblocked ${v}`),
    ...r.notFound.map((v) => `${v} is not on mail2waf's blocklist (mail2waf only removes what it added)`),
    ...r.refused.map((x) => `refused ${x.value}: ${x.reason}`),
    r.synced ? 'AWS WAF is up to date.' : 'Recorded; the write to AWS WAF is still pending (see mail2waf status).',
  ].join('\n');
}

export function registerBlocklist(program: Command, ctx: CliContext, printer: () => Printer) {
  program
    .command('list')
    .description('list the entries mail2waf keeps in the target IP sets')
    .action(async () => {
      const target = ctx.config().target;
      const client = await ctx.client();
      const entries = await client.workflow
        .getHandle(blocklistWorkflowId(target.name))
        .query(listQuery)
        .catch((e) => friendly(e, target.name));
      printer().result(entries, (list: BlocklistEntry[]) =>
        list.length === 0
          ? 'no entries'
          : table([
              ['VALUE', 'ADDED', 'SOURCES', 'FIRST SOURCE'],
              ...list.map((e) => [
                e.value,
                e.addedAt,
                String(e.sources.length),
                `${e.sources[0]?.kind === 'manual' ? 'manual by ' : ''}${e.sources[0]?.ref ?? ''}`,
              ]),
            ]),
      );
    });

  program
    .command('status')
    .description('show the blocklist state: entry counts, pending writes, last sync, foreign entries')
    .action(async () => {
      const target = ctx.config().target;
      const client = await ctx.client();
      const status = await client.workflow
        .getHandle(blocklistWorkflowId(target.name))
        .query(statusQuery)
        .catch((e) => friendly(e, target.name));
      printer().result(status, (s: BlocklistStatus) =>
        [
          `target ${s.target.name}: ${s.target.ipSetV4Name} + ${s.target.ipSetV6Name} (${s.target.scope}, ${s.target.region})`,
          `entries: ${s.entries.v4} IPv4, ${s.entries.v6} IPv6; pending changes: ${s.pendingChanges}`,
          `last sync: ${s.lastSync ? s.lastSync.at : 'never'}${s.lastSyncError ? `; last error: ${s.lastSyncError}` : ''}`,
          `foreign entries (not ours, never removed): ${[...s.foreign.v4, ...s.foreign.v6].join(', ') || 'none'}`,
          `workflow history: ${s.historyLength} events`,
        ].join('\n'),
      );
    });

  program
    .command('block <value>')
    .description('block an address or CIDR by hand (same safety checks as a sweep)')
    .option('--reason <text>', 'why (required; kept with the entry)')
    .action(async (value: string, opts: { reason?: string }) => {
      const canonical = requireValue(value);
      const reason = requireReason(opts.reason);
      const c = ctx.config();
      const client = await ctx.client();
      const result = await submitBlock(client, c.taskQueue, c.target, c.policy, {
        requestId: `cli-${randomUUID()}`,
        candidates: [
          {
            value: canonical,
            source: { kind: 'manual', ref: ctx.actor(), detail: reason, at: new Date().toISOString() },
          },
        ],
      }).catch((e) => friendly(e, c.target.name));
      printer().result(result, formatBlock, result.refused.length > 0);
    });

  program
    .command('unblock <value>')
    .description('remove an address or CIDR that mail2waf blocked')
    .option('--reason <text>', 'why (required; kept in the history)')
    .action(async (value: string, opts: { reason?: string }) => {
      const canonical = requireValue(value);
      const reason = requireReason(opts.reason);
      const target = ctx.config().target;
      const client = await ctx.client();
      const result = await submitUnblock(client, target, { value: canonical, actor: ctx.actor(), reason }).catch((e) =>
        friendly(e, target.name),
      );
      printer().result(result, formatUnblock, result.removed.length === 0);
    });
}
