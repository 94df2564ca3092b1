import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, loadClientConfig, loadWorkerConfig } from '../../src/config';

const base = {
  IMAP_HOST: 'imap.example.com',
  IMAP_USER: 'advisories@example.com',
  IMAP_PASSWORD: 'pw',
  SMTP_HOST: 'smtp.example.com',
  REPORT_FROM: 'mail2waf@example.com',
  REPORT_TO: 'soc@example.com, lead@example.com',
  AWS_REGION: 'eu-west-1',
  WAF_IPSET_V4_NAME: 'block-v4',
  WAF_IPSET_V6_NAME: 'block-v6',
};

test('defaults follow the ports, and a CloudFront target always lives in us-east-1', () => {
  const c = loadWorkerConfig({ ...base, WAF_SCOPE: 'CLOUDFRONT' });
  expect(c.imap).toMatchObject({ port: 993, secure: true });
  expect(c.smtp).toMatchObject({ port: 587, secure: false });
  expect(c.report.to).toEqual(['soc@example.com', 'lead@example.com']);
  expect(c.target).toEqual({
    name: 'default',
    scope: 'CLOUDFRONT',
    region: 'us-east-1',
    ipSetV4Name: 'block-v4',
    ipSetV6Name: 'block-v6',
  });
  expect(c.mailbox).toBe('INBOX');
  expect(c.sweepInterval).toBe('5m');
});

test('every problem is reported at once, naming the variable', () => {
  let error: ConfigError | undefined;
  try {
    loadWorkerConfig({ ...base, IMAP_HOST: '', IMAP_PORT: '99999', REPORT_TO: 'nobody', SWEEP_INTERVAL: 'often' });
  } catch (e) {
    error = e as ConfigError;
  }
  expect(error).toBeInstanceOf(ConfigError);
  expect(error!.problems).toEqual(
    expect.arrayContaining([
      'IMAP_HOST is not set',
      expect.stringMatching(/^IMAP_PORT: /),
      expect.stringMatching(/^REPORT_TO/),
      expect.stringMatching(/^SWEEP_INTERVAL: .*30s, 5m or 1h/),
    ]),
  );
});

test('secrets can come from files', () => {
  const dir = mkdtempSync(join(tmpdir(), 'm2w-'));
  writeFileSync(join(dir, 'imap'), 's3cret\n');
  const c = loadWorkerConfig({ ...base, IMAP_PASSWORD: undefined, IMAP_PASSWORD_FILE: join(dir, 'imap') });
  expect(c.imap.password).toBe('s3cret');
  expect(() =>
    loadWorkerConfig({ ...base, IMAP_PASSWORD: undefined, IMAP_PASSWORD_FILE: join(dir, 'missing') }),
  ).toThrow(/IMAP_PASSWORD_FILE=.* cannot be read/);
});

test('the CLI needs only the target settings', () => {
  expect(loadClientConfig({ AWS_REGION: 'eu-west-1', WAF_IPSET_V4_NAME: 'a', WAF_IPSET_V6_NAME: 'b' }).taskQueue).toBe(
    'mail2waf',
  );
  expect(() => loadClientConfig({ AWS_REGION: 'eu-west-1' })).toThrow(/WAF_IPSET_V4_NAME is not set/);
});

