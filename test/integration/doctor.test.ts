/**
 * `mail2waf doctor` on the real stack: all good first, then one thing broken at a time, and exactly that check
 * fails (the checks that depend on it say `skipped`), with exit 1 for something to fix and 2 for "could not check".
 */
import { GetIPSetCommand, ListIPSetsCommand, UpdateIPSetCommand, WAFV2Client } from '@aws-sdk/client-wafv2';
import { createServer } from 'node:net';
import { SMTPServer } from 'smtp-server';
import { checkClock } from '../../src/doctor/clock';
import { cliJson } from '../helpers/cli';
import { imapLoginFix, oauth2Mode, refusedImapEnv, smtpLoginFix } from '../helpers/mail-auth';
import { isolatedSetup, uniqueName, type TestSetup } from '../helpers/stack';

interface Check {
  name: string;
  status: 'ok' | 'fail' | 'error' | 'skipped';
  detail: string;
  fix?: string;
}

let setup: TestSetup;
let name: string;

beforeAll(async () => {
  name = uniqueName('doctor');
  setup = await isolatedSetup(name);
});
afterAll(async () => {
  await setup?.cleanup();
});

async function doctor(overrides: Record<string, string> = {}, args: string[] = []) {
  const { code, doc } = await cliJson(['doctor', ...args], { ...setup.env, ...overrides });
  return { code, checks: doc.result.checks as Check[] };
}

/** Every check is ok except the ones named, which have the given status. */
function expectOnly(checks: Check[], expected: Record<string, Check['status']>) {
  const actual = Object.fromEntries(checks.filter((c) => c.status !== 'ok').map((c) => [c.name, c.status]));
  expect(actual).toEqual(expected);
  for (const c of checks) if (c.status === 'fail' || c.status === 'error') expect(c.fix).toBeTruthy();
}

const byName = (checks: Check[], n: string) => checks.find((c) => c.name === n)!;

