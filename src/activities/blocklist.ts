/** Hands a sweep's candidates to the blocklist workflow: workflows cannot send Updates, activities can. */
import type { Client } from '@temporalio/client';
import { submitBlock } from '../blocklist-client';
import type { BlockPolicy, BlockRequest, BlockResult, TargetRef } from '../shared/types';
import type { MetricsDeps } from '../metrics';

export interface BlocklistDeps {
  temporal: Client;
  taskQueue: string;
  /** Used only when this call has to start the target's blocklist; a running one keeps its own. */
  policy: BlockPolicy;
}

export function createBlocklistActivities(deps: BlocklistDeps & MetricsDeps) {
  /** Idempotent: the request id is the Update id, and the workflow answers a repeated id from memory. */
  async function recordBlocks(input: { target: TargetRef; request: BlockRequest }): Promise<BlockResult> {
    const result = await submitBlock(deps.temporal, deps.taskQueue, input.target, deps.policy, input.request);
    // A preview changes nothing; a repeated request id is answered from memory (counted again: rare, after a crash).
    if (!input.request.preview) deps.metrics?.blockAnswered(input.target, result);
    return result;
  }
  return { recordBlocks };
}
