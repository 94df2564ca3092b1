/** Hands a sweep's candidates to the blocklist workflow: workflows cannot send Updates, activities can. */
import type { Client } from '@temporalio/client';
import { submitBlock } from '../blocklist-client';
import type { BlockRequest, BlockResult, TargetRef } from '../shared/types';

export interface BlocklistDeps {
  temporal: Client;
  taskQueue: string;
}

export function createBlocklistActivities(deps: BlocklistDeps) {
  /** Idempotent: the request id is the Update id, and the workflow answers a repeated id from memory. */
  async function recordBlocks(input: { target: TargetRef; request: BlockRequest }): Promise<BlockResult> {
    return submitBlock(deps.temporal, deps.taskQueue, input.target, input.request);
  }
  return { recordBlocks };
}
