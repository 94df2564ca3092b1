/** Bundle-safe names shared by the worker, the workflows, the CLI and the tests. */

export const DEFAULT_TASK_QUEUE = 'mail2waf';

/** One blocklist workflow per protected target (an IPv4 + IPv6 IP-set pair). */
export function blocklistWorkflowId(targetName: string): string {
  return `mail2waf-blocklist-${targetName}`;
}

export const DEFAULT_SCHEDULE_ID = 'mail2waf-sweep';

/** Sweeps started by hand or by the schedule share this prefix so they are easy to filter in the Web UI. */
export const SWEEP_WORKFLOW_PREFIX = 'mail2waf-sweep';

/**
 * The one workflow id of a mailbox's sweeps, whoever starts them (the watch, the Schedule's trigger, `mail2waf
 * run`): Temporal refuses a second run of a running id, so two sweeps of one mailbox never overlap.
 */
export function mailboxSweepId(scheduleId: string, mailbox: string): string {
  return `${scheduleId}-${mailbox}`;
}

/** Error type names used in ApplicationFailure.type; tests and the CLI match on them. */
export const ErrorTypes = {
  InvalidRequest: 'InvalidRequest',
  NotManaged: 'NotManaged',
  ConfigError: 'ConfigError',
  UidValidityChanged: 'UidValidityChanged',
  ImapAuthFailed: 'ImapAuthFailed',
  WafNotFound: 'WafNotFound',
  WafInvalidParameter: 'WafInvalidParameter',
  WafAccessDenied: 'WafAccessDenied',
  WafLockConflict: 'WafLockConflict',
  SmtpRejected: 'SmtpRejected',
  /** The OAuth2 token endpoint refused our credentials (or they cannot work): a setting to fix, never retried. */
  OAuth2Refused: 'OAuth2Refused',
  /** IMAP trouble that may pass (network, server); retried. */
  ImapError: 'ImapError',
  /** A DNS lookup for the sender's own domain failed temporarily (the trust gate's verdict is unknown). */
  DnsTemporaryError: 'DnsTemporaryError',
  /** Analysing one message threw (retryable; after the last attempt the sweep quarantines it as analysis-failed). */
  AnalysisError: 'AnalysisError',
} as const;
