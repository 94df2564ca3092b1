/**
 * The local stack's OAuth2 token endpoint (started by scripts/stack-up.sh; not part of the product): a real HTTP
 * server on 127.0.0.1:$STACK_OAUTH_PORT that plays Microsoft Entra ID, Google and a generic OAuth2 provider for
 * the worker, and answers token introspection (RFC 7662) for Dovecot's oauth2 passdb and the SMTP relay.
 *
 *   POST /token, POST /<tenant>/oauth2/v2.0/token   grants: client_credentials (client secret, or a certificate's
 *        signed client assertion as msal-node sends it), refresh_token, urn:ietf:params:oauth:grant-type:jwt-bearer
 *        (a service account's signed JWT, subject = the mailbox, as google-auth-library sends it)
 *   POST /introspect   token=<access token> → {active, email, username, client_id, scope, exp}
 *   POST /revoke       token=<access token> (RFC 7009): the token stops working at once (tests of a refused token)
 *   GET  /stats        {issued, byGrant, byClient, introspections, refused}: tests count the tokens issued
 *   GET  /health       ok
 *
 * Clients come from the JSON file $STACK_OAUTH_CLIENTS (written by stack-up); tokens are opaque random strings,
 * short-lived ($STACK_OAUTH_TOKEN_TTL seconds, default 20) so that expiry and renewal happen during tests, kept
 * in memory only. Secrets are never logged: one line per request with the grant, client and outcome.
 */
import {
  createHash,
  createPublicKey,
  randomBytes,
  timingSafeEqual,
  verify,
  X509Certificate,
  type KeyObject,
} from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';

interface ClientConfig {
  clientId: string;
  /** Entra-shaped clients: the tenant in the token URL path must match. */
  tenant?: string;
  clientSecret?: string;
  /** PEM certificate whose key signs client assertions (client_credentials) or JWT-bearer assertions. */
  certificateFile?: string;
  publicKeyFile?: string;
  grants: ('client_credentials' | 'refresh_token' | 'jwt-bearer')[];
  /** refresh_token grant: refresh token → the mailbox it stands for. */
  refreshTokens?: Record<string, string>;
  /** client_credentials: the one mailbox the app was given access to (Add-MailboxPermission). */
  mailbox?: string;
  /** jwt-bearer: the mailboxes the service account may act as (domain-wide delegation). */
  subjects?: string[];
  /** The scope a token must ask for (client_credentials, jwt-bearer). */
  scope?: string;
}

const PORT = Number(process.env.STACK_OAUTH_PORT ?? 10090);
const HOST = process.env.STACK_OAUTH_HOST || '127.0.0.1';
const TTL_S = Number(process.env.STACK_OAUTH_TOKEN_TTL ?? 20);
const clientsFile = process.env.STACK_OAUTH_CLIENTS;
if (!clientsFile) {
  console.error('oauth-server: STACK_OAUTH_CLIENTS (the clients JSON file) is not set');
  process.exit(1);
}
const clients: ClientConfig[] = (JSON.parse(readFileSync(clientsFile, 'utf8')) as { clients: ClientConfig[] }).clients;

function keyOf(c: ClientConfig): KeyObject | undefined {
  if (c.certificateFile) return new X509Certificate(readFileSync(c.certificateFile)).publicKey;
  if (c.publicKeyFile) return createPublicKey(readFileSync(c.publicKeyFile));
  return undefined;
}
const keys = new Map(clients.map((c) => [c.clientId, keyOf(c)]));

interface Token {
  clientId: string;
  mailbox: string;
  scope: string;
  grant: string;
  exp: number;
}
const tokens = new Map<string, Token>();
const stats = {
  issued: 0,
  byGrant: {} as Record<string, number>,
  byClient: {} as Record<string, number>,
  refused: 0,
  introspections: 0,
  active: 0,
};

function log(line: string): void {
  process.stdout.write(`${new Date().toISOString()} ${line}\n`);
}

const same = (a: string, b: string) => {
  const x = createHash('sha256').update(a).digest();
  const y = createHash('sha256').update(b).digest();
  return timingSafeEqual(x, y);
};

class OAuthError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    description: string,
  ) {
    super(description);
  }
}

