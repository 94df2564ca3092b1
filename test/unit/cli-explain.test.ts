/**
 * `mail2waf explain` on the hosted-mail fixtures: offline, with the worker's trust settings and the fixtures' DNS
 * records; human text and --json; exit 0 when the message would block, 1 when it would not or the input is wrong.
 */
import { join } from 'node:path';
import { runCli } from '../../src/client';
import type { ExplainResult } from '../../src/cli/explain';
import { CERT_IP, HOSTED_SETTINGS, OUTSIDER_IP } from '../fixtures/hosted/generate';

const dir = join(__dirname, '..', 'fixtures', 'hosted');
const AT = '2026-11-20T10:10:00Z';

async function explain(file: string, settings: Record<string, string>, ...flags: string[]) {
  let out = '';
  let err = '';
  const env = {
    PATH: process.env.PATH,
    ...settings,
    DNS_RECORDS_FILE: join(dir, 'dns-records.json'),
    NEVER_BLOCK: '45.133.1.0/24 partner',
  };
  const code = await runCli(['explain', join(dir, file), '--at', AT, ...flags], {
    out: (s) => (out += s),
    err: (s) => (err += s),
    env,
  });
  return { code, out, err };
}

async function explainJson(file: string, settings: Record<string, string>) {
  const r = await explain(file, settings, '--json');
  return { code: r.code, result: (JSON.parse(r.out) as { ok: boolean; result: ExplainResult }).result };
}

test('Microsoft 365: the internal hops, the provider’s ARC verdict used, and each address’s fate', async () => {
  const { code, result } = await explainJson('m365-trusted.eml', HOSTED_SETTINGS.m365);
  expect(code).toBe(0);
  expect(result.decision).toMatchObject({ trusted: true, code: 'trusted-provider' });
  expect(result.hops.filter((h) => h.role !== 'sender').map((h) => h.role)).toEqual(['internal', 'entry']);
  expect(result.auth?.dkim[0]).toMatchObject({ result: 'neutral', aligned: true });
  expect(result.provider?.used).toMatch(/ARC set i=1 \(sealed by microsoft\.com/);
  expect(result.addresses).toEqual([
    { value: '185.220.101.47', outcome: 'block', where: 'body:line 5' },
    {
      value: '45.133.1.20',
      outcome: 'refused',
      code: 'never-block',
      reason: expect.stringMatching(/partner/),
      where: 'body:line 5',
    },
    { value: '2a0b:4140:2c5::/48', outcome: 'block', where: 'body:line 5' },
    { value: '91.0.0.0/8', outcome: 'refused', code: 'too-broad', reason: expect.any(String), where: 'body:line 6' },
    { value: '10.20.0.0/16', outcome: 'refused', code: 'private', reason: expect.any(String), where: 'body:line 6' },
  ]);
});

test('Gmail: human text names the entry hop, the results, the decision and the addresses', async () => {
  const { code, out } = await explain('gmail-trusted.eml', HOSTED_SETTINGS.gmail);
  expect(code).toBe(0);
  expect(out).toMatch(/hand-off\s+by 2002:a05:7300/);
  expect(out).toMatch(
    new RegExp(`ENTRY\\s+by mx\\.google\\.com\\s+client ${CERT_IP.replace(/\./g, '\\.')} \\(mail\\.cert\\.example\\)`),
  );
  expect(out).toMatch(/dkim=pass d=cert\.example s=s1; aligned with From/);
  expect(out).toMatch(/spf=pass \(cert\.example\)/);
  expect(out).toMatch(/dmarc=pass p=reject for cert\.example — alignment: DKIM aligned, SPF aligned/);
  expect(out).toMatch(/set aside: Authentication-Results by mx\.google\.com .* below the entry hop/);
  expect(out).toMatch(/ARC set i=1 .* says dmarc=pass too; not needed, the decision did not rest on it/);
  expect(out).toMatch(/5\. Decision: TRUSTED \(trusted\)/);
  expect(out).toMatch(/185\.220\.101\.47\s+block/);
});

test('a forged provider verdict below the entry hop: not trusted, exit 1, every address not blocked', async () => {
  const { code, result } = await explainJson('gmail-forged-ar.eml', HOSTED_SETTINGS.gmail);
  expect(code).toBe(1);
  expect(result.route?.ip).toBe(OUTSIDER_IP);
  expect(result.decision.code).toBe('auth-failed');
  expect(result.provider?.found.notes.join(' ')).toMatch(/below the entry hop/);
  expect(result.addresses.find((a) => a.value === '185.220.101.47')).toMatchObject({
    outcome: 'not-blocked',
    code: 'auth-failed',
  });
});

test('an untrusted sender is still verified, so the operator sees what trusting it would do', async () => {
  const { code, result } = await explainJson('gmail-trusted.eml', {
    ...HOSTED_SETTINGS.gmail,
    TRUSTED_SENDERS: 'other.example',
  });
  expect(code).toBe(1);
  expect(result.decision.code).toBe('untrusted-sender');
  expect(result.auth?.dmarc.result).toBe('pass');
});

test('the tampered fixtures are refused; a missing file or a bad --at is the user’s to fix', async () => {
  expect((await explainJson('gmail-tampered.eml', HOSTED_SETTINGS.gmail)).result.decision.code).toBe('auth-failed');
  expect((await explainJson('m365-tampered.eml', HOSTED_SETTINGS.m365)).result.decision.code).toBe('auth-failed');
  const missing = await explain('no-such.eml', HOSTED_SETTINGS.gmail);
  expect(missing.code).toBe(1);
  expect(missing.err).toMatch(/cannot read .*no-such\.eml: ENOENT/);
  let err = '';
  const bad = await runCli(['explain', join(dir, 'gmail-trusted.eml'), '--at', 'yesterday'], {
    out: () => undefined,
    err: (s) => (err += s),
    env: { ...HOSTED_SETTINGS.gmail },
  });
  expect(bad).toBe(1);
  expect(err).toMatch(/--at yesterday is not a time/);
});
