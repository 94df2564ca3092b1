/**
 * The mail2waf worker: reads its settings from the environment, checks that every server it needs answers
 * (so a typo fails at start, not on the first advisory), and runs the workflows and activities.
 */
import { WAFV2Client } from '@aws-sdk/client-wafv2';
import { Client } from '@temporalio/client';
import { bundleWorkflowCode, Runtime, Worker } from '@temporalio/worker';
import { readFileSync } from 'node:fs';
import nodemailer, { type Transporter } from 'nodemailer';
import { createActivities, type Activities } from './activities';
import { createResolver } from './activities/authenticate';
import { smtpTransportOptions } from './activities/report';
import { ConfigError, loadWorkerConfig, secretSettingValues, sweepPolicyOf, type WorkerConfig } from './config';
import { submitPolicy } from './blocklist-client';
import { HealthMonitor, healthRoutes, startHealthServer } from './health';
import { imapCheck, temporalCheck, wafCheck } from './health-checks';
import { connectNative, describeAddress } from './temporal-connection';
import { dataConverterFor } from './codec';
import { startMailboxWatch, type MailboxWatch } from './watch/mailbox-watch';
import { activityMetricsInterceptor, freeLoopbackPort, Metrics, metricsRoute } from './metrics';
import { StructuredLogger, resolveLogFormat, secretsOf } from './logging';
import { buildIdOf, promoteOnStart, type PromoteMode } from './versioning';
import { packageVersion } from './package-version';
import { reportWorkerExit } from './startup-failure';

/**
 * Preflight: the readiness checks /readyz runs later (IMAP login and the inbox, AWS WAF per region and scope),
 * and an SMTP login, once before the worker starts; each failure is an instruction for the operator.
 */
export async function preflight(config: WorkerConfig, wafClient: (region: string) => WAFV2Client, mailer: Transporter) {
  const smtpCheck = async () => {
    try {
      await mailer.verify();
    } catch (err) {
      throw new Error(
        `SMTP server ${config.smtp.host}:${config.smtp.port} unreachable or refused us (${(err as Error).message}) — check SMTP_*`,
      );
    }
  };
  const problems: string[] = [];
  for (const check of [imapCheck(config), smtpCheck, wafCheck(config.targets, wafClient)]) {
    await check().catch((err: Error) => problems.push(err.message));
  }
  if (problems.length > 0) throw new ConfigError(problems);
}

/** Extra time after SHUTDOWN_GRACE for cancelled activities to acknowledge, before `worker.run()` gives up. */
const SHUTDOWN_FORCE_AFTER_GRACE_MS = 5_000;

export interface CreateWorkerOptions {
  skipPreflight?: boolean;
  /** A prebuilt bundle (tests build it once per file); by default lib/workflow-bundle.js, else bundled at start. */
  workflowBundle?: { code: string } | { codePath: string };
  /** Tests only: wraps the activities (to make one fail on purpose, as a poison message would). */
  wrapActivities?: (activities: Activities) => Activities;
  /**
   * After `worker.shutdown()`, how long in-flight activities may run before they are cancelled (SHUTDOWN_GRACE;
   * `main()` passes it). The SDK's default is 0: cancel at once, which in-process tests rely on.
   */
  shutdownGraceMs?: number;
  /** The process's metrics registry (`main()` serves it on /metrics); by default a registry of this worker's own. */
  metrics?: Metrics;
}

