/**
 * `mail2waf deployment [status|promote|ramp]`: the worker deployment (WORKER_DEPLOYMENT_NAME) as Temporal routes
 * it: which build is current, which one ramps, and which old builds still carry pinned sweeps (safe to stop once
 * drained). A rollout is: start workers of the new build beside the old ones, `promote` it, stop the old ones when
 * `status` says they are drained.
 */
import type { Command } from 'commander';
import type { CliContext } from './context';
import type { DeploymentSummary } from '../versioning';
import { UserError, table, type Printer } from './output';

/* eslint-disable @typescript-eslint/no-require-imports */
const versioning = () => require('../versioning') as typeof import('../versioning');

function formatDeployment(d: DeploymentSummary & { openPinned: Record<string, number> }): string {
  const lines = [
    `deployment ${d.name}: current build ${d.current ?? '(none: nothing runs until a build is promoted)'}` +
      (d.ramping ? `, ${d.ramping.percentage}% of new sweeps on ${d.ramping.buildId}` : ''),
  ];
  if (d.versions.length === 0) return lines.join('\n');
  const rows = [['BUILD', 'STATUS', 'OPEN PINNED RUNS', 'CREATED']];
  for (const v of d.versions) {
    const open = d.openPinned[v.buildId];
    rows.push([
      v.buildId,
      v.status + (v.status === 'draining' || v.status === 'drained' ? '' : v.drainage ? ` (${v.drainage})` : ''),
      open === undefined ? '?' : String(open),
      v.createTime ?? '',
    ]);
  }
  lines.push(table(rows));
  const stoppable = d.versions.filter((v) => v.buildId !== d.current && v.buildId !== d.ramping?.buildId);
  const safe = stoppable.filter((v) => d.openPinned[v.buildId] === 0).map((v) => v.buildId);
  if (safe.length > 0) lines.push(`no pinned run left on ${safe.join(', ')}: its workers can be stopped`);
  return lines.join('\n');
}

/** Open runs pinned to each version (visibility; Temporal's own drainage status lags by minutes). */
async function openPinnedRuns(ctx: CliContext, name: string, builds: string[]): Promise<Record<string, number>> {
  const client = await ctx.client();
  const out: Record<string, number> = {};
  for (const build of builds) {
    try {
      const query =
        `TemporalWorkerDeploymentVersion = '${name}:${build}' AND ExecutionStatus = 'Running' AND ` +
        `TemporalWorkflowVersioningBehavior = 'Pinned'`;
      out[build] = (await client.workflow.count(query)).count;
    } catch {
      // An older server without these attributes: leave it unknown rather than fail the whole status.
    }
  }
  return out;
}

export function registerDeployment(program: Command, ctx: CliContext, printer: () => Printer) {
  const deploymentName = (opts: { deployment?: string }) => {
    const name = opts.deployment ?? ctx.readConfig().deploymentName;
    if (!name) {
      throw new UserError(
        'no worker deployment: set WORKER_DEPLOYMENT_NAME as the workers have it (or pass --deployment <name>)',
      );
    }
    return name;
  };
  const status = async (opts: { deployment?: string }) => {
    const name = deploymentName(opts);
    const d = await versioning().describeDeployment(await ctx.client(), name);
    if (!d) throw new UserError(`worker deployment ${name} does not exist yet: no versioned worker of it has polled`);
    const openPinned = await openPinnedRuns(
      ctx,
      name,
      d.summary.versions.map((v) => v.buildId),
    );
    return { ...d, summary: { ...d.summary, openPinned } };
  };

  const deployment = program
    .command('deployment')
    .description('the worker deployment: current build, ramping build, old builds still draining')
    .option('--deployment <name>', 'the deployment (default: WORKER_DEPLOYMENT_NAME)');
  deployment
    .command('status', { isDefault: true })
    .description('show the builds of the deployment and which of them still carry pinned sweeps')
    .action(async (_opts: object, cmd: Command) => {
      const { summary } = await status(cmd.optsWithGlobals());
      printer().result(summary, formatDeployment);
    });
  deployment
    .command('promote <build-id>')
    .description('make a build current: new sweeps start on it, the blocklist and approvals move to it')
    .action(async (buildId: string, _opts: object, cmd: Command) => {
      const { summary, conflictToken } = await status(cmd.optsWithGlobals());
      if (!summary.versions.some((v) => v.buildId === buildId)) {
        throw new UserError(
          `build ${buildId} is not in deployment ${summary.name} (known: ${summary.versions.map((v) => v.buildId).join(', ') || 'none'}) — start a worker with WORKER_BUILD_ID=${buildId} first`,
        );
      }
      const previous = summary.current;
      const client = await ctx.client();
      if (previous !== buildId) await versioning().setCurrentVersion(client, summary.name, buildId, conflictToken);
      // Answer once every task queue routes the new way, so that what the operator does next sees the new build.
      const settled = await versioning().waitForRouting(client, summary.name);
      const result = { deployment: summary.name, current: buildId, ...(previous ? { previous } : {}), settled };
      printer().result(result, (r) =>
        previous === buildId
          ? `build ${buildId} already is the current version of ${r.deployment}`
          : `build ${buildId} is now the current version of ${r.deployment}` +
            (r.settled
              ? ''
              : ' (the routing change is still reaching the task queues: check again with mail2waf deployment)') +
            (previous
              ? `; sweeps already running stay on ${previous} — stop its workers when \`mail2waf deployment\` shows no pinned run left`
              : ''),
      );
    });
  deployment
    .command('ramp <build-id> <percent>')
    .description('send a share of new sweeps to a build before promoting it (0 stops the ramp)')
    .action(async (buildId: string, percent: string, _opts: object, cmd: Command) => {
      const p = Number(percent);
      if (!Number.isFinite(p) || p < 0 || p > 100) throw new UserError(`percent must be 0 to 100, not "${percent}"`);
      const { summary } = await status(cmd.optsWithGlobals());
      if (p > 0 && !summary.versions.some((v) => v.buildId === buildId)) {
        throw new UserError(`build ${buildId} is not in deployment ${summary.name} — start a worker of it first`);
      }
      const client = await ctx.client();
      await versioning().setRampingVersion(client, summary.name, buildId, p);
      const settled = await versioning().waitForRouting(client, summary.name);
      printer().result({ deployment: summary.name, ramping: p > 0 ? { buildId, percentage: p } : null, settled }, () =>
        p > 0 ? `${p}% of new sweeps go to build ${buildId}` : `no build ramps in ${summary.name} any more`,
      );
    });
}
