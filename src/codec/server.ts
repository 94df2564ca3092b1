/**
 * The codec server: the HTTP endpoints through which the Temporal Web UI and `temporal --codec-endpoint` read
 * (and write) encrypted payloads. Protocol (Temporal's codec server protocol): `POST …/encode` and `POST …/decode`
 * with a JSON `{ "payloads": [ { "metadata": { k: base64 }, "data": base64 } ] }` body and the same shape back;
 * only the last path segment counts, and `X-Namespace` names the namespace (one key ring serves them all here).
 *
 * Who may call it:
 *   - `Authorization: Bearer <CODEC_SERVER_TOKEN>` (the CLI's `--codec-auth`, proxies, scripts);
 *   - a browser that signed in at `/login` (the token pasted once into a form; an HttpOnly, SameSite=Strict cookie
 *     comes back). The Web UI cannot send a bearer token of our choosing: it sends only its own OIDC access token,
 *     and only to https endpoints, but with "Include cross-origin credentials" on it sends cookies.
 *   - `--insecure-no-auth`: anyone who reaches it (loopback only).
 * CORS answers only the configured Web UI origins (CODEC_CORS_ORIGIN), with credentials and the headers the UI
 * sends (Content-Type, X-Namespace, Authorization); a request from any other origin is refused before it is read.
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Payload } from '@temporalio/common';
import { AesGcmCodec, PayloadCodecError } from './aes-gcm';
import type { PayloadKeyRing } from './keys';

export interface CodecServerOptions {
  host: string;
  port: number;
  /** Undefined: no authentication (the CLI allows that on loopback only). */
  token?: string;
  corsOrigins: string[];
  keys: PayloadKeyRing;
  /** One line per refused or failed request (stderr in the CLI). */
  log?: (line: string) => void;
}

export interface RunningCodecServer {
  server: Server;
  port: number;
  url: string;
  close(): Promise<void>;
}

/** Payloads in a history stay under 2 MB each; a batch of a whole event is bounded well above that. */
export const MAX_BODY_BYTES = 32 * 1024 * 1024;
export const SESSION_COOKIE = 'mail2waf_codec';
const ALLOWED_HEADERS = 'Authorization, Content-Type, X-Namespace';

interface JsonPayload {
  metadata?: Record<string, string> | null;
  data?: string | null;
}

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

function fromJson(p: unknown): Payload {
  if (typeof p !== 'object' || p === null) throw new HttpError(400, 'each payload must be an object');
  const { metadata, data } = p as JsonPayload;
  const out: Record<string, Uint8Array> = {};
  for (const [k, v] of Object.entries(metadata ?? {})) {
    if (typeof v !== 'string') throw new HttpError(400, `metadata "${k}" must be a base64 string`);
    out[k] = Buffer.from(v, 'base64');
  }
  if (data !== undefined && data !== null && typeof data !== 'string') {
    throw new HttpError(400, 'data must be a base64 string');
  }
  return { metadata: out, data: Buffer.from(data ?? '', 'base64') };
}

function toJson(p: Payload): JsonPayload {
  return {
    metadata: Object.fromEntries(
      Object.entries(p.metadata ?? {}).map(([k, v]) => [k, Buffer.from(v).toString('base64')]),
    ),
    data: Buffer.from(p.data ?? []).toString('base64'),
  };
}

const digest = (s: string) => createHash('sha256').update(s).digest();
/** Constant-time: the comparison does not tell an attacker how much of a guess was right. */
const sameSecret = (a: string, b: string) => timingSafeEqual(digest(a), digest(b));

function cookie(req: IncomingMessage, name: string): string | undefined {
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const at = part.indexOf('=');
    if (at > 0 && part.slice(0, at).trim() === name) return decodeURIComponent(part.slice(at + 1).trim());
  }
  return undefined;
}

async function body(req: IncomingMessage): Promise<Buffer> {
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > MAX_BODY_BYTES) throw new HttpError(413, `request body over ${MAX_BODY_BYTES} bytes`);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) throw new HttpError(413, `request body over ${MAX_BODY_BYTES} bytes`);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

const escapeHtml = (s: string) =>
  s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

function loginPage(message: string, origins: string[], endpoint: string): string {
  return `<!doctype html><html><head><meta charset="utf-8"><title>mail2waf codec server</title></head>
<body style="font-family:sans-serif;max-width:40em;margin:2em auto">
<h1>mail2waf codec server</h1>
<p>${escapeHtml(message)}</p>
<form method="post" action="login"><label>Codec server token <input type="password" name="token" autocomplete="off" autofocus></label>
<button type="submit">Sign in this browser</button></form>
<p>Then, in the Temporal Web UI (${origins.map(escapeHtml).join(', ')}): Data Encoder settings, endpoint
<code>${escapeHtml(endpoint)}</code>, and turn on <em>Include cross-origin credentials</em>.</p>
</body></html>`;
}

