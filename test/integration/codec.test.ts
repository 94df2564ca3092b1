/**
 * Encrypted payloads on the real stack: a sweep run by a worker with the stack's payload key leaves a history in
 * which the `temporal` CLI, without the codec, finds none of the advisory's subject, sender or addresses (not in
 * clear, not in base64); through `mail2waf codec-server` (`--codec-endpoint`, `--codec-auth`) they are all there.
 * The codec server refuses calls without the token and answers the Web UI's CORS preflight. A key rotation (new key
 * first, old one kept) carries on the long-lived blocklist written under the old key.
 */
import { randomBytes } from 'node:crypto';
import { buildAdvisory } from '../../scripts/sample-advisories';
import { loadWorkerConfig } from '../../src/config';
import { blocklistWorkflowId } from '../../src/shared/constants';
import { whyQuery } from '../../src/shared/messages';
import type { SweepInput, SweepResult } from '../../src/shared/types';
import { readable, showHistory, startCodecServer, stopChild } from '../helpers/codec-server';
import { appendMessage, isolatedSetup, type TestSetup } from '../helpers/stack';
import { startWorker, type RunningWorker } from '../helpers/worker';

let setup: TestSetup;
let w: RunningWorker;
/** The first test's sweep, written under the stack's key: the rotation test reads it again. */
let first: { workflowId: string; subject: string } | undefined;
const stackKeys = process.env.PAYLOAD_KEYS;

beforeAll(async () => {
  setup = await isolatedSetup();
  w = await startWorker(setup);
});
afterAll(async () => {
  if (stackKeys === undefined) delete process.env.PAYLOAD_KEYS;
  else process.env.PAYLOAD_KEYS = stackKeys;
  await w?.stop();
  await setup?.cleanup();
});

test('the raw history hides the advisory; the codec server shows it to the CLI; no token, no decode', async () => {
  expect(setup.config.payloadKeys).toBeDefined(); // stack-up writes PAYLOAD_KEYS into .stack/env
  const tag = randomBytes(4).toString('hex');
  const subject = `Codec check ${tag}: FIN7 infrastructure`;
  const sender = `cert-${tag}@cert.example`;
  const messageTag = `codec-${randomBytes(6).toString('hex')}`;
  const addresses = [`185.220.${100 + (parseInt(tag.slice(0, 2), 16) % 100)}.${parseInt(tag.slice(2, 4), 16)}`];
  // A group with a leading zero would read back shorter (0d9f → d9f): keep the first digit non-zero.
  addresses.push(`2a0b:f4c2:${(parseInt(tag.slice(0, 4), 16) | 0x1000).toString(16)}::17`);
  await appendMessage(
    setup,
    await buildAdvisory({
      from: `CERT <${sender}>`,
      subject,
      text: `Block ${addresses[0]} and ${addresses[1]} (C2).`,
      messageId: `<${messageTag}@cert.example>`,
    }),
  );
  const input: SweepInput = { target: setup.config.target, mailbox: setup.config.mailbox, searchAttributes: true };
  const workflowId = `test-codec-${tag}`;
  const result: SweepResult = await w.client.workflow.execute('mailboxSweepWorkflow', {
    workflowId,
    taskQueue: setup.config.taskQueue,
    args: [input],
  });
  // The client decodes what the worker encrypted: the run did its job.
  expect(result.block?.added).toEqual(expect.arrayContaining(addresses));
  const needles = [subject, sender, messageTag, ...addresses];
  first = { workflowId, subject };

  const raw = readable(await showHistory(setup.env, workflowId));
  expect(raw).toContain('binary/encrypted');
  for (const n of needles) expect(raw).not.toContain(n);
  // The activities carry summaries for the Web UI's event list; encrypted like every other payload.
  const summaries = ['analyse message UID', `block 2 address(es) in target ${setup.config.target.name}`];
  for (const s of summaries) expect(raw).not.toContain(s);

  const token = randomBytes(24).toString('hex');
  const { url, child } = await startCodecServer({ ...setup.env, CODEC_SERVER_TOKEN: token });
  try {
    const decoded = readable(
      await showHistory(setup.env, workflowId, ['--codec-endpoint', url, '--codec-auth', `Bearer ${token}`]),
    );
    for (const n of [...needles, ...summaries]) expect(decoded).toContain(n);
    expect(decoded).not.toContain('binary/encrypted');

    // Without the token (or with another one) nothing is decoded.
    const body = JSON.stringify({ payloads: [] });
    const post = (headers: Record<string, string>) =>
      fetch(`${url}/decode`, { method: 'POST', headers: { 'Content-Type': 'application/json', ...headers }, body });
    expect((await post({})).status).toBe(401);
    expect((await post({ Authorization: `Bearer ${randomBytes(24).toString('hex')}` })).status).toBe(401);
    expect((await post({ Authorization: `Bearer ${token}` })).status).toBe(200);
    await expect(
      showHistory(setup.env, workflowId, ['--codec-endpoint', url, '--codec-auth', 'Bearer wrong']),
    ).rejects.toThrow();

    // The Web UI's preflight (its origin, the headers it sends) is answered; another origin is not.
    const preflight = (origin: string) =>
      fetch(`${url}/decode`, {
        method: 'OPTIONS',
        headers: {
          Origin: origin,
          'Access-Control-Request-Method': 'POST',
          'Access-Control-Request-Headers': 'authorization,content-type,x-namespace',
        },
      });
    const ok = await preflight('http://127.0.0.1:8233');
    expect(ok.status).toBe(204);
    expect(ok.headers.get('access-control-allow-origin')).toBe('http://127.0.0.1:8233');
    expect(ok.headers.get('access-control-allow-credentials')).toBe('true');
    expect(ok.headers.get('access-control-allow-headers')?.toLowerCase().split(/,\s*/)).toEqual(
      expect.arrayContaining(['authorization', 'content-type', 'x-namespace']),
    );
    const evil = await preflight('https://evil.example');
    expect(evil.status).toBe(403);
    expect(evil.headers.get('access-control-allow-origin')).toBeNull();
  } finally {
    await stopChild(child);
  }
});