/** A port on loopback that nothing listens on. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

test('all good: every check ok, exit 0, and the no-op write leaves the IP set as it was', async () => {
  // Someone else's entry and a description: the no-op UpdateIPSet must keep both.
  const list = await setup.waf.send(new ListIPSetsCommand({ Scope: 'REGIONAL' }));
  const v4 = list.IPSets!.find((s) => s.Name === `${name}-v4`)!;
  await setup.waf.send(
    new UpdateIPSetCommand({
      Name: v4.Name,
      Id: v4.Id,
      Scope: 'REGIONAL',
      Addresses: ['192.0.2.0/24'],
      Description: 'kept by doctor',
      LockToken: v4.LockToken,
    }),
  );

  const { code, checks } = await doctor();
  expectOnly(checks, {});
  expect(code).toBe(0);
  expect(checks.map((c) => c.name)).toEqual([
    'settings',
    'temporal.connect',
    'temporal.namespace',
    'imap.login',
    'imap.mailbox.inbox',
    'imap.mailbox.processed',
    'imap.mailbox.quarantine',
    'smtp',
    `waf.${name}.v4`,
    `waf.${name}.v6`,
    'trust.senders',
    'trust.dns.cert.example',
    'clock',
  ]);
  expect(byName(checks, `waf.${name}.v4`).detail).toMatch(/IPV4, 1 entry, readable and writable/);

  const after = await setup.waf.send(new GetIPSetCommand({ Name: v4.Name, Id: v4.Id, Scope: 'REGIONAL' }));
  expect(after.IPSet?.Addresses).toEqual(['192.0.2.0/24']);
  expect(after.IPSet?.Description).toBe('kept by doctor');
});

test('IMAP login refused (wrong password, or a token not for this mailbox): the mailboxes are not checked', async () => {
  const { code, checks } = await doctor(refusedImapEnv(setup.env));
  expectOnly(checks, {
    'imap.login': 'fail',
    'imap.mailbox.inbox': 'skipped',
    'imap.mailbox.processed': 'skipped',
    'imap.mailbox.quarantine': 'skipped',
  });
  expect(byName(checks, 'imap.login').fix).toContain(`check ${imapLoginFix(setup.env)}`);
  expect(code).toBe(1);
});

test('missing Quarantine mailbox', async () => {
  const { code, checks } = await doctor({ IMAP_QUARANTINE_MAILBOX: `${name}-NoSuchQuarantine` });
  expectOnly(checks, { 'imap.mailbox.quarantine': 'fail' });
  expect(byName(checks, 'imap.mailbox.quarantine').fix).toMatch(/IMAP_QUARANTINE_MAILBOX/);
  expect(code).toBe(1);
});

test('wrong IP set name', async () => {
  const { code, checks } = await doctor({ WAF_IPSET_V4_NAME: `${name}-typo` });
  expectOnly(checks, { [`waf.${name}.v4`]: 'fail' });
  expect(byName(checks, `waf.${name}.v4`).detail).toMatch(/not found/);
  expect(byName(checks, `waf.${name}.v4`).fix).toMatch(/mail2waf aws setup --apply/);
  expect(code).toBe(1);
});

test('an IPv6 set given as the IPv4 set', async () => {
  const { code, checks } = await doctor({ WAF_IPSET_V4_NAME: `${name}-v6` });
  expectOnly(checks, { [`waf.${name}.v4`]: 'fail' });
  expect(byName(checks, `waf.${name}.v4`).detail).toMatch(/is an IPV6 set, but it is configured as the IPv4 set/);
  expect(code).toBe(1);
});

test('unreachable Temporal: could not check (exit 2), the namespace is skipped', async () => {
  const { code, checks } = await doctor({ TEMPORAL_ADDRESS: `127.0.0.1:${await closedPort()}` });
  expectOnly(checks, { 'temporal.connect': 'error', 'temporal.namespace': 'skipped' });
  expect(code).toBe(2);
});

test('a namespace that does not exist', async () => {
  const { code, checks } = await doctor({ TEMPORAL_NAMESPACE: uniqueName('no-such-namespace') });
  expectOnly(checks, { 'temporal.namespace': 'fail' });
  expect(code).toBe(1);
});

test('empty TRUSTED_SENDERS', async () => {
  const { code, checks } = await doctor({ TRUSTED_SENDERS: '' });
  expectOnly(checks, { 'trust.senders': 'fail' });
  expect(code).toBe(1);

  // Said on purpose: not something to fix.
  const none = await doctor({ TRUSTED_SENDERS: 'none' });
  expect(none.checks.find((c: { name: string }) => c.name === 'trust.senders')).toMatchObject({ status: 'ok' });
  expect(none.code).toBe(0);
});

test('a trusted domain without DMARC, and a DKIM selector without a key (offline records)', async () => {
  const noDmarc = await doctor({ TRUSTED_SENDERS: 'cert.example,nodmarc.example' });
  expectOnly(noDmarc.checks, { 'trust.dns.nodmarc.example': 'fail' });
  expect(noDmarc.code).toBe(1);

  const good = await doctor({ DKIM_SELECTORS: `cert.example=${setup.env.STACK_DKIM_SELECTOR}` });
  expectOnly(good.checks, {});
  expect(byName(good.checks, 'trust.dns.cert.example').detail).toMatch(/DKIM key\(s\) for mail2waf-stack/);

  const bad = await doctor({ DKIM_SELECTORS: 'cert.example=retired2019' });
  expectOnly(bad.checks, { 'trust.dns.cert.example': 'fail' });
  expect(byName(bad.checks, 'trust.dns.cert.example').detail).toMatch(/retired2019\._domainkey\.cert\.example/);
});

test('SMTP login refused, and no SMTP server at all', async () => {
  const server = new SMTPServer({
    secure: false,
    disabledCommands: ['STARTTLS'],
    allowInsecureAuth: true,
    authMethods: oauth2Mode(setup.env) ? ['XOAUTH2'] : ['PLAIN', 'LOGIN'],
    logger: false,
    onAuth: (_auth, _session, callback) => callback(new Error('Invalid username or password')),
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    const port = String((server.server.address() as { port: number }).port);
    // With OAuth2 the worker logs in with its token (SMTP_USER defaults to the mailbox); a password is not used.
    const login: Record<string, string> = oauth2Mode(setup.env)
      ? {}
      : { SMTP_USER: 'mail2waf', SMTP_PASSWORD: 'wrong' };
    const refused = await doctor({ SMTP_PORT: port, ...login });
    expectOnly(refused.checks, { smtp: 'fail' });
    expect(byName(refused.checks, 'smtp').fix).toMatch(smtpLoginFix(setup.env));
    expect(refused.code).toBe(1);
  } finally {
    await new Promise((resolve) => server.close(() => resolve(undefined)));
  }
  const down = await doctor({ SMTP_PORT: String(await closedPort()) });
  expectOnly(down.checks, { smtp: 'error' });
  expect(down.code).toBe(2);
});

test('invalid settings: the settings check fails and everything but Temporal is skipped', async () => {
  const { code, checks } = await doctor({ REPORT_TO: 'nobody' });
  expectOnly(checks, {
    settings: 'fail',
    'imap.login': 'skipped',
    smtp: 'skipped',
    waf: 'skipped',
    'trust.senders': 'skipped',
    clock: 'skipped',
  });
  expect(byName(checks, 'settings').detail).toMatch(/REPORT_TO/);
  expect(code).toBe(1);
});

test('--no-write reads only; human output has one line per check and the fix under a failure', async () => {
  let out = '';
  const { runCli } = await import('../../src/client');
  const code = await runCli(['doctor', '--no-write'], {
    out: (s) => (out += s),
    err: () => undefined,
    env: { ...setup.env, IMAP_PROCESSED_MAILBOX: 'Nowhere' },
  });
  expect(code).toBe(1);
  expect(out).toMatch(/^FAIL\s+imap\.mailbox\.processed\s+mailbox Nowhere does not exist/m);
  expect(out).toMatch(/^\s+→ create it .* IMAP_PROCESSED_MAILBOX/m);
  expect(out).toMatch(new RegExp(`^ok\\s+waf\\.${name}\\.v4\\s+.*readable \\(write not checked: --no-write\\)`, 'm'));
  expect(out).toMatch(/1 to fix, 0 could not be checked, 0 skipped, 12 ok/);
});

test('clock: compared with the Date of an AWS WAF answer; ten minutes off fails', async () => {
  const waf = new WAFV2Client({ region: setup.env.AWS_REGION, endpoint: setup.env.AWS_ENDPOINT_URL_WAFV2 });
  const target = setup.config.target;
  const [inTime] = await checkClock(target, waf);
  expect(inTime).toMatchObject({ name: 'clock', status: 'ok' });
  const [ahead] = await checkClock(target, waf, () => Date.now() + 10 * 60_000);
  expect(ahead).toMatchObject({ name: 'clock', status: 'fail' });
  expect(ahead!.detail).toMatch(/local clock ahead of AWS WAF \(us-east-1\) by (599\.[5-9]|600\.[0-5]) s ± /);
  expect(ahead!.fix).toMatch(/synchronise the clock/);
});