export async function createWorker(config: WorkerConfig, opts: CreateWorkerOptions = {}) {
  const wafClients = new Map<string, WAFV2Client>();
  const wafClient = (region: string) => {
    let c = wafClients.get(region);
    if (!c) {
      c = new WAFV2Client({ region, endpoint: config.aws.wafEndpoint, maxAttempts: 3 });
      wafClients.set(region, c);
    }
    return c;
  };
  // TLS required unless the relay is on loopback or SMTP_ALLOW_PLAINTEXT=true (activities/mail-tls.ts).
  const mailer = nodemailer.createTransport(smtpTransportOptions(config.smtp));
  if (!opts.skipPreflight) await preflight(config, wafClient, mailer);

  let native;
  try {
    native = await connectNative();
  } catch (err) {
    throw new ConfigError([
      `Temporal at ${describeAddress()} unreachable (${(err as Error).message}) — start it (npm run stack:up) or set TEMPORAL_ADDRESS`,
    ]);
  }
  // Payloads encrypted when PAYLOAD_KEYS is set, for the worker and the client its activities use alike; the codec
  // runs outside the workflow sandbox, so the bundle is the same either way.
  const dataConverter = dataConverterFor(config.payloadKeys);
  const temporal = new Client({
    connection: native.connection as never,
    namespace: native.namespace,
    ...(dataConverter ? { dataConverter } : {}),
  });
  const metrics =
    opts.metrics ??
    new Metrics({ ipSetCapacity: config.policy.maxEntriesPerSet, tokenSources: tokenSourcesOf(config) });
  // Pending approvals are running approval workflows: Temporal's visibility knows, asked at scrape time.
  metrics.countPendingApprovals(() =>
    temporal.workflow
      .count(`WorkflowType = "approvalWorkflow" AND ExecutionStatus = "Running" AND TaskQueue = "${config.taskQueue}"`)
      .then((c) => c.count),
  );
  const activities = createActivities({
    metrics,
    imap: config.imap,
    processedMailbox: config.processedMailbox,
    quarantineMailbox: config.quarantineMailbox,
    maxMessageBytes: config.maxMessageBytes,
    wafClient,
    temporal,
    taskQueue: config.taskQueue,
    policy: config.policy,
    mailer,
    report: config.report,
    alerts: config.alerts,
    reportTargets: config.targets.map((t) => t.name),
    webUiUrl: process.env.TEMPORAL_UI_URL,
    namespace: native.namespace,
    // Trust gate: trusted senders, our MTA's names, and DNS (a static records file only on local stacks/tests).
    trust: config.trust,
    resolver: createResolver(config.trust),
    searchKey: config.searchKey,
    sweepPolicy: sweepPolicyOf(config),
  });
  const workflows = await workflowCodeFor(config, opts);
  const version = config.versioning && {
    deploymentName: config.versioning.deploymentName,
    buildId: config.versioning.buildId ?? buildIdOf(packageVersion(), workflowCodeText(workflows)),
  };
  const worker = await Worker.create({
    connection: native.connection,
    namespace: native.namespace,
    taskQueue: config.taskQueue,
    ...(dataConverter ? { dataConverter } : {}),
    ...workflows,
    // Each workflow says how it moves between builds (setWorkflowOptions in src/workflows): sweeps are pinned, the
    // long-lived ones upgrade. Anything that does not say is pinned: it never meets code it did not start with.
    ...(version
      ? {
          workerDeploymentOptions: { useWorkerVersioning: true, version, defaultVersioningBehavior: 'PINNED' as const },
        }
      : {}),
    activities: opts.wrapActivities ? opts.wrapActivities(activities) : activities,
    // Runs in the worker process, not the workflow sandbox: failed activity attempts, and the sweeps they end.
    interceptors: { activity: [activityMetricsInterceptor(metrics)] },
    ...(opts.shutdownGraceMs !== undefined
      ? {
          shutdownGraceTime: opts.shutdownGraceMs,
          // An activity that ignores its cancellation must not hold the process for ever: run() rejects then.
          shutdownForceTime: opts.shutdownGraceMs + SHUTDOWN_FORCE_AFTER_GRACE_MS,
        }
      : {}),
  });
  return { worker, connection: native.connection, temporal, wafClient, metrics, version };
}

type WorkflowCode = { workflowBundle: { code: string } | { codePath: string } } | { workflowsPath: string };

/**
 * Where the workflows come from: the caller's bundle, the prebuilt one, else the sources. A versioned worker needs
 * the code itself (its default build id is a hash of it), so then the sources are bundled here rather than by
 * Worker.create.
 */
async function workflowCodeFor(config: WorkerConfig, opts: CreateWorkerOptions): Promise<WorkflowCode> {
  if (opts.workflowBundle) return { workflowBundle: opts.workflowBundle };
  const prebuilt = prebuiltWorkflowBundle();
  if (prebuilt) return prebuilt;
  const workflowsPath = require.resolve('./workflows');
  if (!config.versioning || config.versioning.buildId) return { workflowsPath };
  return { workflowBundle: await bundleWorkflowCode({ workflowsPath, logger: Runtime.instance().logger }) };
}

function workflowCodeText(w: WorkflowCode): string {
  if (!('workflowBundle' in w)) throw new Error('a versioned worker without a build id needs its bundle');
  return 'code' in w.workflowBundle ? w.workflowBundle.code : readFileSync(w.workflowBundle.codePath, 'utf8');
}

