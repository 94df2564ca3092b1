import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defaultPayloadConverter, type Payload } from '@temporalio/common';
import { temporal } from '@temporalio/proto';
import { AesGcmCodec, CIPHER_METADATA, KEY_ID_METADATA, PayloadCodecError } from '../../src/codec/aes-gcm';
import { deriveSearchKey, parsePayloadKeys, PayloadKeysError } from '../../src/codec/keys';
import { decodePayloadProto, encodePayloadProto } from '../../src/codec/payload-proto';
import { ConfigError, loadClientConfig, loadCodecServerConfig, loadPayloadKeys } from '../../src/config';

const key = () => randomBytes(32).toString('base64');
const str = (b: Uint8Array | null | undefined) => Buffer.from(b ?? []).toString('utf8');
const advisory = { subject: 'C2 servers of FIN7', from: 'cert@cert.example', addresses: ['185.220.124.7/32'] };

function codec(text: string) {
  return new AesGcmCodec(parsePayloadKeys(text));
}

describe('AES-GCM payload codec', () => {
  const k1 = key();
  const k0 = key();

  test('round trip: the encoded payload hides the value and decodes to the original', async () => {
    const c = codec(`id1:${k1}`);
    const original = defaultPayloadConverter.toPayload(advisory);
    const [encoded] = await c.encode([original]);
    expect(str(encoded!.metadata!.encoding)).toBe('binary/encrypted');
    expect(str(encoded!.metadata![KEY_ID_METADATA])).toBe('id1');
    expect(str(encoded!.metadata![CIPHER_METADATA])).toBe('AES-256-GCM');
    expect(Buffer.from(encoded!.data!).toString('latin1')).not.toContain('FIN7');
    const [decoded] = await c.decode([encoded!]);
    expect(defaultPayloadConverter.fromPayload(decoded!)).toEqual(advisory);
    expect(str(decoded!.metadata!.encoding)).toBe('json/plain');
  });

  test('every encryption uses a fresh nonce', async () => {
    const c = codec(`id1:${k1}`);
    const p = defaultPayloadConverter.toPayload('same');
    const [a, b] = await c.encode([p, p]);
    expect(Buffer.from(a!.data!).equals(Buffer.from(b!.data!))).toBe(false);
  });

  test('payloads in clear (histories from before a key was set) pass through decode', async () => {
    const p = defaultPayloadConverter.toPayload({ a: 1 });
    expect(await codec(`id1:${k1}`).decode([p])).toEqual([p]);
  });

  test('a key id that is not configured is named in the error', async () => {
    const [encoded] = await codec(`old:${k0}`).encode([defaultPayloadConverter.toPayload('x')]);
    await expect(codec(`id1:${k1}`).decode([encoded!])).rejects.toMatchObject({
      name: 'PayloadCodecError',
      code: 'UNKNOWN_KEY_ID',
      message: expect.stringContaining('"old"'),
    });
  });

  test('the same key id with another key does not authenticate', async () => {
    const [encoded] = await codec(`id1:${k0}`).encode([defaultPayloadConverter.toPayload('x')]);
    await expect(codec(`id1:${k1}`).decode([encoded!])).rejects.toMatchObject({ code: 'DECRYPT_FAILED' });
  });

  test('tampered ciphertext, tag, nonce or key id fails to decrypt', async () => {
    const c = codec(`id1:${k1},id0:${k0}`);
    const [encoded] = await c.encode([defaultPayloadConverter.toPayload(advisory)]);
    for (const at of [0, 12, 20, encoded!.data!.length - 1]) {
      const data = Buffer.from(encoded!.data!);
      data[at]! ^= 1;
      await expect(c.decode([{ ...encoded!, data }])).rejects.toBeInstanceOf(PayloadCodecError);
    }
    // The key id is authenticated: pointing the payload at the other configured key fails too.
    const swapped: Payload = {
      ...encoded!,
      metadata: { ...encoded!.metadata, [KEY_ID_METADATA]: Buffer.from('id0') },
    };
    await expect(c.decode([swapped])).rejects.toMatchObject({ code: 'DECRYPT_FAILED' });
    await expect(c.decode([{ ...encoded!, data: Buffer.alloc(10) }])).rejects.toMatchObject({ code: 'MALFORMED' });
  });

  test('rotation: a new key first encrypts, the old one after it still decrypts', async () => {
    const before = codec(`id0:${k0}`);
    const after = codec(`id1:${k1},id0:${k0}`);
    const [old] = await before.encode([defaultPayloadConverter.toPayload('written before')]);
    const [fresh] = await after.encode([defaultPayloadConverter.toPayload('written after')]);
    expect(str(fresh!.metadata![KEY_ID_METADATA])).toBe('id1');
    const decoded = await after.decode([old!, fresh!]);
    expect(decoded.map((p) => defaultPayloadConverter.fromPayload(p))).toEqual(['written before', 'written after']);
    // Dropping the old key too early makes its histories unreadable, with an error that says so.
    await expect(codec(`id1:${k1}`).decode([old!])).rejects.toMatchObject({ code: 'UNKNOWN_KEY_ID' });
  });
});

