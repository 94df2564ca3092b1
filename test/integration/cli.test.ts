/** The `mail2waf` CLI against the real stack: --json documents, exit codes, block/unblock, run, schedule. */
import { runCli } from '../../src/client';
import { csvAdvisory } from '../../scripts/sample-advisories';
import { appendMessage, ipSet, isolatedSetup, mailboxContents, type TestSetup } from '../helpers/stack';
import { startWorker, type RunningWorker } from '../helpers/worker';

let setup: TestSetup;
let w: RunningWorker;

beforeAll(async () => {
  setup = await isolatedSetup();
  w = await startWorker(setup);
});
afterAll(async () => {
  await w?.stop();
  await setup?.cleanup();
});

async function cli(args: string[], env: Record<string, string> = {}) {
  let out = '';
  let err = '';
  const code = await runCli(args, {
    out: (s) => (out += s),
    err: (s) => (err += s),
    env: { ...setup.env, MAIL2WAF_ACTOR: 'alice', SWEEP_INTERVAL: '1h', ...env },
  });
  let json: { ok: boolean; result?: any; error?: { kind: string; message: string } } | undefined; // eslint-disable-line @typescript-eslint/no-explicit-any
  try {
    json = JSON.parse(out);
  } catch {
    json = undefined;
  }
  return { code, out, err, json };
}

test('block and unblock by hand, with the same refusals as a sweep', async () => {
  const blocked = await cli(['block', '185.220.103.9', '--reason', 'seen in our logs', '--json']);
  expect(blocked.code).toBe(0);
  expect(blocked.json?.result).toMatchObject({ added: ['185.220.103.9'], synced: true });
  expect((await ipSet(setup, 'v4')).addresses).toContain('185.220.103.9/32');

  const list = await cli(['list', '--json']);
  const entry = list.json?.result.find((e: { value: string }) => e.value === '185.220.103.9');
  expect(entry).toMatchObject({
    manual: true,
    sources: [{ kind: 'manual', ref: 'alice', detail: 'seen in our logs' }],
  });

  const status = await cli(['status', '--json']);
  expect(status.json?.result.entries).toEqual({ v4: 1, v6: 0 });

  const privateRange = await cli(['block', '10.0.0.1', '--reason', 'oops', '--json']);
  expect(privateRange.code).toBe(1);
  expect(privateRange.json).toMatchObject({ ok: false, result: { refused: [{ value: '10.0.0.1', code: 'private' }] } });

  const everything = await cli(['block', '0.0.0.0/0', '--reason', 'oops']);
  expect(everything.code).toBe(1);
  expect(everything.out).toMatch(/refused 0\.0\.0\.0\/0: default-route/);

  const garbage = await cli(['block', 'not-an-ip', '--reason', 'x', '--json']);
  expect(garbage.code).toBe(1);
  expect(garbage.json?.error?.message).toMatch(/not an IPv4\/IPv6 address/);

  const noReason = await cli(['block', '185.220.103.10']);
  expect(noReason.code).toBe(1);
  expect(noReason.err).toMatch(/--reason is required/);

  const unblocked = await cli(['unblock', '185.220.103.9', '--reason', 'false positive', '--json']);
  expect(unblocked.code).toBe(0);
  expect(unblocked.json?.result).toMatchObject({ removed: ['185.220.103.9'], synced: true });
  expect((await ipSet(setup, 'v4')).addresses).not.toContain('185.220.103.9/32');

  const again = await cli(['unblock', '185.220.103.9', '--reason', 'twice']);
  expect(again.code).toBe(1);
  expect(again.out).toMatch(/not on mail2waf's blocklist/);
});

test('run --wait sweeps the mailbox and prints the result', async () => {
  await appendMessage(setup, await csvAdvisory('<cli-run@cert.example>'));
  const run = await cli(['run', '--wait', '--json']);
  expect(run.code).toBe(0);
  expect(run.json?.result.messages).toHaveLength(1);
  expect(run.json?.result.block.added.sort()).toEqual(['185.220.101.47', '45.133.1.20', '91.215.85.0/24'].sort());
  expect(run.json?.result.reportMessageId).toMatch(/@mail2waf>$/);
  expect(await mailboxContents(setup, setup.config.processedMailbox)).toHaveLength(1);

  const human = await cli(['run', '--wait']);
  expect(human.code).toBe(0);
  expect(human.out).toMatch(/0 message\(s\)/);
});

test('schedule apply is idempotent; pause, resume, describe and delete work', async () => {
  const created = await cli(['schedule', 'apply', '--json']);
  expect(created.code).toBe(0);
  expect(created.json?.result).toMatchObject({ created: true, interval: '3600s', paused: false });
  const updated = await cli(['schedule', 'apply', '--json'], { SWEEP_INTERVAL: '30m' });
  expect(updated.json?.result).toMatchObject({ created: false, interval: '1800s' });

  const paused = await cli(['schedule', 'pause', '--note', 'maintenance', '--json']);
  expect(paused.json?.result).toMatchObject({ paused: true, note: 'maintenance' });
  const resumed = await cli(['schedule', 'resume', '--json']);
  expect(resumed.json?.result.paused).toBe(false);
  expect((await cli(['schedule', 'describe'])).out).toMatch(/every 1800s, active/);

  expect((await cli(['schedule', 'delete', '--json'])).code).toBe(0);
  const gone = await cli(['schedule', 'describe', '--json']);
  expect(gone.code).toBe(1);
  expect(gone.json?.error?.message).toMatch(/does not exist — create it with `mail2waf schedule apply`/);
});

test('exit codes: 1 for what the user can fix, 2 for failures', async () => {
  const unknownTarget = await cli(['list', '--json'], { WAF_TARGET_NAME: 'no-such-target' });
  expect(unknownTarget.code).toBe(1);
  expect(unknownTarget.json?.error?.message).toMatch(/has no blocklist yet/);

  // `list` needs only Temporal's settings now; `block` needs the target's IP sets (its policy starts the blocklist).
  const badConfig = await cli(['block', '185.220.101.9', '--reason', 'test'], { WAF_IPSET_V4_NAME: '' });
  expect(badConfig.code).toBe(1);
  expect(badConfig.err).toMatch(/WAF_IPSET_V4_NAME is not set/);

  const unreachable = await cli(['list', '--json'], { TEMPORAL_ADDRESS: '127.0.0.1:1' });
  expect(unreachable.code).toBe(2);
  expect(unreachable.json?.error?.message).toMatch(/cannot reach Temporal at 127\.0\.0\.1:1/);

  const unknownCommand = await cli(['frobnicate']);
  expect(unknownCommand.code).toBe(1);
});
