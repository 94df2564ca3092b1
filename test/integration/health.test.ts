/**
 * /readyz over HTTP with the real checks against the real stack: a polling worker with good settings is ready;
 * with Temporal fine but a refused IMAP login (or an unreachable WAF endpoint) it answers 503 and says what to fix.
 * In-process, because the worker's start-up preflight (rightly) refuses to start with a refused login: here the
 * login is broken after start, as a rotated password or a withdrawn OAuth2 permission would break it.
 */
import { WAFV2Client } from '@aws-sdk/client-wafv2';
import { createWorker } from '../../src/worker';
import { HealthMonitor, healthRoutes, startHealthServer, type HealthServer } from '../../src/health';
import { imapCheck, temporalCheck, wafCheck } from '../../src/health-checks';
import { imapLoginFix, refusedImap } from '../helpers/mail-auth';
import { isolatedSetup, type TestSetup } from '../helpers/stack';
import { workflowBundle } from '../helpers/worker';

let setup: TestSetup;
beforeAll(async () => {
  setup = await isolatedSetup();
});
afterAll(async () => {
  await setup?.cleanup();
});

test('ready with good settings; 503 naming the IMAP login settings or the WAF endpoint when those checks fail', async () => {
  const { worker, connection, temporal, wafClient } = await createWorker(setup.config, {
    workflowBundle: await workflowBundle(),
  });
  const running = worker.run();
  const monitor = new HealthMonitor({ intervalMs: 60_000 });
  let server: HealthServer | undefined;
  try {
    server = await startHealthServer({ host: '127.0.0.1', port: 0, routes: healthRoutes(monitor) });
    const readyz = async () => {
      const res = await fetch(`http://127.0.0.1:${server!.port}/readyz`);
      return { status: res.status, body: (await res.json()) as { reasons: string[]; checks: object } };
    };
    expect((await readyz()).status).toBe(503); // starting

    await monitor.attach(() => worker.getState(), {
      temporal: temporalCheck(temporal),
      imap: imapCheck(setup.config),
      waf: wafCheck(setup.config.targets, wafClient),
    });
    expect(await readyz()).toMatchObject({ status: 200, body: { reasons: [] } });

    const imap = refusedImap(setup.env, setup.config.imap);
    const unreachableWaf = new WAFV2Client({
      region: 'us-east-1',
      endpoint: 'http://127.0.0.1:1',
      maxAttempts: 1,
    });
    await monitor.attach(() => worker.getState(), {
      temporal: temporalCheck(temporal),
      imap: imapCheck({ ...setup.config, imap }),
      waf: wafCheck(setup.config.targets, () => unreachableWaf),
    });
    const broken = await readyz();
    expect(broken.status).toBe(503);
    expect(broken.body.reasons).toEqual([
      `imap: IMAP login failed for ${imap.user} at ${imap.host}:${imap.port} — check ${imapLoginFix(setup.env)}`,
      expect.stringMatching(
        /^waf: AWS WAF \(REGIONAL\) in us-east-1 did not answer \(.+\) — check AWS credentials, AWS_REGION and AWS_ENDPOINT_URL_WAFV2$/,
      ),
    ]);
    expect(broken.body.checks).toMatchObject({ temporal: { ok: true }, imap: { ok: false }, waf: { ok: false } });

    // A missing inbox is named too.
    await monitor.attach(() => worker.getState(), {
      imap: imapCheck({ ...setup.config, mailbox: `${setup.config.mailbox}-gone` }),
    });
    expect((await readyz()).body.reasons).toContainEqual(
      expect.stringMatching(/^imap: IMAP mailbox ".+-gone" cannot be read \(.*\) — check IMAP_MAILBOX$/),
    );
    unreachableWaf.destroy();
  } finally {
    monitor.stop();
    await server?.close();
    worker.shutdown();
    await running;
    await connection.close();
  }
});
