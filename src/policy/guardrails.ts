/**
 * Per-run guardrails: a sweep that would add more than a set number of entries, or a large share of the set,
 * waits for a person. A flood of addresses is more often a mistake (a pasted netflow export, an attacker
 * mailing us a list of a competitor's or our customers' addresses) than a real campaign.
 */
import type { Guardrails } from '../shared/types';

export type GuardrailVerdict = { hold: false } | { hold: true; code: 'over-count' | 'over-share'; reason: string };

export function checkGuardrails(newEntries: number, sizeBefore: number, limits: Guardrails): GuardrailVerdict {
  if (newEntries > limits.maxNewPerRun) {
    return {
      hold: true,
      code: 'over-count',
      reason: `this run would add ${newEntries} entries, more than MAX_NEW_PER_RUN=${limits.maxNewPerRun}`,
    };
  }
  // The share only means something once the set has some size: growing an empty set is always 100%.
  if (sizeBefore >= limits.maxNewPerRun && newEntries > limits.maxNewShare * sizeBefore) {
    return {
      hold: true,
      code: 'over-share',
      reason:
        `this run would add ${newEntries} entries to a set of ${sizeBefore}, more than ` +
        `MAX_NEW_SHARE=${limits.maxNewShare} of it`,
    };
  }
  return { hold: false };
}
