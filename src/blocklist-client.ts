/**
 * Node-side access to a target's blocklist workflow, shared by the recordBlocks activity and the CLI.
 * Update-with-start means the first block for a target creates its blocklist workflow; later ones find it.
 */
import { type Client, WithStartWorkflowOperation } from '@temporalio/client';
import { blocklistWorkflowId } from './shared/constants';
import { blockUpdate, unblockUpdate } from './shared/messages';
import type { BlockRequest, BlockResult, TargetRef, UnblockRequest, UnblockResult } from './shared/types';

export async function submitBlock(
  client: Client,
  taskQueue: string,
  target: TargetRef,
  request: BlockRequest,
): Promise<BlockResult> {
  const startWorkflowOperation = new WithStartWorkflowOperation('blocklistWorkflow', {
    workflowId: blocklistWorkflowId(target.name),
    taskQueue,
    args: [{ target }],
    workflowIdConflictPolicy: 'USE_EXISTING',
  });
  return client.workflow.executeUpdateWithStart(blockUpdate, {
    args: [request],
    updateId: request.requestId,
    startWorkflowOperation,
  });
}

export async function submitUnblock(
  client: Client,
  target: TargetRef,
  request: UnblockRequest,
): Promise<UnblockResult> {
  return client.workflow.getHandle(blocklistWorkflowId(target.name)).executeUpdate(unblockUpdate, { args: [request] });
}