/** What the logs must never show: the mail passwords, the payload and search keys, the OAuth2 client secret. */
function logSecrets(config: WorkerConfig): string[] {
  // Every secret setting (config.ts's one list, read as the config read it, *_FILE included), and the passwords
  // as loaded.
  return secretsOf([config.imap.password, config.smtp.password, ...secretSettingValues(process.env)]);
}

/** The OAuth2 token sources of the mail logins (IMAP and SMTP share one when both use OAuth2). */
function tokenSourcesOf(config: WorkerConfig) {
  return [...new Set([config.imap.oauth2, config.smtp.oauth2].filter((s) => s !== undefined))];
}

/** Installs the configured safety policy in every target's blocklist (this worker serves the update). */
async function installPolicy(temporal: Client, config: WorkerConfig, logger: StructuredLogger) {
  const { neverBlock, minPrefixV4, minPrefixV6 } = config.policy;
  for (const target of config.targets) {
    const installed = await submitPolicy(temporal, config.taskQueue, target, config.policy);
    logger.notice(
      `mail2waf worker: policy installed in target ${target.name} (${neverBlock.length} never-block ranges, ` +
        `floor /${minPrefixV4} and /${minPrefixV6})` +
        (installed.unblocked.length
          ? `; unblocked what it now forbids: ${installed.unblocked.map((u) => u.value).join(', ')}`
          : ''),
    );
  }
}

/** WORKER_PROMOTE at start (src/versioning.ts); a failure is logged, the worker keeps serving its version. */
async function promote(
  temporal: Client,
  v: { deploymentName: string; buildId: string; promote: PromoteMode },
  logger: StructuredLogger,
  stopped: () => boolean,
) {
  try {
    const outcome = await promoteOnStart(temporal, v, { stopped });
    const what = {
      promoted: `build ${v.buildId} is now the current version of ${v.deploymentName}`,
      kept: `build ${v.buildId} is ready; the current version stays ${'current' in outcome ? outcome.current : ''} (WORKER_PROMOTE=first) — promote it with: mail2waf deployment promote ${v.buildId}`,
      'already-current': `build ${v.buildId} is the current version of ${v.deploymentName}`,
      skipped: `build ${v.buildId} is ready (WORKER_PROMOTE=never) — promote it with: mail2waf deployment promote ${v.buildId}`,
    }[outcome.action];
    logger.notice(`mail2waf worker: ${what}`, { deployment: v.deploymentName, buildId: v.buildId });
  } catch (err) {
    logger.error(
      `mail2waf worker: could not make build ${v.buildId} current (${(err as Error).message}) — ` +
        `promote it with: mail2waf deployment promote ${v.buildId}`,
      { deployment: v.deploymentName, buildId: v.buildId },
    );
  }
}

/**
 * The bundle `npm run build` writes next to the compiled worker (lib/workflow-bundle.js, scripts/build-bundle.ts):
 * the compiled worker loads it instead of bundling its workflows at every start. From the sources there is none.
 */
export function prebuiltWorkflowBundle(): { workflowBundle: { codePath: string } } | undefined {
  try {
    return { workflowBundle: { codePath: require.resolve('./workflow-bundle.js') } };
  } catch {
    return undefined;
  }
}

