/** createActivities(deps): every activity the worker registers, built from injected clients (no singletons). */
import { type AlertDeps, createAlertActivities } from './alerts';
import { type BlocklistDeps, createBlocklistActivities } from './blocklist';
import { createImapActivities, type ImapDeps } from './imap';
import { createPolicyActivities, type PolicyDeps } from './policy';
import { createReportActivities, type ReportDeps } from './report';
import { createSearchKeyActivities, type SearchKeyDeps } from './search-keys';
import { createWafActivities, type WafDeps } from './waf';
import type { MetricsDeps } from '../metrics';

export type ActivityDeps = ImapDeps &
  WafDeps &
  BlocklistDeps &
  ReportDeps &
  SearchKeyDeps &
  PolicyDeps &
  AlertDeps &
  MetricsDeps;

export function createActivities(deps: ActivityDeps) {
  return {
    ...createImapActivities(deps),
    ...createWafActivities(deps),
    ...createBlocklistActivities(deps),
    ...createReportActivities(deps),
    ...createSearchKeyActivities(deps),
    ...createPolicyActivities(deps),
    ...createAlertActivities(deps),
  };
}

export type Activities = ReturnType<typeof createActivities>;
