/** Sends the one consolidated report of a sweep. */
import { log } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import type { Transporter } from 'nodemailer';
import { smtpTlsOptions } from './mail-tls';
import { renderApprovalRequest, renderReport } from '../report/render';
import { ErrorTypes } from '../shared/constants';
import type { MailOAuth2 } from '../oauth';
import { oauth2Failure } from '../oauth/failure';
import { renderHeldApproval } from '../report/approval';
import type { ApprovalState, ApprovalSummary, BlockResult, SweepResult } from '../shared/types';
import type { Client } from '@temporalio/client';
import { blocklistWorkflowId } from '../shared/constants';
import { statusQuery } from '../shared/messages';
import { reportThreadId, type IpSetFill } from '../report/model';
import type { MetricsDeps } from '../metrics';
import { withTimeout } from '../with-timeout';
import { AWS_IPSET_LIMIT } from '../policy/blocklist';

export interface ReportDeps {
  mailer: Transporter;
  report: { from: string; to: string[] };
  /** Base URL of the Temporal Web UI, for a link in the report (optional). */
  webUiUrl?: string;
  namespace: string;
  /** For the IP sets' fill in the report: the blocklists' status query (optional; the report goes without). */
  temporal?: Client;
  /** Targets whose blocklists the report shows (the worker's WAF targets). */
  reportTargets?: string[];
}

/** SMTP settings as the worker has them (see config.ts). */
export interface SmtpSettings {
  host: string;
  port: number;
  secure: boolean;
  user?: string;
  password?: string;
  /** SMTP_AUTH=oauth2: XOAUTH2 as `user` with tokens from this source. */
  oauth2?: MailOAuth2;
  /** SMTP_ALLOW_PLAINTEXT: send without TLS when the server offers none (loopback always may). */
  allowPlaintext?: boolean;
}

/**
 * Options for `nodemailer.createTransport`: TLS required (implicit, or STARTTLS that must succeed) unless the
 * relay is on loopback or SMTP_ALLOW_PLAINTEXT allows it, so that the SMTP login and the report never fall back
 * to plaintext because someone on the path stripped the STARTTLS offer.
 */
export function smtpTransportOptions(smtp: SmtpSettings) {
  return {
    host: smtp.host,
    port: smtp.port,
    ...smtpTlsOptions(smtp),
    auth: smtp.user
      ? smtp.oauth2
        ? { type: 'OAuth2' as const, user: smtp.user, provisionCallback: provisionTokens(smtp.oauth2) }
        : { user: smtp.user, pass: smtp.password ?? '' }
      : undefined,
  };
}

/**
 * nodemailer's hook for tokens minted elsewhere: it asks at each login, with `renew` set after the server refused
 * the last token (it then tries once more). Tokens are cached by the token source, not by nodemailer: the expiry
 * handed back is a second away, so every login asks the source.
 */
function provisionTokens(oauth2: MailOAuth2) {
  const last = new Map<string, string>();
  return (user: string, renew: boolean, callback: (err: Error | null, token?: string, expires?: number) => void) => {
    const refused = last.get(user);
    if (renew && refused) oauth2.invalidate(user, refused);
    oauth2.token(user).then(
      (token) => {
        last.set(user, token);
        callback(null, token, Date.now() + 1000);
      },
      (err: Error) => callback(err),
    );
  };
}

/** Message-ID derived from the workflow run: a retried send carries the same id, so duplicates are recognisable. */
export function reportMessageId(sweepId: string, runId: string): string {
  return `<${sweepId.replace(/[^A-Za-z0-9._-]/g, '_')}.${runId}@mail2waf>`;
}

/** One outgoing mail of ours: SMTP failures classified (login and 5xx refusals not retried, the rest retried). */
export interface OutgoingMail {
  subject: string;
  text: string;
  html?: string;
  messageId: string;
  headers: Record<string, string>;
  /** Recipients other than the report's (alerts may go to ALERT_TO). */
  to?: string[];
  inReplyTo?: string;
  references?: string[];
}

