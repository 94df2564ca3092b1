/**
 * Payload keys: `PAYLOAD_KEYS=id1:<base64 32 bytes>,id0:<base64 32 bytes>`. The first key encrypts; every key
 * listed decrypts, so a key is rotated by putting a new one first and keeping the old one after it until no
 * history written with it is still read (retention). Pure apart from node:crypto.
 */
import { hkdfSync } from 'node:crypto';

/** AES-256: exactly 32 bytes. */
export const PAYLOAD_KEY_BYTES = 32;

/** A key id as it appears in payload metadata: short, printable, no separators of the PAYLOAD_KEYS syntax. */
const KEY_ID = /^[A-Za-z0-9._-]{1,64}$/;

export interface PayloadKey {
  id: string;
  key: Buffer;
}

/** The keys a process holds: `current` encrypts, all of `keys` decrypt (current first). */
export interface PayloadKeyRing {
  current: PayloadKey;
  keys: PayloadKey[];
}

/** Why PAYLOAD_KEYS cannot be used: every problem, each naming the entry to fix. */
export class PayloadKeysError extends Error {
  override name = 'PayloadKeysError';
  constructor(readonly problems: string[]) {
    super(problems.join('; '));
  }
}

function keyBytes(text: string): Buffer | undefined {
  const t = text.trim();
  if (/^[0-9a-f]{64}$/i.test(t)) return Buffer.from(t, 'hex');
  if (!/^[A-Za-z0-9+/_-]+={0,2}$/.test(t)) return undefined;
  return Buffer.from(t, 'base64');
}

/**
 * Parses `id:key,id:key` (base64 or 64 hex digits per key, whitespace and newlines allowed between entries, as a
 * secret file may have them). Refuses short or long keys, bad or repeated ids, and an empty list.
 */
export function parsePayloadKeys(text: string): PayloadKeyRing {
  const problems: string[] = [];
  const keys: PayloadKey[] = [];
  const entries = text
    .split(/[,\n]/)
    .map((x) => x.trim())
    .filter(Boolean);
  for (const [i, entry] of entries.entries()) {
    const at = entry.indexOf(':');
    const id = at < 0 ? '' : entry.slice(0, at).trim();
    if (at < 0 || !KEY_ID.test(id)) {
      problems.push(`entry ${i + 1} is not id:key (an id of letters, digits, ".", "_" or "-", then the key)`);
      continue;
    }
    if (keys.some((k) => k.id === id)) {
      problems.push(`key id "${id}" is listed twice`);
      continue;
    }
    const key = keyBytes(entry.slice(at + 1));
    if (!key || key.length !== PAYLOAD_KEY_BYTES) {
      problems.push(
        `key "${id}" is ${key ? `${key.length} bytes` : 'not base64 or hex'}; AES-256 needs exactly ${PAYLOAD_KEY_BYTES} random bytes (openssl rand -base64 32)`,
      );
      continue;
    }
    keys.push({ id, key });
  }
  if (entries.length === 0) problems.push('no key given (id:<base64 of 32 random bytes>)');
  if (problems.length > 0) throw new PayloadKeysError(problems);
  return { current: keys[0]!, keys };
}

/**
 * The search attribute key derived from the current payload key (HKDF-SHA-256, its own label), used when
 * SEARCH_KEY is not set: values are hashed whenever payloads are encrypted, and the payload key itself never
 * keys an HMAC. Rotating the payload key changes it: runs recorded before are found only with the old key's
 * SEARCH_KEY (set SEARCH_KEY explicitly to keep searches stable across payload key rotations).
 */
export function deriveSearchKey(ring: PayloadKeyRing): Buffer {
  return Buffer.from(hkdfSync('sha256', ring.current.key, Buffer.alloc(0), 'mail2waf search attributes', 32));
}
