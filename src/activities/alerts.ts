/**
 * Alerts: `alert` hands a raise or clear to the task queue's alerts workflow (signal-with-start, so the first one
 * starts it); `sendAlertMail` and `postAlertWebhook` deliver what that workflow decided. Both deliveries are keyed
 * by (condition, raisedAt, kind): a retried mail carries the same Message-ID and a retried POST the same
 * Idempotency-Key, so a receiver that saw the first recognises the second.
 */
import { Context, log } from '@temporalio/activity';
import { ApplicationFailure, type Client } from '@temporalio/client';
import { alertWebhookBody, renderAlert } from '../report/alert';
import { alertSignal, alertsWorkflowId } from '../shared/messages';
import type { AlertEvent, AlertNotice } from '../shared/types';
import { mailSender, webUiWorkflowUrl, type ReportDeps } from './report';
import type { MetricsDeps } from '../metrics';

export interface AlertDeps extends Pick<ReportDeps, 'mailer' | 'report' | 'webUiUrl' | 'namespace'> {
  temporal: Client;
  taskQueue: string;
  /** ALERT_TO (else REPORT_TO) and ALERT_WEBHOOK_URL. */
  alerts: { to?: string[]; webhookUrl?: string };
}

/** Key of one delivery: the same for every retry of it, different for the next raise of the same condition. */
export function alertKey(n: Pick<AlertNotice, 'condition' | 'raisedAt' | 'kind'>): string {
  const condition = n.condition.replace(/[^A-Za-z0-9._-]/g, '_').slice(0, 150);
  return `alert.${condition}.${Date.parse(n.raisedAt)}.${n.kind}`;
}

export function createAlertActivities(deps: AlertDeps & MetricsDeps) {
  const send = mailSender(deps);
  const linkOf = (workflowId?: string) => webUiWorkflowUrl(deps, workflowId);

  /** Raise or clear a condition; idempotent enough: the alerts workflow ignores a repeated raise or clear. */
  async function alert(event: AlertEvent): Promise<void> {
    await deps.temporal.workflow.signalWithStart('alertsWorkflow', {
      workflowId: alertsWorkflowId(deps.taskQueue),
      taskQueue: deps.taskQueue,
      args: [{}],
      signal: alertSignal,
      signalArgs: [event],
      staticSummary: 'mail2waf alerts: one mail per condition until it clears',
    });
    // A failed sweep raises sweep-failed on its way out: the one place a sweep's failure is known outside it.
    deps.metrics?.alertEvent(event.condition, event.action, Context.current().info.workflowExecution?.runId);
  }

  async function sendAlertMail(n: AlertNotice) {
    const { subject, text } = renderAlert(n, { webUiUrl: linkOf(n.workflowId) });
    const raisedId = `<${alertKey({ ...n, kind: 'raised' })}@mail2waf>`;
    const resolved = n.kind === 'resolved';
    return send({
      subject,
      text,
      to: deps.alerts.to,
      messageId: resolved ? `<${alertKey(n)}@mail2waf>` : raisedId,
      // The resolved mail answers its alert, so mail clients show the pair as one thread.
      ...(resolved ? { inReplyTo: raisedId, references: [raisedId] } : {}),
      headers: {
        'Auto-Submitted': 'auto-generated',
        'X-Mail2waf-Alert': n.condition,
        'X-Mail2waf-Alert-State': n.kind,
      },
    });
  }

  /** POST `{"text": …}` (Slack and Teams incoming webhooks); 4xx but 408/429 is a setting to fix, not retried. */
  async function postAlertWebhook(n: AlertNotice): Promise<{ posted: boolean; status?: number }> {
    const url = deps.alerts.webhookUrl;
    if (!url) return { posted: false };
    let res: Response;
    try {
      res = await fetch(url, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', 'Idempotency-Key': alertKey(n) },
        body: JSON.stringify(alertWebhookBody(n, { webUiUrl: linkOf(n.workflowId) })),
        signal: AbortSignal.timeout(20_000),
      });
    } catch (err) {
      throw ApplicationFailure.retryable(`alert webhook unreachable: ${(err as Error).message}`, 'WebhookError');
    }
    // The URL is a secret (it carries the webhook's token): never logged, only its host.
    const where = new URL(url).host;
    if (!res.ok) {
      const retry = res.status >= 500 || res.status === 408 || res.status === 429;
      const message = `alert webhook at ${where} answered ${res.status} — check ALERT_WEBHOOK_URL`;
      throw retry
        ? ApplicationFailure.retryable(message, 'WebhookError')
        : ApplicationFailure.nonRetryable(message, 'WebhookRejected');
    }
    log.info('alert webhook posted', { condition: n.condition, kind: n.kind, host: where });
    return { posted: true, status: res.status };
  }

  return { alert, sendAlertMail, postAlertWebhook };
}