test('rotation: a worker with a new key first carries on the blocklist written under the old key', async () => {
  expect(first).toBeDefined();
  const stackKey = setup.config.payloadKeys!;
  const newId = `rot-${randomBytes(3).toString('hex')}`;
  const rotated = `${newId}:${randomBytes(32).toString('base64')},${stackKey.keys.map((k) => `${k.id}:${k.key.toString('base64')}`).join(',')}`;
  // Workers and clients restarted with the new key first, the old one kept after it.
  await w.stop();
  process.env.PAYLOAD_KEYS = rotated; // the test client reads process.env, as the CLI reads its environment
  const env = { ...setup.env, PAYLOAD_KEYS: rotated };
  w = await startWorker({ ...setup, env, config: loadWorkerConfig(env) });

  const tag = randomBytes(4).toString('hex');
  const subject = `Rotation check ${tag}`;
  const address = `185.220.${100 + (parseInt(tag.slice(0, 2), 16) % 100)}.${parseInt(tag.slice(2, 4), 16)}`;
  await appendMessage(setup, await buildAdvisory({ subject, text: `Block ${address}.` }));
  const input: SweepInput = { target: setup.config.target, mailbox: setup.config.mailbox, searchAttributes: true };
  const workflowId = `test-codec-rot-${tag}`;
  const result: SweepResult = await w.client.workflow.execute('mailboxSweepWorkflow', {
    workflowId,
    taskQueue: setup.config.taskQueue,
    args: [input],
  });
  expect(result.block?.added).toEqual([address]);

  // The target's blocklist, started under the old key, now holds payloads of both keys, and its worker reads them.
  const blocklist = readable(await showHistory(setup.env, blocklistWorkflowId(setup.config.target.name)));
  expect(blocklist).toContain(stackKey.current.id);
  expect(blocklist).toContain(newId);
  expect(blocklist).not.toContain(address);
  expect(
    (await w.client.workflow.getHandle(blocklistWorkflowId(setup.config.target.name)).query(whyQuery, address)).blocked,
  ).toBe(true);

  // A codec server with both keys reads both sweeps; one that dropped the old key too early cannot read the first.
  const token = randomBytes(24).toString('hex');
  const both = await startCodecServer({ ...env, CODEC_SERVER_TOKEN: token });
  const newOnly = await startCodecServer({ ...env, PAYLOAD_KEYS: rotated.split(',')[0]!, CODEC_SERVER_TOKEN: token });
  try {
    const codec = (url: string) => ['--codec-endpoint', url, '--codec-auth', `Bearer ${token}`];
    expect(readable(await showHistory(setup.env, first!.workflowId, codec(both.url)))).toContain(first!.subject);
    expect(readable(await showHistory(setup.env, workflowId, codec(both.url)))).toContain(subject);
    expect(readable(await showHistory(setup.env, workflowId, codec(newOnly.url)))).toContain(subject);
    const old = JSON.parse(await showHistory(setup.env, first!.workflowId)) as {
      events: { workflowExecutionStartedEventAttributes?: { input: { payloads: unknown[] } } }[];
    };
    const payload = old.events[0]!.workflowExecutionStartedEventAttributes!.input.payloads[0];
    const refused = await fetch(`${newOnly.url}/decode`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${token}` },
      body: JSON.stringify({ payloads: [payload] }),
    });
    expect(refused.status).toBe(422);
    expect(await refused.json()).toMatchObject({ code: 'UNKNOWN_KEY_ID' });
  } finally {
    await stopChild(both.child);
    await stopChild(newOnly.child);
  }
});