test('never-block ranges come from NEVER_BLOCK and a file, with every bad line reported', () => {
  const dir = mkdtempSync(join(tmpdir(), 'm2w-'));
  writeFileSync(join(dir, 'own'), '# our networks\n91.198.174.0/24 datacenter\n\n2a02:ec80::/32\n');
  const c = loadClientConfig({
    AWS_REGION: 'eu-west-1',
    WAF_IPSET_V4_NAME: 'a',
    WAF_IPSET_V6_NAME: 'b',
    NEVER_BLOCK: '198.18.0.1, 185.1.2.3/32',
    NEVER_BLOCK_FILE: join(dir, 'own'),
  });
  expect(c.policy).toEqual({
    neverBlock: [
      { cidr: '198.18.0.1', label: 'NEVER_BLOCK' },
      { cidr: '185.1.2.3', label: 'NEVER_BLOCK' },
      { cidr: '91.198.174.0/24', label: 'datacenter' },
      { cidr: '2a02:ec80::/32', label: `${join(dir, 'own')}:4` },
    ],
    minPrefixV4: 16,
    minPrefixV6: 32,
    ttlMs: 30 * 86_400_000,
    reconcileMs: 3_600_000,
    maxEntriesPerSet: 10_000,
    whenFull: 'refuse',
    syncAlertAfterMs: 15 * 60_000,
  });
  expect(c.guardrails).toEqual({
    maxNewPerRun: 100,
    maxNewShare: 0.2,
    maxNewAddressesPerRun: 4096,
    approvalTimeoutMs: 86_400_000,
  });
  writeFileSync(join(dir, 'bad'), '10.0.0.0/8\nnot-a-cidr\n');
  expect(() =>
    loadClientConfig({
      AWS_REGION: 'x',
      WAF_IPSET_V4_NAME: 'a',
      WAF_IPSET_V6_NAME: 'b',
      NEVER_BLOCK_FILE: join(dir, 'bad'),
    }),
  ).toThrow(/NEVER_BLOCK_FILE line 2: "not-a-cidr"/);
});

test('durations longer than 3650 days are refused at load, naming the setting', () => {
  expect(() => loadClientConfig({ ...base, BLOCK_TTL: '3651d' })).toThrow(
    'BLOCK_TTL: "3651d" is longer than the maximum, 3650d (10 years)',
  );
  expect(() => loadClientConfig({ ...base, APPROVAL_TIMEOUT: '99999999999999999999h' })).toThrow(/APPROVAL_TIMEOUT: /);
  expect(() => loadClientConfig({ ...base, SOURCE_TTL: 'cert.example=40000d' })).toThrow(
    /SOURCE_TTL: "cert.example=40000d" is longer than the maximum/,
  );
  expect(loadClientConfig({ ...base, BLOCK_TTL: '3650d' }).policy.ttlMs).toBe(3650 * 86_400_000);
});

test('plaintext mail connections need an explicit setting', () => {
  const c = loadWorkerConfig(base);
  expect(c.imap.allowPlaintext).toBe(false);
  expect(c.smtp.allowPlaintext).toBe(false);
  const allowed = loadWorkerConfig({ ...base, IMAP_ALLOW_PLAINTEXT: 'true', SMTP_ALLOW_PLAINTEXT: 'yes' });
  expect(allowed.imap.allowPlaintext).toBe(true);
  expect(allowed.smtp.allowPlaintext).toBe(true);
});

test('alert settings: ALERT_TO, ALERT_SYNC_FAILING_AFTER, and the webhook URL as a secret (env or _FILE, never the settings file)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'm2w-'));
  writeFileSync(join(dir, 'hook'), 'https://hooks.slack.example/services/T0/B0/secret\n');
  const c = loadWorkerConfig({
    ...base,
    ALERT_TO: 'oncall@example.com, soc@example.com',
    ALERT_SYNC_FAILING_AFTER: '5m',
    ALERT_WEBHOOK_URL_FILE: join(dir, 'hook'),
  });
  expect(c.alerts).toEqual({
    to: ['oncall@example.com', 'soc@example.com'],
    webhookUrl: 'https://hooks.slack.example/services/T0/B0/secret',
  });
  expect(c.policy.syncAlertAfterMs).toBe(300_000);
  expect(loadWorkerConfig(base).alerts).toEqual({ to: undefined, webhookUrl: undefined });
  expect(() => loadWorkerConfig({ ...base, ALERT_WEBHOOK_URL: 'not a url' })).toThrow(/ALERT_WEBHOOK_URL/);
});
