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
