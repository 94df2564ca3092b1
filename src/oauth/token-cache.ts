/**
 * Access tokens cached in the worker process, one per key (the mailbox, for providers whose tokens are per user),
 * renewed before they expire and dropped when a server refused one. Tokens live here only: callers take one for a
 * login and never store it, so no token reaches a workflow payload, a log line or a report.
 */

/** What a token source returns: the token and when it stops working. */
export interface IssuedToken {
  accessToken: string;
  /** Epoch milliseconds. */
  expiresAt: number;
}

/** Gets a fresh token for `key` from the token endpoint (no caching of its own). */
export type FetchToken = (key: string) => Promise<IssuedToken>;

export interface TokenCacheOptions {
  /** The clock (tests pass a fake one). */
  now?: () => number;
  /** Renew this long before expiry at most (default 60 s)… */
  renewBeforeMs?: number;
  /** …and at most this share of the lifetime before expiry (default 0.2: a 20 s token is renewed after 16 s). */
  renewShare?: number;
}

interface Entry {
  accessToken: string;
  renewAt: number;
}

export class TokenCache {
  private readonly entries = new Map<string, Entry>();
  private readonly pending = new Map<string, Promise<Entry>>();
  private readonly now: () => number;
  private readonly renewBeforeMs: number;
  private readonly renewShare: number;
  /** Tokens fetched so far (for tests and metrics). */
  fetched = 0;

  constructor(
    private readonly fetchToken: FetchToken,
    opts: TokenCacheOptions = {},
  ) {
    this.now = opts.now ?? Date.now;
    this.renewBeforeMs = opts.renewBeforeMs ?? 60_000;
    this.renewShare = opts.renewShare ?? 0.2;
  }

  /** A token for `key` that has time left: the cached one, or a new one once the cached one is due for renewal. */
  async get(key = ''): Promise<string> {
    const entry = this.entries.get(key);
    if (entry && this.now() < entry.renewAt) return entry.accessToken;
    // One request at a time per key: concurrent logins wait for the same token.
    let pending = this.pending.get(key);
    if (!pending) {
      pending = this.fetch(key).finally(() => this.pending.delete(key));
      this.pending.set(key, pending);
    }
    return (await pending).accessToken;
  }

  /**
   * A server refused `accessToken` (revoked, or expired early): forget it, so the next `get` fetches a new one.
   * A token that was already replaced is left alone (another login renewed it meanwhile).
   */
  invalidate(key: string, accessToken: string): void {
    if (this.entries.get(key)?.accessToken === accessToken) this.entries.delete(key);
  }

  private async fetch(key: string): Promise<Entry> {
    const issuedAt = this.now();
    const t = await this.fetchToken(key);
    this.fetched++;
    const lifetime = Math.max(0, t.expiresAt - issuedAt);
    const margin = Math.min(this.renewBeforeMs, lifetime * this.renewShare);
    const entry = { accessToken: t.accessToken, renewAt: t.expiresAt - margin };
    this.entries.set(key, entry);
    return entry;
  }
}