/** The request handler alone (tests call it through a listening server; nothing here reads the environment). */
export function codecRequestHandler(opts: CodecServerOptions & { endpoint: () => string }) {
  const codec = new AesGcmCodec(opts.keys);
  const log = opts.log ?? (() => undefined);
  const origins = new Set(opts.corsOrigins);
  // The cookie holds a value derived from the token, not the token: a browser profile that leaks it does not give
  // away the bearer token scripts use (cookies on 127.0.0.1 also reach every other port of the host).
  const session =
    opts.token === undefined
      ? undefined
      : createHmac('sha256', opts.token).update('mail2waf codec-server session').digest('base64url');

  const authorized = (req: IncomingMessage): boolean => {
    if (opts.token === undefined) return true;
    const auth = /^Bearer\s+(.+)$/i.exec(req.headers.authorization ?? '');
    if (auth && sameSecret(auth[1]!.trim(), opts.token)) return true;
    const presented = cookie(req, SESSION_COOKIE);
    return presented !== undefined && session !== undefined && sameSecret(presented, session);
  };

  return async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const origin = req.headers.origin;
    const allowed = origin !== undefined && origins.has(origin);
    const headers: Record<string, string> = { 'Cache-Control': 'no-store', Vary: 'Origin' };
    if (allowed) {
      headers['Access-Control-Allow-Origin'] = origin;
      headers['Access-Control-Allow-Credentials'] = 'true';
    }
    const send = (status: number, payload: unknown, type = 'application/json') => {
      const text = type === 'application/json' ? JSON.stringify(payload) : String(payload);
      res.writeHead(status, { ...headers, 'Content-Type': `${type}; charset=utf-8` });
      res.end(text);
    };
    const path = new URL(req.url ?? '/', 'http://codec.invalid').pathname;
    const last = path.split('/').filter(Boolean).pop() ?? '';
    try {
      if (req.method === 'OPTIONS') {
        if (!allowed) throw new HttpError(403, `origin ${origin ?? '(none)'} is not allowed (CODEC_CORS_ORIGIN)`);
        res.writeHead(204, {
          ...headers,
          'Access-Control-Allow-Methods': 'POST, OPTIONS',
          'Access-Control-Allow-Headers': ALLOWED_HEADERS,
          'Access-Control-Max-Age': '600',
          // Chrome's Private Network Access: a UI served from a public address calling this loopback server.
          ...(req.headers['access-control-request-private-network'] === 'true'
            ? { 'Access-Control-Allow-Private-Network': 'true' }
            : {}),
        });
        res.end();
        return;
      }
      // A browser names the page that sent the request: pages of other origins are refused whatever credentials
      // they hold; our own /login page (same host) may post its form.
      const own = origin !== undefined && origin.replace(/^https?:\/\//, '') === req.headers.host;
      if (origin !== undefined && !allowed && !own) throw new HttpError(403, `origin ${origin} is not allowed`);
      if (last === 'login') {
        if (req.method === 'GET') {
          send(
            200,
            loginPage('Sign this browser in to let the Web UI decode payloads.', [...origins], opts.endpoint()),
            'text/html',
          );
          return;
        }
        if (req.method !== 'POST') throw new HttpError(405, 'GET or POST');
        const token = new URLSearchParams((await body(req)).toString('utf8')).get('token') ?? '';
        if (opts.token !== undefined && !sameSecret(token, opts.token)) {
          log(`codec server: failed sign-in from ${req.socket.remoteAddress}`);
          res.writeHead(401, { ...headers, 'Content-Type': 'text/html; charset=utf-8' });
          res.end(loginPage('That is not the token. Try again.', [...origins], opts.endpoint()));
          return;
        }
        const secure = req.headers['x-forwarded-proto'] === 'https' ? '; Secure' : '';
        res.writeHead(200, {
          ...headers,
          'Content-Type': 'text/html; charset=utf-8',
          'Set-Cookie': `${SESSION_COOKIE}=${session ?? ''}; HttpOnly; SameSite=Strict; Path=/${secure}`,
        });
        res.end(loginPage('This browser is signed in.', [...origins], opts.endpoint()));
        return;
      }
      if (last !== 'encode' && last !== 'decode') throw new HttpError(404, 'POST …/encode or …/decode');
      if (req.method !== 'POST') throw new HttpError(405, `POST ${path}`);
      if (!authorized(req)) {
        res.setHeader('WWW-Authenticate', 'Bearer realm="mail2waf codec server"');
        throw new HttpError(401, 'missing or wrong token: send Authorization: Bearer <CODEC_SERVER_TOKEN>');
      }
      let parsed: unknown;
      try {
        parsed = JSON.parse((await body(req)).toString('utf8'));
      } catch (err) {
        if (err instanceof HttpError) throw err;
        throw new HttpError(400, 'the body is not JSON');
      }
      const list = (parsed as { payloads?: unknown } | null)?.payloads;
      if (!Array.isArray(list)) throw new HttpError(400, 'expected {"payloads": [...]}');
      const payloads = list.map(fromJson);
      const result = last === 'encode' ? await codec.encode(payloads) : await codec.decode(payloads);
      send(200, { payloads: result.map(toJson) });
    } catch (err) {
      if (err instanceof HttpError) {
        if (err.status !== 404) log(`codec server: ${req.method} ${path} ${err.status} ${err.message}`);
        send(err.status, { error: err.message });
      } else if (err instanceof PayloadCodecError) {
        log(`codec server: ${req.method} ${path} 422 ${err.code}: ${err.message}`);
        send(422, { error: err.message, code: err.code });
      } else {
        log(`codec server: ${req.method} ${path} 500 ${(err as Error).message}`);
        send(500, { error: 'internal error' });
      }
    }
  };
}

/** Listens on host:port (port 0: any free port) and resolves once it does. */
export async function startCodecServer(opts: CodecServerOptions): Promise<RunningCodecServer> {
  let url = '';
  const handler = codecRequestHandler({ ...opts, endpoint: () => url });
  const server = createServer((req, res) => void handler(req, res));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : opts.port;
  url = `http://${opts.host.includes(':') ? `[${opts.host}]` : opts.host}:${port}`;
  return {
    server,
    port,
    url,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
