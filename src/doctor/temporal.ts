/** Temporal: can we connect with the configured settings (envconfig: address, TLS, API key), and does the namespace exist? */
import { Connection } from '@temporalio/client';
import { temporalSettings } from '../temporal-connection';
import { error, fail, messageOf, ok, skipped, type CheckResult } from './types';
import { describeDeployment, type DeploymentSummary } from '../versioning';

type Env = Record<string, string | undefined>;

/** gRPC status codes that mean "answered, and said no" rather than "did not answer". */
const GRPC_NOT_FOUND = 5;
const GRPC_PERMISSION_DENIED = 7;
const GRPC_UNAUTHENTICATED = 16;

export async function checkTemporal(env: Env, timeoutMs = 5_000): Promise<CheckResult[]> {
  let settings: ReturnType<typeof temporalSettings>;
  try {
    settings = temporalSettings(env);
  } catch (err) {
    return [
      fail(
        'temporal.connect',
        `the Temporal settings cannot be read (${messageOf(err)})`,
        'check TEMPORAL_* and the Temporal profile file',
      ),
      skipped('temporal.namespace', 'no Temporal settings'),
    ];
  }
  const { connectionOptions, namespace } = settings;
  const address = connectionOptions.address ?? '127.0.0.1:7233';
  let connection: Connection;
  try {
    // connect() already calls GetSystemInfo: it answers only when the server is there and lets us in.
    connection = await Connection.connect({ ...connectionOptions, connectTimeout: timeoutMs });
  } catch (err) {
    const code = (err as { code?: number }).code;
    if (code === GRPC_UNAUTHENTICATED || code === GRPC_PERMISSION_DENIED) {
      return [
        fail(
          'temporal.connect',
          `Temporal at ${address} refused us (${messageOf(err)})`,
          'check TEMPORAL_API_KEY or the TLS client certificate (TEMPORAL_TLS_*)',
        ),
        skipped('temporal.namespace', 'not connected to Temporal'),
      ];
    }
    return [
      error(
        'temporal.connect',
        `cannot reach Temporal at ${address} (${messageOf(err)})`,
        'start it (npm run stack:up locally) or check TEMPORAL_ADDRESS and TEMPORAL_TLS',
      ),
      skipped('temporal.namespace', 'not connected to Temporal'),
    ];
  }
  const results = [ok('temporal.connect', `connected to ${address}`)];
  try {
    const d = await connection.workflowService.describeNamespace({ namespace });
    const retention = d.config?.workflowExecutionRetentionTtl?.seconds;
    results.push(
      ok(
        'temporal.namespace',
        `namespace ${namespace} exists${retention ? ` (retention ${Number(retention) / 86_400}d)` : ''}`,
      ),
    );
  } catch (err) {
    const code = (err as { code?: number }).code;
    if (code === GRPC_NOT_FOUND) {
      results.push(
        fail(
          'temporal.namespace',
          `namespace ${namespace} does not exist at ${address}`,
          `create it (temporal operator namespace create ${namespace}) or set TEMPORAL_NAMESPACE`,
        ),
      );
    } else if (code === GRPC_PERMISSION_DENIED || code === GRPC_UNAUTHENTICATED) {
      results.push(
        fail(
          'temporal.namespace',
          `not allowed to use namespace ${namespace} (${messageOf(err)})`,
          'grant the API key or certificate access to the namespace, or set TEMPORAL_NAMESPACE',
        ),
      );
    } else {
      results.push(
        error(
          'temporal.namespace',
          `DescribeNamespace ${namespace} failed (${messageOf(err)})`,
          'try again; check the Temporal server',
        ),
      );
    }
  }
  try {
    const name = env.WORKER_DEPLOYMENT_NAME?.trim();
    if (name) results.push(await checkDeployment(connection, namespace, name, env.WORKER_PROMOTE?.trim() || 'first'));
  } finally {
    await connection.close().catch(() => undefined);
  }
  return results;
}

/** With WORKER_DEPLOYMENT_NAME: is a build current? Without one, nothing runs on a versioned task queue. */
async function checkDeployment(
  connection: Connection,
  namespace: string,
  name: string,
  promote: string,
): Promise<CheckResult> {
  try {
    const d = await describeDeployment({ workflowService: connection.workflowService, namespace }, name);
    return deploymentCheck(name, d?.summary, promote);
  } catch (err) {
    return error('temporal.deployment', `DescribeWorkerDeployment ${name} failed (${messageOf(err)})`, 'try again');
  }
}

/** The verdict on a deployment (pure): a current build is fine; none is fine only if the first worker will promote. */
export function deploymentCheck(name: string, d: DeploymentSummary | undefined, promote: string): CheckResult {
  const check = 'temporal.deployment';
  if (d?.current) {
    const old = d.versions.filter((v) => v.buildId !== d.current && v.status === 'draining').map((v) => v.buildId);
    return ok(
      check,
      `deployment ${name}: build ${d.current} is current` + (old.length ? `; ${old.join(', ')} still draining` : ''),
    );
  }
  const known = d?.versions.map((v) => v.buildId) ?? [];
  if (known.length === 0 && promote !== 'never') {
    return ok(check, `deployment ${name} has no worker yet: the first one makes its build current (WORKER_PROMOTE)`);
  }
  return fail(
    check,
    `deployment ${name} has no current build: sweeps and the blocklist wait` +
      (known.length ? ` (builds known: ${known.join(', ')})` : ''),
    known.length
      ? `mail2waf deployment promote ${known[known.length - 1]}`
      : 'start a worker, then mail2waf deployment promote <its build id>',
  );
}
