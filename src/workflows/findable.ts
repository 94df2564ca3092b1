/**
 * Makes a run findable: the Mail2waf* search attributes (through the searchKeys activity, which hashes values
 * when a key is set) and the details line the Web UI shows. Only when the run's input says the attributes are
 * registered: an unregistered one would fail the workflow task.
 */
import { proxyActivities, setCurrentDetails, upsertSearchAttributes } from '@temporalio/workflow';
import type { Activities } from '../activities';
import {
  addressesKey,
  heldKey,
  messageIdsKey,
  outcomeKey,
  sendersKey,
  type SearchValues,
} from '../shared/search-attributes';

const { searchKeys } = proxyActivities<Activities>({
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '1 second', maximumAttempts: 5 },
});

export async function markFindable(
  enabled: boolean | undefined,
  values: SearchValues,
  outcome: string,
  held: boolean,
  details: string,
): Promise<void> {
  setCurrentDetails(details);
  if (!enabled) return;
  const keys = await searchKeys(values);
  upsertSearchAttributes([
    { key: addressesKey, value: keys.addresses },
    { key: messageIdsKey, value: keys.messageIds },
    { key: sendersKey, value: keys.senders },
    { key: outcomeKey, value: outcome },
    { key: heldKey, value: held },
  ]);
}

/** Updates the outcome once a run that was held is decided. */
export function markDecided(enabled: boolean | undefined, outcome: string, details: string): void {
  setCurrentDetails(details);
  if (!enabled) return;
  upsertSearchAttributes([
    { key: outcomeKey, value: outcome },
    { key: heldKey, value: false },
  ]);
}
