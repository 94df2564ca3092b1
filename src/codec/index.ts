/** The data converter every client and worker of mail2waf uses: the default one, plus encryption when keys are set. */
import type { DataConverter } from '@temporalio/common';
import { AesGcmCodec } from './aes-gcm';
import type { PayloadKeyRing } from './keys';

export { AesGcmCodec, PayloadCodecError } from './aes-gcm';
export { deriveSearchKey, parsePayloadKeys, PayloadKeysError, type PayloadKeyRing } from './keys';

/** `{ payloadCodecs: [AES-GCM] }` with keys, else undefined (the SDK's default converter, payloads in clear). */
export function dataConverterFor(keys: PayloadKeyRing | undefined): DataConverter | undefined {
  return keys ? { payloadCodecs: [new AesGcmCodec(keys)] } : undefined;
}