describe('Payload protobuf', () => {
  test('byte for byte what @temporalio/proto writes and reads', () => {
    const p: Payload = {
      metadata: { encoding: Buffer.from('json/plain'), other: Buffer.from([0, 1, 2, 255]) },
      data: Buffer.from(JSON.stringify({ long: 'x'.repeat(300) })),
    };
    const ours = encodePayloadProto(p);
    const theirs = Buffer.from(temporal.api.common.v1.Payload.encode(p).finish());
    expect(ours.equals(theirs)).toBe(true);
    const back = temporal.api.common.v1.Payload.decode(ours);
    expect(str(back.data)).toBe(str(p.data));
    expect(decodePayloadProto(theirs)).toEqual({
      metadata: { encoding: new Uint8Array(p.metadata!.encoding!), other: new Uint8Array([0, 1, 2, 255]) },
      data: new Uint8Array(p.data!),
    });
    expect(decodePayloadProto(encodePayloadProto({ metadata: { encoding: Buffer.from('binary/null') } }))).toEqual({
      metadata: { encoding: new Uint8Array(Buffer.from('binary/null')) },
      data: new Uint8Array(),
    });
  });

  test('truncated input is an error, not a short payload', () => {
    const bytes = encodePayloadProto({ metadata: {}, data: Buffer.from('hello world') });
    expect(() => decodePayloadProto(bytes.subarray(0, bytes.length - 3))).toThrow(/past the end/);
  });
});

