/** SMTP: connect, TLS as the worker requires it, and log in when SMTP_USER is set (nodemailer's verify()). */
import nodemailer from 'nodemailer';
import { smtpTransportOptions } from '../activities/report';
import { OAuth2RefusedError, OAuth2SettingsError } from '../oauth';
import type { WorkerConfig } from '../config';
import { error, fail, messageOf, ok, type CheckResult } from './types';

export async function checkSmtp(config: WorkerConfig, timeoutMs = 10_000): Promise<CheckResult[]> {
  const { host, port, user } = config.smtp;
  const transport = nodemailer.createTransport({
    ...smtpTransportOptions(config.smtp),
    connectionTimeout: timeoutMs,
    greetingTimeout: timeoutMs,
    socketTimeout: timeoutMs,
  });
  try {
    await transport.verify();
    return [
      ok('smtp', user ? `logged in as ${user} at ${host}:${port}` : `${host}:${port} answers (no SMTP_USER: no login)`),
    ];
  } catch (err) {
    const code = (err as { code?: string }).code;
    if (err instanceof OAuth2RefusedError || err instanceof OAuth2SettingsError) {
      return [fail('smtp', `no OAuth2 token for ${user}: ${err.message}`, `fix ${err.setting}`)];
    }
    if (code === 'EAUTH' || code === 'ENOAUTH') {
      return [
        fail(
          'smtp',
          `SMTP login refused for ${user ?? '(no user)'} at ${host}:${port} (${messageOf(err)})`,
          config.smtp.oauth2
            ? `check SMTP_USER and that the OAuth2 app may send as it (${config.smtp.oauth2.credentialSettings})`
            : 'check SMTP_USER and SMTP_PASSWORD (or SMTP_PASSWORD_FILE)',
        ),
      ];
    }
    if (code === 'ETLS') {
      return [
        fail(
          'smtp',
          `no TLS with ${host}:${port} (${messageOf(err)})`,
          'check SMTP_SECURE and SMTP_PORT (465 is implicit TLS); SMTP_ALLOW_PLAINTEXT=true only on a trusted network',
        ),
      ];
    }
    return [
      error(
        'smtp',
        `cannot reach the SMTP server ${host}:${port} (${messageOf(err)})`,
        'check SMTP_HOST, SMTP_PORT and SMTP_SECURE, and that the server is up',
      ),
    ];
  } finally {
    transport.close();
  }
}
