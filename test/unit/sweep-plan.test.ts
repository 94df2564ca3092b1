/** The sweep's pure decisions: who blocks now, who waits on their own, where each message goes. */
import {
  ANALYSIS_FAILED,
  analysisFailed,
  approvalOutcomes,
  approvalSummaryOf,
  candidatesOf,
  effectiveSweepPolicy,
  heldMessageApproval,
  heldMessageApprovalId,
  movesOf,
  planSweep,
  rejectionOf,
  sweepOutcomes,
  sweepResultOf,
} from '../../src/policy/sweep-plan';
import { capAnalysis } from '../../src/activities/imap';
import { sweepInputOf } from '../../src/sweep-input';
import { capString, PayloadLimits } from '../../src/shared/limits';
import type { MessageAnalysis, TargetRef } from '../../src/shared/types';

const target: TargetRef = { name: 't', scope: 'REGIONAL', region: 'us-east-1', ipSetV4Name: 'a', ipSetV6Name: 'b' };
const ref = (uid: number) => ({ mailbox: 'INBOX', uidValidity: '7', uid });
const msg = (uid: number, extra: Partial<MessageAnalysis> = {}): MessageAnalysis => ({
  ref: ref(uid),
  status: 'ok',
  messageId: `<m${uid}@x>`,
  from: `sender${uid}@cert.example`,
  subject: `advisory ${uid}`,
  indicators: [{ value: `198.51.100.${uid}`, version: 4, where: [`body line ${uid}`] }],
  notes: [],
  ...extra,
});

test('trusted messages block, holdable codes wait, others are quarantined, gone ones only reported', () => {
  const plan = planSweep(
    [
      msg(1),
      msg(2, { status: 'quarantine', reasonCode: 'reported-phish' }),
      msg(3, { status: 'quarantine', reasonCode: 'auth-failed' }),
      msg(4, { status: 'quarantine', reasonCode: 'reported-phish', indicators: [] }), // nothing to approve
      msg(5, { status: 'gone', indicators: [] }),
    ],
    ['reported-phish'],
  );
  expect(plan.trusted.map((a) => a.ref.uid)).toEqual([1]);
  expect(plan.held.map((a) => a.ref.uid)).toEqual([2]);
  expect(plan.quarantined.map((a) => a.ref.uid)).toEqual([3, 4]);
  expect(plan.gone.map((a) => a.ref.uid)).toEqual([5]);
});

test('held messages stay in the inbox; the rest move, with their reason', () => {
  const plan = planSweep(
    [msg(1), msg(2, { status: 'quarantine', reasonCode: 'reported-phish' }), analysisFailed(ref(3), 'boom')],
    ['reported-phish'],
  );
  const approvalId = heldMessageApprovalId(ref(2));
  const outcomes = sweepOutcomes(plan, { 2: approvalId }, false);
  expect(outcomes.find((o) => o.uid === 2)).toMatchObject({ status: 'held', reasonCode: 'reported-phish' });
  expect(outcomes.find((o) => o.uid === 2)?.reason).toContain(approvalId);
  expect(movesOf(outcomes)).toEqual([
    { uid: 1, to: 'processed' },
    { uid: 3, to: 'quarantine', reasonCode: ANALYSIS_FAILED },
  ]);
});

test('a trusted message of a run over its guardrails is held, not processed', () => {
  const plan = planSweep([msg(1), msg(2)], []);
  const outcomes = sweepOutcomes(plan, { 1: 'a1', 2: 'a2' }, false);
  expect(outcomes.map((o) => [o.status, o.reasonCode])).toEqual([
    ['held', 'guardrails'],
    ['held', 'guardrails'],
  ]);
  expect(movesOf(outcomes)).toEqual([]);
});

test('candidates carry their message as source, with its date and the sender TTL', () => {
  const [c] = candidatesOf([msg(1, { date: '2026-12-01T00:00:00.000Z' })], '2026-12-06T00:00:00.000Z', [
    { match: 'cert.example', ttlMs: 1000 },
  ]);
  expect(c).toEqual({
    value: '198.51.100.1',
    ttlMs: 1000,
    source: {
      kind: 'message',
      ref: '<m1@x>',
      subject: 'advisory 1',
      from: 'sender1@cert.example',
      detail: 'body line 1',
      at: '2026-12-06T00:00:00.000Z',
      messageDate: '2026-12-01T00:00:00.000Z',
    },
  });
});

