/**
 * MailboxWatch against a fake IMAP server (the real one is in test/integration/watch.test.ts): the catch-up sweep
 * on connect, a burst as one sweep, never two sweeps at once, reconnecting after a drop, a failed sweep retried,
 * and stop() that does not wait for a running sweep.
 */
import { EventEmitter } from 'node:events';
import type { ImapFlow } from 'imapflow';
import type { ImapSettings } from '../../src/activities/imap';
import type { MailOAuth2 } from '../../src/oauth';
import { MailboxWatch, type MailboxWatchOptions, type StartSweep } from '../../src/watch/mailbox-watch';

class FakeServer {
  down = false;
  refuseLogin = false;
  idleOffered = true;
  count = 0;
  readonly clients = new Set<FakeClient>();
  connects = 0;
  arrive(n = 1) {
    for (let i = 0; i < n; i++) {
      this.count++;
      for (const c of this.clients) c.emit('exists', { path: 'INBOX', count: this.count, prevCount: this.count - 1 });
    }
  }
  drop() {
    for (const c of [...this.clients]) c.close();
  }
}

class FakeClient extends EventEmitter {
  usable = false;
  mailbox: unknown = false;
  maxIdleTime: number | false = false;
  capabilities: Map<string, boolean>;
  private endIdle: (() => void) | undefined;
  constructor(private readonly server: FakeServer) {
    super();
    this.capabilities = new Map(server.idleOffered ? [['IDLE', true]] : []);
  }
  async connect() {
    this.server.connects++;
    await new Promise((r) => setTimeout(r, 1));
    if (this.server.down) throw Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' });
    if (this.server.refuseLogin)
      throw Object.assign(new Error('Authentication failed'), { authenticationFailed: true });
    this.usable = true;
    this.server.clients.add(this);
  }
  async mailboxOpen(path: string) {
    this.mailbox = { path, exists: this.server.count };
  }
  idle() {
    return new Promise<void>((resolve) => (this.endIdle = resolve));
  }
  close() {
    if (!this.server.clients.delete(this)) return;
    this.usable = false;
    this.endIdle?.();
    this.emit('close');
  }
}

function deferred() {
  let resolve!: () => void;
  let reject!: (e: Error) => void;
  const promise = new Promise<void>((res, rej) => ((resolve = res), (reject = rej)));
  return { promise, resolve, reject };
}

