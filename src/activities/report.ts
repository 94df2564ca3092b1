/** Sends the one consolidated report of a sweep. */
import { log } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import type { Transporter } from 'nodemailer';
import { renderReport } from '../report/render';
import { ErrorTypes } from '../shared/constants';
import type { SweepResult } from '../shared/types';

export interface ReportDeps {
  mailer: Transporter;
  report: { from: string; to: string[] };
  /** Base URL of the Temporal Web UI, for a link in the report (optional). */
  webUiUrl?: string;
  namespace: string;
}

/** Message-ID derived from the workflow run: a retried send carries the same id, so duplicates are recognisable. */
export function reportMessageId(sweepId: string, runId: string): string {
  return `<${sweepId.replace(/[^A-Za-z0-9._-]/g, '_')}.${runId}@mail2waf>`;
}

export function createReportActivities(deps: ReportDeps) {
  async function sendReport(input: { sweepId: string; runId: string; result: SweepResult }) {
    const webUiUrl = deps.webUiUrl
      ? `${deps.webUiUrl}/namespaces/${deps.namespace}/workflows/${encodeURIComponent(input.sweepId)}`
      : undefined;
    const { subject, text } = renderReport(input.result, { webUiUrl });
    const messageId = reportMessageId(input.sweepId, input.runId);
    try {
      await deps.mailer.sendMail({
        from: deps.report.from,
        to: deps.report.to,
        subject,
        text,
        messageId,
        headers: { 'X-Mail2waf-Sweep': input.sweepId },
      });
    } catch (err) {
      const e = err as Error & { code?: string; responseCode?: number };
      if (e.code === 'EAUTH') {
        throw ApplicationFailure.nonRetryable(
          `SMTP login refused: ${e.message} — check SMTP_USER / SMTP_PASSWORD`,
          ErrorTypes.SmtpRejected,
        );
      }
      if (e.responseCode && e.responseCode >= 500) {
        throw ApplicationFailure.nonRetryable(`SMTP server rejected the report: ${e.message}`, ErrorTypes.SmtpRejected);
      }
      throw ApplicationFailure.retryable(`sending the report failed: ${e.message}`, 'SmtpError');
    }
    log.info('report sent', { messageId, to: deps.report.to });
    return { messageId, to: deps.report.to };
  }
  return { sendReport };
}
