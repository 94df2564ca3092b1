/**
 * An empty TRUSTED_SENDERS stops the worker where it builds the trust gate (every advisory would be quarantined),
 * unless the operator says so: TRUSTED_SENDERS=none or ALLOW_NO_TRUSTED_SENDERS=true. TRUSTED_AUTHSERV_IDS names
 * the provider whose verdict counts.
 */
import { readFileSync } from 'node:fs';
import { createTrustGate, staticResolver } from '../../src/activities/authenticate';
import { ConfigError, loadWorkerConfig, requireTrustedSenders } from '../../src/config';
import { minimalWorkerEnv } from '../helpers/settings';

const base = minimalWorkerEnv;

function problems(fn: () => unknown): string[] {
  try {
    fn();
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  return [];
}

const gateOf = (env: Record<string, string | undefined>) => () =>
  createTrustGate({ trust: loadWorkerConfig({ ...base, ...env }).trust, resolver: staticResolver({}) });

test('an empty TRUSTED_SENDERS refuses to start, naming the setting and the way to say so on purpose', () => {
  for (const env of [{}, { TRUSTED_SENDERS: '' }, { TRUSTED_SENDERS: ' , ' }]) {
    expect(problems(gateOf(env))).toEqual([expect.stringMatching(/^TRUSTED_SENDERS is empty: .*TRUSTED_SENDERS=none/)]);
  }
  expect(() => requireTrustedSenders({ trustedSenders: [], mtaHosts: [], trustedArcSealers: [] })).toThrow(ConfigError);
});

test('TRUSTED_SENDERS=none or ALLOW_NO_TRUSTED_SENDERS=true: nobody trusted, on purpose', () => {
  for (const env of [
    { TRUSTED_SENDERS: 'none' },
    { TRUSTED_SENDERS: ' NONE ' },
    { ALLOW_NO_TRUSTED_SENDERS: 'true' },
  ]) {
    const trust = loadWorkerConfig({ ...base, ...env }).trust;
    expect(trust).toMatchObject({ trustedSenders: [], allowNoTrustedSenders: true });
    expect(gateOf(env)).not.toThrow();
  }
  expect(
    problems(() => loadWorkerConfig({ ...base, TRUSTED_SENDERS: 'none, cert.example', MTA_HOSTS: 'mx.example' })),
  ).toEqual(['TRUSTED_SENDERS: "none" cannot be listed with senders']);
  expect(problems(() => loadWorkerConfig({ ...base, ALLOW_NO_TRUSTED_SENDERS: 'maybe' }))[0]).toMatch(
    /ALLOW_NO_TRUSTED_SENDERS/,
  );
});

test('a trusted sender starts as before', () => {
  const env = { TRUSTED_SENDERS: 'cert.example', MTA_HOSTS: 'mx.example.org' };
  expect(gateOf(env)).not.toThrow();
  expect(loadWorkerConfig({ ...base, ...env }).trust.allowNoTrustedSenders).toBeUndefined();
});

test('TRUSTED_AUTHSERV_IDS: host names, lower-cased; absent when empty (the gate then uses its own check only)', () => {
  const c = loadWorkerConfig({
    ...base,
    TRUSTED_SENDERS: 'cert.example',
    MTA_HOSTS: '*.google.com',
    TRUSTED_AUTHSERV_IDS: 'MX.Google.com, mx.microsoft.com.',
  });
  expect(c.trust.trustedAuthservIds).toEqual(['mx.google.com', 'mx.microsoft.com']);
  expect(loadWorkerConfig({ ...base, TRUSTED_SENDERS: 'none' }).trust.trustedAuthservIds).toBeUndefined();
  expect(problems(() => loadWorkerConfig({ ...base, TRUSTED_AUTHSERV_IDS: 'mx google' }))).toEqual([
    'TRUSTED_AUTHSERV_IDS: "mx google" is not an authserv-id (a host name such as mx.google.com)',
  ]);
});

test('the local stack, the compose file and the test stack set TRUSTED_SENDERS', () => {
  expect(readFileSync('scripts/stack-up.sh', 'utf8')).toMatch(/^TRUSTED_SENDERS=\S+/m);
  expect(readFileSync('docker-compose.yml', 'utf8')).toMatch(/TRUSTED_SENDERS: \S+/);
});
