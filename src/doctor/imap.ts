/** IMAP: does the login work, and do the three mailboxes (inbox, Processed, Quarantine) exist? */
import { imapClient, imapLoginHint } from '../activities/imap';
import { isOAuth2Error, OAuth2RefusedError, OAuth2SettingsError } from '../oauth';
import type { WorkerConfig } from '../config';
import { error, fail, messageOf, ok, skipped, type CheckResult } from './types';

type ImapError = Error & { authenticationFailed?: boolean; tlsFailed?: boolean; code?: string };

/** The mailboxes the worker uses, by role: it lists the inbox and moves into the other two. */
function mailboxes(config: WorkerConfig): { role: string; name: string; setting: string }[] {
  return [
    { role: 'inbox', name: config.mailbox, setting: 'IMAP_MAILBOX' },
    { role: 'processed', name: config.processedMailbox, setting: 'IMAP_PROCESSED_MAILBOX' },
    { role: 'quarantine', name: config.quarantineMailbox, setting: 'IMAP_QUARANTINE_MAILBOX' },
  ];
}

export async function checkImap(config: WorkerConfig, timeoutMs = 10_000): Promise<CheckResult[]> {
  const { host, port, user } = config.imap;
  const boxes = mailboxes(config);
  const notChecked = (why: string) => boxes.map((b) => skipped(`imap.mailbox.${b.role}`, why));
  // The worker's own client (TLS rules, password or OAuth2 token), with the doctor's timeouts.
  const client = imapClient(config.imap, {
    connectionTimeout: timeoutMs,
    greetingTimeout: timeoutMs,
    socketTimeout: timeoutMs * 3,
  });
  client.on('error', () => undefined); // a late socket error must not crash the CLI
  try {
    await client.connect();
  } catch (err) {
    const e = err as ImapError;
    if (isOAuth2Error(err)) {
      // The token endpoint's answer (its message names the setting and holds no secret: src/oauth/errors.ts).
      const refused = err instanceof OAuth2RefusedError || err instanceof OAuth2SettingsError;
      return [
        (refused ? fail : error)(
          'imap.login',
          `no OAuth2 token for ${user}: ${err.message}`,
          refused ? `fix ${err.setting}` : 'try again; check the network path to the token endpoint',
        ),
        ...notChecked('no IMAP login'),
      ];
    }
    if (e.authenticationFailed) {
      return [
        fail(
          'imap.login',
          `IMAP login refused for ${user} at ${host}:${port}`,
          config.imap.oauth2
            ? `check ${imapLoginHint(config.imap)}`
            : 'check IMAP_USER and IMAP_PASSWORD (or IMAP_PASSWORD_FILE)',
        ),
        ...notChecked('no IMAP login'),
      ];
    }
    if (e.tlsFailed) {
      return [
        fail(
          'imap.login',
          `no TLS with ${host}:${port} (${messageOf(e)})`,
          'check IMAP_SECURE and IMAP_PORT (993 is implicit TLS); IMAP_ALLOW_PLAINTEXT=true only on a trusted network',
        ),
        ...notChecked('no IMAP connection'),
      ];
    }
    return [
      error(
        'imap.login',
        `cannot reach the IMAP server ${host}:${port} (${messageOf(e)})`,
        'check IMAP_HOST, IMAP_PORT and IMAP_SECURE, and that the server is up',
      ),
      ...notChecked('no IMAP connection'),
    ];
  }
  const results = [ok('imap.login', `logged in as ${user} at ${host}:${port}`)];
  try {
    const listed = await client.list();
    // INBOX is case-insensitive (RFC 3501 5.1); other names are compared as the server spells them.
    const has = (name: string) =>
      listed.some((m) => (name.toUpperCase() === 'INBOX' ? m.path.toUpperCase() === 'INBOX' : m.path === name));
    for (const b of boxes) {
      results.push(
        has(b.name)
          ? ok(`imap.mailbox.${b.role}`, `mailbox ${b.name} exists`)
          : fail(
              `imap.mailbox.${b.role}`,
              `mailbox ${b.name} does not exist for ${user}`,
              `create it (in the mail client, or the server's admin tool) or set ${b.setting} to an existing one`,
            ),
      );
    }
  } catch (err) {
    results.push(
      ...boxes.map((b) =>
        error(`imap.mailbox.${b.role}`, `LIST failed (${messageOf(err)})`, 'try again; check the IMAP server'),
      ),
    );
  } finally {
    await client.logout().catch(() => undefined);
  }
  return results;
}
