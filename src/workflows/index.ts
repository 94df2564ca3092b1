/** Workflow bundle entry: every workflow the worker runs is exported here. */
export { blocklistWorkflow } from './blocklist';
export { mailboxSweepWorkflow } from './sweep';