/** Verifies a compact JWS (RS256 or PS256) with `key`; returns its claims. */
function verifyJwt(jwt: string, key: KeyObject | undefined, what: string): Record<string, unknown> {
  const parts = jwt.split('.');
  if (parts.length !== 3 || !key) throw new OAuthError(400, 'invalid_grant', `${what} is not a signed JWT`);
  const [h, p, sig] = parts as [string, string, string];
  let header: { alg?: string };
  let claims: Record<string, unknown>;
  try {
    header = JSON.parse(Buffer.from(h, 'base64url').toString()) as { alg?: string };
    claims = JSON.parse(Buffer.from(p, 'base64url').toString()) as Record<string, unknown>;
  } catch {
    throw new OAuthError(400, 'invalid_grant', `${what} is not a JWT`);
  }
  const data = Buffer.from(`${h}.${p}`);
  const signature = Buffer.from(sig, 'base64url');
  const ok =
    header.alg === 'RS256'
      ? verify('sha256', data, key, signature)
      : header.alg === 'PS256'
        ? verify('sha256', data, { key, padding: 6 /* RSA_PKCS1_PSS_PADDING */, saltLength: 32 }, signature)
        : false;
  if (!ok) throw new OAuthError(401, 'invalid_client', `${what}: signature does not verify (alg ${header.alg})`);
  if (typeof claims.exp !== 'number' || claims.exp * 1000 < Date.now() - 60_000) {
    throw new OAuthError(400, 'invalid_grant', `${what} has expired`);
  }
  return claims;
}

function clientById(id: string | undefined): ClientConfig {
  const c = clients.find((x) => x.clientId === id);
  if (!c) throw new OAuthError(401, 'invalid_client', 'AADSTS700016: unknown client');
  return c;
}

/** The client of a confidential request: client_secret (body or Basic), or a client assertion signed by its key. */
function authenticateClient(req: IncomingMessage, form: URLSearchParams): ClientConfig {
  let id = form.get('client_id') ?? undefined;
  let secret = form.get('client_secret') ?? undefined;
  const basic = /^Basic\s+(.+)$/i.exec(req.headers.authorization ?? '');
  if (basic) {
    const [u, s] = Buffer.from(basic[1]!, 'base64').toString().split(':');
    id = decodeURIComponent(u ?? '');
    secret = decodeURIComponent(s ?? '');
  }
  const assertion = form.get('client_assertion');
  if (assertion) {
    const claims = verifyJwt(assertion, keys.get(id ?? String(decodeClaims(assertion).iss)), 'client_assertion');
    const c = clientById(String(claims.iss));
    if (claims.sub !== c.clientId)
      throw new OAuthError(401, 'invalid_client', 'client_assertion sub is not the client');
    return c;
  }
  const c = clientById(id);
  if (c.clientSecret && !(secret && same(secret, c.clientSecret))) {
    throw new OAuthError(
      401,
      'invalid_client',
      c.tenant ? 'AADSTS7000215: Invalid client secret provided.' : 'the client secret is not valid',
    );
  }
  return c;
}

function decodeClaims(jwt: string): Record<string, unknown> {
  try {
    return JSON.parse(Buffer.from(jwt.split('.')[1] ?? '', 'base64url').toString()) as Record<string, unknown>;
  } catch {
    return {};
  }
}

function issue(c: ClientConfig, mailbox: string, scope: string, grant: string) {
  const accessToken = `m2w-at-${randomBytes(24).toString('base64url')}`;
  tokens.set(accessToken, { clientId: c.clientId, mailbox, scope, grant, exp: Date.now() + TTL_S * 1000 });
  stats.issued++;
  stats.byGrant[grant] = (stats.byGrant[grant] ?? 0) + 1;
  stats.byClient[c.clientId] = (stats.byClient[c.clientId] ?? 0) + 1;
  // Forget expired tokens now and then: memory stays small however long the stack runs.
  if (tokens.size > 1000) for (const [k, t] of tokens) if (t.exp < Date.now()) tokens.delete(k);
  return { access_token: accessToken, token_type: 'Bearer', expires_in: TTL_S, ext_expires_in: TTL_S, scope };
}

