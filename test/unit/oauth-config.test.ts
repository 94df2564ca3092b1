/** OAuth2 mail login settings (src/config.ts mailAuth): what each provider needs, and secrets kept out of files. */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, loadWorkerConfig } from '../../src/config';

const base = {
  IMAP_HOST: 'outlook.office365.com',
  IMAP_USER: 'advisories@example.com',
  SMTP_HOST: 'smtp.office365.com',
  REPORT_FROM: 'advisories@example.com',
  REPORT_TO: 'soc@example.com',
  AWS_REGION: 'eu-west-1',
  WAF_IPSET_V4_NAME: 'block-v4',
  WAF_IPSET_V6_NAME: 'block-v6',
  TRUSTED_SENDERS: 'cert.example',
  MTA_HOSTS: '*.prod.outlook.com',
};

function problems(env: Record<string, string>): string[] {
  try {
    loadWorkerConfig(env);
  } catch (e) {
    if (e instanceof ConfigError) return e.problems;
    throw e;
  }
  return [];
}

test('password login stays the default and still needs IMAP_PASSWORD', () => {
  expect(problems(base)).toEqual([expect.stringContaining('IMAP_PASSWORD is not set')]);
  const c = loadWorkerConfig({ ...base, IMAP_PASSWORD: 'pw' });
  expect(c.imap.password).toBe('pw');
  expect(c.imap.oauth2).toBeUndefined();
  expect(c.smtp.oauth2).toBeUndefined();
});

test('MAIL_AUTH=oauth2 names what each provider is missing', () => {
  expect(problems({ ...base, MAIL_AUTH: 'oauth2' })).toEqual([expect.stringContaining('OAUTH2_PROVIDER is not set')]);
  expect(problems({ ...base, MAIL_AUTH: 'oauth2', OAUTH2_PROVIDER: 'entra' })).toEqual([
    expect.stringContaining('OAUTH2_TENANT_ID'),
    expect.stringContaining('OAUTH2_CLIENT_ID'),
    expect.stringContaining('OAUTH2_CLIENT_SECRET (or _FILE) or OAUTH2_CLIENT_CERT_FILE'),
  ]);
  expect(problems({ ...base, MAIL_AUTH: 'oauth2', OAUTH2_PROVIDER: 'google' })).toEqual([
    expect.stringContaining('GOOGLE_SERVICE_ACCOUNT_FILE'),
  ]);
  expect(problems({ ...base, MAIL_AUTH: 'oauth2', OAUTH2_PROVIDER: 'refresh-token' })).toEqual([
    expect.stringContaining('OAUTH2_TOKEN_URL'),
    expect.stringContaining('OAUTH2_CLIENT_ID'),
    expect.stringContaining('OAUTH2_REFRESH_TOKEN'),
  ]);
});

test('one token source for IMAP and SMTP; SMTP logs in as IMAP_USER unless SMTP_USER says otherwise', () => {
  const c = loadWorkerConfig({
    ...base,
    MAIL_AUTH: 'oauth2',
    OAUTH2_PROVIDER: 'entra',
    OAUTH2_TENANT_ID: 'tenant',
    OAUTH2_CLIENT_ID: 'client',
    OAUTH2_CLIENT_SECRET: 'secret-value-123',
  });
  expect(c.imap.password).toBeUndefined();
  expect(c.imap.oauth2).toBeDefined();
  expect(c.smtp.oauth2).toBe(c.imap.oauth2);
  expect(c.smtp.user).toBe('advisories@example.com');
  expect(c.imap.oauth2!.credentialSettings).toBe('OAUTH2_CLIENT_ID and OAUTH2_CLIENT_SECRET');
  expect(JSON.stringify(c)).not.toContain('secret-value-123');
});

test('per protocol: OAuth2 for the mailbox, a password for an internal relay', () => {
  const c = loadWorkerConfig({
    ...base,
    IMAP_AUTH: 'oauth2',
    OAUTH2_PROVIDER: 'google',
    GOOGLE_SERVICE_ACCOUNT_FILE: '/run/secrets/sa.json',
    SMTP_USER: 'relay',
    SMTP_PASSWORD: 'relay-pw',
  });
  expect(c.imap.oauth2?.provider).toBe('google');
  expect(c.smtp).toMatchObject({ user: 'relay', password: 'relay-pw' });
  expect(c.smtp.oauth2).toBeUndefined();
});

test('the client secret and refresh token come from *_FILE, never from the settings file', () => {
  const dir = mkdtempSync(join(tmpdir(), 'm2w-oauth-'));
  writeFileSync(join(dir, 'secret'), 'from-a-file-secret\n');
  writeFileSync(join(dir, 'refresh'), 'from-a-file-refresh\n');
  const c = loadWorkerConfig({
    ...base,
    MAIL_AUTH: 'oauth2',
    OAUTH2_PROVIDER: 'refresh-token',
    OAUTH2_TOKEN_URL: 'https://login.example.com/token',
    OAUTH2_CLIENT_ID: 'client',
    OAUTH2_CLIENT_SECRET_FILE: join(dir, 'secret'),
    OAUTH2_REFRESH_TOKEN_FILE: join(dir, 'refresh'),
  });
  expect(c.imap.oauth2?.provider).toBe('refresh-token');
  writeFileSync(join(dir, 'settings.yaml'), 'OAUTH2_CLIENT_SECRET: do-not-put-it-here\nOAUTH2_PROVIDER: entra\n');
  expect(problems({ ...base, MAIL2WAF_CONFIG: join(dir, 'settings.yaml') })).toEqual([
    expect.stringMatching(/OAUTH2_CLIENT_SECRET: secrets do not belong in the settings file/),
  ]);
  rmSync(dir, { recursive: true, force: true });
});
