/**
 * The blocklist over time on the real stack (issue 4): entries expire at their time through durable timers
 * (also across a Temporal server restart), a renewal is never undone by the older expiry, `why` explains an
 * address (inside a blocked CIDR too), `sync` restores entries removed by hand, and the capacity ceiling holds.
 */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { submitBlock } from '../../src/blocklist-client';
import type { BlockCandidate, WhyAnswer } from '../../src/shared/types';
import { foreignWrite, ipSet, isolatedSetup, repoRoot, waitFor, type TestSetup } from '../helpers/stack';
import { startWorker, type RunningWorker } from '../helpers/worker';
import { cliJson } from '../helpers/cli';

let setup: TestSetup;
let w: RunningWorker;

beforeAll(async () => {
  setup = await isolatedSetup(undefined, { IPSET_MAX_ENTRIES: '6', RECONCILE_INTERVAL: '1h' });
  w = await startWorker(setup);
});
afterAll(async () => {
  await w?.stop();
  await setup?.cleanup();
});

const cli = (args: string[]) => cliJson(args, { ...setup.env, MAIL2WAF_ACTOR: 'tester' });

const candidate = (value: string, ttlMs: number | null, ref = '<adv@cert.example>'): BlockCandidate => ({
  value,
  ttlMs,
  source: { kind: 'message', ref, from: 'cert@cert.example', subject: 'advisory', detail: 'body:line 1', at: '' },
});

let n = 0;
const block = (...candidates: BlockCandidate[]) =>
  submitBlock(w.client, setup.config.taskQueue, setup.config.target, setup.config.policy, {
    requestId: `life-${n++}`,
    candidates,
  });

const inWaf = async (entry: string) => (await ipSet(setup, 'v4')).addresses.includes(entry);

test('entries leave WAF at their expiry; a renewal is not undone by the older expiry', async () => {
  await block(candidate('185.220.111.1', 3000), candidate('185.220.111.2', 3000));
  expect(await inWaf('185.220.111.1/32')).toBe(true);
  // Renew .2 before it expires: its older expiry must not remove it.
  await block(candidate('185.220.111.2', 12_000, '<renewal@cert.example>'));
  await waitFor('the first entry to expire', async () => !(await inWaf('185.220.111.1/32')), 30_000);
  expect(await inWaf('185.220.111.2/32')).toBe(true);

  const why = (await cli(['why', '185.220.111.1'])).doc.result as WhyAnswer;
  expect(why.blocked).toBe(false);
  expect(why.removed[0]).toMatchObject({ value: '185.220.111.1', actor: 'expiry' });

  // The next block answer (and so the next report) lists what expired.
  const next = await block(candidate('185.220.111.3', null));
  expect(next.expired).toEqual(['185.220.111.1']);
  await waitFor('the renewed entry to expire', async () => !(await inWaf('185.220.111.2/32')), 30_000);
});

test('entries still expire on time after the Temporal server restarts', async () => {
  await block(candidate('185.220.112.1', 8000));
  await w.stop();
  execFileSync('bash', [join(repoRoot, 'scripts', 'stack-restart-temporal.sh')], { stdio: 'pipe', timeout: 120_000 });
  w = await startWorker(setup);
  expect(await inWaf('185.220.112.1/32')).toBe(true);
  await waitFor('the entry to expire after the restart', async () => !(await inWaf('185.220.112.1/32')), 60_000);
});

test('why explains an address inside a blocked CIDR, with its message', async () => {
  await block(candidate('91.215.87.0/24', null, '<cidr@cert.example>'));
  const { code, doc } = await cli(['why', '91.215.87.7']);
  expect(code).toBe(0);
  const why = doc.result as WhyAnswer;
  expect(why.blocked).toBe(true);
  expect(why.entries[0]).toMatchObject({ value: '91.215.87.0/24', sources: [{ ref: '<cidr@cert.example>' }] });
  expect(why.entries[0]?.expiresAt).toBeUndefined();
});

test('sync restores an entry removed by hand and reports the drift; foreign entries stay', async () => {
  await foreignWrite(setup, 'v4', (a) => [...a.filter((x) => x !== '91.215.87.0/24'), '101.34.0.0/16']);
  expect(await inWaf('91.215.87.0/24')).toBe(false);
  const { code, doc } = await cli(['sync']);
  expect(code).toBe(0);
  expect(doc.result.report.v4).toMatchObject({ added: 1, wrote: true, foreign: 1 });
  expect(await inWaf('91.215.87.0/24')).toBe(true);
  expect(await inWaf('101.34.0.0/16')).toBe(true);
  const status = await cli(['status']);
  expect(status.doc.result.foreign.v4).toEqual(['101.34.0.0/16']);
});

test('a full IP set refuses new entries with a reason and warns from 80% on', async () => {
  const now = (await ipSet(setup, 'v4')).addresses.length - 1; // minus the foreign entry
  const fill = Array.from({ length: 6 - now }, (_, i) => candidate(`185.220.113.${i + 1}`, null));
  const filled = await block(...fill);
  expect(filled.capacityWarning).toMatch(/IPv4 set holds 6 of at most 6 entries/);
  const over = await block(candidate('185.220.114.1', null));
  expect(over.added).toEqual([]);
  expect(over.refused[0]).toMatchObject({ value: '185.220.114.1', code: 'ipset-full' });
});