/** Sends one mail through the worker's transport; the activities of reports and alerts share it. */
export function mailSender(deps: Pick<ReportDeps, 'mailer' | 'report'>) {
  return async function send(mail: OutgoingMail) {
    const to = mail.to ?? deps.report.to;
    try {
      await deps.mailer.sendMail({
        from: deps.report.from,
        to,
        subject: mail.subject,
        text: mail.text,
        ...(mail.html !== undefined ? { html: mail.html } : {}),
        messageId: mail.messageId,
        ...(mail.inReplyTo !== undefined ? { inReplyTo: mail.inReplyTo } : {}),
        ...(mail.references !== undefined ? { references: mail.references } : {}),
        headers: mail.headers,
      });
    } catch (err) {
      const e = err as Error & { code?: string; responseCode?: number };
      // nodemailer passes the token source's own error through (as EAUTH): refused → OAuth2Refused, not retried.
      const oauth2 = oauth2Failure(err, 'SmtpError');
      if (oauth2) throw oauth2;
      if (e.code === 'EAUTH') {
        throw ApplicationFailure.nonRetryable(
          `SMTP login refused: ${e.message} — check SMTP_USER / SMTP_PASSWORD`,
          ErrorTypes.SmtpRejected,
        );
      }
      if (e.responseCode && e.responseCode >= 500) {
        throw ApplicationFailure.nonRetryable(
          `SMTP server rejected the message: ${e.message}`,
          ErrorTypes.SmtpRejected,
        );
      }
      throw ApplicationFailure.retryable(`sending mail failed: ${e.message}`, 'SmtpError');
    }
    log.info('mail sent', { messageId: mail.messageId, to });
    return { messageId: mail.messageId, to };
  };
}

/** A run's page in the Temporal Web UI, when TEMPORAL_UI_URL is set. */
export function webUiWorkflowUrl(
  deps: { webUiUrl?: string; namespace: string },
  workflowId: string | undefined,
): string | undefined {
  return deps.webUiUrl && workflowId
    ? `${deps.webUiUrl}/namespaces/${deps.namespace}/workflows/${encodeURIComponent(workflowId)}`
    : undefined;
}

export function createReportActivities(deps: ReportDeps & MetricsDeps) {
  const send = mailSender(deps);
  const workflowUrl = (workflowId: string) => webUiWorkflowUrl(deps, workflowId);

  /**
   * Each target's entries per IP set and write health, asked of its blocklist; a blocklist that does not answer
   * within a few seconds is left out (the report must not wait on it).
   */
  async function ipSetFill(): Promise<IpSetFill[]> {
    const temporal = deps.temporal;
    if (!temporal || !deps.reportTargets?.length) return [];
    const one = async (name: string): Promise<IpSetFill | undefined> => {
      const id = blocklistWorkflowId(name);
      const status = await withTimeout(temporal.workflow.getHandle(id).query(statusQuery), 5_000).catch(
        () => undefined,
      );
      if (!status) return undefined;
      const f: IpSetFill = {
        target: name,
        v4: status.entries.v4,
        v6: status.entries.v6,
        ceiling: Math.min(status.policy?.maxEntriesPerSet ?? AWS_IPSET_LIMIT, AWS_IPSET_LIMIT),
        pendingChanges: status.pendingChanges,
      };
      if (status.lastSyncError) f.lastSyncError = status.lastSyncError;
      const url = workflowUrl(id);
      if (url) f.blocklistUrl = url;
      return f;
    };
    const all = await Promise.all(deps.reportTargets.map(one));
    return all.filter((f): f is IpSetFill => f !== undefined);
  }

  async function sendReport(input: { sweepId: string; runId: string; result: SweepResult }) {
    const webUiUrl = workflowUrl(input.sweepId);
    const fill = await ipSetFill();
    const { subject, text, html } = renderReport(input.result, { webUiUrl, fill });
    // Every report of a mailbox on one day answers the same (never sent) root, so clients show one thread a day.
    const thread = reportThreadId(input.result.mailbox, new Date());
    const sent = await send({
      subject,
      text,
      html,
      messageId: reportMessageId(input.sweepId, input.runId),
      inReplyTo: thread,
      references: [thread],
      headers: { 'X-Mail2waf-Sweep': input.sweepId, 'Auto-Submitted': 'auto-generated' },
    });
    // Once per sweep that saw messages: the sweep's outcome and each message's verdict (never in workflow code).
    deps.metrics?.sweepReported(input.result);
    return sent;
  }

  /** Idempotent like the report: its Message-ID is derived from the run, with an `approval.` prefix. */
  async function sendApprovalRequest(input: {
    sweepId: string;
    runId: string;
    preview: BlockResult;
    approval: ApprovalState;
  }) {
    const { subject, text } = renderApprovalRequest(input);
    const messageId = reportMessageId(input.sweepId, input.runId).replace('<', '<approval.');
    return send({
      subject,
      text,
      messageId,
      headers: { 'X-Mail2waf-Approval-For': input.sweepId, 'Auto-Submitted': 'auto-generated' },
    });
  }

  /** The approval request of one held message, with per-address provenance; idempotent like the report. */
  async function sendHeldApproval(input: { approvalId: string; runId: string; summary: ApprovalSummary }) {
    const { subject, text } = renderHeldApproval(input.summary);
    const messageId = reportMessageId(input.approvalId, input.runId).replace('<', '<approval.');
    return send({
      subject,
      text,
      messageId,
      headers: { 'X-Mail2waf-Approval-For': input.approvalId, 'Auto-Submitted': 'auto-generated' },
    });
  }

  return { sendReport, sendApprovalRequest, sendHeldApproval };
}
