/** Pure rendering of alert mails and webhook text: one condition raised, or resolved. */
import { oneLine } from '../shared/text';
import type { AlertNotice } from '../shared/types';

export interface RenderedAlert {
  subject: string;
  text: string;
}

/** How long a condition held, in words (resolved mails say it). */
export function heldFor(fromIso: string, toIso: string): string {
  const s = Math.max(0, Math.round((Date.parse(toIso) - Date.parse(fromIso)) / 1000));
  if (s < 120) return `${s} s`;
  if (s < 7200) return `${Math.round(s / 60)} min`;
  return `${(s / 3600).toFixed(1)} h`;
}

/** Subject and text of an alert mail; the text's lines are oneLine'd (titles and details may quote mail). */
export function renderAlert(n: AlertNotice, opts: { webUiUrl?: string } = {}): RenderedAlert {
  const resolved = n.kind === 'resolved';
  const subject = `[mail2waf ${resolved ? 'RESOLVED' : 'ALERT'}] ${oneLine(n.title, 200)}`;
  const lines = [
    resolved
      ? `Resolved after ${heldFor(n.raisedAt, n.at)}: ${oneLine(n.title, 500)}`
      : `ALERT: ${oneLine(n.title, 500)}`,
    '',
    ...n.detail
      .split('\n')
      .filter((l) => l.trim() !== '')
      .map((l) => oneLine(l, 1000)),
    '',
    `Condition: ${oneLine(n.condition)}`,
    `Raised at: ${n.raisedAt}`,
    resolved ? `Resolved at: ${n.at}` : '',
    opts.webUiUrl ? `Workflow: ${opts.webUiUrl}` : '',
    '',
    resolved
      ? 'A new alert will be sent if the condition comes back.'
      : 'This is the only alert for this condition until it clears; a "resolved" mail follows then.',
  ];
  return { subject, text: lines.filter((l, i, all) => !(l === '' && all[i - 1] === '')).join('\n') + '\n' };
}

/** The webhook body: `{"text": …}`, which Slack and Microsoft Teams incoming webhooks both accept. */
export function alertWebhookBody(n: AlertNotice, opts: { webUiUrl?: string } = {}): { text: string } {
  const { subject, text } = renderAlert(n, opts);
  return { text: `${subject}\n${text}` };
}
