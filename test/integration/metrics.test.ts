/**
 * `GET /metrics` of a real worker process (src/worker.ts main(), as deployed) on the real stack: after a sweep that
 * blocks and quarantines, an empty sweep, a sweep that fails (its mailbox does not exist) and a WAF IP set deleted
 * by hand, mail2waf's counters moved as expected, and the Temporal SDK's runtime metrics are served beside them.
 */
import { randomBytes } from 'node:crypto';
import { DeleteIPSetCommand } from '@aws-sdk/client-wafv2';
import { WorkflowFailedError, WorkflowUpdateStage, type Client } from '@temporalio/client';
import { blocklistWorkflowId } from '../../src/shared/constants';
import { syncUpdate } from '../../src/shared/messages';
import type { SweepInput, SweepResult } from '../../src/shared/types';
import { connectClient } from '../../src/temporal-connection';
import { spawnWorker, waitUntilReady, type ChildWorker } from '../helpers/child-worker';
import { buildAdvisory } from '../../scripts/sample-advisories';
import { freePort, parseExposition, sampleValue, type Sample } from '../helpers/prometheus';
import { appendMessage, ipSet, isolatedSetup, type TestSetup } from '../helpers/stack';

let setup: TestSetup;
let worker: ChildWorker | undefined;
let client: Client;
let port: number;

beforeAll(async () => {
  setup = await isolatedSetup();
  port = await freePort();
  worker = spawnWorker({ ...setup.env, HEALTH_PORT: String(port) });
  await waitUntilReady(worker);
  client = await connectClient(setup.env);
});

afterAll(async () => {
  await worker?.kill('SIGKILL');
  await client?.connection.close();
  await setup?.cleanup();
});

function sweep(mailbox = setup.config.mailbox): Promise<SweepResult> {
  const input: SweepInput = { target: setup.config.target, mailbox, maxMessages: 50 };
  return client.workflow.execute('mailboxSweepWorkflow', {
    workflowId: `test-metrics-sweep-${randomBytes(4).toString('hex')}`,
    taskQueue: setup.config.taskQueue,
    args: [input],
  });
}

async function scrape(): Promise<{ text: string; samples: Sample[]; type: string | null }> {
  const res = await fetch(`http://127.0.0.1:${port}/metrics`);
  expect(res.status).toBe(200);
  const text = await res.text();
  return { text, samples: parseExposition(text), type: res.headers.get('content-type') };
}

const value = sampleValue;

