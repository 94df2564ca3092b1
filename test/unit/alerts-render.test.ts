import { alertWebhookBody, heldFor, renderAlert } from '../../src/report/alert';
import { alertKey } from '../../src/activities/alerts';
import type { AlertNotice } from '../../src/shared/types';

const raised: AlertNotice = {
  condition: 'sweep-failed:INBOX',
  kind: 'raised',
  title: 'sweeps of mailbox INBOX are failing',
  detail: 'Sweep s1 failed: ImapAuthFailed: IMAP login failed\nNext: fix IMAP_PASSWORD',
  raisedAt: '2026-12-06T12:00:00.000Z',
  at: '2026-12-06T12:00:00.000Z',
  workflowId: 's1',
};

test('an alert says what, since when, what next, and that no more will come until it clears', () => {
  const r = renderAlert(raised, { webUiUrl: 'http://ui/w/s1' });
  expect(r.subject).toBe('[mail2waf ALERT] sweeps of mailbox INBOX are failing');
  expect(r.text).toContain('Sweep s1 failed: ImapAuthFailed: IMAP login failed\nNext: fix IMAP_PASSWORD\n');
  expect(r.text).toContain('Condition: sweep-failed:INBOX');
  expect(r.text).toContain('Workflow: http://ui/w/s1');
  expect(r.text).toContain('only alert for this condition until it clears');
});

test('the resolved mail says how long it held', () => {
  const r = renderAlert({ ...raised, kind: 'resolved', detail: 'Sweep s2 succeeded.', at: '2026-12-06T12:42:00.000Z' });
  expect(r.subject).toBe('[mail2waf RESOLVED] sweeps of mailbox INBOX are failing');
  expect(r.text).toMatch(/^Resolved after 42 min: /);
  expect(heldFor('2026-12-06T12:00:00Z', '2026-12-06T12:00:30Z')).toBe('30 s');
  expect(heldFor('2026-12-06T00:00:00Z', '2026-12-06T05:30:00Z')).toBe('5.5 h');
});

test('mail-controlled text in a title or detail cannot add lines or controls', () => {
  const r = renderAlert({ ...raised, title: 'evil\r\nBcc: x@y\u001b[2J', detail: 'a\u202eb' });
  for (const c of ['\r', '\n', '\u001b']) expect(r.subject).not.toContain(c);
  for (const c of ['\u202e', '\u001b']) expect(r.text).not.toContain(c);
});

test('the webhook body is {"text"} for Slack and Teams; keys are stable per raise and differ per kind', () => {
  const body = alertWebhookBody(raised);
  expect(Object.keys(body)).toEqual(['text']);
  expect(body.text.startsWith('[mail2waf ALERT] sweeps of mailbox INBOX are failing\n')).toBe(true);
  expect(alertKey(raised)).toBe('alert.sweep-failed_INBOX.1796558400000.raised');
  expect(alertKey({ ...raised, kind: 'resolved' })).toBe('alert.sweep-failed_INBOX.1796558400000.resolved');
  expect(alertKey({ ...raised, condition: 'sync-failing:web <x>' })).toMatch(/^alert\.sync-failing_web__x_\./);
});
