/** The token cache (src/oauth/token-cache.ts) and the mail token source around it, with a fake clock. */
import { inspect } from 'node:util';
import { ApplicationFailure } from '@temporalio/common';
import { createMailOAuth2, OAuth2RefusedError, OAuth2UnavailableError, redact } from '../../src/oauth';
import { oauth2Failure } from '../../src/oauth/failure';
import { TokenCache, type FetchToken } from '../../src/oauth/token-cache';
import { ErrorTypes } from '../../src/shared/constants';

/** A token endpoint stand-in: numbered tokens, each living `lifetimeMs` from the fake clock's now. */
function fakeEndpoint(clock: { now: number }, lifetimeMs: number) {
  const calls: string[] = [];
  const fetchToken: FetchToken = async (key) => {
    calls.push(key);
    return { accessToken: `token-${calls.length}`, expiresAt: clock.now + lifetimeMs };
  };
  return { calls, fetchToken };
}

test('a 20 s token is reused, renewed after 80% of its life (16 s), never used after expiry', async () => {
  const clock = { now: 1_000_000 };
  const ep = fakeEndpoint(clock, 20_000);
  const cache = new TokenCache(ep.fetchToken, { now: () => clock.now });
  expect(await cache.get()).toBe('token-1');
  clock.now += 15_999;
  expect(await cache.get()).toBe('token-1');
  clock.now += 1;
  expect(await cache.get()).toBe('token-2');
  expect(cache.fetched).toBe(2);
});

test('a one-hour token is renewed 60 s before it expires, not at 80%', async () => {
  const clock = { now: 0 };
  const ep = fakeEndpoint(clock, 3_600_000);
  const cache = new TokenCache(ep.fetchToken, { now: () => clock.now });
  await cache.get();
  clock.now = 3_539_999;
  expect(await cache.get()).toBe('token-1');
  clock.now = 3_540_000;
  expect(await cache.get()).toBe('token-2');
});

test('concurrent logins share one request; keys (per-mailbox providers) are cached apart', async () => {
  const clock = { now: 0 };
  const ep = fakeEndpoint(clock, 60_000);
  const cache = new TokenCache(ep.fetchToken, { now: () => clock.now });
  const got = await Promise.all([cache.get('a'), cache.get('a'), cache.get('a'), cache.get('b')]);
  expect(got).toEqual(['token-1', 'token-1', 'token-1', 'token-2']);
  expect(ep.calls).toEqual(['a', 'b']);
});

test('a refused token is renewed once: invalidate drops it, a stale invalidate leaves the newer token alone', async () => {
  const clock = { now: 0 };
  const ep = fakeEndpoint(clock, 60_000);
  const cache = new TokenCache(ep.fetchToken, { now: () => clock.now });
  expect(await cache.get()).toBe('token-1');
  cache.invalidate('', 'token-1');
  expect(await cache.get()).toBe('token-2');
  cache.invalidate('', 'token-1'); // a second login that failed with the old token: the new one stays
  expect(await cache.get()).toBe('token-2');
  expect(cache.fetched).toBe(2);
});

test('a failed request is not cached: the next login asks again', async () => {
  let n = 0;
  const cache = new TokenCache(async () => {
    n++;
    if (n === 1) throw new OAuth2UnavailableError('down');
    return { accessToken: 'ok-token', expiresAt: Date.now() + 60_000 };
  });
  await expect(cache.get()).rejects.toThrow('down');
  await expect(cache.get()).resolves.toBe('ok-token');
});

const SECRET = 'client-secret-value-0123456789';
const REFRESH = 'refresh-token-value-abcdef';
const settings = {
  provider: 'refresh-token' as const,
  tokenUrl: 'http://127.0.0.1:1/token',
  clientId: 'app',
  clientSecret: SECRET,
  refreshToken: REFRESH,
};

test('errors leave the secrets, issued tokens and token-shaped text out of their messages', async () => {
  let n = 0;
  const oauth2 = createMailOAuth2(settings, {
    fetchToken: async () => {
      n++;
      if (n === 1) return { accessToken: 'issued-access-token-1', expiresAt: Date.now() - 1000 };
      // An endpoint or library that quotes the request: every secret in it must go.
      throw new OAuth2RefusedError(
        `refused: client_secret=${SECRET} refresh_token=${REFRESH} last issued-access-token-1 Authorization: Bearer abc.def.ghi eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln`,
        'OAUTH2_CLIENT_SECRET',
        'invalid_client',
      );
    },
  });
  await oauth2.token('advisories@example.com');
  const err = (await oauth2.token('advisories@example.com').catch((e: unknown) => e)) as OAuth2RefusedError;
  expect(err).toBeInstanceOf(OAuth2RefusedError);
  for (const secret of [SECRET, REFRESH, 'issued-access-token-1', 'abc.def.ghi', 'eyJhbGciOiJSUzI1NiJ9']) {
    expect(err.message).not.toContain(secret);
  }
  expect(err.message).toContain('[redacted]');

  // A refusal reaches Temporal as a non-retryable OAuth2Refused naming the setting; an outage stays retryable.
  const failure = oauth2Failure(err, ErrorTypes.ImapError)!;
  expect(failure).toBeInstanceOf(ApplicationFailure);
  expect(failure.type).toBe(ErrorTypes.OAuth2Refused);
  expect(failure.nonRetryable).toBe(true);
  expect(failure.message).not.toContain(SECRET);
  const outage = oauth2Failure(new OAuth2UnavailableError('endpoint down'), ErrorTypes.ImapError)!;
  expect(outage.type).toBe(ErrorTypes.ImapError);
  expect(outage.nonRetryable).toBe(false);
  expect(oauth2Failure(new Error('other'), ErrorTypes.ImapError)).toBeUndefined();
});

test('a library error that is not ours is wrapped, redacted, and never thrown verbatim', async () => {
  const oauth2 = createMailOAuth2(settings, {
    fetchToken: async () => {
      throw new TypeError(
        `fetch failed for body grant_type=refresh_token&refresh_token=${REFRESH}&client_secret=${SECRET}`,
      );
    },
  });
  const err = (await oauth2.token('u').catch((e: unknown) => e)) as Error;
  expect(err).toBeInstanceOf(OAuth2UnavailableError);
  expect(err.message).not.toContain(SECRET);
  expect(err.message).not.toContain(REFRESH);
});

test('the token source prints as its provider only (a logged config holds no secret)', () => {
  const oauth2 = createMailOAuth2(settings);
  const printed = [JSON.stringify({ imap: { oauth2 } }), inspect({ oauth2 }, { depth: 10 }), String(oauth2)].join('\n');
  expect(printed).toContain('refresh-token');
  expect(printed).not.toContain(SECRET);
  expect(printed).not.toContain(REFRESH);
});

test('redact: PEM keys, bearer tokens, JWTs and key=value secrets', () => {
  const text = [
    '-----BEGIN PRIVATE KEY-----\nMIIEv...\n-----END PRIVATE KEY-----',
    'Authorization: Bearer m2w-at-abcdef',
    '{"access_token":"tok123456","expires_in":20}',
    'client_assertion=eyJhbGciOiJQUzI1NiJ9.eyJpc3MiOiJ4In0.sig',
  ].join('\n');
  const out = redact(text);
  expect(out).not.toMatch(/MIIEv|m2w-at-abcdef|tok123456|eyJhbGci/);
  expect(out).toContain('"expires_in":20');
});