test('after sweeps that block, quarantine, find nothing and fail, /metrics shows the counters moved', async () => {
  const target = setup.config.target.name;
  const before = (await scrape()).samples;
  expect(value(before, 'mail2waf_sweeps_total')).toBe(0);

  await appendMessage(
    setup,
    await buildAdvisory({
      subject: 'Metrics test advisory',
      text: 'Block the scanner at 193.142.146.77 please.\n',
      messageId: `<metrics-${randomBytes(4).toString('hex')}@cert.example>`,
    }),
  );
  await appendMessage(setup, Buffer.from('\u0000\u0001garbage that is not MIME\r\n\r\n\u0002 1.2.3.4\r\n', 'binary'));

  // 1. Blocks one address and quarantines the junk.
  const first = await sweep();
  expect(first.messages.map((m) => m.status).sort()).toEqual(['processed', 'quarantined']);
  let { samples } = await scrape();
  expect(value(samples, 'mail2waf_sweeps_total', { outcome: 'blocked' })).toBe(1);
  expect(value(samples, 'mail2waf_messages_total', { verdict: 'processed' })).toBe(1);
  expect(value(samples, 'mail2waf_messages_total', { verdict: 'quarantined', reason: 'invalid-mime' })).toBe(1);
  expect(value(samples, 'mail2waf_addresses_total', { target, action: 'blocked' })).toBe(1);
  expect(value(samples, 'mail2waf_waf_requests_total', { target, operation: 'write', result: 'ok' })).toBeGreaterThan(
    0,
  );
  expect(value(samples, 'mail2waf_waf_requests_total', { target, operation: 'read', result: 'ok' })).toBeGreaterThan(0);
  expect(value(samples, 'mail2waf_waf_syncs_total', { target, result: 'ok' })).toBeGreaterThan(0);
  const v4 = await ipSet(setup, 'v4');
  expect(value(samples, 'mail2waf_ipset_entries', { target, ip_set: v4.name, ip_version: '4' })).toBe(
    v4.addresses.length,
  );
  expect(value(samples, 'mail2waf_ipset_fill_ratio', { target, ip_set: v4.name })).toBeCloseTo(
    v4.addresses.length / setup.config.policy.maxEntriesPerSet!,
  );
  // The sweep listed two waiting messages: the oldest's age is known (seconds, since it was appended).
  const age = value(samples, 'mail2waf_inbox_oldest_message_age_seconds', { mailbox: setup.config.mailbox });
  expect(age).toBeGreaterThan(0);
  expect(age).toBeLessThan(600);
  expect(samples.some((s) => s.name === 'mail2waf_approvals_pending')).toBe(true);

  // 2. Nothing waiting: an empty sweep, and no inbox age any more.
  await sweep();
  samples = (await scrape()).samples;
  expect(value(samples, 'mail2waf_sweeps_total', { outcome: 'empty' })).toBe(1);
  expect(samples.some((s) => s.name === 'mail2waf_inbox_oldest_message_age_seconds')).toBe(false);

  // 3. A mailbox that does not exist: the sweep fails, and so does its listPending (ConfigError).
  await expect(sweep(`${setup.config.mailbox}-missing`)).rejects.toBeInstanceOf(WorkflowFailedError);
  samples = (await scrape()).samples;
  expect(value(samples, 'mail2waf_sweeps_total', { outcome: 'failed' })).toBe(1);
  expect(value(samples, 'mail2waf_alert_events_total', { kind: 'sweep-failed', action: 'raise' })).toBe(1);
  expect(
    value(samples, 'mail2waf_activity_failures_total', { activity: 'listPending', error_type: 'ConfigError' }),
  ).toBe(1);

  // 4. The IPv6 set deleted by hand: the next sync of the blocklist fails.
  const v6 = await ipSet(setup, 'v6');
  await setup.waf.send(
    new DeleteIPSetCommand({ Name: v6.name, Id: v6.id, Scope: 'REGIONAL', LockToken: v6.lockToken }),
  );
  // The sync update is answered only once the blocklist gives up retrying (minutes): start it, and watch /metrics.
  await client.workflow
    .getHandle(blocklistWorkflowId(target))
    .startUpdate(syncUpdate, { waitForStage: WorkflowUpdateStage.ACCEPTED });
  let scraped = await scrape();
  for (const deadline = Date.now() + 60_000; ;) {
    if (value(scraped.samples, 'mail2waf_waf_syncs_total', { target, result: 'failed' }) > 0) break;
    if (Date.now() > deadline) throw new Error(`no failed sync counted within 60 s:\n${scraped.text}`);
    await new Promise((r) => setTimeout(r, 500));
    scraped = await scrape();
  }
  samples = scraped.samples;
  expect(
    value(samples, 'mail2waf_activity_failures_total', { activity: 'syncIpSets', error_type: 'WafNotFound' }),
  ).toBeGreaterThan(0);

  // Every counter is a Prometheus counter with _total; the SDK's runtime metrics are there too.
  expect(scraped.type).toMatch(/^text\/plain; version=0\.0\.4/);
  for (const m of scraped.text.matchAll(/^# TYPE (mail2waf_\S+) counter$/gm)) expect(m[1]).toMatch(/_total$/);
  expect(value(samples, 'temporal_workflow_completed_total', { workflow_type: 'mailboxSweepWorkflow' })).toBe(2);
  expect(value(samples, 'temporal_workflow_failed_total', { workflow_type: 'mailboxSweepWorkflow' })).toBe(1);
  expect(samples.some((s) => s.name === 'temporal_worker_task_slots_available')).toBe(true);
});
