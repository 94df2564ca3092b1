/** Restart the Temporal dev server (same SQLite file): the blocklist state is intact and the workflow goes on. */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { blocklistWorkflowId } from '../../src/shared/constants';
import { listQuery } from '../../src/shared/messages';
import { runCli } from '../../src/client';
import { connectClient } from '../../src/temporal-connection';
import { ipSet, isolatedSetup, repoRoot, type TestSetup } from '../helpers/stack';
import { startWorker } from '../helpers/worker';

let setup: TestSetup;

beforeAll(async () => {
  setup = await isolatedSetup();
});
afterAll(async () => setup?.cleanup());

const block = (value: string) =>
  runCli(['block', value, '--reason', 'restart test', '--json'], {
    out: () => undefined,
    err: () => undefined,
    env: { ...setup.env, MAIL2WAF_ACTOR: 'restart-test' },
  });

test('blocklist state survives a restart of the Temporal server', async () => {
  let w = await startWorker(setup);
  expect(await block('185.220.104.1')).toBe(0);
  expect(await block('2a03:b0c0:3:d0::1a4f:2')).toBe(0);
  await w.stop();

  execFileSync('bash', [join(repoRoot, 'scripts', 'stack-restart-temporal.sh')], { stdio: 'pipe', timeout: 120_000 });

  w = await startWorker(setup);
  try {
    const client = await connectClient();
    const entries = await client.workflow.getHandle(blocklistWorkflowId(setup.config.target.name)).query(listQuery);
    expect(entries.map((e) => e.value).sort()).toEqual(['185.220.104.1', '2a03:b0c0:3:d0::1a4f:2']);
    expect(entries[0]?.sources[0]).toMatchObject({ kind: 'manual', ref: 'restart-test', detail: 'restart test' });
    await client.connection.close();

    // The same workflow keeps working after the restart.
    expect(await block('185.220.104.2')).toBe(0);
    expect((await ipSet(setup, 'v4')).addresses).toEqual(['185.220.104.1/32', '185.220.104.2/32']);
  } finally {
    await w.stop();
  }
});
