/**
 * Hands block candidates to each target's blocklist workflow in bounded chunks (no payload grows large) and
 * merges the answers. `preview` asks what would happen without changing anything. Used by the sweep and by
 * approval workflows; request ids make every chunk idempotent.
 */
import { proxyActivities } from '@temporalio/workflow';
import type { Activities } from '../activities';
import { emptyBlockResult, mergeBlockResult } from '../policy/sweep-plan';
import type { BlockCandidate, BlockResult, TargetRef } from '../shared/types';

// recordBlocks waits for the blocklist workflow to write WAF (up to its own SYNC_WAIT), so it gets longer.
const blocklist = proxyActivities<Activities>({
  startToCloseTimeout: '5 minutes',
  retry: { initialInterval: '2 seconds', backoffCoefficient: 2, maximumInterval: '1 minute', maximumAttempts: 20 },
});

/** Candidates per recordBlocks call. */
const BLOCK_CHUNK = 500;

/** Every target gets the same candidates; each blocklist judges them under its own policy and capacity. */
export async function submitBlocks(
  targets: TargetRef[],
  candidates: BlockCandidate[],
  requestIdPrefix: string,
  preview: boolean,
): Promise<Record<string, BlockResult>> {
  const blocks: Record<string, BlockResult> = {};
  for (const target of targets) {
    const merged = emptyBlockResult();
    for (let i = 0; i < candidates.length; i += BLOCK_CHUNK) {
      const chunk = candidates.slice(i, i + BLOCK_CHUNK);
      const summary = `${preview ? 'preview' : 'block'} ${chunk.length} address(es) in target ${target.name}`;
      const part = await blocklist.recordBlocks.executeWithOptions({ summary }, [
        {
          target,
          request: {
            requestId: `${requestIdPrefix}${i / BLOCK_CHUNK}`,
            candidates: chunk,
            ...(preview ? { preview: true } : {}),
          },
        },
      ]);
      mergeBlockResult(merged, part);
    }
    blocks[target.name] = merged;
  }
  return blocks;
}
