/**
 * Node-side access to a target's blocklist workflow, shared by the recordBlocks activity and the CLI.
 * Update-with-start means the first block for a target creates its blocklist workflow; later ones find it.
 */
import { type Client, WithStartWorkflowOperation } from '@temporalio/client';
import { blocklistWorkflowId } from './shared/constants';
import { blockUpdate, configureUpdate, unblockUpdate } from './shared/messages';
import type {
  BlockPolicy,
  BlockRequest,
  BlockResult,
  ConfigureResult,
  TargetRef,
  UnblockRequest,
  UnblockResult,
} from './shared/types';
import type { blocklistWorkflow } from './workflows/blocklist';

/** How to start a target's blocklist if it does not run yet: with the configured safety policy. */
function startOperation(taskQueue: string, target: TargetRef, policy: BlockPolicy) {
  return new WithStartWorkflowOperation<typeof blocklistWorkflow>('blocklistWorkflow', {
    workflowId: blocklistWorkflowId(target.name),
    taskQueue,
    args: [{ target, policy }],
    workflowIdConflictPolicy: 'USE_EXISTING',
    staticSummary: `blocklist of target ${target.name}: the one writer of IP sets ${target.ipSetV4Name} and ${target.ipSetV6Name}`,
  });
}

export async function submitBlock(
  client: Client,
  taskQueue: string,
  target: TargetRef,
  policy: BlockPolicy,
  request: BlockRequest,
): Promise<BlockResult> {
  return client.workflow.executeUpdateWithStart(blockUpdate, {
    args: [request],
    updateId: request.requestId,
    startWorkflowOperation: startOperation(taskQueue, target, policy),
  });
}

/** Installs the configured policy in the target's blocklist (the worker does this at start). */
export async function submitPolicy(
  client: Client,
  taskQueue: string,
  target: TargetRef,
  policy: BlockPolicy,
): Promise<ConfigureResult> {
  return client.workflow.executeUpdateWithStart(configureUpdate, {
    args: [policy],
    startWorkflowOperation: startOperation(taskQueue, target, policy),
  });
}

export async function submitUnblock(
  client: Client,
  target: TargetRef,
  request: UnblockRequest,
): Promise<UnblockResult> {
  return client.workflow.getHandle(blocklistWorkflowId(target.name)).executeUpdate(unblockUpdate, { args: [request] });
}
