/**
 * The stack's mail login mode (STACK_MAIL_AUTH in .stack/env) for tests that break or imitate a mail login: CI runs
 * every test on a password stack and on an OAuth2 stack, and each mode refuses a login in its own way and tells the
 * operator to check other settings.
 */
import type { SMTPServerOptions } from 'smtp-server';
import type { ImapSettings } from '../../src/activities/imap';

type StackEnv = Record<string, string>;

export function oauth2Mode(env: StackEnv): boolean {
  return env.STACK_MAIL_AUTH === 'oauth2';
}

/** What the stack's token endpoint says about a token: the question Dovecot and the relay ask at each login. */
export async function introspect(env: StackEnv, token: string): Promise<{ active?: boolean; email?: string }> {
  const res = await fetch(`${env.STACK_OAUTH_URL}/introspect`, {
    method: 'POST',
    body: new URLSearchParams({ token }),
  });
  return (await res.json()) as { active?: boolean; email?: string };
}

/**
 * Settings (as environment overrides) whose IMAP login the stack's Dovecot refuses while SMTP still works: a wrong
 * password, or with OAuth2 an app whose tokens are not for this mailbox (the endpoint still issues them, for the
 * advisory mailbox, and Dovecot refuses them for the security team's), as when its mailbox permission is withdrawn.
 */
export function refusedImapEnv(env: StackEnv): StackEnv {
  return oauth2Mode(env)
    ? { IMAP_USER: env.REPORT_IMAP_USER!, SMTP_USER: env.IMAP_USER! }
    : { IMAP_PASSWORD: 'not-the-password' };
}

/** The same refusal for settings already loaded (a worker's `config.imap`). */
export function refusedImap<T extends ImapSettings>(env: StackEnv, imap: T): T {
  return oauth2Mode(env) ? { ...imap, user: env.REPORT_IMAP_USER! } : { ...imap, password: 'not-the-password' };
}

/** The secrets that the refused login of this mode used: no alert, report or answer may show them. */
export function refusedImapSecrets(env: StackEnv): string[] {
  return oauth2Mode(env) ? [env.OAUTH2_CLIENT_SECRET!, env.OAUTH2_REFRESH_TOKEN!] : ['not-the-password'];
}

/** What the operator is told to check when the IMAP server refuses the login, word for word. */
export function imapLoginFix(env: StackEnv): string {
  return oauth2Mode(env)
    ? 'IMAP_USER and that the OAuth2 app may open this mailbox (OAUTH2_CLIENT_ID, OAUTH2_CLIENT_SECRET and OAUTH2_REFRESH_TOKEN)'
    : 'IMAP_USER and IMAP_PASSWORD';
}

/** What the operator is told to check when the SMTP server refuses the login. */
export function smtpLoginFix(env: StackEnv): RegExp {
  return oauth2Mode(env)
    ? /SMTP_USER and that the OAuth2 app may send as it \(OAUTH2_CLIENT_ID/
    : /SMTP_USER and SMTP_PASSWORD/;
}

/**
 * Login options for a test's own SMTP server standing in for the stack's relay: it asks for what the relay asks
 * for, so that the worker's preflight and reports log in as they would on the stack. With OAuth2 the token must be
 * one the stack's endpoint issued for that user, as the relay checks it.
 */
export function standInSmtpLogin(
  env: StackEnv,
): Pick<SMTPServerOptions, 'authOptional' | 'authMethods' | 'allowInsecureAuth' | 'onAuth'> {
  if (!oauth2Mode(env)) return { authOptional: true };
  return {
    authOptional: false,
    allowInsecureAuth: true,
    authMethods: ['XOAUTH2'],
    onAuth(auth, _session, callback) {
      introspect(env, auth.accessToken ?? '').then(
        (t) =>
          t.active === true && t.email === auth.username
            ? callback(null, { user: auth.username })
            : callback(null, { data: { status: '401', schemes: 'bearer', scope: 'mail' } }),
        (err: Error) => callback(err),
      );
    },
  };
}
