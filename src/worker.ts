/**
 * The mail2waf worker: reads its settings from the environment, checks that every server it needs answers
 * (so a typo fails at start, not on the first advisory), and runs the workflows and activities.
 */
import { WAFV2Client, ListIPSetsCommand } from '@aws-sdk/client-wafv2';
import { Client } from '@temporalio/client';
import { Runtime, Worker, DefaultLogger, type LogLevel } from '@temporalio/worker';
import nodemailer, { type Transporter } from 'nodemailer';
import { createActivities, type Activities } from './activities';
import { createResolver } from './activities/authenticate';
import { imapClient } from './activities/imap';
import { ConfigError, loadWorkerConfig, type WorkerConfig } from './config';
import { submitPolicy } from './blocklist-client';
import { connectNative, describeAddress } from './temporal-connection';

/** Preflight: one cheap call per outside system, each failure turned into an instruction for the operator. */
export async function preflight(config: WorkerConfig, wafClient: (region: string) => WAFV2Client, mailer: Transporter) {
  const problems: string[] = [];
  const imap = imapClient(config.imap);
  imap.on('error', () => undefined);
  try {
    await imap.connect();
    await imap.logout();
  } catch (err) {
    const e = err as Error & { authenticationFailed?: boolean };
    problems.push(
      e.authenticationFailed
        ? `IMAP login failed for ${config.imap.user} at ${config.imap.host}:${config.imap.port} — check IMAP_USER and IMAP_PASSWORD`
        : `IMAP server ${config.imap.host}:${config.imap.port} unreachable (${e.message}) — check IMAP_HOST, IMAP_PORT and IMAP_SECURE`,
    );
  }
  try {
    await mailer.verify();
  } catch (err) {
    problems.push(
      `SMTP server ${config.smtp.host}:${config.smtp.port} unreachable or refused us (${(err as Error).message}) — check SMTP_*`,
    );
  }
  for (const target of config.targets) {
    try {
      await wafClient(target.region).send(new ListIPSetsCommand({ Scope: target.scope, Limit: 1 }));
    } catch (err) {
      problems.push(
        `AWS WAF in ${target.region} did not answer (${(err as Error).name}: ${(err as Error).message}) — check AWS credentials, AWS_REGION and AWS_ENDPOINT_URL_WAFV2`,
      );
    }
  }
  if (problems.length > 0) throw new ConfigError(problems);
}

export interface CreateWorkerOptions {
  skipPreflight?: boolean;
  /** A prebuilt bundle (tests build it once per file); by default the workflows are bundled at start. */
  workflowBundle?: { code: string };
  /** Tests only: wraps the activities (to make one fail on purpose, as a poison message would). */
  wrapActivities?: (activities: Activities) => Activities;
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
  const mailer = nodemailer.createTransport({
    host: config.smtp.host,
    port: config.smtp.port,
    secure: config.smtp.secure,
    auth: config.smtp.user ? { user: config.smtp.user, pass: config.smtp.password ?? '' } : undefined,
    // A local relay without TLS is fine in tests; in production STARTTLS is used whenever offered.
    ignoreTLS: !config.smtp.secure && config.smtp.host === '127.0.0.1',
  });
  if (!opts.skipPreflight) await preflight(config, wafClient, mailer);

  let native;
  try {
    native = await connectNative();
  } catch (err) {
    throw new ConfigError([
      `Temporal at ${describeAddress()} unreachable (${(err as Error).message}) — start it (npm run stack:up) or set TEMPORAL_ADDRESS`,
    ]);
  }
  const temporal = new Client({ connection: native.connection as never, namespace: native.namespace });
  const activities = createActivities({
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
    webUiUrl: process.env.TEMPORAL_UI_URL,
    namespace: native.namespace,
    // Trust gate: trusted senders, our MTA's names, and DNS (a static records file only on local stacks/tests).
    trust: config.trust,
    resolver: createResolver(config.trust),
  });
  const worker = await Worker.create({
    connection: native.connection,
    namespace: native.namespace,
    taskQueue: config.taskQueue,
    ...(opts.workflowBundle
      ? { workflowBundle: opts.workflowBundle }
      : { workflowsPath: require.resolve('./workflows') }),
    activities: opts.wrapActivities ? opts.wrapActivities(activities) : activities,
  });
  return { worker, connection: native.connection, temporal };
}

async function main() {
  const level = (process.env.LOG_LEVEL?.toUpperCase() ?? 'INFO') as LogLevel;
  Runtime.install({ logger: new DefaultLogger(level) });
  const config = loadWorkerConfig();
  const { worker, connection, temporal } = await createWorker(config);
  console.error(
    `mail2waf worker: task queue ${config.taskQueue}, Temporal ${describeAddress()}, target ${config.target.name}`,
  );
  try {
    const running = worker.run();
    // The blocklist is the safety choke point: give it the configured policy now (this worker serves the
    // update), so that a changed never-block list takes effect at once, not at the next block.
    try {
      const { neverBlock, minPrefixV4, minPrefixV6 } = config.policy;
      for (const target of config.targets) {
        const installed = await submitPolicy(temporal, config.taskQueue, target, config.policy);
        console.error(
          `mail2waf worker: policy installed in target ${target.name} (${neverBlock.length} never-block ranges, ` +
            `floor /${minPrefixV4} and /${minPrefixV6})` +
            (installed.unblocked.length
              ? `; unblocked what it now forbids: ${installed.unblocked.map((u) => u.value).join(', ')}`
              : ''),
        );
      }
    } catch (err) {
      worker.shutdown();
      await running;
      throw err;
    }
    await running;
  } finally {
    await connection.close();
  }
}

if (require.main === module) {
  main().catch((err) => {
    if (err instanceof ConfigError) {
      console.error(`mail2waf worker cannot start: ${err.message}`);
      process.exit(1);
    }
    console.error('mail2waf worker failed:', err);
    process.exit(2);
  });
}
