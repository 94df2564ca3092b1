/**
 * Worker Deployment Versioning (WORKER_DEPLOYMENT_NAME): each worker build is a version of one deployment; a sweep
 * is pinned to the version that started it, the long-lived workflows (blocklist, approvals, alerts) move to the
 * current version at their next task. Here: reading a deployment, making a version current or ramping, and the
 * worker's own promotion at start. The routing itself is Temporal's; we only ask and tell.
 */
import { createHash } from 'node:crypto';
import type { Client } from '@temporalio/client';
import { temporal } from '@temporalio/proto';

type DeploymentInfo = temporal.api.deployment.v1.IWorkerDeploymentInfo;
const { WorkerDeploymentVersionStatus, VersionDrainageStatus, RoutingConfigUpdateState } = temporal.api.enums.v1;

/** WORKER_PROMOTE: when a starting worker makes its own build current. */
export type PromoteMode = 'first' | 'always' | 'never';

export interface VersioningConfig {
  deploymentName: string;
  /** WORKER_BUILD_ID, else derived from the workflow code (buildIdOf). */
  buildId?: string;
  promote: PromoteMode;
}

export interface VersionSummary {
  buildId: string;
  /** current, ramping, draining, drained or inactive (Temporal's version status, lower-case). */
  status: string;
  /** Whether pinned runs still use it: draining (yes), drained (no), or unknown (the server has not checked yet). */
  drainage?: 'draining' | 'drained';
  createTime?: string;
}

export interface DeploymentSummary {
  name: string;
  current?: string;
  ramping?: { buildId: string; percentage: number };
  versions: VersionSummary[];
  /** A routing change (promote, ramp) is still reaching the task queues: some tasks may go the old way. */
  propagating?: true;
}

/**
 * A build id that names the workflow code: the same bundle gives the same id on every replica, a changed one a
 * new id, so a rollout of new workflow code is always a new version (activities alone do not need one).
 */
export function buildIdOf(packageVersion: string, workflowCode: string): string {
  return `${packageVersion}-${createHash('sha256').update(workflowCode).digest('hex').slice(0, 12)}`;
}

function lowerEnum(name: string | undefined, prefix: string): string {
  return (name ?? 'unspecified').replace(prefix, '').toLowerCase();
}

function isoOf(t: { seconds?: unknown; nanos?: number | null } | null | undefined): string | undefined {
  if (!t?.seconds) return undefined;
  return new Date(Number(t.seconds) * 1000 + Math.floor((t.nanos ?? 0) / 1e6)).toISOString();
}

/** The deployment as an operator reads it (pure: a DescribeWorkerDeployment answer in, a summary out). */
export function summarizeDeployment(info: DeploymentInfo): DeploymentSummary {
  const routing = info.routingConfig;
  const current = routing?.currentDeploymentVersion?.buildId || undefined;
  const ramping = routing?.rampingDeploymentVersion?.buildId || undefined;
  const versions = (info.versionSummaries ?? []).map((v): VersionSummary => {
    const drainage = v.drainageInfo?.status ?? v.drainageStatus;
    const created = isoOf(v.createTime);
    return {
      buildId: v.deploymentVersion?.buildId ?? '',
      status: lowerEnum(WorkerDeploymentVersionStatus[v.status ?? 0], 'WORKER_DEPLOYMENT_VERSION_STATUS_'),
      ...(drainage === VersionDrainageStatus.VERSION_DRAINAGE_STATUS_DRAINING ? { drainage: 'draining' as const } : {}),
      ...(drainage === VersionDrainageStatus.VERSION_DRAINAGE_STATUS_DRAINED ? { drainage: 'drained' as const } : {}),
      ...(created ? { createTime: created } : {}),
    };
  });
  return {
    name: info.name ?? '',
    ...(current ? { current } : {}),
    ...(ramping ? { ramping: { buildId: ramping, percentage: routing?.rampingVersionPercentage ?? 0 } } : {}),
    versions: versions.sort((a, b) => (a.createTime ?? '').localeCompare(b.createTime ?? '')),
    ...(info.routingConfigUpdateState === RoutingConfigUpdateState.ROUTING_CONFIG_UPDATE_STATE_IN_PROGRESS
      ? { propagating: true as const }
      : {}),
  };
}

/** gRPC NOT_FOUND: the deployment does not exist yet (no versioned worker of it has polled). */
function isNotFound(err: unknown): boolean {
  return (err as { code?: number }).code === 5;
}

export interface Deployment {
  summary: DeploymentSummary;
  conflictToken: Uint8Array;
}

/** Where a deployment is asked about: a Client, or a bare connection and its namespace (doctor). */
export interface DeploymentService {
  workflowService: Client['workflowService'];
  namespace: string;
}

