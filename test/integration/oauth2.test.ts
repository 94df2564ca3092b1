/**
 * OAuth2 mail login on the real stack (issue 12 §1). The token providers run against the stack's own token endpoint
 * (scripts/oauth-server.ts) in either mode; the mail tests need the stack in oauth2 mode
 * (`STACK_MAIL_AUTH=oauth2 npm run stack:up`, which CI runs), where Dovecot and the SMTP relay accept only tokens
 * that the endpoint issued (20 s lifetime, so they expire during the test).
 */
import { randomBytes } from 'node:crypto';
import { WorkflowFailedError } from '@temporalio/client';
import { ActivityFailure, ApplicationFailure } from '@temporalio/common';
import nodemailer from 'nodemailer';
import { connectImap, imapClient } from '../../src/activities/imap';
import { smtpTransportOptions } from '../../src/activities/report';
import { ConfigError, loadWorkerConfig, type WorkerConfig } from '../../src/config';
import { createMailOAuth2, ENTRA_AUTHORITY, ENTRA_SCOPE, GOOGLE_SCOPE, OAuth2RefusedError } from '../../src/oauth';
import { ErrorTypes } from '../../src/shared/constants';
import type { SweepInput, SweepResult } from '../../src/shared/types';
import { createWorker } from '../../src/worker';
import { buildAdvisory } from '../../scripts/sample-advisories';
import {
  appendMessage,
  ipSet,
  isolatedSetup,
  mailboxContents,
  reportsFor,
  stackEnv,
  waitFor,
  type TestSetup,
} from '../helpers/stack';
import { startWorker, workflowBundle } from '../helpers/worker';

const env = stackEnv();
const OAUTH2_MODE = env.STACK_MAIL_AUTH === 'oauth2';
const advisories = env.IMAP_USER!;

async function stats(): Promise<{ issued: number; refused: number }> {
  return (await (await fetch(`${env.STACK_OAUTH_URL}/stats`)).json()) as { issued: number; refused: number };
}

/** What the token endpoint says about a token (the question Dovecot and the relay ask). */
async function introspect(token: string): Promise<{ active: boolean; email?: string }> {
  const res = await fetch(`${env.STACK_OAUTH_URL}/introspect`, {
    method: 'POST',
    body: new URLSearchParams({ token }),
  });
  return (await res.json()) as { active: boolean; email?: string };
}

async function refusal(p: Promise<unknown>): Promise<OAuth2RefusedError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(OAuth2RefusedError);
  return err as OAuth2RefusedError;
}

describe('token providers against the local token endpoint', () => {
  const entra = {
    provider: 'entra' as const,
    tenantId: env.STACK_OAUTH_ENTRA_TENANT!,
    clientId: env.STACK_OAUTH_ENTRA_CLIENT_ID!,
    authority: ENTRA_AUTHORITY,
    scope: ENTRA_SCOPE,
    // msal-node keeps its https authority; its token request goes to the local endpoint (Entra's URL shape).
    tokenUrl: `${env.STACK_OAUTH_URL}/${env.STACK_OAUTH_ENTRA_TENANT}/oauth2/v2.0/token`,
  };

  test('Entra client credentials (msal-node): client secret, and certificate; the token opens the mailbox', async () => {
    const bySecret = await createMailOAuth2({ ...entra, clientSecret: env.STACK_OAUTH_ENTRA_SECRET! }).token(
      advisories,
    );
    expect(await introspect(bySecret)).toMatchObject({ active: true, email: advisories });
    const byCert = await createMailOAuth2({ ...entra, certificate: { certFile: env.STACK_OAUTH_ENTRA_CERT! } }).token(
      advisories,
    );
    expect(await introspect(byCert)).toMatchObject({ active: true, email: advisories });
  });

  test('Entra refusals name the setting to fix and never hold the secret', async () => {
    const wrong = `wrong-${randomBytes(8).toString('hex')}`;
    const secret = await refusal(createMailOAuth2({ ...entra, clientSecret: wrong }).token(advisories));
    expect(secret.setting).toBe('OAUTH2_CLIENT_SECRET');
    expect(secret.code).toBe('invalid_client');
    expect(secret.message).toContain('check OAUTH2_CLIENT_SECRET');
    expect(secret.message).not.toContain(wrong);
    const tenant = await refusal(
      createMailOAuth2({
        ...entra,
        clientSecret: env.STACK_OAUTH_ENTRA_SECRET!,
        tokenUrl: `${env.STACK_OAUTH_URL}/another-tenant/oauth2/v2.0/token`,
      }).token(advisories),
    );
    expect(tenant.setting).toContain('OAUTH2_TENANT_ID');
    expect(tenant.message).not.toContain(env.STACK_OAUTH_ENTRA_SECRET!);
  });

  test('Google service account with domain-wide delegation (google-auth-library): subject = the mailbox', async () => {
    const google = createMailOAuth2({
      provider: 'google',
      serviceAccountFile: env.STACK_OAUTH_GOOGLE_FILE!,
      scope: GOOGLE_SCOPE,
    });
    const token = await google.token(advisories);
    expect(await introspect(token)).toMatchObject({ active: true, email: advisories });
    // A mailbox the delegation does not cover is refused, naming the key file (and its delegation).
    const other = await refusal(google.token('someone-else@mail2waf.test'));
    expect(other.setting).toBe('GOOGLE_SERVICE_ACCOUNT_FILE');
  });

  test('generic refresh-token grant: a revoked refresh token names OAUTH2_REFRESH_TOKEN', async () => {
    const settings = {
      provider: 'refresh-token' as const,
      tokenUrl: `${env.STACK_OAUTH_URL}/token`,
      clientId: env.STACK_OAUTH_CLIENT_ID!,
      clientSecret: env.STACK_OAUTH_CLIENT_SECRET!,
      refreshToken: env.STACK_OAUTH_REFRESH_TOKEN!,
    };
    expect(await introspect(await createMailOAuth2(settings).token(advisories))).toMatchObject({ active: true });
    const revoked = await refusal(
      createMailOAuth2({ ...settings, refreshToken: 'revoked-refresh-token' }).token(advisories),
    );
    expect(revoked.setting).toBe('OAUTH2_REFRESH_TOKEN');
    expect(revoked.message).not.toContain(env.STACK_OAUTH_CLIENT_SECRET!);
  });
});

