/**
 * A PayloadCodec that encrypts every payload with AES-256-GCM under a key id, so that keys rotate: it encrypts
 * with the current key and decrypts with whichever configured key the payload names. It runs where the SDK runs
 * codecs, outside the workflow sandbox (client, worker, codec server), so workflows do not change.
 *
 * Wire format (the shape of Temporal's encryption samples, so other SDKs' codecs can read it):
 *   metadata  encoding = binary/encrypted, encryption-key-id = <id>, encryption-cipher = AES-256-GCM
 *   data      12-byte nonce | ciphertext | 16-byte tag, of the original Payload serialised as protobuf
 * The key id is authenticated (additional data), so swapping it or any byte of the data fails decryption.
 * Payloads that are not `binary/encrypted` pass through decode unchanged: histories written before a key was set
 * stay readable. Pure apart from node:crypto.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import type { Payload, PayloadCodec } from '@temporalio/common';
import type { PayloadKey, PayloadKeyRing } from './keys';
import { decodePayloadProto, encodePayloadProto } from './payload-proto';

export const ENCRYPTED_ENCODING = 'binary/encrypted';
export const KEY_ID_METADATA = 'encryption-key-id';
export const CIPHER_METADATA = 'encryption-cipher';
const CIPHER = 'AES-256-GCM';
const NONCE_BYTES = 12;
const TAG_BYTES = 16;

const utf8 = new TextEncoder();
const text = (b: Uint8Array | undefined | null) => (b ? Buffer.from(b).toString('utf8') : undefined);

export type PayloadCodecErrorCode = 'UNKNOWN_KEY_ID' | 'DECRYPT_FAILED' | 'MALFORMED';

/** A payload this process cannot decrypt; `code` says why (imapflow-style sharp error codes). */
export class PayloadCodecError extends Error {
  override name = 'PayloadCodecError';
  constructor(
    readonly code: PayloadCodecErrorCode,
    message: string,
  ) {
    super(message);
  }
}

export class AesGcmCodec implements PayloadCodec {
  private readonly byId: Map<string, PayloadKey>;

  constructor(private readonly ring: PayloadKeyRing) {
    this.byId = new Map(ring.keys.map((k) => [k.id, k]));
  }

  async encode(payloads: Payload[]): Promise<Payload[]> {
    return payloads.map((p) => this.encrypt(p));
  }

  async decode(payloads: Payload[]): Promise<Payload[]> {
    return payloads.map((p) => this.decrypt(p));
  }

  encrypt(payload: Payload): Payload {
    const { id, key } = this.ring.current;
    const nonce = randomBytes(NONCE_BYTES);
    const cipher = createCipheriv('aes-256-gcm', key, nonce);
    cipher.setAAD(utf8.encode(id));
    const body = Buffer.concat([cipher.update(encodePayloadProto(payload)), cipher.final()]);
    return {
      metadata: {
        encoding: utf8.encode(ENCRYPTED_ENCODING),
        [KEY_ID_METADATA]: utf8.encode(id),
        [CIPHER_METADATA]: utf8.encode(CIPHER),
      },
      data: Buffer.concat([nonce, body, cipher.getAuthTag()]),
    };
  }

  decrypt(payload: Payload): Payload {
    if (text(payload.metadata?.encoding) !== ENCRYPTED_ENCODING) return payload;
    const id = text(payload.metadata?.[KEY_ID_METADATA]);
    if (!id) throw new PayloadCodecError('MALFORMED', `an ${ENCRYPTED_ENCODING} payload without ${KEY_ID_METADATA}`);
    const k = this.byId.get(id);
    if (!k) {
      throw new PayloadCodecError(
        'UNKNOWN_KEY_ID',
        `payload encrypted with key id "${id}", which is not configured (PAYLOAD_KEYS has ${this.ring.keys.map((x) => `"${x.id}"`).join(', ')}) — keep old keys after the current one until their histories are gone`,
      );
    }
    const data = Buffer.from(payload.data ?? new Uint8Array());
    if (data.length < NONCE_BYTES + TAG_BYTES) {
      throw new PayloadCodecError('MALFORMED', `encrypted payload of ${data.length} bytes is too short`);
    }
    const decipher = createDecipheriv('aes-256-gcm', k.key, data.subarray(0, NONCE_BYTES));
    decipher.setAAD(utf8.encode(id));
    decipher.setAuthTag(data.subarray(data.length - TAG_BYTES));
    let plain: Buffer;
    try {
      plain = Buffer.concat([decipher.update(data.subarray(NONCE_BYTES, data.length - TAG_BYTES)), decipher.final()]);
    } catch {
      throw new PayloadCodecError(
        'DECRYPT_FAILED',
        `payload under key id "${id}" does not authenticate: altered, or "${id}" names a different key here than where it was written`,
      );
    }
    try {
      return decodePayloadProto(plain);
    } catch (err) {
      throw new PayloadCodecError('MALFORMED', `decrypted payload is not a Payload: ${(err as Error).message}`);
    }
  }
}
