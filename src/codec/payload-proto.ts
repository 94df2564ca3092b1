/**
 * `temporal.api.common.v1.Payload` in protobuf wire format, by hand: `map<string, bytes> metadata = 1` and
 * `bytes data = 2` are all an encrypted payload carries. Written here rather than taken from @temporalio/proto so
 * that the worker's runtime dependencies stay as they are; test/unit/codec.test.ts checks it against the
 * generated code byte for byte. Payloads that point to external storage (field 3) are refused, not truncated.
 */
import type { Payload } from '@temporalio/common';

const LEN = 2; // wire type: length-delimited

function varint(n: number, out: number[]): void {
  while (n > 0x7f) {
    out.push((n & 0x7f) | 0x80);
    n = Math.floor(n / 128);
  }
  out.push(n);
}

function field(no: number, bytes: Uint8Array, out: Buffer[]): void {
  const head: number[] = [];
  varint((no << 3) | LEN, head);
  varint(bytes.length, head);
  out.push(Buffer.from(head), Buffer.from(bytes));
}

export function encodePayloadProto(p: Payload): Buffer {
  if (p.externalPayloads && p.externalPayloads.length > 0) {
    throw new Error('payloads stored externally cannot be encrypted by this codec');
  }
  const out: Buffer[] = [];
  for (const [k, v] of Object.entries(p.metadata ?? {})) {
    const entry: Buffer[] = [];
    field(1, Buffer.from(k, 'utf8'), entry);
    field(2, v, entry);
    field(1, Buffer.concat(entry), out);
  }
  if (p.data && p.data.length > 0) field(2, p.data, out);
  return Buffer.concat(out);
}

/** Reads fields one at a time; anything not length-delimited or running past the end is an error. */
class Reader {
  pos = 0;
  constructor(private readonly buf: Buffer) {}
  done() {
    return this.pos >= this.buf.length;
  }
  varint(): number {
    let n = 0;
    let mul = 1;
    for (let i = 0; i < 8; i++) {
      if (this.pos >= this.buf.length) throw new Error('truncated varint');
      const b = this.buf[this.pos++]!;
      n += (b & 0x7f) * mul;
      if (b < 0x80) return n;
      mul *= 128;
    }
    throw new Error('varint too long');
  }
  next(): { no: number; bytes: Buffer } {
    const tag = this.varint();
    if ((tag & 7) !== LEN) throw new Error(`unexpected wire type ${tag & 7} for field ${Math.floor(tag / 8)}`);
    const len = this.varint();
    if (this.pos + len > this.buf.length) throw new Error('field runs past the end');
    const bytes = this.buf.subarray(this.pos, this.pos + len);
    this.pos += len;
    return { no: Math.floor(tag / 8), bytes };
  }
}

export function decodePayloadProto(buf: Buffer): Payload {
  const metadata: Record<string, Uint8Array> = {};
  let data: Uint8Array = new Uint8Array();
  const r = new Reader(buf);
  while (!r.done()) {
    const { no, bytes } = r.next();
    if (no === 1) {
      const e = new Reader(bytes);
      let key = '';
      let value: Uint8Array = new Uint8Array();
      while (!e.done()) {
        const f = e.next();
        if (f.no === 1) key = f.bytes.toString('utf8');
        else if (f.no === 2) value = new Uint8Array(f.bytes);
      }
      metadata[key] = value;
    } else if (no === 2) {
      data = new Uint8Array(bytes);
    } else {
      throw new Error(`unexpected field ${no} (external payloads are not supported)`);
    }
  }
  return { metadata, data };
}