const serviceOf = (client: Client): DeploymentService => ({
  workflowService: client.workflowService,
  namespace: client.options.namespace,
});

/** The deployment, or undefined when no worker of it has polled yet. */
export async function describeDeployment(
  service: Client | DeploymentService,
  name: string,
): Promise<Deployment | undefined> {
  const { workflowService, namespace } = 'options' in service ? serviceOf(service) : service;
  try {
    const r = await workflowService.describeWorkerDeployment({ namespace, deploymentName: name });
    return { summary: summarizeDeployment(r.workerDeploymentInfo ?? {}), conflictToken: r.conflictToken };
  } catch (err) {
    if (isNotFound(err)) return undefined;
    throw err;
  }
}

/**
 * Makes a build the current version: new sweeps start on it, and the blocklist, approvals and alerts move to it at
 * their next workflow task. The build must have a polling worker (Temporal refuses otherwise: a typo in a build id
 * would stop all work). The conflict token makes two concurrent promotions fail instead of racing.
 */
export async function setCurrentVersion(client: Client, name: string, buildId: string, conflictToken?: Uint8Array) {
  await client.workflowService.setWorkerDeploymentCurrentVersion({
    namespace: client.options.namespace,
    deploymentName: name,
    buildId,
    identity: client.options.identity,
    ...(conflictToken ? { conflictToken } : {}),
  });
}

/**
 * Waits until a routing change has reached every task queue of the deployment (Temporal applies it
 * asynchronously): until then a task may still go to the build that was current. False when it did not settle.
 */
export async function waitForRouting(client: Client, name: string, timeoutMs = 30_000): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const d = await describeDeployment(client, name);
    if (!d?.summary.propagating) return true;
    if (Date.now() > deadline) return false;
    await sleep(250);
  }
}

/** Sends `percentage` % of new sweeps to a build (0 < p < 100); 0 stops the ramp. */
export async function setRampingVersion(client: Client, name: string, buildId: string, percentage: number) {
  await client.workflowService.setWorkerDeploymentRampingVersion({
    namespace: client.options.namespace,
    deploymentName: name,
    buildId: percentage > 0 ? buildId : '',
    percentage,
    identity: client.options.identity,
  });
}

/** What promoteOnStart decided; the worker logs it. */
export type PromoteOutcome =
  | { action: 'promoted'; previous?: string }
  | { action: 'kept'; current: string }
  | { action: 'already-current' }
  | { action: 'skipped' };

/** The promotion rule (pure): `first` only fills an empty slot, `always` takes over, `never` leaves it alone. */
export function promotionFor(mode: PromoteMode, buildId: string, current: string | undefined): PromoteOutcome {
  if (current === buildId) return { action: 'already-current' };
  if (mode === 'never') return { action: 'skipped' };
  if (mode === 'first' && current !== undefined) return { action: 'kept', current };
  return { action: 'promoted', ...(current ? { previous: current } : {}) };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * At worker start: once Temporal knows this build (it registers a version when the worker first polls), make it
 * current if WORKER_PROMOTE says so. Without a current version nothing runs on a versioned task queue, so `first`
 * (the default) bootstraps a new deployment and never takes over from a running one: rollouts are `mail2waf
 * deployment promote`.
 */
export async function promoteOnStart(
  client: Client,
  v: { deploymentName: string; buildId: string; promote: PromoteMode },
  opts: { timeoutMs?: number; pollMs?: number; stopped?: () => boolean } = {},
): Promise<PromoteOutcome> {
  const deadline = Date.now() + (opts.timeoutMs ?? 60_000);
  for (;;) {
    const d = await describeDeployment(client, v.deploymentName);
    const known = d?.summary.versions.some((x) => x.buildId === v.buildId);
    if (d && known) {
      const outcome = promotionFor(v.promote, v.buildId, d.summary.current);
      if (outcome.action !== 'promoted') return outcome;
      try {
        await setCurrentVersion(client, v.deploymentName, v.buildId, d.conflictToken);
        await waitForRouting(client, v.deploymentName);
        return outcome;
      } catch (err) {
        // Another replica promoted first (conflict token stale): read again and decide again.
        if ((err as { code?: number }).code !== 9 && (err as { code?: number }).code !== 10) throw err;
      }
    }
    if (Date.now() > deadline || opts.stopped?.()) {
      throw new Error(
        `build ${v.buildId} did not appear in worker deployment ${v.deploymentName} within ` +
          `${Math.round((opts.timeoutMs ?? 60_000) / 1000)} s — is Worker Deployment Versioning enabled on the Temporal server?`,
      );
    }
    await sleep(opts.pollMs ?? 500);
  }
}
