/**
 * How a workflow moves between worker builds under Worker Deployment Versioning (README, Rolling out a new worker
 * version). Said only to a versioned worker: Temporal refuses a workflow task whose completion names a behaviour
 * when the worker has no deployment version, and mail2waf also runs unversioned (no WORKER_DEPLOYMENT_NAME).
 */
import type { VersioningBehavior, WorkflowDefinitionOptions } from '@temporalio/common';
import { workflowInfo } from '@temporalio/workflow';

export function versionedAs(behavior: VersioningBehavior): () => WorkflowDefinitionOptions {
  // An unversioned worker still reports a build id, but no deployment name.
  return () => (workflowInfo().currentDeploymentVersion?.deploymentName ? { versioningBehavior: behavior } : {});
}
