/**
 * Token sources: where an access token comes from, one per OAUTH2_PROVIDER. Each returns a `FetchToken` (no
 * caching: TokenCache does that) and turns every failure into OAuth2RefusedError (a setting to fix: names it) or
 * OAuth2UnavailableError (try again), with messages written here and details redacted.
 *
 * - entra: Microsoft Entra ID client credentials through @azure/msal-node, Microsoft's own library (it builds
 *   the certificate's signed client assertion, knows sovereign-cloud authorities and Entra's error codes).
 * - google: a service account with domain-wide delegation through google-auth-library's JWT client, Google's
 *   own (signs the JWT-bearer assertion with the key file, subject = the mailbox).
 * - refresh-token: the plain RFC 6749 refresh grant against any token endpoint: one POST, no library needed.
 *
 * The libraries are loaded on first use, so the CLI and a password-only worker never load them. A token URL
 * override (OAUTH2_TOKEN_URL) sends the library's token request elsewhere: the local stack and tests point it
 * at scripts/oauth-server.ts; msal-node only accepts https authorities, so its requests are redirected by the
 * network client given to it rather than by an http authority.
 */
import { createHash, createPrivateKey, X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type * as Msal from '@azure/msal-node';
import type * as GoogleAuth from 'google-auth-library';
import { OAuth2RefusedError, OAuth2SettingsError, OAuth2UnavailableError } from './errors';
import { redact } from './redact';
import type { FetchToken, IssuedToken } from './token-cache';

/** The default scopes: Exchange Online (IMAP and SMTP), Gmail (IMAP and SMTP). */
export const ENTRA_SCOPE = 'https://outlook.office365.com/.default';
export const GOOGLE_SCOPE = 'https://mail.google.com/';
export const ENTRA_AUTHORITY = 'https://login.microsoftonline.com';
const GOOGLE_TOKEN_URL = 'https://oauth2.googleapis.com/token';

/** What config.ts hands over (secrets included: they stay in this process). */
export type OAuth2Settings =
  | {
      provider: 'entra';
      tenantId: string;
      clientId: string;
      clientSecret?: string;
      /** A PEM file with the certificate (and the key, unless keyFile names another file). */
      certificate?: { certFile: string; keyFile?: string };
      authority: string;
      scope: string;
      tokenUrl?: string;
    }
  | { provider: 'google'; serviceAccountFile: string; scope: string; tokenUrl?: string }
  | {
      provider: 'refresh-token';
      tokenUrl: string;
      clientId: string;
      clientSecret?: string;
      refreshToken: string;
      scope?: string;
    };

/** Whether tokens are per mailbox (the key of the cache) or one for the whole app. */
export function tokensPerUser(s: OAuth2Settings): boolean {
  return s.provider === 'google';
}

/** The settings that hold the credentials, for "check …" in messages. */
export function credentialSettings(s: OAuth2Settings): string {
  switch (s.provider) {
    case 'entra':
      return `OAUTH2_CLIENT_ID and ${s.clientSecret ? 'OAUTH2_CLIENT_SECRET' : 'OAUTH2_CLIENT_CERT_FILE'}`;
    case 'google':
      return 'GOOGLE_SERVICE_ACCOUNT_FILE (and its domain-wide delegation)';
    case 'refresh-token':
      return 'OAUTH2_CLIENT_ID, OAUTH2_CLIENT_SECRET and OAUTH2_REFRESH_TOKEN';
  }
}

/** The secrets of these settings, for redaction. */
export function secretsOf(s: OAuth2Settings): string[] {
  if (s.provider === 'entra') return s.clientSecret ? [s.clientSecret] : [];
  if (s.provider === 'refresh-token') return [s.refreshToken, ...(s.clientSecret ? [s.clientSecret] : [])];
  return [];
}

const hostOf = (url: string) => {
  try {
    return new URL(url).host;
  } catch {
    return url;
  }
};

/** Which setting an OAuth2 error code points at, per provider. */
function settingFor(s: OAuth2Settings, code: string | undefined, status: number): string {
  if (code === 'invalid_scope') return 'OAUTH2_SCOPE';
  switch (s.provider) {
    case 'refresh-token':
      if (code === 'invalid_grant') return 'OAUTH2_REFRESH_TOKEN';
      if (code === 'invalid_client' || code === 'unauthorized_client' || status === 401)
        return s.clientSecret ? 'OAUTH2_CLIENT_ID / OAUTH2_CLIENT_SECRET' : 'OAUTH2_CLIENT_ID';
      return 'OAUTH2_TOKEN_URL';
    case 'entra':
      if (code === 'invalid_request' || code === 'invalid_tenant') return 'OAUTH2_TENANT_ID / OAUTH2_CLIENT_ID';
      if (code === 'unauthorized_client') return 'OAUTH2_CLIENT_ID';
      return s.clientSecret ? 'OAUTH2_CLIENT_SECRET' : 'OAUTH2_CLIENT_CERT_FILE';
    case 'google':
      return 'GOOGLE_SERVICE_ACCOUNT_FILE';
  }
}

const HINTS: Record<OAuth2Settings['provider'], string> = {
  entra:
    ' (an expired or wrong client secret, a certificate not uploaded to the app registration, or the wrong tenant)',
  google:
    ' (a deleted key, or domain-wide delegation not granted to this client id for https://mail.google.com/, or a mailbox outside the domain)',
  'refresh-token': ' (a revoked or expired refresh token needs a new consent; a wrong client secret is refused too)',
};

/** One refusal or outage, from the endpoint's HTTP status and OAuth2 error code. */
function failure(
  s: OAuth2Settings,
  endpoint: string,
  status: number,
  code: string | undefined,
  description: string | undefined,
): Error {
  const where = hostOf(endpoint);
  const detail = description ? `: ${redact(description, secretsOf(s)).slice(0, 300)}` : '';
  if (status >= 500 || status === 429 || status === 0 || status === 408) {
    return new OAuth2UnavailableError(
      `OAuth2 token endpoint ${where} failed (HTTP ${status}${code ? `, ${code}` : ''}${detail}); will try again`,
    );
  }
  const setting = settingFor(s, code, status);
  return new OAuth2RefusedError(
    `OAuth2 token endpoint ${where} refused mail2waf (${code ?? `HTTP ${status}`}${detail}) — check ${setting}${HINTS[s.provider]}`,
    setting,
    code,
  );
}

function unreachable(s: OAuth2Settings, endpoint: string, err: unknown): OAuth2UnavailableError {
  const e = err as Error & { cause?: { code?: string } };
  const why = e.cause?.code ?? e.name ?? 'error';
  return new OAuth2UnavailableError(
    `OAuth2 token endpoint ${hostOf(endpoint)} unreachable (${redact(why, secretsOf(s))}) — will try again; check ${
      s.tokenUrl ? 'OAUTH2_TOKEN_URL' : 'the network path to it'
    } if it persists`,
  );
}

const TOKEN_TIMEOUT_MS = 30_000;

/** The token response's expiry, trusting a sane `expires_in` only (default one hour). */
function expiresAt(now: number, expiresIn: unknown): number {
  const n = Number(expiresIn);
  return now + (Number.isFinite(n) && n > 0 && n < 86_400 * 7 ? n : 3600) * 1000;
}

// --- refresh-token ------------------------------------------------------------------------------

function refreshTokenSource(s: Extract<OAuth2Settings, { provider: 'refresh-token' }>): FetchToken {
  // Some endpoints rotate refresh tokens: the newest one is kept (in memory; a restart falls back to the setting).
  let refreshToken = s.refreshToken;
  return async () => {
    const body = new URLSearchParams({
      grant_type: 'refresh_token',
      refresh_token: refreshToken,
      client_id: s.clientId,
    });
    if (s.clientSecret) body.set('client_secret', s.clientSecret);
    if (s.scope) body.set('scope', s.scope);
    const started = Date.now();
    let res: Response;
    try {
      res = await fetch(s.tokenUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
        body,
        signal: AbortSignal.timeout(TOKEN_TIMEOUT_MS),
      });
    } catch (err) {
      throw unreachable(s, s.tokenUrl, err);
    }
    const json = (await res.json().catch(() => ({}))) as Record<string, unknown>;
    if (res.ok && typeof json.access_token === 'string' && json.access_token) {
      if (typeof json.refresh_token === 'string' && json.refresh_token) refreshToken = json.refresh_token;
      return { accessToken: json.access_token, expiresAt: expiresAt(started, json.expires_in) };
    }
    throw failure(
      { ...s, refreshToken },
      s.tokenUrl,
      res.ok ? 502 : res.status,
      typeof json.error === 'string' ? json.error : undefined,
      typeof json.error_description === 'string' ? json.error_description : undefined,
    );
  };
}