describe('PAYLOAD_KEYS', () => {
  test('first key is current; hex and base64 keys; newlines allowed (secret files)', () => {
    const hex = randomBytes(32).toString('hex');
    const ring = parsePayloadKeys(`new:${key()}\nold:${hex}\n`);
    expect(ring.current.id).toBe('new');
    expect(ring.keys.map((k) => k.id)).toEqual(['new', 'old']);
    expect(ring.keys[1]!.key.toString('hex')).toBe(hex);
  });

  test('short keys, bad ids, repeated ids and an empty list are refused, each named', () => {
    const short = randomBytes(16).toString('base64');
    expect(() => parsePayloadKeys(`a:${short}`)).toThrow(/key "a" is 16 bytes; AES-256 needs exactly 32/);
    expect(() => parsePayloadKeys(`${key()}`)).toThrow(/entry 1 is not id:key/);
    expect(() => parsePayloadKeys(`a b:${key()}`)).toThrow(/entry 1 is not id:key/);
    expect(() => parsePayloadKeys(`a:${key()},a:${key()}`)).toThrow(/"a" is listed twice/);
    expect(() => parsePayloadKeys(' , ')).toThrow(PayloadKeysError);
  });

  test('config: a short key is a ConfigError naming PAYLOAD_KEYS; PAYLOAD_KEYS_FILE is read', () => {
    expect(() => loadPayloadKeys({ PAYLOAD_KEYS: 'k:c2hvcnQ=' })).toThrow(ConfigError);
    expect(() => loadPayloadKeys({ PAYLOAD_KEYS: 'k:c2hvcnQ=' })).toThrow(/PAYLOAD_KEYS: key "k" is 5 bytes/);
    expect(loadPayloadKeys({})).toBeUndefined();
    const dir = mkdtempSync(join(tmpdir(), 'm2w-keys-'));
    try {
      writeFileSync(join(dir, 'keys'), `from-file:${key()}\n`);
      expect(loadPayloadKeys({ PAYLOAD_KEYS_FILE: join(dir, 'keys') })?.current.id).toBe('from-file');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  const base = { AWS_REGION: 'us-east-1', WAF_IPSET_V4_NAME: 'v4', WAF_IPSET_V6_NAME: 'v6' };

  test('the search key is derived from the current payload key unless SEARCH_KEY is set', () => {
    const k = key();
    const ring = parsePayloadKeys(`id1:${k}`);
    const derived = loadClientConfig({ ...base, PAYLOAD_KEYS: `id1:${k}` });
    expect(derived.payloadKeys?.current.id).toBe('id1');
    expect(derived.searchKey?.equals(deriveSearchKey(ring))).toBe(true);
    // Its own key: never the payload key itself.
    expect(derived.searchKey?.equals(ring.current.key)).toBe(false);
    const explicit = randomBytes(32);
    const both = loadClientConfig({ ...base, PAYLOAD_KEYS: `id1:${k}`, SEARCH_KEY: explicit.toString('base64') });
    expect(both.searchKey?.equals(explicit)).toBe(true);
    expect(loadClientConfig(base).searchKey).toBeUndefined();
    expect(loadClientConfig(base).payloadKeys).toBeUndefined();
  });
});

describe('codec server settings', () => {
  const keys = { PAYLOAD_KEYS: `k:${key()}` };

  test('defaults: loopback, port 8234, the dev server UI as CORS origin', () => {
    const c = loadCodecServerConfig({ ...keys, CODEC_SERVER_TOKEN: 'x'.repeat(32) });
    expect(c).toMatchObject({ host: '127.0.0.1', port: 8234, corsOrigins: ['http://127.0.0.1:8233'] });
    expect(c.token).toBe('x'.repeat(32));
  });

  test('a token is required unless --insecure-no-auth, which is for loopback only', () => {
    expect(() => loadCodecServerConfig(keys)).toThrow(/CODEC_SERVER_TOKEN is not set/);
    expect(loadCodecServerConfig(keys, { insecureNoAuth: true }).token).toBeUndefined();
    expect(() => loadCodecServerConfig(keys, { insecureNoAuth: true, host: '0.0.0.0' })).toThrow(/loopback only/);
    expect(() => loadCodecServerConfig({ CODEC_SERVER_TOKEN: 'x'.repeat(32) })).toThrow(/PAYLOAD_KEYS is not set/);
    expect(() => loadCodecServerConfig({ ...keys, CODEC_SERVER_TOKEN: 'short' })).toThrow(/at least 16/);
  });

  test('CORS origins: a list, trailing slashes dropped, paths refused', () => {
    const c = loadCodecServerConfig(
      { ...keys, CODEC_CORS_ORIGIN: 'https://temporal.example.com/, http://127.0.0.1:8233' },
      { insecureNoAuth: true, port: '9000' },
    );
    expect(c.corsOrigins).toEqual(['https://temporal.example.com', 'http://127.0.0.1:8233']);
    expect(c.port).toBe(9000);
    expect(() =>
      loadCodecServerConfig({ ...keys, CODEC_CORS_ORIGIN: 'https://x.example/ui' }, { insecureNoAuth: true }),
    ).toThrow(/CODEC_CORS_ORIGIN/);
  });
});
