/**
 * One sweep of the advisory mailbox: list → analyse each message → record blocks in the blocklist workflow →
 * one report → move the messages out of the inbox. The move is last on purpose: a crash anywhere before it
 * resumes this workflow, and a message leaves the inbox only after its addresses are durably recorded.
 */
import { proxyActivities, workflowInfo } from '@temporalio/workflow';
import type { Activities } from '../activities';
import { applyBlock, emptyBlocklistState } from '../policy/blocklist';
import type {
  BlockCandidate,
  BlockResult,
  MessageAnalysis,
  SweepInput,
  SweepMessageOutcome,
  SweepResult,
} from '../shared/types';

const imap = proxyActivities<Activities>({
  startToCloseTimeout: '2 minutes',
  retry: { initialInterval: '2 seconds', backoffCoefficient: 2, maximumInterval: '1 minute', maximumAttempts: 10 },
});

// recordBlocks waits for the blocklist workflow to write WAF (up to its own SYNC_WAIT), so it gets longer.
const blocklist = proxyActivities<Activities>({
  startToCloseTimeout: '5 minutes',
  retry: { initialInterval: '2 seconds', backoffCoefficient: 2, maximumInterval: '1 minute', maximumAttempts: 20 },
});

const smtp = proxyActivities<Activities>({
  startToCloseTimeout: '1 minute',
  retry: { initialInterval: '5 seconds', backoffCoefficient: 2, maximumInterval: '2 minutes', maximumAttempts: 10 },
});

/** Messages analysed at once: enough to hide IMAP latency, few enough to be gentle with the mail server. */
const ANALYZE_CONCURRENCY = 4;
/** Addresses listed per message in the sweep result (the blocklist has them all); keeps the result small. */
const OUTCOME_INDICATORS = 50;
/** Candidates per recordBlocks call, so that no single payload grows large. */
const BLOCK_CHUNK = 500;

export async function mailboxSweepWorkflow(input: SweepInput): Promise<SweepResult> {
  const info = workflowInfo();
  const sweepId = info.workflowId;
  const dryRun = input.dryRun ?? false;

  const pending = await imap.listPending({ mailbox: input.mailbox, limit: input.maxMessages ?? 50 });

  const analyses: MessageAnalysis[] = [];
  for (let i = 0; i < pending.uids.length; i += ANALYZE_CONCURRENCY) {
    const batch = pending.uids.slice(i, i + ANALYZE_CONCURRENCY);
    analyses.push(
      ...(await Promise.all(
        batch.map((uid) => imap.analyzeMessage({ mailbox: input.mailbox, uidValidity: pending.uidValidity, uid })),
      )),
    );
  }

  const now = new Date().toISOString();
  const candidates: BlockCandidate[] = analyses
    .filter((a) => a.status === 'ok')
    .flatMap((a) =>
      a.indicators.map((ind) => ({
        value: ind.value,
        source: {
          kind: 'message' as const,
          ref: a.messageId ?? `${a.ref.mailbox}/${a.ref.uidValidity}/${a.ref.uid}`,
          subject: a.subject,
          from: a.from,
          detail: ind.where.join('; '),
          at: now,
        },
      })),
    );

  let block: BlockResult | undefined;
  if (candidates.length > 0) {
    if (dryRun) {
      // Same rulebook as the blocklist, applied to an empty list: shows what would be added or refused.
      block = applyBlock(emptyBlocklistState(), { requestId: 'dry-run', candidates }, now);
    } else {
      block = { added: [], alreadyPresent: [], refused: [], synced: true };
      for (let i = 0; i < candidates.length; i += BLOCK_CHUNK) {
        const part = await blocklist.recordBlocks({
          target: input.target,
          request: {
            requestId: `${sweepId}:${info.runId}:${i / BLOCK_CHUNK}`,
            candidates: candidates.slice(i, i + BLOCK_CHUNK),
          },
        });
        block.added.push(...part.added);
        block.alreadyPresent.push(...part.alreadyPresent);
        block.refused.push(...part.refused);
        block.synced &&= part.synced;
      }
    }
  }

  const messages: SweepMessageOutcome[] = analyses.map((a) => ({
    uid: a.ref.uid,
    messageId: a.messageId,
    subject: a.subject,
    from: a.from,
    status: a.status === 'ok' ? 'processed' : a.status === 'gone' ? 'gone' : 'quarantined',
    reasonCode: a.reasonCode,
    reason: a.reason,
    indicators: a.indicators.slice(0, OUTCOME_INDICATORS).map((i) => i.value),
    indicatorCount: a.indicators.length,
    notes: a.notes,
  }));

  const result: SweepResult = { sweepId, mailbox: input.mailbox, dryRun, messages, block };
  if (messages.length === 0) return result;

  const sent = await smtp.sendReport({ sweepId, runId: info.runId, result });
  result.reportMessageId = sent.messageId;
  result.reportSentTo = sent.to.join(', ');

  if (!dryRun) {
    await imap.moveMessages({
      mailbox: input.mailbox,
      uidValidity: pending.uidValidity,
      moves: messages
        .filter((m) => m.status !== 'gone')
        .map((m) => ({
          uid: m.uid,
          to: m.status === 'processed' ? ('processed' as const) : ('quarantine' as const),
          reasonCode: m.reasonCode,
        })),
    });
  }
  return result;
}