async function until(what: string, fn: () => boolean, timeoutMs = 3000) {
  const end = Date.now() + timeoutMs;
  while (!fn()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

const quiet = { info: () => undefined, warn: () => undefined, error: () => undefined, debug: () => undefined };

function setUp(opts: { sweepFails?: number; imap?: ImapSettings; logger?: MailboxWatchOptions['logger'] } = {}) {
  const server = new FakeServer();
  const sweeps: { done: ReturnType<typeof deferred>; startedAt: number }[] = [];
  let running = 0;
  let maxRunning = 0;
  let failures = opts.sweepFails ?? 0;
  const startSweep: StartSweep = async () => {
    running++;
    maxRunning = Math.max(maxRunning, running);
    const done = deferred();
    sweeps.push({ done, startedAt: Date.now() });
    try {
      await done.promise;
    } finally {
      running--;
    }
    if (failures-- > 0) throw new Error('sweep failed');
    return { again: false, workflowId: 'w', joined: false };
  };
  const watch = new MailboxWatch({
    imap: opts.imap ?? { host: '127.0.0.1', port: 1, secure: false, user: 'u', password: 'p' },
    mailbox: 'INBOX',
    startSweep,
    debounceMs: 30,
    pollIntervalMs: 1000,
    reconnect: { initialMs: 10, maxMs: 40 },
    sweepRetry: { initialMs: 10, maxMs: 40 },
    loginRetry: { initialMs: 400, maxMs: 400 },
    logger: opts.logger ?? quiet,
    connect: async (_settings, onError) => {
      const c = new FakeClient(server);
      c.on('error', onError);
      await c.connect();
      return c as unknown as ImapFlow;
    },
  });
  return { server, sweeps, watch, maxRunning: () => maxRunning, running: () => running };
}

/** Finishes the running sweep (the last one started). */
function finish(sweeps: { done: ReturnType<typeof deferred> }[]) {
  sweeps[sweeps.length - 1]!.done.resolve();
}

test('a sweep on connect; a burst of arrivals is one more sweep; never two at once', async () => {
  const t = setUp();
  t.watch.start();
  await until('the catch-up sweep', () => t.sweeps.length === 1);
  expect(t.watch.status).toMatchObject({ connected: true, mode: 'idle' });
  finish(t.sweeps);
  await until('idle again', () => t.running() === 0);
  t.server.arrive(5);
  await until('the burst sweep', () => t.sweeps.length === 2);
  // mail while the sweep runs: remembered, not a second sweep at once
  t.server.arrive(2);
  await new Promise((r) => setTimeout(r, 100));
  expect(t.sweeps).toHaveLength(2);
  finish(t.sweeps);
  await until('the follow-up sweep', () => t.sweeps.length === 3);
  finish(t.sweeps);
  await new Promise((r) => setTimeout(r, 100));
  expect(t.sweeps).toHaveLength(3);
  expect(t.maxRunning()).toBe(1);
  await t.watch.stop();
});

test('a dropped connection: reconnects with back-off while the server is down, then sweeps once it is back', async () => {
  const t = setUp();
  t.watch.start();
  await until('the catch-up sweep', () => t.sweeps.length === 1);
  finish(t.sweeps);
  t.server.down = true;
  t.server.drop();
  await until('several refused attempts', () => t.server.connects >= 4);
  expect(t.watch.status.connected).toBe(false);
  expect(t.sweeps).toHaveLength(1);
  t.server.down = false;
  await until('a sweep after reconnecting', () => t.sweeps.length === 2);
  expect(t.watch.status.connected).toBe(true);
  finish(t.sweeps);
  t.server.arrive();
  await until('arrivals seen on the new connection', () => t.sweeps.length === 3);
  finish(t.sweeps);
  await t.watch.stop();
});

test('a failed sweep is tried again; polling where the server has no IDLE', async () => {
  const t = setUp({ sweepFails: 1 });
  t.server.idleOffered = false;
  t.watch.start();
  await until('the catch-up sweep', () => t.sweeps.length === 1);
  expect(t.watch.status.mode).toBe('poll');
  finish(t.sweeps);
  await until('the retry', () => t.sweeps.length === 2);
  expect(t.watch.status.lastError).toBe('sweep failed');
  finish(t.sweeps);
  await t.watch.stop();
});

test('stop() does not wait for a running sweep, and starts none after', async () => {
  const t = setUp();
  t.watch.start();
  await until('the catch-up sweep', () => t.sweeps.length === 1);
  await t.watch.stop();
  expect(t.server.clients.size).toBe(0);
  t.server.arrive();
  finish(t.sweeps);
  await new Promise((r) => setTimeout(r, 100));
  expect(t.sweeps).toHaveLength(1);
});

test('a refused login is tried again slowly (a person must fix it), a refused connection quickly', async () => {
  const t = setUp();
  t.server.refuseLogin = true;
  t.watch.start();
  await until('the first refusal', () => t.server.connects === 1);
  await new Promise((r) => setTimeout(r, 150));
  expect(t.server.connects).toBe(1); // the login back-off is 200–400 ms here, the connection one 5–40 ms
  t.server.refuseLogin = false;
  await until('a sweep once the login works', () => t.sweeps.length === 1);
  expect(t.watch.status.lastError).toBe('Authentication failed');
  finish(t.sweeps);
  await t.watch.stop();
});

test('a refused login names the settings of the login in use: the password, or the OAuth2 app', async () => {
  const warnings: string[] = [];
  const logger = { ...quiet, warn: (_m: string, meta?: { error?: string }) => void warnings.push(meta?.error ?? '') };
  const oauth2 = { credentialSettings: 'OAUTH2_CLIENT_ID and OAUTH2_CLIENT_SECRET' } as MailOAuth2;
  for (const imap of [
    { host: '127.0.0.1', port: 1, secure: false, user: 'u', password: 'p' },
    { host: '127.0.0.1', port: 1, secure: false, user: 'u', oauth2 },
  ]) {
    const t = setUp({ imap, logger });
    t.server.refuseLogin = true;
    t.watch.start();
    await until('the refusal', () => warnings.length === (imap.oauth2 ? 2 : 1));
    await t.watch.stop();
  }
  expect(warnings).toEqual([
    'IMAP login failed — check IMAP_USER and IMAP_PASSWORD (Authentication failed)',
    'IMAP login failed — check IMAP_USER and that the OAuth2 app may open this mailbox ' +
      '(OAUTH2_CLIENT_ID and OAUTH2_CLIENT_SECRET) (Authentication failed)',
  ]);
});
