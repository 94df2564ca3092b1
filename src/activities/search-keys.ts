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

function distinct(values: string[], max: number, key: Buffer | undefined): string[] {
  return [...new Set(values.map((v) => searchValue(v, key)))].slice(0, max);
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