// --- entra (msal-node) --------------------------------------------------------------------------

/** msal-node's network client: fetch, with the token request sent to `tokenUrl` when one is set. */
function msalNetwork(tokenUrl: string | undefined, onError: (err: unknown) => void): Msal.INetworkModule {
  const send = async <T>(
    method: 'GET' | 'POST',
    url: string,
    options?: { headers?: Record<string, string>; body?: string },
  ) => {
    const target = method === 'POST' && tokenUrl ? tokenUrl : url;
    let res: Response;
    try {
      res = await fetch(target, {
        method,
        headers: options?.headers,
        body: options?.body,
        signal: AbortSignal.timeout(TOKEN_TIMEOUT_MS),
      });
    } catch (err) {
      onError(err);
      throw err;
    }
    const headers: Record<string, string> = {};
    res.headers.forEach((v, k) => (headers[k] = v));
    return { headers, status: res.status, body: (await res.json().catch(() => ({}))) as T };
  };
  return {
    sendGetRequestAsync: (url, options) => send('GET', url, options),
    sendPostRequestAsync: (url, options) => send('POST', url, options),
  };
}

/** The certificate's SHA-256 thumbprint, its base64 DER (x5c) and the key as PKCS#8, from PEM files. */
function certificateOf(c: { certFile: string; keyFile?: string }) {
  const read = (file: string, setting: string) => {
    try {
      return readFileSync(file, 'utf8');
    } catch (err) {
      throw new OAuth2SettingsError(
        `${setting}=${file} cannot be read (${(err as NodeJS.ErrnoException).code})`,
        setting,
      );
    }
  };
  const certPem = read(c.certFile, 'OAUTH2_CLIENT_CERT_FILE');
  const keyPem = c.keyFile ? read(c.keyFile, 'OAUTH2_CLIENT_KEY_FILE') : certPem;
  let cert: X509Certificate;
  try {
    cert = new X509Certificate(certPem);
  } catch {
    throw new OAuth2SettingsError(
      `OAUTH2_CLIENT_CERT_FILE=${c.certFile} holds no PEM certificate`,
      'OAUTH2_CLIENT_CERT_FILE',
    );
  }
  let privateKey: string;
  try {
    privateKey = createPrivateKey(keyPem).export({ type: 'pkcs8', format: 'pem' }).toString();
  } catch {
    const setting = c.keyFile ? 'OAUTH2_CLIENT_KEY_FILE' : 'OAUTH2_CLIENT_CERT_FILE';
    throw new OAuth2SettingsError(`${setting} holds no readable private key (PEM, unencrypted)`, setting);
  }
  return {
    thumbprintSha256: createHash('sha256').update(cert.raw).digest('hex'),
    privateKey,
    x5c: cert.raw.toString('base64'),
  };
}

