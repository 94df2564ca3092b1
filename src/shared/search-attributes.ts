/**
 * Custom search attributes that make runs findable in the Web UI and with `mail2waf find`: which sweep or
 * approval saw an address, a message or a sender, how it ended, and what waits for a person. Registered on the
 * dev server by `stack:up` and on a real cluster with the commands in the README (an unregistered attribute
 * fails the workflow task, so sweeps set them only when the input says they are registered).
 *
 * Search attributes are not encrypted by a payload codec: with a payload key set, addresses, message ids and
 * senders are stored as keyed hashes (activities/search-keys.ts), so `find` still works and nothing readable
 * leaks. Bundle-safe.
 */
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

/** Addresses the run blocked, refused or holds (canonical values, or their keyed hashes). */
export const addressesKey = defineSearchAttributeKey('Mail2wafAddresses', SearchAttributeType.KEYWORD_LIST);
/** Message-IDs of the messages the run handled (or their keyed hashes). */
export const messageIdsKey = defineSearchAttributeKey('Mail2wafMessageIds', SearchAttributeType.KEYWORD_LIST);
/** Sender addresses of those messages (or their keyed hashes). */
export const sendersKey = defineSearchAttributeKey('Mail2wafSenders', SearchAttributeType.KEYWORD_LIST);
/** How the run ended: blocked, nothing-new, held, quarantined, approved, rejected, timed-out. */
export const outcomeKey = defineSearchAttributeKey('Mail2wafOutcome', SearchAttributeType.KEYWORD);
/** True while a person's decision is awaited. */
export const heldKey = defineSearchAttributeKey('Mail2wafHeld', SearchAttributeType.BOOL);

/** Every attribute with its type as `temporal operator search-attribute create` spells it. */
export const SEARCH_ATTRIBUTES: { name: string; type: 'KeywordList' | 'Keyword' | 'Bool' }[] = [
  { name: addressesKey.name, type: 'KeywordList' },
  { name: messageIdsKey.name, type: 'KeywordList' },
  { name: sendersKey.name, type: 'KeywordList' },
  { name: outcomeKey.name, type: 'Keyword' },
  { name: heldKey.name, type: 'Bool' },
];

/**
 * Values kept per list attribute, at most; Temporal also caps each list at 2,048 bytes, so fewer are kept when
 * they are long (about 60 hashed values). A run that saw more is findable by the first ones; its result and the
 * blocklist (`mail2waf why`) have them all.
 */
export const SEARCH_LIST_MAX = { addresses: 100, messageIds: 30, senders: 30 } as const;

/** What a run is findable by, before hashing. */
export interface SearchValues {
  addresses: string[];
  messageIds: string[];
  senders: string[];
}
