/**
 * The values runs are findable by. Without a key they are stored as they are (lower-cased, canonical); with
 * SEARCH_KEY (or one derived from the payload key) they become keyed hashes, `h1:` and 24 hex digits of
 * HMAC-SHA-256, so the Web UI's list shows nothing an encrypted history would hide, and `mail2waf find`, which
 * has the same key, still finds the run. The key never leaves the worker or the CLI process.
 */
import { createHmac } from 'node:crypto';
import { SEARCH_LIST_MAX, type SearchValues } from '../shared/search-attributes';

export interface SearchKeyDeps {
  /** HMAC key for search attribute values; undefined stores them in clear. */
  searchKey?: Buffer;
}

/** One value as stored: normalised, then hashed when there is a key. */
export function searchValue(value: string, key: Buffer | undefined): string {
  const v = value.trim().toLowerCase();
  return key ? `h1:${createHmac('sha256', key).update(v).digest('hex').slice(0, 24)}` : v;
}

/**
 * Temporal refuses a keyword list whose encoded value passes 2,048 bytes (and then fails the workflow task over
 * and over): values are kept in order until the list's JSON would pass this budget.
 */
const LIST_BYTES = 1_900;

function distinct(values: string[], max: number, key: Buffer | undefined): string[] {
  const out: string[] = [];
  let bytes = 2; // []
  for (const v of new Set(values.map((x) => searchValue(x, key)))) {
    const cost = Buffer.byteLength(JSON.stringify(v)) + 1;
    if (out.length >= max || bytes + cost > LIST_BYTES) break;
    out.push(v);
    bytes += cost;
  }
  return out;
}

export function createSearchKeyActivities(deps: SearchKeyDeps) {
  /** Deterministic and side-effect free: safe to retry. */
  async function searchKeys(input: SearchValues): Promise<SearchValues> {
    return {
      addresses: distinct(input.addresses, SEARCH_LIST_MAX.addresses, deps.searchKey),
      messageIds: distinct(input.messageIds, SEARCH_LIST_MAX.messageIds, deps.searchKey),
      senders: distinct(input.senders, SEARCH_LIST_MAX.senders, deps.searchKey),
    };
  }
  return { searchKeys };
}