// The mail tests need the stack in oauth2 mode; in password mode they are skipped, saying how to run them.
const mail = OAUTH2_MODE ? describe : describe.skip;
if (!OAUTH2_MODE) {
  console.warn(
    'oauth2.test.ts: the stack is in password mode — the OAuth2 mail tests are skipped. ' +
      'Run them with: STACK_MAIL_AUTH=oauth2 npm test -- test/integration/oauth2.test.ts',
  );
}

mail('mail with OAuth2 (stack in oauth2 mode)', () => {
  let setup: TestSetup;

  beforeAll(async () => {
    setup = await isolatedSetup();
  });
  afterAll(async () => {
    await setup?.cleanup();
  });

  function sweepInput(): SweepInput {
    return { target: setup.config.target, mailbox: setup.config.mailbox, maxMessages: 50 };
  }

  async function advisory(ip: string) {
    const messageId = `<oauth2-${randomBytes(4).toString('hex')}@cert.example>`;
    await appendMessage(
      setup,
      await buildAdvisory({ subject: 'Block list', text: `Block the scanner ${ip} now.\n`, messageId }),
    );
    return messageId;
  }

  test('a password login is refused by Dovecot and by the relay', async () => {
    const byPassword = imapClient({ ...setup.config.imap, oauth2: undefined, password: env.STACK_ADVISORIES_PASSWORD });
    byPassword.on('error', () => undefined);
    const err = (await byPassword.connect().catch((e: unknown) => e)) as { authenticationFailed?: boolean };
    expect(err?.authenticationFailed).toBe(true);

    const relay = nodemailer.createTransport({
      host: '127.0.0.1',
      port: Number(env.SMTP_PORT),
      ignoreTLS: true,
      auth: { user: advisories, pass: env.STACK_ADVISORIES_PASSWORD! },
    });
    await expect(relay.verify()).rejects.toMatchObject({ code: 'EAUTH' });
    relay.close();
  });

  test('a token the server no longer accepts is replaced once: the login goes through with a new token', async () => {
    const oauth2 = setup.config.imap.oauth2!;
    const cached = await oauth2.token(advisories);
    await fetch(`${env.STACK_OAUTH_URL}/revoke`, { method: 'POST', body: new URLSearchParams({ token: cached }) });
    const before = oauth2.fetched;
    const client = await connectImap(setup.config.imap, () => undefined);
    await client.logout();
    expect(oauth2.fetched).toBe(before + 1);
    expect(await oauth2.token(advisories)).not.toBe(cached);

    // The same for SMTP: nodemailer asks again with `renew` after the relay refused the token.
    const current = await oauth2.token(advisories);
    const smtp = nodemailer.createTransport(smtpTransportOptions(setup.config.smtp));
    await smtp.verify(); // logs in with the current token
    await fetch(`${env.STACK_OAUTH_URL}/revoke`, { method: 'POST', body: new URLSearchParams({ token: current }) });
    const fresh = nodemailer.createTransport(smtpTransportOptions(setup.config.smtp));
    await fresh.verify();
    expect(oauth2.fetched).toBe(before + 2);
    smtp.close();
    fresh.close();
  }, 60_000);

  test('sweeps work end to end while tokens expire (20 s) and are renewed: IMAP and the report over XOAUTH2', async () => {
    const before = await stats();
    const w = await startWorker(setup);
    try {
      const sweep = async (): Promise<[string, SweepResult]> => {
        const id = `test-oauth2-sweep-${randomBytes(4).toString('hex')}`;
        const result: SweepResult = await w.client.workflow.execute('mailboxSweepWorkflow', {
          workflowId: id,
          taskQueue: setup.config.taskQueue,
          args: [sweepInput()],
        });
        return [id, result];
      };
      const first = await advisory('45.137.21.9');
      const [id1] = await sweep();
      expect((await ipSet(setup, 'v4')).addresses).toContain('45.137.21.9/32');
      const issuedEarly = setup.config.imap.oauth2!.fetched;

      // Longer than a token's life: the next logins need new tokens.
      await new Promise((r) => setTimeout(r, 21_000));
      const second = await advisory('45.137.21.10');
      const [id2] = await sweep();
      expect((await ipSet(setup, 'v4')).addresses).toContain('45.137.21.10/32');
      // More than one token: the first (issued when the test's mailboxes were made, or by the first sweep) expired.
      expect(setup.config.imap.oauth2!.fetched).toBeGreaterThan(issuedEarly);
      expect(setup.config.imap.oauth2!.fetched).toBeGreaterThanOrEqual(2);
      expect((await stats()).issued).toBeGreaterThan(before.issued);

      const processed = await mailboxContents(setup, setup.config.processedMailbox);
      expect(processed.map((m) => m.messageId)).toEqual(expect.arrayContaining([first, second]));
      for (const id of [id1, id2]) {
        await waitFor(`the report of ${id}`, async () => (await reportsFor(setup, id)).length === 1, 30_000);
      }
    } finally {
      await w.stop();
    }
  }, 120_000);

  test('a refused client secret: the worker will not start, a sweep fails with OAuth2Refused naming the setting, no mail moves', async () => {
    const wrongSecret = `wrong-${randomBytes(8).toString('hex')}`;
    const wrong: WorkerConfig = loadWorkerConfig({ ...setup.env, OAUTH2_CLIENT_SECRET: wrongSecret });
    const messageId = await advisory('45.137.21.11');

    // Start-up check: one clear line naming the settings, no secret.
    const startErr = await createWorker(wrong, { workflowBundle: await workflowBundle() }).catch((e: unknown) => e);
    expect(startErr).toBeInstanceOf(ConfigError);
    expect((startErr as Error).message).toContain('OAUTH2_CLIENT_SECRET');
    expect((startErr as Error).message).not.toContain(wrongSecret);

    // A worker whose secret was revoked while it ran: the sweep fails at once (non-retryable), moving nothing.
    const bad = await createWorker(wrong, { skipPreflight: true, workflowBundle: await workflowBundle() });
    const running = bad.worker.run();
    try {
      const workflowId = `test-oauth2-refused-${randomBytes(4).toString('hex')}`;
      const err = await bad.temporal.workflow
        .execute('mailboxSweepWorkflow', {
          workflowId,
          taskQueue: setup.config.taskQueue,
          args: [sweepInput()],
        })
        .catch((e: unknown) => e);
      expect(err).toBeInstanceOf(WorkflowFailedError);
      const activity = (err as WorkflowFailedError).cause as ActivityFailure;
      expect(activity).toBeInstanceOf(ActivityFailure);
      const cause = activity.cause as ApplicationFailure;
      expect(cause).toBeInstanceOf(ApplicationFailure);
      expect(cause.type).toBe(ErrorTypes.OAuth2Refused);
      expect(cause.nonRetryable).toBe(true);
      expect(cause.message).toContain('OAUTH2_CLIENT_SECRET');
      expect(cause.message).not.toContain(wrongSecret);
      // Not retried: the failing activity ran exactly one attempt.
      const history = await bad.temporal.workflow.getHandle(workflowId).fetchHistory();
      const attempts = (history.events ?? [])
        .filter((e) => e.activityTaskStartedEventAttributes)
        .map((e) => e.activityTaskStartedEventAttributes!.attempt);
      expect(attempts.length).toBeGreaterThan(0);
      expect(Math.max(...attempts.map(Number))).toBe(1);
    } finally {
      bad.worker.shutdown();
      await running;
      await bad.connection.close();
    }
    expect((await mailboxContents(setup, setup.config.mailbox)).map((m) => m.messageId)).toContain(messageId);
    expect((await ipSet(setup, 'v4')).addresses).not.toContain('45.137.21.11/32');
  }, 90_000);
});
