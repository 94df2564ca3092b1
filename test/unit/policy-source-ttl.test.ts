import { loadClientConfig } from '../../src/config';
import { ttlForSender } from '../../src/policy/source-ttl';

const DAY = 86_400_000;
const rules = [
  { match: 'alerts@scanner.example', ttlMs: 3 * DAY },
  { match: 'scanner.example', ttlMs: 7 * DAY },
  { match: 'cert.example', ttlMs: null },
];

test('the most specific rule wins: address, then domain, then parent domain', () => {
  expect(ttlForSender('Alerts@Scanner.example', rules)).toBe(3 * DAY);
  expect(ttlForSender('feed@scanner.example', rules)).toBe(7 * DAY);
  expect(ttlForSender('soc@eu.cert.example', rules)).toBeNull();
  expect(ttlForSender('someone@other.example', rules)).toBeUndefined();
  expect(ttlForSender(undefined, rules)).toBeUndefined();
});

test('SOURCE_TTL is parsed, and a bad item names itself', () => {
  const base = { AWS_REGION: 'eu-west-1', WAF_IPSET_V4_NAME: 'a', WAF_IPSET_V6_NAME: 'b' };
  expect(
    loadClientConfig({ ...base, SOURCE_TTL: 'alerts@scanner.example=3d, cert.example=permanent' }).sourceTtls,
  ).toEqual([
    { match: 'alerts@scanner.example', ttlMs: 3 * DAY },
    { match: 'cert.example', ttlMs: null },
  ]);
  expect(() => loadClientConfig({ ...base, SOURCE_TTL: 'cert.example=soon' })).toThrow(
    /SOURCE_TTL: "cert.example=soon"/,
  );
});
