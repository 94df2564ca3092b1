import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, loadClientConfig, loadReadConfig, loadWorkerConfig } from '../../src/config';

/** The short settings, as a deployment would pass them in the environment; the long ones go in the file. */
const env = {
  IMAP_HOST: 'imap.example.com',
  IMAP_USER: 'advisories@example.com',
  IMAP_PASSWORD: 'pw',
  SMTP_HOST: 'smtp.example.com',
  REPORT_FROM: 'mail2waf@example.com',
  REPORT_TO: 'soc@example.com',
  AWS_REGION: 'eu-west-1',
};

const dir = mkdtempSync(join(tmpdir(), 'm2w-config-'));
let n = 0;
function file(text: string): string {
  const path = join(dir, `settings-${n++}.yaml`);
  writeFileSync(path, text);
  return path;
}

function problemsOf(fn: () => unknown): string[] {
  try {
    fn();
  } catch (e) {
    if (e instanceof ConfigError) return e.problems;
    throw e;
  }
  throw new Error('expected a ConfigError');
}

const longSettings = `
# mail2waf settings: the long lists; secrets stay in the environment.
WAF_TARGETS:
  web:
    scope: REGIONAL
    region: eu-central-1
    ipSetV4: web-v4
    ipSetV6: web-v6
  cdn:
    scope: CLOUDFRONT
    ipSetV4: cdn-v4
    ipSetV6: cdn-v6
TRUSTED_SENDERS:
  - cert.example
  - alerts@scanner.example
MTA_HOSTS: [mx1.corp.example, mx2.corp.example]
NEVER_BLOCK:
  198.51.100.0/24: office VPN
  2001:db8::/32: lab
SOURCE_TTL:
  cert.example: 90d
  partner.example: permanent
DKIM_SELECTORS:
  cert.example: [s2025, s2026]
MIN_PREFIX_V4: 20
DRY_RUN: true
BLOCK_TTL: 14d
`;

test('the settings file carries the long settings in the environment names; lists and mappings read naturally', () => {
  const c = loadWorkerConfig({ ...env, MAIL2WAF_CONFIG: file(longSettings) });
  expect(c.targets).toEqual([
    { name: 'web', scope: 'REGIONAL', region: 'eu-central-1', ipSetV4Name: 'web-v4', ipSetV6Name: 'web-v6' },
    { name: 'cdn', scope: 'CLOUDFRONT', region: 'us-east-1', ipSetV4Name: 'cdn-v4', ipSetV6Name: 'cdn-v6' },
  ]);
  expect(c.trust.trustedSenders).toEqual(['cert.example', 'alerts@scanner.example']);
  expect(c.trust.mtaHosts).toEqual(['mx1.corp.example', 'mx2.corp.example']);
  expect(c.policy.neverBlock).toEqual([
    { cidr: '198.51.100.0/24', label: 'office VPN' },
    { cidr: '2001:db8::/32', label: 'lab' },
  ]);
  expect(c.sourceTtls).toEqual([
    { match: 'cert.example', ttlMs: 90 * 86_400_000 },
    { match: 'partner.example', ttlMs: null },
  ]);
  expect(c.dkimSelectors).toEqual([
    { domain: 'cert.example', selector: 's2025' },
    { domain: 'cert.example', selector: 's2026' },
  ]);
  expect(c.policy.minPrefixV4).toBe(20);
  expect(c.policy.ttlMs).toBe(14 * 86_400_000);
  expect(c.dryRun).toBe(true);
  expect(c.source.file).toMatch(/settings-\d+\.yaml$/);
  expect(c.source.fromFile).toEqual(expect.arrayContaining(['WAF_TARGETS', 'TRUSTED_SENDERS', 'DRY_RUN']));
});

test('WAF_TARGETS may also be a list of targets or of the environment spelling', () => {
  const listed = file(`
WAF_TARGETS:
  - { name: web, region: eu-west-2, ipSetV4: w4, ipSetV6: w6 }
  - api=REGIONAL::a4:a6
`);
  expect(loadClientConfig({ ...env, MAIL2WAF_CONFIG: listed }).targets.map((t) => [t.name, t.region])).toEqual([
    ['web', 'eu-west-2'],
    ['api', 'eu-west-1'],
  ]);
});

test('the environment overrides the file key by key, and an empty variable does not', () => {
  const path = file(`${longSettings}\nMAX_NEW_PER_RUN: 7\n`);
  const c = loadWorkerConfig({ ...env, MAIL2WAF_CONFIG: path, TRUSTED_SENDERS: 'other.example', MAX_NEW_PER_RUN: '' });
  expect(c.trust.trustedSenders).toEqual(['other.example']);
  expect(c.guardrails.maxNewPerRun).toBe(7);
  expect(c.source.overridden).toEqual(['TRUSTED_SENDERS']);
  expect(c.source.fromFile).not.toContain('TRUSTED_SENDERS');
});

test('a bad value from the file names the file and the key', () => {
  const path = file('MIN_PREFIX_V4: 99\nSWEEP_INTERVAL: often\n');
  const problems = problemsOf(() =>
    loadWorkerConfig({ ...env, WAF_IPSET_V4_NAME: 'a', WAF_IPSET_V6_NAME: 'b', MAIL2WAF_CONFIG: path }),
  );
  expect(problems).toEqual(
    expect.arrayContaining([
      expect.stringMatching(new RegExp(`^MIN_PREFIX_V4 \\(in ${path}\\): `)),
      expect.stringMatching(new RegExp(`^SWEEP_INTERVAL \\(in ${path}\\): .*30s, 5m or 1h`)),
    ]),
  );
  // The same bad value from the environment names only the variable.
  expect(
    problemsOf(() => loadWorkerConfig({ ...env, WAF_IPSET_V4_NAME: 'a', WAF_IPSET_V6_NAME: 'b', MIN_PREFIX_V4: '99' })),
  ).toEqual([expect.stringMatching(/^MIN_PREFIX_V4: /)]);
});