test('an approval shows each address with its sender, message and place, and decides only its message', () => {
  const input = heldMessageApproval(msg(2, { status: 'quarantine', reasonCode: 'reported-phish', reason: 'phish' }), {
    sweepId: 's',
    targets: [target],
    timeoutMs: 1000,
  });
  const summary = approvalSummaryOf(input, 'A', { status: 'waiting', deadline: 'D' }, undefined);
  expect(summary.addresses).toEqual([
    {
      value: '198.51.100.2',
      from: 'sender2@cert.example',
      subject: 'advisory 2',
      messageId: '<m2@x>',
      where: ['body line 2'],
    },
  ]);
  expect(approvalOutcomes(input, { status: 'approved', decidedBy: 'bob' })[0]).toMatchObject({ status: 'processed' });
  const rejected = approvalOutcomes(input, { status: 'timed-out', heldBecause: input.heldBecause });
  expect(rejected[0]).toMatchObject({ status: 'quarantined', reasonCode: 'approval-timeout' });
  expect(rejectionOf({ status: 'rejected', decidedBy: 'eve', decisionReason: 'no' })?.reason).toMatch(
    /rejected by eve: no/,
  );
});

test('mail text is capped where it enters a payload, and cannot forge lines in human output', () => {
  const huge = 'x'.repeat(1_000_000);
  const capped = capAnalysis(
    msg(1, {
      subject: huge,
      from: huge,
      notes: Array.from({ length: 1000 }, () => huge),
      indicators: Array.from({ length: 5000 }, (_, i) => ({
        value: `198.51.${i >> 8}.${i & 255}`,
        version: 4 as const,
        where: [huge, huge, huge],
      })),
    }),
  );
  expect(capped.subject!.length).toBeLessThanOrEqual(PayloadLimits.subject);
  expect(capped.from!.length).toBeLessThanOrEqual(PayloadLimits.from);
  expect(capped.notes).toHaveLength(PayloadLimits.notes + 1);
  expect(capped.indicators).toHaveLength(5000);
  expect(capped.indicators[0]!.where).toHaveLength(PayloadLimits.wherePerIndicator);
  expect(capped.indicators[4999]!.where).toEqual([]);
  expect(JSON.stringify(capped).length).toBeLessThan(512 * 1024);
  expect(capString('😀'.repeat(400), 300)).not.toMatch(/[\ud800-\udbff](?![\udc00-\udfff])/);
});

test("a sweep runs with the worker's policy; only fields its input sets win", () => {
  const worker = {
    targets: [target, { ...target, name: 'second' }],
    maxMessages: 100,
    dryRun: false,
    guardrails: { maxNewPerRun: 100, maxNewShare: 0.2, approvalTimeoutMs: 1000 },
    holdForApproval: ['reported-phish'],
    sourceTtls: [],
    searchAttributes: true,
  };
  // What today's CLI and Schedule send: the mailbox, the primary target for older builds, and a dry run if asked.
  expect(effectiveSweepPolicy(worker, { target, mailbox: 'INBOX' })).toEqual(worker);
  expect(effectiveSweepPolicy(worker, { target, mailbox: 'INBOX', dryRun: true }).dryRun).toBe(true);
  const own = effectiveSweepPolicy(worker, { target, mailbox: 'INBOX', holdForApproval: [], maxMessages: 5 });
  expect(own).toMatchObject({ holdForApproval: [], maxMessages: 5, guardrails: worker.guardrails });
  expect(sweepInputOf({ targets: worker.targets, mailbox: 'INBOX' }, { dryRun: true })).toEqual({
    target,
    mailbox: 'INBOX',
    dryRun: true,
  });
});

test('the sweep result: outcomes, blocks per target when there are several, held runs and the report addresses', () => {
  const plan = planSweep([msg(1), msg(2, { status: 'quarantine', reasonCode: 'reported-phish' })], ['reported-phish']);
  const block = { added: ['198.51.100.1'], alreadyPresent: [], refused: [], synced: true };
  const held = [{ approvalId: 'ap-2', kind: 'held-message' as const, uids: [2], reason: 'phish' }];
  const base = {
    sweepId: 's',
    mailbox: 'INBOX',
    dryRun: false,
    plan,
    heldBy: { 2: 'ap-2' },
    held,
    now: '2026-12-06T00:00:00.000Z',
    sourceTtls: [],
    blockTtlMs: 86_400_000,
  };
  const one = sweepResultOf({ ...base, blocks: { t: block }, targetNames: ['t'] });
  expect(one.block).toBe(block);
  expect(one.blocks).toBeUndefined();
  expect(one.held).toEqual(held);
  expect(one.messages.map((m) => [m.uid, m.status])).toEqual([
    [1, 'processed'],
    [2, 'held'],
  ]);
  expect(one.addresses?.map((a) => [a.value, a.uid])).toEqual([
    ['198.51.100.1', 1],
    ['198.51.100.2', 2],
  ]);
  const two = sweepResultOf({ ...base, blocks: { t: block, u: block }, targetNames: ['t', 'u'] });
  expect(Object.keys(two.blocks ?? {})).toEqual(['t', 'u']);
  // Nothing blocked (held by guardrails or a dry run): no block, and the trusted addresses are listed as not blocked.
  const none = sweepResultOf({ ...base, blocks: {}, held: [], targetNames: ['t'] });
  expect(none.block).toBeUndefined();
  expect(none.held).toBeUndefined();
  expect(none.addresses?.map((a) => a.value)).toEqual(['198.51.100.1', '198.51.100.2']);
});
