/** Workflow bundle entry: every workflow the worker runs is exported here. */
export { approvalWorkflow } from './approval';
export { blocklistWorkflow } from './blocklist';
export { mailboxSweepWorkflow } from './sweep';
export { scheduledSweepWorkflow } from './sweep-trigger';
export { alertsWorkflow } from './alerts';
