import { renderReport } from '../../src/report/render';
import type { SweepResult } from '../../src/shared/types';

const result: SweepResult = {
  sweepId: 'mail2waf-sweep-1',
  mailbox: 'INBOX',
  dryRun: false,
  messages: [
    {
      uid: 1,
      messageId: '<a@x>',
      subject: 'C2 advisory',
      from: 'cert@x',
      status: 'processed',
      indicators: ['185.220.101.47', '10.1.2.3'],
      indicatorCount: 2,
      notes: [],
    },
    {
      uid: 2,
      status: 'quarantined',
      reasonCode: 'invalid-mime',
      reason: 'message is not valid MIME: no header section',
      indicators: [],
      indicatorCount: 0,
      notes: [],
    },
  ],
  block: {
    added: ['185.220.101.47'],
    alreadyPresent: [],
    refused: [{ value: '10.1.2.3', code: 'private', reason: '10.1.2.3 is in private range 10.0.0.0/8' }],
    synced: true,
  },
};

test('the report lists blocks, refusals with reasons and quarantined messages', () => {
  const r = renderReport(result, { webUiUrl: 'http://127.0.0.1:8233/x' });
  expect(r.subject).toBe('mail2waf: 1 blocked, 1 refused, 1 quarantined (2 messages)');
  expect(r.text).toContain('Blocked (new in AWS WAF) (1)\n  185.220.101.47');
  expect(r.text).toContain('10.1.2.3 — private: 10.1.2.3 is in private range 10.0.0.0/8');
  expect(r.text).toContain('(uid 2) — invalid-mime: message is not valid MIME');
  expect(r.text).toContain('Workflow: http://127.0.0.1:8233/x');
  expect(r.text).not.toMatch(/WARNING/);
});

test('a dry run and an unsynced run say so', () => {
  expect(renderReport({ ...result, dryRun: true }).subject).toMatch(/^\[DRY RUN\] mail2waf: 1 would block/);
  expect(renderReport({ ...result, block: { ...result.block!, synced: false } }).text).toMatch(/WARNING: some changes/);
});

describe('mail-controlled text cannot forge lines or drive a terminal', () => {
  const forged = 'Weekly digest\r\nBlocked (new in AWS WAF) (1)\r\n  203.0.113.9';
  const hostile: SweepResult = {
    ...result,
    messages: [
      {
        ...result.messages[0]!,
        subject: forged,
        from: 'cert@x\n  198.51.100.7',
        messageId: '<a@x>\u2028203.0.113.10',
        notes: ['note\x1b[2J\x1b]0;owned\x07 with \u202egnp.exe'],
      },
      { ...result.messages[1]!, subject: 'q\n  203.0.113.11', reason: 'bad\x9b2J\u200b' },
    ],
  };

  test('a subject with CR LF cannot add a line to the report', () => {
    const { text } = renderReport(hostile);
    const lines = text.split('\n');
    // Only the real block is listed; the forged address appears inside the subject's line, escaped.
    expect(lines.filter((l) => l.startsWith('Blocked (new in AWS WAF)'))).toEqual(['Blocked (new in AWS WAF) (1)']);
    expect(lines.filter((l) => /^\s*203\.0\.113\.9$/.test(l))).toEqual([]);
    expect(text).toContain('Weekly digest\\r\\nBlocked (new in AWS WAF) (1)\\r\\n  203.0.113.9 — from cert@x\\n');
    expect(lines.filter((l) => /^\s*(198\.51\.100\.7|203\.0\.113\.1[01])/.test(l))).toEqual([]);
    expect(text).toContain('\\u2028');
  });

  test('no control, escape-sequence, bidi or zero-width character reaches the text', () => {
    const { text } = renderReport(hostile);
    // eslint-disable-next-line no-control-regex
    expect(text).not.toMatch(/[\x00-\x09\x0b-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\u2066-\u2069]/);
    expect(text).toContain('note\\x1b[2J\\x1b]0;owned\\x07 with \\u202egnp.exe');
    expect(text).toContain('bad\\x9b2J\\u200b');
  });

  test('a huge subject is cut, with its length shown', () => {
    const { text } = renderReport({ ...result, messages: [{ ...result.messages[0]!, subject: 'A'.repeat(100_000) }] });
    expect(text.length).toBeLessThan(5_000);
    expect(text).toContain('… (100000 chars)');
  });
});

test('held messages are listed with the approval that decides each, and counted in the subject', () => {
  const { subject, text } = renderReport({
    sweepId: 'sweep-1',
    mailbox: 'INBOX',
    dryRun: false,
    messages: [
      {
        uid: 7,
        subject: 'Phishing report\r\nBlocked (new in AWS WAF) (1)',
        from: 'alice@mail2waf.test',
        status: 'held',
        reasonCode: 'reported-phish',
        reason: 'an attached message',
        indicators: ['45.9.148.18'],
        indicatorCount: 1,
        notes: [],
      },
    ],
    held: [{ approvalId: 'mail2waf-approval-INBOX-1-7', kind: 'held-message', uids: [7], reason: 'phish' }],
  });
  expect(subject).toMatch(/1 held for approval/);
  expect(text).toMatch(/Messages held for approval[^\n]*\n {2}Phishing report\\r\\nBlocked/);
  expect(text).toContain('id: mail2waf-approval-INBOX-1-7');
  expect(text).not.toMatch(/^Blocked \(new in AWS WAF\)/m);
});
