/**
 * Nobody can make mail2waf block what it must not (issue 5, workflow side): never-block ranges judged by
 * overlap, the prefix floor, special-purpose space, guardrails that hold a large run for a person (reject on
 * timeout, approve and reject by CLI or Signal), and dry runs that touch nothing. Real stack end to end.
 */
import { randomBytes } from 'node:crypto';
import { submitPolicy } from '../../src/blocklist-client';
import { cliJson } from '../helpers/cli';
import { blocklistWorkflowId } from '../../src/shared/constants';
import { approvalQuery, approveUpdate, listQuery, rejectSignal } from '../../src/shared/messages';
import type { approvalWorkflow } from '../../src/workflows/approval';
import type { SweepInput, SweepResult } from '../../src/shared/types';
import { buildAdvisory, reportedPhish } from '../../scripts/sample-advisories';
import {
  appendMessage,
  ipSet,
  isolatedSetup,
  mailboxContents,
  withImap,
  waitFor,
  type TestSetup,
} from '../helpers/stack';
import { startWorker, type RunningWorker } from '../helpers/worker';

let setup: TestSetup;
let w: RunningWorker;
const OURS = '91.198.174.0/24';

beforeAll(async () => {
  setup = await isolatedSetup(undefined, {
    NEVER_BLOCK: `${OURS}`,
    MAX_NEW_PER_RUN: '3',
    MAX_NEW_SHARE: '1', // only the count holds runs here, so each test controls why a run is held
    APPROVAL_TIMEOUT: '4s',
  });
  w = await startWorker(setup);
});
afterAll(async () => {
  await w?.stop();
  await setup?.cleanup();
});

function input(extra: Partial<SweepInput> = {}): SweepInput {
  return {
    target: setup.config.target,
    mailbox: setup.config.mailbox,
    guardrails: setup.config.guardrails,
    holdForApproval: setup.config.holdForApproval,
    ...extra,
  };
}

async function startSweep(extra: Partial<SweepInput> = {}) {
  return w.client.workflow.start('mailboxSweepWorkflow', {
    workflowId: `test-safety-${randomBytes(4).toString('hex')}`,
    taskQueue: setup.config.taskQueue,
    args: [input(extra)],
  });
}

async function approvalMails(sweepId: string): Promise<number> {
  return withImap(
    setup.config,
    async (c) => {
      const lock = await c.getMailboxLock('INBOX');
      try {
        return ((await c.search({ header: { 'X-Mail2waf-Approval-For': sweepId } }, { uid: true })) || []).length;
      } finally {
        lock.release();
      }
    },
    setup.env.REPORT_IMAP_USER,
    setup.env.REPORT_IMAP_PASSWORD,
  );
}

test('own networks, broad CIDRs and special-purpose space are refused, each with its reason', async () => {
  await appendMessage(
    setup,
    await buildAdvisory({
      subject: 'Mixed list',
      text: [
        'C2: 185.220.107.1',
        'our own web server 91.198.174.10 and a CIDR that overlaps our network: 91.198.0.0/16',
        'half the internet 0.0.0.0/1 and ::/1, a /8: 8.0.0.0/8, a /20 of IPv6 2a03:b000::/20',
        'CGNAT 100.64.1.1, a mapped private address ::ffff:10.0.0.1',
      ].join('\n'),
    }),
  );
  const result: SweepResult = await (await startSweep()).result();
  expect(result.block?.added).toEqual(['185.220.107.1']);
  const codes = Object.fromEntries(result.block!.refused.map((r) => [r.value, r.code]));
  expect(codes).toMatchObject({
    '91.198.174.10': 'never-block',
    '91.198.0.0/16': 'never-block',
    '0.0.0.0/1': 'too-broad',
    '2a03:b000::/20': 'too-broad',
    '::/1': 'too-broad',
    '8.0.0.0/8': 'too-broad',
    '100.64.1.1': 'cgnat',
    '10.0.0.1': 'private',
  });
  expect(result.block!.refused.find((r) => r.value === '91.198.0.0/16')?.reason).toMatch(
    /overlaps 91\.198\.174\.0\/24/,
  );
  expect((await ipSet(setup, 'v4')).addresses).toEqual(['185.220.107.1/32']);

  // The refusal and its reason are kept for `mail2waf why`.
  const answer = await cliJson(['why', '91.198.174.10'], setup.env);
  expect(answer.code).toBe(0);
  const why = answer.doc.result;
  expect(why.blocked).toBe(false);
  expect(why.refused.map((r: { value: string; code: string }) => [r.value, r.code])).toEqual([
    ['91.198.174.10', 'never-block'],
    ['91.198.0.0/16', 'never-block'],
    ['0.0.0.0/1', 'too-broad'], // a refused network that contains the address is named too
  ]);
});

