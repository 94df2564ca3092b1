/**
 * `mail2waf list | status | block | unblock`: the blocklist workflow of a target, seen and changed by hand.
 * The Temporal client, the workflow's message definitions and the safety policy are imported inside the actions
 * (see src/client.ts): registering these commands must not load them.
 */
import { randomUUID } from 'node:crypto';
import type { Command } from 'commander';
import { blocklistWorkflowId } from '../shared/constants';
import { durationMs, durationProblem } from '../shared/duration';
import { oneLine } from '../shared/text';
import type {
  BlockResult,
  BlocklistEntry,
  BlocklistStatus,
  SyncAnswer,
  UnblockResult,
  WhyAnswer,
} from '../shared/types';
import type { CliContext } from './context';
import { table, UserError, type Printer } from './output';
import { lazy } from './lazy';

function friendly(err: unknown, target: string): never {
  const { WorkflowNotFoundError, WorkflowUpdateFailedError } = lazy.temporalClient();
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
  const { canonicalOrRefusal } = lazy.blocklistPolicy();
  const canon = canonicalOrRefusal(raw);
  if ('code' in canon)
    throw new UserError(`${canon.reason} — give an address like 203.0.113.7 or a CIDR like 198.51.100.0/24`);
  return canon.value;
}

function requireReason(reason: string | undefined): string {
  if (!reason?.trim()) throw new UserError('--reason is required: say why, it is kept with the entry');
  return reason.trim();
}

/** `--ttl 7d` → ms; `--ttl permanent` → null; absent → undefined (the policy decides). */
export function parseTtl(text: string | undefined): number | null | undefined {
  if (text === undefined) return undefined;
  if (text === 'permanent') return null;
  const problem = durationProblem('--ttl', text);
  if (problem) throw new UserError(`${problem}; say "permanent" for no end`);
  const ms = durationMs(text);
  if (!ms) throw new UserError(`--ttl "${text}" is not a duration like 12h or 30d, or "permanent"`);
  return ms;
}

/** Human text of the `why` answer (exported for tests). */
export function formatWhy(w: WhyAnswer): string {
  const lines = [`${w.value} is ${w.blocked ? 'BLOCKED' : 'not blocked'} by mail2waf`];
  for (const e of w.entries) {
    lines.push(
      `  entry ${e.value}${e.value === w.value ? '' : ` (contains ${w.value})`}: since ${e.addedAt}, ` +
        `${e.expiresAt ? `until ${e.expiresAt}` : 'permanent'}`,
    );
    // Subjects, senders, message ids and details come from mail: one escaped line each (src/shared/text.ts).
    for (const src of e.sources) {
      lines.push(
        src.kind === 'manual'
          ? `    manual block by ${oneLine(src.ref)} at ${oneLine(src.at)}: ${oneLine(src.detail)}`
          : `    message ${oneLine(src.ref)} from ${oneLine(src.from ?? '?')} "${oneLine(src.subject)}" at ` +
              `${oneLine(src.at)} (${oneLine(src.detail)})`,
      );
    }
  }
  for (const r of w.removed) {
    lines.push(
      `  ${oneLine(r.value)} was unblocked at ${oneLine(r.removedAt)} by ${oneLine(r.actor)}: ${oneLine(r.reason)}`,
    );
  }
  for (const r of w.refused) {
    lines.push(
      `  ${oneLine(r.value)} was refused at ${oneLine(r.at)} (asked by ${oneLine(r.ref)}): ${oneLine(r.code)} — ` +
        oneLine(r.reason, 1000),
    );
  }
  if (w.foreign.length) lines.push(`  also in the IP sets, not ours: ${w.foreign.map((f) => oneLine(f)).join(', ')}`);
  return lines.join('\n');
}

function formatBlock(r: BlockResult): string {
  return [
    ...r.added.map((v) => `blocked ${v}`),
    ...r.alreadyPresent.map((v) => `already blocked ${v}`),
    ...r.refused.map((x) => `refused ${oneLine(x.value)}: ${oneLine(x.code)} — ${oneLine(x.reason, 1000)}`),
    r.synced ? 'AWS WAF is up to date.' : 'Recorded; the write to AWS WAF is still pending (see mail2waf status).',
  ].join('\n');
}

function formatUnblock(r: UnblockResult): string {
  return [
    ...r.removed.map((v) => `unblocked ${v}`),
    ...r.notFound.map((v) => `${v} is not on mail2waf's blocklist (mail2waf only removes what it added)`),
    ...r.refused.map((x) => `refused ${oneLine(x.value)}: ${oneLine(x.reason, 1000)}`),
    r.synced ? 'AWS WAF is up to date.' : 'Recorded; the write to AWS WAF is still pending (see mail2waf status).',
  ].join('\n');
}

