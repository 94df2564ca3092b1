import { randomBytes } from 'node:crypto';
import { defaultPayloadConverter } from '@temporalio/common';
import { AesGcmCodec } from '../../src/codec/aes-gcm';
import { parsePayloadKeys } from '../../src/codec/keys';
import { SESSION_COOKIE, startCodecServer, type RunningCodecServer } from '../../src/codec/server';

const UI = 'http://127.0.0.1:8233';
const token = randomBytes(24).toString('hex');
const keys = parsePayloadKeys(`cur:${randomBytes(32).toString('base64')},old:${randomBytes(32).toString('base64')}`);
let server: RunningCodecServer;
const logged: string[] = [];

beforeAll(async () => {
  server = await startCodecServer({
    host: '127.0.0.1',
    port: 0,
    token,
    corsOrigins: [UI],
    keys,
    log: (l) => logged.push(l),
  });
});
afterAll(() => server?.close());

const b64 = (s: string | Uint8Array) => Buffer.from(s).toString('base64');
const json = (v: unknown) => ({ metadata: { encoding: b64('json/plain') }, data: b64(JSON.stringify(v)) });

function post(path: string, body: unknown, headers: Record<string, string> = {}) {
  return fetch(`${server.url}${path}`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${token}`, ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
}

test('encode then decode round-trips; any path prefix works (only the last segment counts)', async () => {
  const enc = await post('/encode', { payloads: [json({ subject: 'FIN7' })] });
  expect(enc.status).toBe(200);
  const encoded = (await enc.json()) as { payloads: { metadata: Record<string, string>; data: string }[] };
  expect(Buffer.from(encoded.payloads[0]!.metadata.encoding!, 'base64').toString()).toBe('binary/encrypted');
  expect(Buffer.from(encoded.payloads[0]!.metadata['encryption-key-id']!, 'base64').toString()).toBe('cur');
  const dec = await post('/ns/default/decode', encoded, { 'X-Namespace': 'default' });
  expect(await dec.json()).toEqual({ payloads: [json({ subject: 'FIN7' })] });
});

test('payloads of an older key decode; an unknown key id is 422 with the reason', async () => {
  const [old] = await new AesGcmCodec({ current: keys.keys[1]!, keys: [keys.keys[1]!] }).encode([
    defaultPayloadConverter.toPayload('old'),
  ]);
  const wire = {
    metadata: Object.fromEntries(Object.entries(old!.metadata!).map(([k, v]) => [k, b64(v)])),
    data: b64(old!.data!),
  };
  expect(((await (await post('/decode', { payloads: [wire] })).json()) as { payloads: unknown[] }).payloads).toEqual([
    json('old'),
  ]);
  const unknown = { ...wire, metadata: { ...wire.metadata, 'encryption-key-id': b64('gone') } };
  const res = await post('/decode', { payloads: [unknown] });
  expect(res.status).toBe(422);
  expect(await res.json()).toMatchObject({ code: 'UNKNOWN_KEY_ID', error: expect.stringContaining('"gone"') });
});

test('no token, a wrong token: 401 with WWW-Authenticate; bad bodies are 400; other paths 404', async () => {
  const none = await fetch(`${server.url}/decode`, { method: 'POST', body: '{"payloads":[]}' });
  expect(none.status).toBe(401);
  expect(none.headers.get('www-authenticate')).toMatch(/^Bearer/);
  expect((await post('/decode', { payloads: [] }, { Authorization: 'Bearer nope' })).status).toBe(401);
  expect((await post('/decode', 'not json')).status).toBe(400);
  expect((await post('/decode', { nope: 1 })).status).toBe(400);
  expect((await post('/decode', { payloads: [{ data: 5 }] })).status).toBe(400);
  expect((await post('/other', { payloads: [] })).status).toBe(404);
  expect((await fetch(`${server.url}/decode`)).status).toBe(405);
});

test('CORS: the UI origin gets credentials and its headers; other origins are refused, even with the token', async () => {
  const preflight = await fetch(`${server.url}/decode`, {
    method: 'OPTIONS',
    headers: {
      Origin: UI,
      'Access-Control-Request-Method': 'POST',
      'Access-Control-Request-Private-Network': 'true',
    },
  });
  expect(preflight.status).toBe(204);
  expect(preflight.headers.get('access-control-allow-origin')).toBe(UI);
  expect(preflight.headers.get('access-control-allow-credentials')).toBe('true');
  expect(preflight.headers.get('access-control-allow-headers')).toBe('Authorization, Content-Type, X-Namespace');
  expect(preflight.headers.get('access-control-allow-private-network')).toBe('true');
  const fromUi = await post('/decode', { payloads: [] }, { Origin: UI });
  expect(fromUi.headers.get('access-control-allow-origin')).toBe(UI);
  const evil = await post('/decode', { payloads: [] }, { Origin: 'https://evil.example' });
  expect(evil.status).toBe(403);
  expect(evil.headers.get('access-control-allow-origin')).toBeNull();
});

test('/login: the right token sets an HttpOnly SameSite=Strict cookie that authorizes decode; a wrong one does not', async () => {
  const form = (t: string) =>
    fetch(`${server.url}/login`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded', Origin: server.url },
      body: new URLSearchParams({ token: t }).toString(),
    });
  expect((await fetch(`${server.url}/login`)).status).toBe(200);
  const wrong = await form('wrong');
  expect(wrong.status).toBe(401);
  expect(wrong.headers.get('set-cookie')).toBeNull();
  const ok = await form(token);
  const cookie = ok.headers.get('set-cookie')!;
  expect(cookie).toMatch(new RegExp(`^${SESSION_COOKIE}=`));
  expect(cookie).toMatch(/HttpOnly/);
  expect(cookie).toMatch(/SameSite=Strict/);
  expect(cookie).not.toContain(token); // a value derived from it
  const viaCookie = await fetch(`${server.url}/decode`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Origin: UI, Cookie: cookie.split(';')[0]! },
    body: '{"payloads":[]}',
  });
  expect(viaCookie.status).toBe(200);
  expect(logged.some((l) => l.includes('failed sign-in'))).toBe(true);
});