test('the same checks hold for mail2waf block', async () => {
  const refusals: Record<string, string> = {};
  for (const value of ['91.198.174.99', '::/1', '0.0.0.0/1', '::ffff:192.168.1.1', '2001:db8::1']) {
    const { code, doc } = await cliJson(['block', value, '--reason', 'test'], {
      ...setup.env,
      MAIL2WAF_ACTOR: 'tester',
    });
    expect(code).toBe(1);
    const refused = doc.result.refused[0];
    refusals[refused.value] = refused.code;
  }
  expect(refusals).toEqual({
    '91.198.174.99': 'never-block',
    '::/1': 'too-broad',
    '0.0.0.0/1': 'too-broad',
    '192.168.1.1': 'private',
    '2001:db8::1': 'documentation',
  });
});

/** Approvals that a test answers get a deadline no loaded machine reaches (APPROVAL_TIMEOUT is 4 s here). */
const answered = (): Partial<SweepInput> => ({
  guardrails: { ...setup.config.guardrails, approvalTimeoutMs: 10 * 60_000 },
});

/** The approval workflow a sweep started for one of its messages. */
function approvalOf(result: SweepResult, messageId: string) {
  const uid = result.messages.find((m) => m.messageId === messageId)?.uid;
  const held = result.held?.find((h) => uid !== undefined && h.uids.includes(uid));
  if (!held) throw new Error(`${messageId} was not held by ${result.sweepId}`);
  return w.client.workflow.getHandle<typeof approvalWorkflow>(held.approvalId);
}

test('a run over the guardrails is held, mailed for approval, and rejected when nobody answers', async () => {
  const many = Array.from({ length: 5000 }, (_, i) => `45.${140 + Math.floor(i / 250)}.${i % 250}.${1 + (i % 7)}`);
  await appendMessage(
    setup,
    await buildAdvisory({
      subject: 'Huge list',
      text: 'see attachment',
      attachments: [{ filename: 'iocs.csv', contentType: 'text/csv', content: `ip\n${many.join('\n')}\n` }],
      messageId: '<huge@cert.example>',
    }),
  );
  const token = (await ipSet(setup, 'v4')).lockToken;
  // The sweep itself does not wait: it hands the message to an approval workflow and finishes.
  const result: SweepResult = await (await startSweep()).result();
  expect(result.messages[0]).toMatchObject({ status: 'held', reasonCode: 'guardrails' });
  expect(result.block).toBeUndefined();
  const approval = approvalOf(result, '<huge@cert.example>');
  expect(await approval.query(approvalQuery)).toMatchObject({ status: 'waiting', heldBecause: { code: 'over-count' } });
  await waitFor('the approval e-mail', async () => (await approvalMails(approval.workflowId)) === 1);

  const decided = await approval.result();
  expect(decided.approval).toMatchObject({ status: 'timed-out', heldBecause: { code: 'over-count' } });
  expect(decided.blocks).toEqual({});
  expect((await ipSet(setup, 'v4')).lockToken).toBe(token);
  const q = await mailboxContents(setup, setup.config.quarantineMailbox);
  expect(q.find((m) => m.messageId === '<huge@cert.example>')?.keywords).toContain('mail2waf-approval-timeout');
});

test('a held message is approved from the CLI at once, or rejected by Signal; a late answer is refused', async () => {
  const four = ['185.220.108.1', '185.220.108.2', '185.220.108.3', '185.220.108.4'];
  await appendMessage(setup, await buildAdvisory({ subject: 'Four', text: four.join('\n'), messageId: '<four@x>' }));
  const r1: SweepResult = await (await startSweep(answered())).result();
  const approved = approvalOf(r1, '<four@x>');
  const { code, doc } = await cliJson(['approve', approved.workflowId, '--reason', 'known campaign'], {
    ...setup.env,
    MAIL2WAF_ACTOR: 'alice',
  });
  expect(code).toBe(0);
  expect(doc.result).toMatchObject({ approvalId: approved.workflowId, status: 'approved', decidedBy: 'alice' });
  const a1 = await approved.result();
  expect(a1.blocks?.[setup.config.target.name]?.added.sort()).toEqual(four);
  expect(a1.messages[0]).toMatchObject({ status: 'processed' });
  // In WAF as their minimal cover.
  expect((await ipSet(setup, 'v4')).addresses).toEqual(
    expect.arrayContaining(['185.220.108.1/32', '185.220.108.2/31', '185.220.108.4/32']),
  );

  const five = ['185.220.109.1', '185.220.109.2', '185.220.109.3', '185.220.109.4', '185.220.109.5'];
  await appendMessage(setup, await buildAdvisory({ subject: 'Five', text: five.join('\n'), messageId: '<five@x>' }));
  const r2: SweepResult = await (await startSweep(answered())).result();
  const rejected = approvalOf(r2, '<five@x>');
  await rejected.signal(rejectSignal, { actor: 'web-ui', reason: 'looks like our CDN' });
  const a2 = await rejected.result();
  expect(a2.approval).toMatchObject({ status: 'rejected', decidedBy: 'web-ui', decisionReason: 'looks like our CDN' });
  expect(a2.messages[0]).toMatchObject({ status: 'quarantined', reasonCode: 'approval-rejected' });
  expect((await ipSet(setup, 'v4')).addresses.some((a) => a.startsWith('185.220.109.'))).toBe(false);

  // Answering an approval that is decided is refused with exit 1, and says so.
  const late = await cliJson(['approve', rejected.workflowId], setup.env);
  expect(late.code).toBe(1);
  expect(late.doc.result).toMatchObject({ status: 'rejected', note: 'already decided' });
  const unknown = await cliJson(['approve', 'mail2waf-approval-nope'], setup.env);
  expect(unknown.code).toBe(1);
  expect(unknown.doc.error.message).toMatch(/no approval "mail2waf-approval-nope"/);
});