export function registerBlocklist(program: Command, ctx: CliContext, printer: () => Printer) {
  program
    .command('list')
    .description('list the entries mail2waf keeps in the target IP sets (a page at a time)')
    .option('--offset <n>', 'skip this many entries (address order)', '0')
    .option('--limit <n>', 'at most this many entries (1 to 1000)', '1000')
    .action(async (opts: { offset: string; limit: string }) => {
      const offset = Number(opts.offset);
      const limit = Number(opts.limit);
      if (!Number.isInteger(offset) || offset < 0 || !Number.isInteger(limit) || limit < 1 || limit > 1000) {
        throw new UserError('--offset must be 0 or more and --limit from 1 to 1000');
      }
      const target = ctx.readConfig().target;
      const client = await ctx.client();
      const { listQuery } = lazy.messages();
      const entries = await client.workflow
        .getHandle(blocklistWorkflowId(target.name))
        .query(listQuery, { offset, limit })
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
                `${e.sources[0]?.kind === 'manual' ? 'manual by ' : ''}${oneLine(e.sources[0]?.ref)}`,
              ]),
            ]),
      );
    });

  program
    .command('status')
    .description('show the blocklist state: entry counts, pending writes, last sync, foreign entries')
    .action(async () => {
      const target = ctx.readConfig().target;
      const client = await ctx.client();
      const { statusQuery } = lazy.messages();
      const status = await client.workflow
        .getHandle(blocklistWorkflowId(target.name))
        .query(statusQuery)
        .catch((e) => friendly(e, target.name));
      printer().result(status, (s: BlocklistStatus) =>
        [
          `target ${s.target.name}: ${s.target.ipSetV4Name} + ${s.target.ipSetV6Name} (${s.target.scope}, ${s.target.region})`,
          `entries: ${s.entries.v4} IPv4, ${s.entries.v6} IPv6; pending changes: ${s.pendingChanges}`,
          `last sync: ${s.lastSync ? s.lastSync.at : 'never'}${s.lastSyncError ? `; last error: ${oneLine(s.lastSyncError, 1000)}` : ''}`,
          `foreign entries (not ours, never removed): ${
            [...s.foreign.v4, ...s.foreign.v6].map((f) => oneLine(f)).join(', ') || 'none'
          }`,
          ...(s.lastSync?.shared && s.lastSync.shared.v4.length + s.lastSync.shared.v6.length > 0
            ? [
                `shared with someone else's entries (kept when ours end): ${[
                  ...s.lastSync.shared.v4,
                  ...s.lastSync.shared.v6,
                ]
                  .map((f) => oneLine(f))
                  .join(', ')}`,
              ]
            : []),
          `workflow history: ${s.historyLength} events`,
        ].join('\n'),
      );
    });

  program
    .command('block <value>')
    .description('block an address or CIDR by hand (same safety checks as a sweep)')
    .option('--reason <text>', 'why (required; kept with the entry)')
    .option('--ttl <duration>', 'how long, e.g. 12h or 30d, or "permanent" (the default for manual blocks)')
    .action(async (value: string, opts: { reason?: string; ttl?: string }) => {
      const canonical = requireValue(value);
      const reason = requireReason(opts.reason);
      const ttlMs = parseTtl(opts.ttl);
      const c = ctx.config();
      const client = await ctx.client();
      const { submitBlock } = lazy.blocklistClient();
      const result = await submitBlock(client, c.taskQueue, c.target, c.policy, {
        requestId: `cli-${randomUUID()}`,
        candidates: [
          {
            value: canonical,
            source: { kind: 'manual', ref: ctx.actor(), detail: reason, at: new Date().toISOString() },
            ...(ttlMs !== undefined ? { ttlMs } : {}),
          },
        ],
      }).catch((e) => friendly(e, c.target.name));
      printer().result(result, formatBlock, result.refused.length > 0);
    });

  program
    .command('why <value>')
    .description('is this address blocked, by which entry, since and until when, because of which messages')
    .action(async (value: string) => {
      const canonical = requireValue(value);
      const target = ctx.readConfig().target;
      const client = await ctx.client();
      const { whyQuery } = lazy.messages();
      const answer = await client.workflow
        .getHandle(blocklistWorkflowId(target.name))
        .query(whyQuery, canonical)
        .catch((e) => friendly(e, target.name));
      printer().result(answer, formatWhy);
    });

  program
    .command('sync')
    .description('re-read the IP sets now, restore entries of ours removed by hand, and report the drift')
    .action(async () => {
      const target = ctx.readConfig().target;
      const client = await ctx.client();
      const { syncUpdate } = lazy.messages();
      const answer = await client.workflow
        .getHandle(blocklistWorkflowId(target.name))
        .executeUpdate(syncUpdate)
        .catch((e) => friendly(e, target.name));
      printer().result(
        answer,
        (a: SyncAnswer) =>
          a.error
            ? `sync failed: ${oneLine(a.error, 1000)}`
            : [
                `synced at ${a.report?.at}`,
                `  IPv4: restored or added ${a.report?.v4.added}, removed ${a.report?.v4.removed}, foreign ${a.report?.v4.foreign}`,
                `  IPv6: restored or added ${a.report?.v6.added}, removed ${a.report?.v6.removed}, foreign ${a.report?.v6.foreign}`,
              ].join('\n'),
        Boolean(answer.error),
      );
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
      const { submitUnblock } = lazy.blocklistClient();
      const result = await submitUnblock(client, target, { value: canonical, actor: ctx.actor(), reason }).catch((e) =>
        friendly(e, target.name),
      );
      printer().result(result, formatUnblock, result.removed.length === 0);
    });
}
