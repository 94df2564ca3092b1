/** The trust gate's settings: TRUSTED_SENDERS, MTA_HOSTS, TRUSTED_ARC_SEALERS, DNS_RECORDS_FILE. */
import { ConfigError, loadWorkerConfig } from '../../src/config';
import { minimalWorkerEnv } from '../helpers/settings';

const base = minimalWorkerEnv;

function problems(env: Record<string, string>): string[] {
  try {
    loadWorkerConfig({ ...base, ...env });
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  return [];
}

test('by default nobody is trusted, the real DNS is used and advisories older than a week are refused', () => {
  expect(loadWorkerConfig(base).trust).toEqual({
    trustedSenders: [],
    mtaHosts: [],
    trustedArcSealers: [],
    maxAdvisoryAgeMs: 7 * 86_400_000,
  });
});

test('lists are trimmed, lower-cased and deduplicated', () => {
  const c = loadWorkerConfig({
    ...base,
    TRUSTED_SENDERS: ' CERT.example, alerts@Vendor.example ,*.isac.example,cert.example,',
    MTA_HOSTS: 'MX1.example.org., mx2.example.org',
    TRUSTED_ARC_SEALERS: 'lists.example.org',
    DNS_RECORDS_FILE: '/tmp/records.json',
  });
  expect(c.trust).toEqual({
    trustedSenders: ['cert.example', 'alerts@vendor.example', '*.isac.example'],
    mtaHosts: ['mx1.example.org', 'mx2.example.org'],
    trustedArcSealers: ['lists.example.org'],
    dnsRecordsFile: '/tmp/records.json',
    maxAdvisoryAgeMs: 7 * 86_400_000,
  });
});

test('MTA_HOSTS takes *.domain patterns (any host under the domain); sealers stay plain domains', () => {
  const c = loadWorkerConfig({
    ...base,
    TRUSTED_SENDERS: 'cert.example',
    MTA_HOSTS: '*.PROD.outlook.com., mx.example.org',
    MAX_ADVISORY_AGE: '36h',
  });
  expect(c.trust.mtaHosts).toEqual(['*.prod.outlook.com', 'mx.example.org']);
  expect(c.trust.maxAdvisoryAgeMs).toBe(36 * 3_600_000);
  expect(problems({ TRUSTED_ARC_SEALERS: '*.lists.example' })).toEqual([
    'TRUSTED_ARC_SEALERS: "*.lists.example" is not a domain',
  ]);
  expect(problems({ MTA_HOSTS: '*.', MAX_ADVISORY_AGE: 'a week' })).toEqual([
    'MTA_HOSTS: "*." is not a host name',
    'MAX_ADVISORY_AGE: a duration such as 30s, 5m or 1h',
  ]);
});

test('the new trust-gate codes may be held for approval', () => {
  const c = loadWorkerConfig({ ...base, HOLD_FOR_APPROVAL: 'reported-phish,stale-advisory,ambiguous-headers' });
  expect(c.holdForApproval).toEqual(['reported-phish', 'stale-advisory', 'ambiguous-headers']);
});

test('every bad entry is named, with the variable to fix', () => {
  expect(
    problems({ TRUSTED_SENDERS: 'cert.example, not a sender, a@b@c.example', MTA_HOSTS: 'mx.example.org' }),
  ).toEqual([
    'TRUSTED_SENDERS: "not a sender" is not an address (user@domain), a domain or *.domain',
    'TRUSTED_SENDERS: "a@b@c.example" is not an address (user@domain), a domain or *.domain',
  ]);
  expect(problems({ MTA_HOSTS: 'mx example' })).toEqual(['MTA_HOSTS: "mx example" is not a host name']);
});

test('trusted senders without our MTA’s host names cannot be authenticated: refused at start', () => {
  expect(problems({ TRUSTED_SENDERS: 'cert.example' })).toEqual([
    'TRUSTED_SENDERS is set but MTA_HOSTS is not: list the host names your mail server writes after "by" in Received lines',
  ]);
});
