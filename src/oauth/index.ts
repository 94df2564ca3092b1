/**
 * OAuth2 for the mail connections: one object per configured token source, shared by IMAP and SMTP, holding
 * the cached tokens. IMAP (activities/imap.ts) and SMTP (activities/report.ts) ask it for a token at each login
 * and tell it when a server refused one; nothing else ever sees a token.
 */
import { inspect } from 'node:util';
import { OAuth2UnavailableError, isOAuth2Error } from './errors';
import { credentialSettings, secretsOf, tokenSource, tokensPerUser, type OAuth2Settings } from './providers';
import { redact } from './redact';
import { TokenCache, type FetchToken, type TokenCacheOptions } from './token-cache';

export { OAuth2RefusedError, OAuth2SettingsError, OAuth2UnavailableError, isOAuth2Error } from './errors';
export { ENTRA_AUTHORITY, ENTRA_SCOPE, GOOGLE_SCOPE, type OAuth2Settings } from './providers';
export { redact } from './redact';

/** Access tokens for mail logins (XOAUTH2 / OAUTHBEARER), cached in this process. */
export interface MailOAuth2 {
  readonly provider: OAuth2Settings['provider'];
  /** The settings to check when a server refuses our tokens, e.g. `OAUTH2_CLIENT_ID and OAUTH2_CLIENT_SECRET`. */
  readonly credentialSettings: string;
  /** A token for logging in as `user` (cached; renewed before it expires). Throws the errors of ./errors. */
  token(user: string): Promise<string>;
  /** A server refused `token` for `user`: the next `token()` gets a new one. */
  invalidate(user: string, token: string): void;
  /** Tokens fetched from the endpoint so far. */
  readonly fetched: number;
  /** Token requests (first fetch or renewal) that failed so far: the worker's metrics read it at each scrape. */
  readonly failed: number;
  /** `text` without the configured secrets or anything token-shaped. */
  redact(text: string): string;
}

/**
 * The token source of `settings` with its cache. The secrets stay in this closure: the object prints (JSON,
 * util.inspect, a logged config) as its provider name only.
 */
export function createMailOAuth2(
  settings: OAuth2Settings,
  opts: TokenCacheOptions & { fetchToken?: FetchToken } = {},
): MailOAuth2 {
  const cache = new TokenCache(opts.fetchToken ?? tokenSource(settings), opts);
  const perUser = tokensPerUser(settings);
  const issued = new Set<string>();
  const secrets = secretsOf(settings);
  const scrub = (text: string) => redact(text, [...secrets, ...issued]);
  const keyOf = (user: string) => (perUser ? user.toLowerCase() : '');
  const described = `MailOAuth2(${settings.provider})`;
  let failed = 0;
  return {
    provider: settings.provider,
    credentialSettings: credentialSettings(settings),
    async token(user: string) {
      try {
        const t = await cache.get(keyOf(user));
        issued.add(t);
        // Old tokens are kept for redaction only while there are few (a long-running worker renews hourly).
        if (issued.size > 64) issued.delete(issued.values().next().value!);
        return t;
      } catch (err) {
        failed++;
        if (isOAuth2Error(err)) {
          err.message = scrub(err.message);
          throw err;
        }
        // A bug or a library surprise: never its message verbatim, it may quote the request.
        throw new OAuth2UnavailableError(
          `getting an OAuth2 token failed (${scrub((err as Error).message ?? String(err)).slice(0, 200)})`,
        );
      }
    },
    invalidate(user: string, token: string) {
      cache.invalidate(keyOf(user), token);
    },
    get fetched() {
      return cache.fetched;
    },
    get failed() {
      return failed;
    },
    redact: scrub,
    toJSON: () => ({ provider: settings.provider }),
    toString: () => described,
    [inspect.custom]: () => described,
  } as MailOAuth2;
}
