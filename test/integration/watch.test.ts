/**
 * The mailbox watch on the real stack: mail appended with no `mail2waf run` is blocked soon; a burst is one or
 * two sweeps, never more; after Dovecot restarts, the watch reconnects and mail appended then is blocked too.
 * The test's Dovecot is a private instance over the stack's mail store (test/helpers/private-dovecot.ts), so
 * restarting it leaves the shared stack, and every other test using it, alone. On an OAuth2 stack the watch's
 * connection outlives the token it logged in with (20 s), and its reconnect must log in with a new one.
 */
import { randomBytes } from 'node:crypto';
import type { ImapSettings } from '../../src/activities/imap';
import type { MailOAuth2 } from '../../src/oauth';
import { buildAdvisory } from '../../scripts/sample-advisories';
import { startMailboxWatch, watchSweepWorkflowId, type MailboxWatch } from '../../src/watch/mailbox-watch';
import { spawnWorker, waitUntilReady } from '../helpers/child-worker';
import { introspect, oauth2Mode } from '../helpers/mail-auth';
import { startPrivateDovecot, type PrivateDovecot } from '../helpers/private-dovecot';
import {
  ipSet,
  isolatedSetup,
  mailboxContents,
  reportsFor,
  uniqueName,
  waitFor,
  withImap,
  type TestSetup,
} from '../helpers/stack';
import { startWorker, type RunningWorker } from '../helpers/worker';

let dovecot: PrivateDovecot;
let setup: TestSetup;
let w: RunningWorker;
let watch: MailboxWatch;
const logged: string[] = [];
const logger = {
  debug: () => undefined,
  info: (m: string, meta?: object) => void logged.push(`${m} ${JSON.stringify(meta)}`),
  warn: (m: string, meta?: object) => void logged.push(`WARN ${m} ${JSON.stringify(meta)}`),
  error: (m: string, meta?: object) => void logged.push(`ERROR ${m} ${JSON.stringify(meta)}`),
};

/** The tokens the watch logged in with, oldest first (OAuth2 stack): its IMAP client asks for one per connection. */
const watchTokens: string[] = [];

/** The worker's token source, noting each token it hands the watch. */
function noted(imap: ImapSettings): ImapSettings {
  const source = imap.oauth2;
  if (!source) return imap;
  const oauth2: MailOAuth2 = {
    provider: source.provider,
    credentialSettings: source.credentialSettings,
    async token(user) {
      const token = await source.token(user);
      watchTokens.push(token);
      return token;
    },
    invalidate: (user, token) => source.invalidate(user, token),
    get fetched() {
      return source.fetched;
    },
    get failed() {
      return source.failed;
    },
    redact: (text) => source.redact(text),
  };
  return { ...imap, oauth2 };
}

beforeAll(async () => {
  dovecot = await startPrivateDovecot();
  setup = await isolatedSetup(uniqueName('watch'), { IMAP_PORT: String(dovecot.port) });
  w = await startWorker(setup);
  watch = startMailboxWatch(setup.config, w.client, logger, { imap: noted(setup.config.imap) });
});

afterAll(async () => {
  await watch?.stop();
  await w?.stop();
  await setup?.cleanup();
  await dovecot?.dispose();
});

afterEach(() => {
  if (expect.getState().assertionCalls !== expect.getState().numPassingAsserts) console.error(logged.join('\n'));
});

/** A public IPv4 address nobody else's test uses. */
function randomIp(): string {
  const b = randomBytes(3);
  return `45.${1 + (b[0]! % 250)}.${b[1]}.${1 + (b[2]! % 250)}`;
}

async function advisory(ip: string) {
  return buildAdvisory({ subject: `Watch test ${ip}`, text: `Block ${ip} at once.\n` });
}

async function blocked(ips: string[]) {
  return waitFor(
    `${ips.join(', ')} in the IP set`,
    async () => {
      const { addresses } = await ipSet(setup, 'v4');
      return ips.every((ip) => addresses.includes(`${ip}/32`));
    },
    60_000,
  );
}

/** The watch has nothing to do and the inbox is empty: what follows starts from a quiet mailbox. */
async function quiet() {
  await waitFor('an empty inbox and an idle watch', async () => {
    const inbox = await mailboxContents(setup, setup.config.mailbox);
    return inbox.length === 0 && watch.phase === 'idle';
  });
}

test('an advisory appended with no `mail2waf run` is blocked: the watch started the sweep', async () => {
  await waitFor('the watch to connect', async () => watch.status.connected);
  expect(watch.status.mode).toBe('idle');
  const ip = randomIp();
  await withImap(setup.config, async (c) => c.append(setup.config.mailbox, await advisory(ip)));
  await blocked([ip]);
  await quiet();
  expect(await mailboxContents(setup, setup.config.processedMailbox)).toHaveLength(1);
});