const OAUTH_ERROR_CODES = new Set([
  'invalid_client',
  'invalid_grant',
  'unauthorized_client',
  'invalid_request',
  'invalid_scope',
  'unsupported_grant_type',
  'access_denied',
  'invalid_tenant',
]);

function entraSource(s: Extract<OAuth2Settings, { provider: 'entra' }>): FetchToken {
  let app: Msal.ConfidentialClientApplication | undefined;
  let networkFailure: unknown;
  const authority = `${s.authority.replace(/\/+$/, '')}/${s.tenantId}`;
  const tokenEndpoint = s.tokenUrl ?? `${authority}/oauth2/v2.0/token`;
  const client = () => {
    if (app) return app;
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- loaded on first use (see the file comment)
    const msal = require('@azure/msal-node') as typeof Msal;
    const host = hostOf(authority);
    const auth: Msal.NodeAuthOptions = {
      clientId: s.clientId,
      authority,
      ...(s.clientSecret ? { clientSecret: s.clientSecret } : { clientCertificate: certificateOf(s.certificate!) }),
      // Known metadata: no discovery round trip (and none at all to Microsoft when the token URL is overridden).
      knownAuthorities: [host],
      authorityMetadata: JSON.stringify({
        token_endpoint: `${authority}/oauth2/v2.0/token`,
        authorization_endpoint: `${authority}/oauth2/v2.0/authorize`,
        issuer: `https://${host}/${s.tenantId}/v2.0`,
        jwks_uri: `${authority}/discovery/v2.0/keys`,
      }),
      cloudDiscoveryMetadata: JSON.stringify({
        tenant_discovery_endpoint: `${authority}/v2.0/.well-known/openid-configuration`,
        metadata: [{ preferred_network: host, preferred_cache: host, aliases: [host] }],
      }),
    };
    app = new msal.ConfidentialClientApplication({
      auth,
      system: {
        networkClient: msalNetwork(s.tokenUrl, (err) => (networkFailure = err)),
        // msal's own log lines could carry request details: off.
        loggerOptions: { piiLoggingEnabled: false, logLevel: msal.LogLevel.Error, loggerCallback: () => undefined },
      },
    });
    return app;
  };
  return async () => {
    const started = Date.now();
    networkFailure = undefined;
    let result: Msal.AuthenticationResult | null;
    try {
      // skipCache: TokenCache decides when to renew, and a refused token must really be replaced.
      result = await client().acquireTokenByClientCredential({ scopes: [s.scope], skipCache: true });
    } catch (err) {
      if (err instanceof OAuth2SettingsError) throw err;
      if (networkFailure) throw unreachable(s, tokenEndpoint, networkFailure);
      const e = err as { errorCode?: string; errorMessage?: string; status?: number };
      const code = e.errorCode && OAUTH_ERROR_CODES.has(e.errorCode) ? e.errorCode : undefined;
      // The AADSTS number is what Microsoft's documentation is searchable by; the rest is redacted and cut.
      const description = e.errorMessage?.split(/\r?\n/)[0];
      throw failure(s, tokenEndpoint, code ? (e.status ?? 400) : (e.status ?? 502), code ?? e.errorCode, description);
    }
    if (!result?.accessToken) throw failure(s, tokenEndpoint, 502, undefined, 'no access token in the answer');
    return {
      accessToken: result.accessToken,
      expiresAt: result.expiresOn ? result.expiresOn.getTime() : expiresAt(started, undefined),
    };
  };
}