test('a dry run reports what would happen and touches neither WAF nor the mailbox', async () => {
  await appendMessage(
    setup,
    await buildAdvisory({ subject: 'Dry', text: '185.220.110.1 and 185.220.107.1 and 10.9.9.9' }),
  );
  const token = (await ipSet(setup, 'v4')).lockToken;
  const result: SweepResult = await (await startSweep({ dryRun: true })).result();
  expect(result.dryRun).toBe(true);
  expect(result.block).toMatchObject({ added: ['185.220.110.1'], alreadyPresent: ['185.220.107.1'] });
  expect(result.block?.refused[0]).toMatchObject({ value: '10.9.9.9', code: 'private' });
  expect((await ipSet(setup, 'v4')).lockToken).toBe(token);
  expect(await mailboxContents(setup, setup.config.mailbox)).toHaveLength(1);
  const entries = await w.client.workflow.getHandle(blocklistWorkflowId(setup.config.target.name)).query(listQuery);
  expect(entries.map((e) => e.value)).not.toContain('185.220.110.1');
  // Clean the inbox for the next test.
  await withImap(setup.config, async (c) => {
    const lock = await c.getMailboxLock(setup.config.mailbox);
    try {
      await c.messageDelete('1:*');
    } finally {
      lock.release();
    }
  });
});

test('a new never-block range takes out entries it covers', async () => {
  const result = await submitPolicy(w.client, setup.config.taskQueue, setup.config.target, {
    ...setup.config.policy,
    neverBlock: [...setup.config.policy.neverBlock, { cidr: '185.220.107.0/24', label: 'partner' }],
  });
  expect(result.unblocked.map((u) => u.value)).toEqual(['185.220.107.1']);
  expect(result.unblocked[0]?.code).toBe('never-block');
  expect((await ipSet(setup, 'v4')).addresses).not.toContain('185.220.107.1/32');
});

test('a reported phish waits on its own: the trusted advisory of the same sweep blocks at once', async () => {
  expect(setup.config.holdForApproval).toEqual(['reported-phish']);
  await appendMessage(setup, await reportedPhish('45.9.148.18', '<phish-1@x>'));
  await appendMessage(
    setup,
    await buildAdvisory({ subject: 'Trusted', text: 'C2 at 185.220.117.1', messageId: '<ok@x>' }),
  );
  const r1: SweepResult = await (await startSweep(answered())).result();
  const byId = Object.fromEntries(r1.messages.map((m) => [m.messageId, m]));
  expect(byId['<ok@x>']).toMatchObject({ status: 'processed' });
  expect(byId['<phish-1@x>']).toMatchObject({ status: 'held', reasonCode: 'reported-phish' });
  expect(r1.block?.added).toEqual(['185.220.117.1']);
  expect((await ipSet(setup, 'v4')).addresses).toContain('185.220.117.1/32');
  expect((await ipSet(setup, 'v4')).addresses).not.toContain('45.9.148.18/32');

  // The held message stays in the inbox, marked, and the next sweep leaves it alone.
  const inbox = await mailboxContents(setup, setup.config.mailbox);
  expect(inbox.map((m) => m.messageId)).toEqual(['<phish-1@x>']);
  expect(inbox[0]?.keywords).toContain('mail2waf-held');
  const r2: SweepResult = await (await startSweep()).result();
  expect(r2.messages).toEqual([]);

  // `approvals` says per address which message and sender it came from.
  const listed = await cliJson(['approvals'], setup.env);
  const mine = listed.doc.result.find((s: { approvalId: string }) => s.approvalId === r1.held![0]!.approvalId);
  expect(mine).toMatchObject({ kind: 'held-message', heldBecause: { code: 'reported-phish' } });
  expect(mine.addresses).toEqual([
    expect.objectContaining({ value: '45.9.148.18', from: 'alice@mail2waf.test', messageId: '<phish-1@x>' }),
  ]);
  expect(mine.addresses[0].where.join(' ')).toMatch(/phish\.eml/);

  const approval = approvalOf(r1, '<phish-1@x>');
  await approval.executeUpdate(approveUpdate, { args: [{ actor: 'soc-lead', reason: 'confirmed phishing site' }] });
  const decided = await approval.result();
  expect(decided.messages[0]).toMatchObject({ status: 'processed' });
  expect((await ipSet(setup, 'v4')).addresses).toContain('45.9.148.18/32');
  const processed = await mailboxContents(setup, setup.config.processedMailbox);
  expect(processed.map((m) => m.messageId)).toContain('<phish-1@x>');
  expect(await mailboxContents(setup, setup.config.mailbox)).toEqual([]);
});
