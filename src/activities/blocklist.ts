/** Hands a sweep's candidates to the blocklist workflow: workflows cannot send Updates, activities can. */
import type { Client } from '@temporalio/client';
import { submitBlock } from '../blocklist-client';
import type { BlockPolicy, BlockRequest, BlockResult, TargetRef } from '../shared/types';

export interface BlocklistDeps {
  temporal: Client;
  taskQueue: string;
  /** Used only when this call has to start the target's blocklist; a running one keeps its own. */
  policy: BlockPolicy;
}

export function createBlocklistActivities(deps: BlocklistDeps) {
  /** Idempotent: the request id is the Update id, and the workflow answers a repeated id from memory. */
  async function recordBlocks(input: { target: TargetRef; request: BlockRequest }): Promise<BlockResult> {
    return submitBlock(deps.temporal, deps.taskQueue, input.target, deps.policy, input.request);
  }
  return { recordBlocks };
}