test('unknown keys, secrets, wrong shapes and bad YAML are refused with the file and the key', () => {
  expect(
    problemsOf(() => loadClientConfig({ ...env, MAIL2WAF_CONFIG: file('trusted_senders: [a.example]\n') })),
  ).toEqual([
    expect.stringMatching(
      /settings-\d+\.yaml: trusted_senders: not a mail2waf setting \(did you mean TRUSTED_SENDERS\?\)/,
    ),
  ]);
  expect(problemsOf(() => loadWorkerConfig({ ...env, MAIL2WAF_CONFIG: file('IMAP_PASSWORD: hunter2\n') }))).toEqual([
    expect.stringMatching(/IMAP_PASSWORD: secrets do not belong in the settings file .*IMAP_PASSWORD_FILE/),
  ]);
  expect(
    problemsOf(() => loadWorkerConfig({ ...env, MAIL2WAF_CONFIG: file('TRUSTED_SENDERS: [a.example, {x: 1}]\n') })),
  ).toEqual([expect.stringMatching(/TRUSTED_SENDERS: \[1\] is not a single value/)]);
  expect(
    problemsOf(() => loadWorkerConfig({ ...env, MAIL2WAF_CONFIG: file('NEVER_BLOCK: ["10.0.0.0/8,11.0.0.0/8"]\n') })),
  ).toEqual([expect.stringMatching(/NEVER_BLOCK: \[0\] .* contains a comma/)]);
  expect(
    problemsOf(() =>
      loadWorkerConfig({ ...env, MAIL2WAF_CONFIG: file('WAF_TARGETS:\n  web: { scope: REGIONAL, ipset: x }\n') }),
    ),
  ).toEqual(expect.arrayContaining([expect.stringMatching(/WAF_TARGETS\.web: unknown key\(s\) ipset/)]));
  expect(problemsOf(() => loadWorkerConfig({ ...env, MAIL2WAF_CONFIG: file('A: 1\nA: 2\n') }))[0]).toMatch(
    /settings-\d+\.yaml: not valid YAML/,
  );
  expect(problemsOf(() => loadWorkerConfig({ ...env, MAIL2WAF_CONFIG: file('- just\n- a list\n') }))).toEqual([
    expect.stringMatching(/expected a mapping of setting names to values/),
  ]);
  expect(problemsOf(() => loadWorkerConfig({ ...env, MAIL2WAF_CONFIG: join(dir, 'missing.yaml') }))).toEqual([
    expect.stringMatching(/^MAIL2WAF_CONFIG=.*missing\.yaml cannot be read/),
  ]);
});

test('a secret may come from a file the settings file names', () => {
  const secret = join(dir, 'imap-password');
  writeFileSync(secret, 's3cret\n');
  const c = loadWorkerConfig({
    ...env,
    IMAP_PASSWORD: undefined,
    WAF_IPSET_V4_NAME: 'a',
    WAF_IPSET_V6_NAME: 'b',
    MAIL2WAF_CONFIG: file(`IMAP_PASSWORD_FILE: ${secret}\n`),
  });
  expect(c.imap.password).toBe('s3cret');
});

test('an empty settings file changes nothing; NEVER_BLOCK in the environment may carry a label too', () => {
  const c = loadWorkerConfig({
    ...env,
    WAF_IPSET_V4_NAME: 'a',
    WAF_IPSET_V6_NAME: 'b',
    NEVER_BLOCK: '198.51.100.0/24 office, 203.0.113.0/24',
    MAIL2WAF_CONFIG: file('# nothing yet\n'),
  });
  expect(c.policy.neverBlock).toEqual([
    { cidr: '198.51.100.0/24', label: 'office' },
    { cidr: '203.0.113.0/24', label: 'NEVER_BLOCK' },
  ]);
  expect(c.source.fromFile).toEqual([]);
});

test('DKIM_SELECTORS must be domain=selector', () => {
  expect(
    problemsOf(() =>
      loadWorkerConfig({ ...env, WAF_IPSET_V4_NAME: 'a', WAF_IPSET_V6_NAME: 'b', DKIM_SELECTORS: 'cert.example' }),
    ),
  ).toEqual(['DKIM_SELECTORS: "cert.example" is not domain=selector']);
});

describe('read-only commands need only names', () => {
  test('no AWS region, IP sets or mail settings', () => {
    expect(loadReadConfig({})).toEqual({
      targets: [{ name: 'default' }],
      target: { name: 'default' },
      taskQueue: 'mail2waf',
      scheduleId: expect.any(String),
      mailbox: 'INBOX',
    });
    expect(() => loadClientConfig({})).toThrow(ConfigError);
  });

  test('target names from WAF_TARGETS, in the environment or the file, as writes see them', () => {
    expect(loadReadConfig({ WAF_TARGETS: 'web=REGIONAL:eu-west-1:a:b, cdn=CLOUDFRONT::c:d' }).targets).toEqual([
      { name: 'web' },
      { name: 'cdn' },
    ]);
    const path = file(longSettings);
    expect(loadReadConfig({ MAIL2WAF_CONFIG: path }).targets).toEqual([{ name: 'web' }, { name: 'cdn' }]);
    expect(loadReadConfig({ MAIL2WAF_CONFIG: path, WAF_TARGET_NAME: 'x' }).target).toEqual({ name: 'web' });
    expect(() => loadReadConfig({ WAF_TARGETS: 'bad name=REGIONAL::a:b' })).toThrow(/"bad name" is not a target name/);
  });
});
