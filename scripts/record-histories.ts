/**
 * Records workflow histories for the replay tests (test/replay): runs real scenarios on the local stack and
 * writes each history as JSON into test/fixtures/histories/. Re-record after an intended workflow change that
 * is guarded by patched(); keep the old files too, so that both code paths keep replaying.
 *
 *   npm run stack:up && npm run record:histories -- [scenario...]
 *
 * Scenarios: base (sweep-v2.pb, blocklist.pb, blocklist-continued-as-new.pb), held (sweep-held.pb: a sweep
 * that blocks a trusted advisory and hands a reported phish to an approval workflow; approval.pb: that approval,
 * approved by Update), expiry (blocklist-expiry.pb: entries with a time to live
 * that leave WAF on a durable timer, a `why` and a forced `sync`), packed (blocklist-packed-state.pb: a run that
 * starts from a packed continue-as-new state). Without arguments, all of them. sweep.pb and sweep-approval.pb
 * are histories of the sweep before patch sweep-v2 (sweep-legacy.ts): keep them, they cannot be re-recorded.
 */
import type { Client } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { blocklistWorkflowId } from '../src/shared/constants';
import {
  approvalQuery,
  approveUpdate,
  blockUpdate,
  syncUpdate,
  unblockSignal,
  unblockUpdate,
} from '../src/shared/messages';
import { submitBlock } from '../src/blocklist-client';
import type { BlocklistInput, SweepInput, SweepResult } from '../src/shared/types';
import type { approvalWorkflow } from '../src/workflows/approval';
import { appendMessage, isolatedSetup, repoRoot, waitFor, ipSet } from '../test/helpers/stack';
import { startWorker } from '../test/helpers/worker';
import { csvAdvisory, defangedAdvisory, reportedPhish } from './sample-advisories';

const outDir = join(repoRoot, 'test', 'fixtures', 'histories');

/**
 * A stack slice without the payload codec: recorded histories must replay on any machine, and the stack's key
 * is made anew on each one (.stack/credentials), so fixtures are recorded in clear.
 */
async function plainSetup(name?: string, overrides: Record<string, string> = {}) {
  const setup = await isolatedSetup(name, { ...overrides, PAYLOAD_KEYS: '' });
  delete process.env.PAYLOAD_KEYS; // the clients this script makes read process.env
  return setup;
}

/**
 * Histories are stored as binary protobuf: the JSON form needs @temporalio/common's protobufjs to agree with
 * @temporalio/proto's copy, which npm does not guarantee (two copies of protobufjs 8 are installed today).
 */
async function exportHistory(client: Client, workflowId: string, runId: string | undefined, file: string) {
  const history = await client.workflow.getHandle(workflowId, runId).fetchHistory();
  writeFileSync(join(outDir, file), temporal.api.history.v1.History.encode(history).finish());
  console.log(`wrote ${file} (${history.events?.length} events)`);
}

async function heldScenario() {
  const setup = await plainSetup(undefined, { APPROVAL_TIMEOUT: '1h' });
  const w = await startWorker(setup);
  try {
    await appendMessage(setup, await csvAdvisory());
    await appendMessage(setup, await reportedPhish('45.9.148.30'));
    const sweepId = `replay-held-${Date.now()}`;
    const input: SweepInput = {
      target: setup.config.target,
      mailbox: setup.config.mailbox,
      guardrails: setup.config.guardrails,
      holdForApproval: setup.config.holdForApproval,
    };
    const result: SweepResult = await w.client.workflow.execute('mailboxSweepWorkflow', {
      workflowId: sweepId,
      taskQueue: setup.config.taskQueue,
      args: [input],
    });
    await exportHistory(w.client, sweepId, undefined, 'sweep-held.pb');
    const approval = w.client.workflow.getHandle<typeof approvalWorkflow>(result.held![0]!.approvalId);
    await waitFor('the approval to wait', async () => (await approval.query(approvalQuery)).status === 'waiting');
    await approval.executeUpdate(approveUpdate, { args: [{ actor: 'recorder', reason: 'replay fixture' }] });
    await approval.result();
    await exportHistory(w.client, approval.workflowId, undefined, 'approval.pb');
    await w.client.workflow.getHandle(blocklistWorkflowId(setup.config.target.name)).terminate('recorded');
  } finally {
    await w.stop();
    await setup.cleanup();
  }
}

async function expiryScenario() {
  const setup = await plainSetup();
  const w = await startWorker(setup);
  try {
    const at = new Date().toISOString();
    await submitBlock(w.client, setup.config.taskQueue, setup.config.target, setup.config.policy, {
      requestId: 'expiry-1',
      candidates: [
        { value: '185.220.115.1', ttlMs: 2000, source: { kind: 'message', ref: '<m@x>', at } },
        { value: '185.220.115.2', ttlMs: null, source: { kind: 'manual', ref: 'recorder', at } },
      ],
    });
    await waitFor(
      'the entry to expire',
      async () => !(await ipSet(setup, 'v4')).addresses.includes('185.220.115.1/32'),
    );
    const handle = w.client.workflow.getHandle(blocklistWorkflowId(setup.config.target.name));
    await handle.executeUpdate(syncUpdate);
    await exportHistory(w.client, handle.workflowId, undefined, 'blocklist-expiry.pb');
    await handle.terminate('recorded');
  } finally {
    await w.stop();
    await setup.cleanup();
  }
}