test('a burst of five advisories is swept by at most two sweeps, one at a time', async () => {
  await quiet();
  const id = watchSweepWorkflowId(setup.config.scheduleId, setup.config.mailbox);
  const reportsBefore = (await reportsFor(setup, id)).length;
  const sweepsBefore = watch.status.sweeps;
  const ips = Array.from({ length: 5 }, randomIp);
  const messages = await Promise.all(ips.map(advisory));
  await withImap(setup.config, async (c) => {
    for (const m of messages) await c.append(setup.config.mailbox, m);
  });
  await blocked(ips);
  await quiet();
  const sweeps = watch.status.sweeps - sweepsBefore;
  expect(sweeps).toBeGreaterThanOrEqual(1);
  expect(sweeps).toBeLessThanOrEqual(2);
  const reports = await waitFor('the reports', async () => {
    const r = (await reportsFor(setup, id)).length - reportsBefore;
    return r >= 1 && r;
  });
  expect(reports).toBeLessThanOrEqual(2);
  // Every sweep of the watch ran under the one workflow id: none of them overlapped another.
  const runs = [];
  for await (const r of w.client.workflow.list({ query: `WorkflowId = '${id}'` })) runs.push(r);
  expect(runs.every((r) => r.status.name !== 'RUNNING')).toBe(true);
});

test('after Dovecot restarts, the watch reconnects and mail appended then is blocked', async () => {
  await quiet();
  const reconnects = watch.status.reconnects;
  const oauth2 = oauth2Mode(setup.env);
  const loggedInWith = watchTokens.at(-1);
  if (oauth2) {
    // Dovecot checks a token at login only: the watch's connection goes on listening after its token expired.
    expect(loggedInWith).toBeDefined();
    await waitFor('the watch’s token to expire', async () => !(await introspect(setup.env, loggedInWith!)).active);
    const ip = randomIp();
    await withImap(setup.config, async (c) => c.append(setup.config.mailbox, await advisory(ip)));
    await blocked([ip]);
    await quiet();
    expect(watch.status.reconnects).toBe(reconnects);
  }
  await dovecot.restart();
  await waitFor('the watch to reconnect', async () => watch.status.reconnects > reconnects && watch.status.connected);
  if (oauth2) {
    // The expired token would be refused: the reconnect logged in with a new one.
    const fresh = watchTokens.at(-1)!;
    expect(fresh).not.toBe(loggedInWith);
    expect(await introspect(setup.env, fresh)).toMatchObject({ active: true, email: setup.config.imap.user });
  }
  const ip = randomIp();
  await withImap(setup.config, async (c) => c.append(setup.config.mailbox, await advisory(ip)));
  await blocked([ip]);
  // The worker's own activities went through the restart too: the advisory left the inbox.
  await quiet();
});

test('`mail2waf worker` runs the watch by default and stops it on SIGTERM', async () => {
  await watch.stop();
  await quiet();
  // setup.env has IMAP_PORT of the private Dovecot; an empty WATCH_MAILBOX is unset: the default, on.
  const child = spawnWorker({ ...setup.env, WATCH_MAILBOX: '' });
  try {
    await waitUntilReady(child);
    expect(child.output()).toContain(`watching mailbox ${setup.config.mailbox}`);
    const ip = randomIp();
    await withImap(setup.config, async (c) => c.append(setup.config.mailbox, await advisory(ip)));
    await blocked([ip]);
    await quiet();
  } finally {
    expect(await child.kill('SIGTERM')).toBe(0);
  }
});

test('where the server offers no IDLE, the watch polls and the advisory is blocked all the same', async () => {
  await watch.stop(); // only the polling watch below may start the sweep
  // A second private instance over the same mail store whose capabilities leave IDLE out.
  const noIdle = await startPrivateDovecot(
    'protocol imap {\n  imap_capability = IMAP4rev1 SASL-IR LOGIN-REFERRALS ID ENABLE LITERAL+ UIDPLUS MOVE NAMESPACE UNSELECT CHILDREN\n}',
  );
  const config = {
    ...setup.config,
    imap: { ...setup.config.imap, port: noIdle.port },
    watch: { ...setup.config.watch, pollIntervalMs: 1000 },
  };
  const polling = startMailboxWatch(config, w.client, logger);
  try {
    await waitFor('the polling watch to connect', async () => polling.status.connected);
    expect(polling.status.mode).toBe('poll');
    await quiet();
    // Its catch-up sweep on connecting must be over first, or it could take the advisory itself and the poll
    // would have nothing left to see.
    await waitFor('the catch-up sweep', async () => polling.status.sweeps >= 1 && polling.phase === 'idle');
    const ip = randomIp();
    await withImap(setup.config, async (c) => c.append(setup.config.mailbox, await advisory(ip)));
    await blocked([ip]);
    // Nothing else starts sweeps now: the block came from the polling watch (its catch-up sweep on connecting,
    // then the one the poll asked for; a sweep counts once it has finished, after its report and move).
    await waitFor('the polling watch to finish its sweeps', async () => polling.status.sweeps >= 2);
  } finally {
    await polling.stop();
    await noIdle.dispose();
  }
});
