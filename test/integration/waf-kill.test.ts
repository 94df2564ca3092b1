/**
 * The worker SIGKILLed between GetIPSet and UpdateIPSet: a proxy in front of moto holds the first UpdateIPSet
 * (it never reaches moto), the worker is killed while it waits, a new worker takes over, and the blocklist
 * still converges: the entry ends in the IP set once, and an entry someone else wrote meanwhile survives.
 */
import { createServer, request, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { submitBlock } from '../../src/blocklist-client';
import { connectClient } from '../../src/temporal-connection';
import { spawnWorker, waitUntilReady, type ChildWorker } from '../helpers/child-worker';
import { foreignWrite, ipSet, isolatedSetup, waitFor, type TestSetup } from '../helpers/stack';

let setup: TestSetup;
let proxy: Server;
let held: ServerResponse | undefined;
let holdNextUpdate = true;
const workers: ChildWorker[] = [];

beforeAll(async () => {
  setup = await isolatedSetup();
  const moto = new URL(setup.env.AWS_ENDPOINT_URL_WAFV2!);
  proxy = createServer((req: IncomingMessage, res: ServerResponse) => {
    if (holdNextUpdate && String(req.headers['x-amz-target']).endsWith('.UpdateIPSet')) {
      holdNextUpdate = false;
      held = res; // never forwarded, never answered: the worker is stuck between its read and its write
      req.resume();
      return;
    }
    const upstream = request(
      { host: moto.hostname, port: moto.port, path: req.url, method: req.method, headers: req.headers },
      (up) => {
        res.writeHead(up.statusCode ?? 502, up.headers);
        up.pipe(res);
      },
    );
    req.pipe(upstream);
  });
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
});

afterAll(async () => {
  for (const w of workers) await w.kill();
  held?.destroy();
  await new Promise<void>((resolve) => proxy.close(() => resolve()));
  await setup?.cleanup();
});

test('a worker killed between GetIPSet and UpdateIPSet: the next worker converges the IP set', async () => {
  const port = (proxy.address() as AddressInfo).port;
  const first = spawnWorker({ ...setup.env, AWS_ENDPOINT_URL_WAFV2: `http://127.0.0.1:${port}` });
  workers.push(first);
  await waitUntilReady(first);

  const client = await connectClient();
  const blocked = submitBlock(client, setup.config.taskQueue, setup.config.target, setup.config.policy, {
    requestId: 'kill-between-read-and-write',
    candidates: [{ value: '185.220.116.1', source: { kind: 'manual', ref: 'tester', at: new Date().toISOString() } }],
  });
  await waitFor('the first UpdateIPSet to be held', async () => held !== undefined, 60_000);
  expect(await first.kill('SIGKILL')).toBe(-1);
  held!.destroy();

  // Meanwhile someone else edits the set: our retry must read again, not write the stale list.
  await foreignWrite(setup, 'v4', (a) => [...a, '101.35.0.0/16']);

  const second = spawnWorker(setup.env);
  workers.push(second);
  await waitUntilReady(second);
  const result = await blocked;
  expect(result).toMatchObject({ added: ['185.220.116.1'], synced: true });
  expect((await ipSet(setup, 'v4')).addresses).toEqual(['101.35.0.0/16', '185.220.116.1/32']);
  await client.connection.close();
});
