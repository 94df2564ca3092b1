/**
 * The blocklist's continue-as-new state, packed. Plain JSON of 10,000 entries with their provenance is about
 * 4.6 MB, over Temporal's 2 MB payload limit, so the state crosses the boundary as a compact form (messages
 * stored once in a table, times as epoch seconds, IP version and `manual` derived) compressed with DEFLATE and
 * base64-encoded. Pure and deterministic (fflate is plain JavaScript), so it is safe in workflow code.
 * Request answers are not carried: Temporal's own update-id dedupe does not cross continue-as-new either, and a
 * repeated block is harmless (it is answered "already present").
 */
import { strFromU8, strToU8, unzlibSync, zlibSync } from 'fflate';
import { parseCidr } from '../net/ip';
import type { BlocklistEntry, BlocklistState, Source } from '../shared/types';

const FORMAT = 1;

/** messageDate (ISO) is appended only when present: packs written before it existed read the same. */
type PackedSource = [
  kind: 0 | 1,
  ref: string,
  subject: string | null,
  from: string | null,
  at: number,
  messageDate?: string,
];
/** [value, addedAt s, expiresAt s or 0, [[source index, detail or null], ...], extra sightings not kept] */
type PackedEntry = [string, number, number, [number, string | null][], number?];

interface Packed {
  f: typeof FORMAT;
  s: PackedSource[];
  e: PackedEntry[];
  rest: Omit<BlocklistState, 'entries' | 'answered'>;
}

const toSec = (iso: string) => Math.round(Date.parse(iso) / 1000);
const toIso = (sec: number) => new Date(sec * 1000).toISOString();

const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';

function toBase64(bytes: Uint8Array): string {
  let out = '';
  for (let i = 0; i < bytes.length; i += 3) {
    const n = (bytes[i]! << 16) | ((bytes[i + 1] ?? 0) << 8) | (bytes[i + 2] ?? 0);
    out += B64[(n >> 18) & 63]! + B64[(n >> 12) & 63]!;
    out += i + 1 < bytes.length ? B64[(n >> 6) & 63]! : '=';
    out += i + 2 < bytes.length ? B64[n & 63]! : '=';
  }
  return out;
}

function fromBase64(text: string): Uint8Array {
  const clean = text.replace(/=+$/, '');
  const out = new Uint8Array(Math.floor((clean.length * 3) / 4));
  let bits = 0;
  let acc = 0;
  let j = 0;
  for (let i = 0; i < clean.length; i++) {
    const v = B64.indexOf(clean[i]!);
    if (v < 0) throw new Error('packed blocklist state is not base64');
    acc = (acc << 6) | v;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out[j++] = (acc >> bits) & 0xff;
    }
  }
  return out.subarray(0, j);
}

export function packState(state: BlocklistState): string {
  const sources: PackedSource[] = [];
  const index = new Map<string, number>();
  const sourceIndex = (s: Source): number => {
    const key = `${s.kind}\u0000${s.ref}\u0000${s.subject ?? ''}\u0000${s.from ?? ''}\u0000${s.messageDate ?? ''}`;
    let i = index.get(key);
    if (i === undefined) {
      i = sources.length;
      const packed: PackedSource = [s.kind === 'manual' ? 1 : 0, s.ref, s.subject ?? null, s.from ?? null, toSec(s.at)];
      if (s.messageDate !== undefined) packed.push(s.messageDate);
      sources.push(packed);
      index.set(key, i);
    }
    return i;
  };
  const entries: PackedEntry[] = Object.values(state.entries).map((e) => {
    const packed: PackedEntry = [
      e.value,
      toSec(e.addedAt),
      e.expiresAt ? toSec(e.expiresAt) : 0,
      e.sources.map((s) => [sourceIndex(s), s.detail ?? null]),
    ];
    if (e.moreSightings) packed.push(e.moreSightings);
    return packed;
  });
  const { entries: _e, answered: _a, ...rest } = state;
  const packed: Packed = { f: FORMAT, s: sources, e: entries, rest };
  return toBase64(zlibSync(strToU8(JSON.stringify(packed)), { level: 6 }));
}

export function unpackState(text: string): BlocklistState {
  const packed = JSON.parse(strFromU8(unzlibSync(fromBase64(text)))) as Packed;
  if (packed.f !== FORMAT) throw new Error(`unknown packed blocklist state format ${packed.f}`);
  const entries: Record<string, BlocklistEntry> = {};
  for (const [value, added, expires, refs, more] of packed.e) {
    const sources: Source[] = refs.map(([i, detail]) => {
      const [kind, ref, subject, from, at, messageDate] = packed.s[i]!;
      return {
        kind: kind === 1 ? 'manual' : 'message',
        ref,
        ...(subject !== null ? { subject } : {}),
        ...(from !== null ? { from } : {}),
        ...(detail !== null ? { detail } : {}),
        at: toIso(at),
        ...(messageDate !== undefined ? { messageDate } : {}),
      };
    });
    const entry: BlocklistEntry = {
      value,
      version: parseCidr(value)?.version ?? 4,
      addedAt: toIso(added),
      manual: sources[0]?.kind === 'manual',
      sources,
    };
    if (expires) entry.expiresAt = toIso(expires);
    if (more) entry.moreSightings = more;
    entries[value] = entry;
  }
  return { ...packed.rest, entries, answered: {} };
}