function tokenRequest(req: IncomingMessage, form: URLSearchParams, tenant: string | undefined) {
  const grant = form.get('grant_type');
  if (grant === 'client_credentials') {
    const c = authenticateClient(req, form);
    if (!c.grants.includes('client_credentials')) throw new OAuthError(400, 'unauthorized_client', 'grant not allowed');
    if (tenant && c.tenant && tenant !== c.tenant) {
      throw new OAuthError(400, 'invalid_request', `AADSTS90002: Tenant '${tenant}' not found.`);
    }
    const scope = form.get('scope') ?? '';
    if (c.scope && !scope.split(' ').includes(c.scope))
      throw new OAuthError(400, 'invalid_scope', `scope must be ${c.scope}`);
    if (!c.mailbox) throw new OAuthError(400, 'unauthorized_client', 'the app has no mailbox permission');
    return issue(c, c.mailbox, scope, 'client_credentials');
  }
  if (grant === 'refresh_token') {
    const c = authenticateClient(req, form);
    const mailbox = c.refreshTokens?.[form.get('refresh_token') ?? ''];
    if (!c.grants.includes('refresh_token') || !mailbox) {
      throw new OAuthError(400, 'invalid_grant', 'the refresh token is invalid, expired or revoked');
    }
    return issue(c, mailbox, form.get('scope') ?? 'mail', 'refresh_token');
  }
  if (grant === 'urn:ietf:params:oauth:grant-type:jwt-bearer') {
    const assertion = form.get('assertion') ?? '';
    const iss = String(decodeClaims(assertion).iss ?? '');
    const c = clients.find((x) => x.clientId === iss && x.grants.includes('jwt-bearer'));
    if (!c) throw new OAuthError(401, 'invalid_client', 'unknown service account');
    const claims = verifyJwt(assertion, keys.get(c.clientId), 'assertion');
    const scope = String(claims.scope ?? '');
    const sub = String(claims.sub ?? '').toLowerCase();
    if (c.scope && !scope.split(' ').includes(c.scope)) {
      throw new OAuthError(400, 'invalid_scope', `scope must include ${c.scope}`);
    }
    if (!sub || !(c.subjects ?? []).includes(sub)) {
      throw new OAuthError(
        401,
        'unauthorized_client',
        'Client is unauthorized to retrieve access tokens using this method, or client not authorized for any of the scopes requested.',
      );
    }
    return issue(c, sub, scope, 'jwt-bearer');
  }
  throw new OAuthError(400, 'unsupported_grant_type', `grant_type ${grant ?? '(none)'} is not supported`);
}

function introspect(form: URLSearchParams) {
  stats.introspections++;
  const t = tokens.get(form.get('token') ?? '');
  if (!t || t.exp < Date.now()) return { active: false };
  stats.active++;
  return {
    active: true,
    email: t.mailbox,
    username: t.mailbox,
    sub: t.mailbox,
    client_id: t.clientId,
    scope: t.scope,
    exp: Math.floor(t.exp / 1000),
  };
}

async function body(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > 1024 * 1024) throw new OAuthError(413, 'invalid_request', 'request too large');
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString();
}

function send(res: ServerResponse, status: number, json: unknown): void {
  // One request per connection: a client whose event loop stalls (jest loading the next test file, a busy 2-core
  // machine) past this server's 5 s keep-alive would send its next request on a connection being closed under it,
  // and fail with a socket error (UND_ERR_SOCKET) that says nothing about OAuth2.
  res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store', connection: 'close' });
  res.end(JSON.stringify(json));
}

const server = createServer((req, res) => {
  const url = new URL(req.url ?? '/', 'http://localhost');
  const path = url.pathname;
  (async () => {
    if (req.method === 'GET' && path === '/health') return send(res, 200, { ok: true });
    if (req.method === 'GET' && path === '/stats')
      return send(res, 200, { ...stats, live: tokens.size, ttlSeconds: TTL_S });
    const tokenPath = /^\/(?:([^/]+)\/oauth2\/v2\.0\/)?token$/.exec(path);
    if (req.method === 'POST' && (tokenPath || path === '/introspect' || path === '/revoke')) {
      const form = new URLSearchParams(await body(req));
      if (path === '/revoke') {
        const revoked = tokens.delete(form.get('token') ?? '');
        log(`revoke ${revoked ? 'done' : 'unknown token'}`);
        return send(res, 200, {});
      }
      if (path === '/introspect') {
        const answer = introspect(form);
        log(
          `introspect active=${answer.active}${answer.active ? ` mailbox=${(answer as { email: string }).email}` : ''}`,
        );
        return send(res, 200, answer);
      }
      try {
        const answer = tokenRequest(req, form, tokenPath?.[1]);
        log(`token grant=${form.get('grant_type')} issued ttl=${TTL_S}s`);
        return send(res, 200, answer);
      } catch (err) {
        if (!(err instanceof OAuthError)) throw err;
        stats.refused++;
        log(`token grant=${form.get('grant_type')} refused ${err.code}: ${err.message}`);
        return send(res, err.status, { error: err.code, error_description: err.message });
      }
    }
    send(res, 404, { error: 'not_found' });
  })().catch((err: Error) => {
    log(`error: ${err.message}`);
    if (!res.headersSent) send(res, 500, { error: 'server_error' });
  });
});

server.listen(PORT, HOST, () =>
  log(`listening on http://${HOST}:${PORT} (tokens live ${TTL_S} s, ${clients.length} clients)`),
);

function shutdown(signal: string): void {
  log(`${signal}: shutting down`);
  setTimeout(() => process.exit(0), 2_000).unref();
  server.close(() => process.exit(0));
}
process.on('SIGTERM', () => shutdown('SIGTERM'));
process.on('SIGINT', () => shutdown('SIGINT'));