// --- google (google-auth-library) ---------------------------------------------------------------

function googleSource(s: Extract<OAuth2Settings, { provider: 'google' }>): FetchToken {
  let key: { client_email: string; private_key: string; token_uri?: string } | undefined;
  const loadKey = () => {
    if (key) return key;
    let parsed: Record<string, unknown>;
    try {
      parsed = JSON.parse(readFileSync(s.serviceAccountFile, 'utf8')) as Record<string, unknown>;
    } catch (err) {
      const e = err as NodeJS.ErrnoException;
      throw new OAuth2SettingsError(
        `GOOGLE_SERVICE_ACCOUNT_FILE=${s.serviceAccountFile} ${e.code ? `cannot be read (${e.code})` : 'is not JSON'} — use the JSON key of the service account`,
        'GOOGLE_SERVICE_ACCOUNT_FILE',
      );
    }
    if (typeof parsed.client_email !== 'string' || typeof parsed.private_key !== 'string') {
      throw new OAuth2SettingsError(
        `GOOGLE_SERVICE_ACCOUNT_FILE=${s.serviceAccountFile} has no client_email / private_key — use the JSON key of a service account`,
        'GOOGLE_SERVICE_ACCOUNT_FILE',
      );
    }
    key = {
      client_email: parsed.client_email,
      private_key: parsed.private_key,
      ...(typeof parsed.token_uri === 'string' ? { token_uri: parsed.token_uri } : {}),
    };
    return key;
  };
  return async (user: string): Promise<IssuedToken> => {
    const k = loadKey();
    const tokenUrl = s.tokenUrl ?? (k.token_uri && k.token_uri !== GOOGLE_TOKEN_URL ? k.token_uri : undefined);
    const endpoint = tokenUrl ?? GOOGLE_TOKEN_URL;
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- loaded on first use (see the file comment)
    const { JWT } = require('google-auth-library') as typeof GoogleAuth;
    // Domain-wide delegation: the service account acts as the mailbox (subject).
    const jwt = new JWT({
      email: k.client_email,
      key: k.private_key,
      scopes: [s.scope],
      subject: user,
      // Node's own fetch: gaxios would otherwise import node-fetch dynamically on first use.
      transporterOptions: { fetchImplementation: fetch as never },
    });
    if (tokenUrl) {
      jwt.transporter.interceptors.request.add({
        resolved: async (opts) => {
          if (String(opts.url) === GOOGLE_TOKEN_URL) opts.url = new URL(tokenUrl);
          return opts;
        },
      });
    }
    const started = Date.now();
    try {
      const creds = await jwt.authorize();
      if (!creds.access_token) throw Object.assign(new Error('no access token'), { response: { status: 502 } });
      return {
        accessToken: creds.access_token,
        expiresAt: creds.expiry_date ?? expiresAt(started, undefined),
      };
    } catch (err) {
      const e = err as Error & {
        response?: { status?: number; data?: { error?: string; error_description?: string } };
      };
      if (!e.response) throw unreachable(s, endpoint, err);
      const data = e.response.data ?? {};
      throw failure(s, endpoint, e.response.status ?? 502, data.error, data.error_description);
    }
  };
}

/** The token source of these settings. */
export function tokenSource(s: OAuth2Settings): FetchToken {
  switch (s.provider) {
    case 'refresh-token':
      return refreshTokenSource(s);
    case 'entra':
      return entraSource(s);
    case 'google':
      return googleSource(s);
  }
}