/** The worker process: `node lib/worker.js`, `npm run worker` and `mail2waf worker` (src/cli/worker.ts) run this. */
export async function main() {
  const config = loadWorkerConfig();
  // One logger for us, the SDK and its native core (forwarded); JSON lines unless stdout is a terminal.
  const logger = new StructuredLogger({
    level: config.log.level,
    format: resolveLogFormat(config.log.format, process.stdout.isTTY === true),
    secrets: logSecrets(config),
  });
  // The SDK's runtime metrics: its exporter binds a loopback port of its own, and our /metrics serves them too.
  const sdkMetricsPort = config.health.port === undefined ? undefined : await freeLoopbackPort();
  // The signals are ours, not the Runtime's: the first SIGTERM/SIGINT turns /readyz to 503 before the worker
  // stops polling, so an orchestrator stops counting on it; a second one exits at once.
  Runtime.install({
    logger,
    shutdownSignals: [],
    telemetryOptions: {
      logging: { filter: { core: config.log.level, other: 'WARN' }, forward: {} },
      ...(sdkMetricsPort === undefined
        ? {}
        : {
            metrics: {
              prometheus: {
                bindAddress: `127.0.0.1:${sdkMetricsPort}`,
                countersTotalSuffix: true,
                unitSuffix: true,
                useSecondsForDurations: true,
              },
            },
          }),
    },
  });
  const metrics = new Metrics({ ipSetCapacity: config.policy.maxEntriesPerSet, tokenSources: tokenSourcesOf(config) });

  // The listener starts first: /livez answers while the worker checks its servers and loads its workflows.
  const health = new HealthMonitor({ intervalMs: config.health.checkIntervalMs });
  const { port, host } = config.health;
  const server =
    port === undefined
      ? undefined
      : await startHealthServer({ host, port, routes: healthRoutes(health) }).catch((err: Error) => {
          throw new ConfigError([err.message]);
        });
  server?.routes.set('/metrics', metricsRoute(metrics, `http://127.0.0.1:${sdkMetricsPort}/metrics`));

  let worker: Worker | undefined = undefined;
  let watch: MailboxWatch | undefined;
  const onSignal = (signal: NodeJS.Signals) => {
    if (!worker) {
      logger.notice(`mail2waf worker: ${signal} during start-up — nothing is running yet, exiting`);
      process.exit(0);
    }
    if (health.draining) {
      logger.notice(
        `mail2waf worker: ${signal} again — exiting now; in-flight activities are retried by another worker after their timeout`,
      );
      process.exit(2);
    }
    health.beginDrain();
    // No new sweeps from the watch while draining (a running one finishes, or resumes on another worker).
    void watch?.stop();
    logger.notice(
      `mail2waf worker: ${signal} — draining: no new tasks; in-flight activities have ${config.shutdownGraceMs / 1000} s to finish (SHUTDOWN_GRACE)`,
    );
    if (worker.getState() === 'RUNNING') worker.shutdown();
    // Last resort, should the drain itself hang (the SDK gives up SHUTDOWN_FORCE_AFTER_GRACE_MS after the grace).
    setTimeout(
      () => {
        logger.notice('mail2waf worker: the drain did not finish in time, exiting');
        process.exit(2);
      },
      config.shutdownGraceMs + SHUTDOWN_FORCE_AFTER_GRACE_MS + 10_000,
    ).unref();
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);

  const created = await createWorker(config, { shutdownGraceMs: config.shutdownGraceMs, metrics });
  const { connection, temporal, wafClient, version } = created;
  worker = created.worker;
  const w = worker;
  logger.notice(
    `mail2waf worker: task queue ${config.taskQueue}, Temporal ${describeAddress()}, target ${config.target.name}` +
      (version ? `, deployment ${version.deploymentName} build ${version.buildId}` : '') +
      (config.watch.enabled ? `, watching mailbox ${config.mailbox}` : '') +
      (config.payloadKeys ? `, payloads encrypted (key ${config.payloadKeys.current.id})` : ', payloads in clear') +
      (server ? `, health http://${host.includes(':') ? `[${host}]` : host}:${server.port}/readyz` : ''),
  );
  try {
    const running = w.run();
    // Sweeps within a second of new mail; the worker that serves them is polling already.
    if (config.watch.enabled && !health.draining)
      watch = startMailboxWatch(config, temporal, Runtime.instance().logger);
    if (version)
      void promote(temporal, { ...version, promote: config.versioning!.promote }, logger, () => health.draining);
    void health.attach(() => w.getState(), {
      temporal: temporalCheck(temporal),
      imap: imapCheck(config),
      waf: wafCheck(config.targets, wafClient),
    });
    // The blocklist is the safety choke point: give it the configured policy now, so that a changed never-block
    // list takes effect at once, not at the next block. A failure stops the worker; a drain does not wait for it.
    let policyError: unknown;
    installPolicy(temporal, config, logger).catch((err: unknown) => {
      policyError = err;
      if (w.getState() === 'RUNNING') w.shutdown();
    });
    await running;
    if (policyError) throw policyError;
    if (health.draining) logger.notice('mail2waf worker: drained, exiting');
  } finally {
    await watch?.stop();
    health.stop();
    await server?.close();
    // After a drain that outlived its grace the worker still holds the connection: closing it then fails, and
    // that error must not hide the one that says what happened.
    await connection.close().catch(() => undefined);
  }
}

if (require.main === module) {
  main().then(
    // Exit now: an abandoned call (a policy update nobody serves any more, a health check) must not keep us up.
    () => process.exit(0),
    // In the logs' format (a JSON line where logs are JSON), naming what to fix: src/startup-failure.ts.
    (err) => process.exit(reportWorkerExit(err)),
  );
}