async function packedScenario() {
  const setup = await plainSetup();
  const w = await startWorker(setup);
  try {
    const at = new Date().toISOString();
    const input: BlocklistInput = {
      target: setup.config.target,
      policy: setup.config.policy,
      continueAsNewAfterEvents: 30,
    };
    const handle = await w.client.workflow.start('blocklistWorkflow', {
      workflowId: `replay-packed-${Date.now()}`,
      taskQueue: setup.config.taskQueue,
      args: [input],
    });
    for (let i = 1; i <= 8; i++) {
      await handle.executeUpdate(blockUpdate, {
        args: [
          {
            requestId: `p-${i}`,
            candidates: [{ value: `185.${200 + i}.118.1`, source: { kind: 'manual', ref: 'recorder', at } }],
          },
        ],
      });
    }
    // The latest run started from a packed state: it unpacks, paces its first write and continues.
    const latest = w.client.workflow.getHandle(handle.workflowId);
    const runId = (await latest.describe()).runId;
    if (runId === handle.firstExecutionRunId) throw new Error('the blocklist did not continue as new');
    for (let i = 1; i <= 2; i++) {
      await latest.executeUpdate(blockUpdate, {
        args: [
          {
            requestId: `q-${i}`,
            candidates: [{ value: `185.${210 + i}.118.1`, source: { kind: 'manual', ref: 'recorder', at } }],
          },
        ],
      });
    }
    await exportHistory(w.client, handle.workflowId, runId, 'blocklist-packed-state.pb');
    await latest.terminate('recorded');
  } finally {
    await w.stop();
    await setup.cleanup();
  }
}

async function main() {
  mkdirSync(outDir, { recursive: true });
  const wanted = process.argv.slice(2);
  if (wanted.length === 0 || wanted.includes('base')) await baseScenario();
  if (wanted.length === 0 || wanted.includes('held')) await heldScenario();
  if (wanted.length === 0 || wanted.includes('expiry')) await expiryScenario();
  if (wanted.length === 0 || wanted.includes('packed')) await packedScenario();
}

async function baseScenario() {
  const setup = await plainSetup();
  const w = await startWorker(setup);
  try {
    await appendMessage(setup, await csvAdvisory());
    await appendMessage(setup, await defangedAdvisory());
    await appendMessage(setup, Buffer.from('not a message at all\r\n'));
    const sweepInput: SweepInput = { target: setup.config.target, mailbox: setup.config.mailbox };
    const sweepId = `replay-sweep-${Date.now()}`;
    await w.client.workflow.execute('mailboxSweepWorkflow', {
      workflowId: sweepId,
      taskQueue: setup.config.taskQueue,
      args: [sweepInput],
    });
    await exportHistory(w.client, sweepId, undefined, 'sweep-v2.pb');

    // The blocklist the sweep created: block, unblock by Update and by Signal, and a refusal.
    const handle = w.client.workflow.getHandle(blocklistWorkflowId(setup.config.target.name));
    const at = new Date().toISOString();
    await handle.executeUpdate(blockUpdate, {
      args: [
        {
          requestId: 'replay-manual',
          candidates: [
            { value: '185.220.106.1', source: { kind: 'manual', ref: 'recorder', at } },
            { value: '10.0.0.1', source: { kind: 'manual', ref: 'recorder', at } },
          ],
        },
      ],
    });
    await handle.executeUpdate(unblockUpdate, {
      args: [{ value: '185.220.101.47', actor: 'recorder', reason: 'replay' }],
    });
    await handle.signal(unblockSignal, { value: '45.133.1.20', actor: 'recorder', reason: 'replay' });
    await waitFor(
      'the signal to reach WAF',
      async () => !(await ipSet(setup, 'v4')).addresses.includes('45.133.1.20/32'),
    );
    await exportHistory(w.client, handle.workflowId, undefined, 'blocklist.pb');

    // A blocklist that continues as new: the first run's history ends in ContinuedAsNew.
    const canInput: BlocklistInput = { target: setup.config.target, continueAsNewAfterEvents: 30 };
    const can = await w.client.workflow.start('blocklistWorkflow', {
      workflowId: `replay-can-${Date.now()}`,
      taskQueue: setup.config.taskQueue,
      args: [canInput],
    });
    for (let i = 2; i <= 6; i++) {
      await can.executeUpdate(blockUpdate, {
        args: [
          {
            requestId: `can-${i}`,
            candidates: [{ value: `185.220.106.${i}`, source: { kind: 'manual', ref: 'recorder', at } }],
          },
        ],
      });
    }
    await exportHistory(w.client, can.workflowId, can.firstExecutionRunId, 'blocklist-continued-as-new.pb');
    await can.terminate('recorded');
    await handle.terminate('recorded');
  } finally {
    await w.stop();
    await setup.cleanup();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
