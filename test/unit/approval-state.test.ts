/** One held message's rules, without a server: the first answer wins, later Updates are refused, the report. */
import { heldMessageApproval } from '../../src/policy/sweep-plan';
import type { MessageAnalysis, TargetRef } from '../../src/shared/types';
import { PendingApproval } from '../../src/workflows/approval-state';

const target: TargetRef = { name: 't', scope: 'REGIONAL', region: 'us-east-1', ipSetV4Name: 'a', ipSetV6Name: 'b' };
const held: MessageAnalysis = {
  ref: { mailbox: 'INBOX', uidValidity: '7', uid: 3 },
  status: 'quarantine',
  reasonCode: 'reported-phish',
  reason: 'phish',
  messageId: '<m3@x>',
  from: 'someone@example.org',
  subject: 'look at this',
  indicators: [{ value: '198.51.100.3', version: 4, where: ['body line 1'] }],
  notes: [],
};
const input = heldMessageApproval(held, { sweepId: 's', targets: [target], timeoutMs: 3_600_000 });
const preview = { added: ['198.51.100.3'], alreadyPresent: [], refused: [], synced: false };

test('the first answer wins; a later one learns the decision, and an Update to it is refused', () => {
  const p = new PendingApproval('A', input, Date.parse('2026-12-06T00:00:00Z'));
  expect(p.state).toMatchObject({ status: 'waiting', deadline: '2026-12-06T01:00:00.000Z' });
  expect(() => p.mustBeWaiting()).not.toThrow();
  expect(p.decide('approved', { actor: 'bob', reason: 'seen it' })).toEqual({
    approvalId: 'A',
    status: 'approved',
    decidedBy: 'bob',
  });
  expect(p.decide('rejected', { actor: 'eve', reason: 'no' })).toEqual({
    approvalId: 'A',
    status: 'approved',
    decidedBy: 'bob',
  });
  expect(() => p.mustBeWaiting()).toThrow(
    expect.objectContaining({ type: 'NotWaiting', message: 'A is not waiting: it was approved by bob' }),
  );
  // A Signal without a body (the Web UI's input left empty) still decides, as an unknown person.
  const q = new PendingApproval('B', input, 0);
  q.decide('rejected', undefined);
  expect(q.state).toMatchObject({ status: 'rejected', decidedBy: 'unknown' });
});

test('the report of a decided approval: approved lists what blocked, unanswered lists what was kept out', () => {
  const approved = new PendingApproval('A', input, 0);
  approved.preview = preview;
  approved.decide('approved', { actor: 'bob', reason: 'ok' });
  const blocks = { t: { ...preview, synced: true } };
  const r = approved.resultOf(blocks, '2026-12-06T00:00:00.000Z');
  expect(r).toMatchObject({ sweepId: 'A', mailbox: 'INBOX', block: blocks.t, notBlocked: undefined });
  expect(r.messages[0]).toMatchObject({ status: 'processed' });
  expect(r.addresses?.map((a) => a.value)).toEqual(['198.51.100.3']);

  const late = new PendingApproval('B', input, 0);
  late.preview = preview;
  late.timedOut();
  const t = late.resultOf({}, '2026-12-06T00:00:00.000Z');
  expect(t.block).toBeUndefined();
  expect(t.notBlocked).toEqual(['198.51.100.3']);
  expect(t.messages[0]).toMatchObject({ status: 'quarantined', reasonCode: 'approval-timeout' });
  expect(() => late.mustBeWaiting()).toThrow(/it was timed-out/);
});
