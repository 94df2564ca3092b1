/**
 * Access to the real local stack for integration tests: its settings (.stack/env, written by `npm run stack:up`),
 * and per-test isolation — each test gets its own IMAP mailboxes, its own IP sets and its own task queue, so
 * tests never see each other's mail or addresses and the demo's state is left alone.
 */
import {
  CreateIPSetCommand,
  DeleteIPSetCommand,
  GetIPSetCommand,
  ListIPSetsCommand,
  UpdateIPSetCommand,
  WAFV2Client,
} from '@aws-sdk/client-wafv2';
import type { ImapFlow } from 'imapflow';
import { simpleParser } from 'mailparser';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { imapClient } from '../../src/activities/imap';
import { loadWorkerConfig, type WorkerConfig } from '../../src/config';

export const repoRoot = join(__dirname, '..', '..');

/** Reads .stack/env into an object and into process.env (the Temporal envconfig reads process.env). */
export function stackEnv(): Record<string, string> {
  const file = join(repoRoot, '.stack', 'env');
  if (!existsSync(file)) throw new Error(`${file} is missing: run \`npm run stack:up\` before the integration tests`);
  const env: Record<string, string> = {};
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    const m = /^([A-Z0-9_]+)=(.*)$/.exec(line.trim());
    if (m) env[m[1]!] = m[2]!;
  }
  Object.assign(process.env, env);
  return env;
}

export function uniqueName(prefix: string): string {
  return `${prefix}-${randomBytes(4).toString('hex')}`;
}

export interface TestSetup {
  env: Record<string, string>;
  config: WorkerConfig;
  waf: WAFV2Client;
  cleanup(): Promise<void>;
}

/** A fresh, isolated slice of the stack: mailboxes <name>, <name>/Processed, <name>/Quarantine; two IP sets. */
export async function isolatedSetup(
  name = uniqueName('t'),
  overrides: Record<string, string> = {},
): Promise<TestSetup> {
  const base = stackEnv();
  const waf = new WAFV2Client({ region: base.AWS_REGION, endpoint: base.AWS_ENDPOINT_URL_WAFV2 });
  const ipSets: { Name: string; Id: string; LockToken: string }[] = [];
  for (const [suffix, version] of [
    ['v4', 'IPV4'],
    ['v6', 'IPV6'],
  ] as const) {
    const created = await waf.send(
      new CreateIPSetCommand({
        Name: `${name}-${suffix}`,
        Scope: 'REGIONAL',
        IPAddressVersion: version,
        Addresses: [],
        Description: 'mail2waf test',
      }),
    );
    ipSets.push({ Name: created.Summary!.Name!, Id: created.Summary!.Id!, LockToken: created.Summary!.LockToken! });
  }
  const env: Record<string, string> = {
    ...base,
    IMAP_MAILBOX: name,
    IMAP_PROCESSED_MAILBOX: `${name}-Processed`,
    IMAP_QUARANTINE_MAILBOX: `${name}-Quarantine`,
    WAF_TARGET_NAME: name,
    WAF_IPSET_V4_NAME: `${name}-v4`,
    WAF_IPSET_V6_NAME: `${name}-v6`,
    MAIL2WAF_TASK_QUEUE: `${name}-tq`,
    MAIL2WAF_SCHEDULE_ID: `${name}-schedule`,
    ...overrides,
  };
  const config = loadWorkerConfig(env);
  await withImap(config, async (c) => {
    for (const box of [name, `${name}-Processed`, `${name}-Quarantine`]) await c.mailboxCreate(box);
  });
  return {
    env,
    config,
    waf,
    async cleanup() {
      await withImap(config, async (c) => {
        for (const box of [name, `${name}-Processed`, `${name}-Quarantine`])
          await c.mailboxDelete(box).catch(() => undefined);
      });
      const list = await waf.send(new ListIPSetsCommand({ Scope: 'REGIONAL' }));
      for (const s of list.IPSets ?? []) {
        if (s.Name?.startsWith(`${name}-`)) {
          await waf.send(new DeleteIPSetCommand({ Name: s.Name, Id: s.Id, Scope: 'REGIONAL', LockToken: s.LockToken }));
        }
      }
    },
  };
}

export async function withImap<T>(
  config: WorkerConfig,
  fn: (c: ImapFlow) => Promise<T>,
  user = config.imap.user,
  password?: string,
): Promise<T> {
  // The advisory mailbox logs in as the worker does (password or, in the stack's oauth2 mode, OAuth2 tokens);
  // another mailbox (the security team's) with the password given.
  const c = imapClient(
    password === undefined
      ? { ...config.imap, secure: false, user }
      : { ...config.imap, secure: false, user, password, oauth2: undefined },
  );
  c.on('error', () => undefined);
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.logout().catch(() => undefined);
  }
}

export async function appendMessage(setup: TestSetup, raw: string | Buffer, mailbox = setup.config.mailbox) {
  await withImap(setup.config, (c) => c.append(mailbox, raw));
}

/** Message-IDs (or subjects when absent) of the messages in one of the test's mailboxes. */
export async function mailboxContents(setup: TestSetup, mailbox: string) {
  return withImap(setup.config, async (c) => {
    const lock = await c.getMailboxLock(mailbox);
    try {
      const out: { uid: number; messageId?: string; subject?: string; keywords: string[] }[] = [];
      for await (const m of c.fetch('1:*', { envelope: true, flags: true, uid: true })) {
        out.push({
          uid: m.uid,
          messageId: m.envelope?.messageId,
          subject: m.envelope?.subject,
          keywords: [...(m.flags ?? [])],
        });
      }
      return out;
    } finally {
      lock.release();
    }
  }).catch((e: Error & { mailboxMissing?: boolean }) => {
    if (e.mailboxMissing) return [];
    throw e;
  });
}

/** Reports in the security team's inbox that belong to one sweep (they carry X-Mail2waf-Sweep). */
export async function reportsFor(
  setup: TestSetup,
  sweepId: string,
): Promise<{ messageId?: string; subject?: string; text: string }[]> {
  const user = setup.env.REPORT_IMAP_USER!;
  const password = setup.env.REPORT_IMAP_PASSWORD!;
  return withImap(
    setup.config,
    async (c) => {
      const lock = await c.getMailboxLock('INBOX');
      try {
        const uids = (await c.search({ header: { 'X-Mail2waf-Sweep': sweepId } }, { uid: true })) || [];
        const out: { messageId?: string; subject?: string; text: string }[] = [];
        if (uids.length === 0) return out;
        const sources: Buffer[] = [];
        for await (const m of c.fetch(uids.join(','), { source: true }, { uid: true }))
          if (m.source) sources.push(m.source);
        for (const source of sources) {
          // Decoded body: the report is quoted-printable on the wire.
          const parsed = await simpleParser(source);
          out.push({ messageId: parsed.messageId, subject: parsed.subject, text: parsed.text ?? '' });
        }
        return out;
      } finally {
        lock.release();
      }
    },
    user,
    password,
  );
}

export async function ipSet(setup: TestSetup, version: 'v4' | 'v6') {
  const name = version === 'v4' ? setup.config.target.ipSetV4Name : setup.config.target.ipSetV6Name;
  const list = await setup.waf.send(new ListIPSetsCommand({ Scope: 'REGIONAL' }));
  const id = list.IPSets?.find((s) => s.Name === name)?.Id;
  const got = await setup.waf.send(new GetIPSetCommand({ Name: name, Scope: 'REGIONAL', Id: id }));
  return { name, id: id!, addresses: [...(got.IPSet?.Addresses ?? [])].sort(), lockToken: got.LockToken! };
}

/** Writes the IP set as "someone else" would (a person in the console, Terraform). */
export async function foreignWrite(setup: TestSetup, version: 'v4' | 'v6', change: (addresses: string[]) => string[]) {
  const current = await ipSet(setup, version);
  await setup.waf.send(
    new UpdateIPSetCommand({
      Name: current.name,
      Scope: 'REGIONAL',
      Id: current.id,
      Addresses: change(current.addresses),
      LockToken: current.lockToken,
      Description: 'mail2waf test',
    }),
  );
}

export async function waitFor<T>(
  what: string,
  fn: () => Promise<T | undefined | false>,
  timeoutMs = 60_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}
