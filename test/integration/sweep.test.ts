/**
 * The whole path on the real stack: advisory in the IMAP inbox → sweep → addresses in the moto IP sets →
 * one report in the security team's mailbox → advisory in Processed; refusals and quarantine on the way.
 */
import { randomBytes } from 'node:crypto';
import { blocklistWorkflowId } from '../../src/shared/constants';
import { listQuery, unblockSignal, unblockUpdate } from '../../src/shared/messages';
import type { SweepInput, SweepResult } from '../../src/shared/types';
import { buildAdvisory, csvAdvisory, defangedAdvisory } from '../../scripts/sample-advisories';
import {
  appendMessage,
  foreignWrite,
  ipSet,
  isolatedSetup,
  mailboxContents,
  reportsFor,
  waitFor,
  type TestSetup,
} from '../helpers/stack';
import { startWorker, type RunningWorker } from '../helpers/worker';

let setup: TestSetup;
let w: RunningWorker;

beforeAll(async () => {
  setup = await isolatedSetup();
  w = await startWorker(setup);
});

afterAll(async () => {
  await w?.stop();
  await setup?.cleanup();
});

async function sweep(): Promise<SweepResult> {
  const input: SweepInput = { target: setup.config.target, mailbox: setup.config.mailbox, maxMessages: 50 };
  return w.client.workflow.execute('mailboxSweepWorkflow', {
    workflowId: `test-sweep-${randomBytes(4).toString('hex')}`,
    taskQueue: setup.config.taskQueue,
    args: [input],
  });
}

const mids = {
  csv: '<csv-advisory@cert.example>',
  defanged: '<defanged-advisory@cert.example>',
  refusals: '<refusals@cert.example>',
};
let first: SweepResult;

test('an advisory ends in the IP sets, in one report and in Processed; bad input is refused or quarantined', async () => {
  await appendMessage(setup, await csvAdvisory(mids.csv));
  await appendMessage(setup, await defangedAdvisory(mids.defanged));
  await appendMessage(
    setup,
    await buildAdvisory({
      subject: 'Scanner report with mistakes',
      text: 'Scanner at 193.142.146.35. Also listed by mistake: our relay 10.1.2.3 and the whole internet 0.0.0.0/0.\n',
      messageId: mids.refusals,
    }),
  );
  // Not a message at all: no header section, binary junk. It must be quarantined, and the sweep must go on.
  await appendMessage(
    setup,
    Buffer.from('\u0000\u0001garbage that is not MIME\r\n\r\n\u0002\u0003 1.2.3.4\r\n', 'binary'),
  );

  first = await sweep();

  const v4 = await ipSet(setup, 'v4');
  const v6 = await ipSet(setup, 'v6');
  expect(v4.addresses).toEqual(
    [
      '185.220.101.47/32',
      '45.133.1.20/32',
      '91.215.85.0/24',
      '194.26.192.77/32',
      '5.188.86.170/32',
      '193.142.146.35/32',
    ].sort(),
  );
  expect(v6.addresses).toEqual(['2a03:b0c0:3:d0::1a4f:1/128']);

  const refused = Object.fromEntries((first.block?.refused ?? []).map((r) => [r.value, r]));
  expect(refused['10.1.2.3']?.code).toBe('private');
  expect(refused['0.0.0.0/0']?.code).toBe('default-route');

  const reports = await reportsFor(setup, first.sweepId);
  expect(reports).toHaveLength(1);
  const report = reports[0]!;
  for (const value of ['185.220.101.47', '91.215.85.0/24', '2a03:b0c0:3:d0::1a4f:1', '10.1.2.3', '0.0.0.0/0']) {
    expect(report.text).toContain(value);
  }
  expect(report.text).toMatch(/10\.1\.2\.3 — private/);
  expect(report.text).toMatch(/invalid-mime/);

  const processed = await mailboxContents(setup, setup.config.processedMailbox);
  expect(processed.map((m) => m.messageId).sort()).toEqual(Object.values(mids).sort());
  const quarantined = await mailboxContents(setup, setup.config.quarantineMailbox);
  expect(quarantined).toHaveLength(1);
  expect(quarantined[0]!.keywords).toContain('mail2waf-invalid-mime');
  expect(await mailboxContents(setup, setup.config.mailbox)).toHaveLength(0);

  const bad = first.messages.find((m) => m.status === 'quarantined');
  expect(bad?.reasonCode).toBe('invalid-mime');
  expect(bad?.reason).toMatch(/not valid MIME/);
});

test('a second sweep sends nothing twice and changes nothing twice', async () => {
  const before = { v4: await ipSet(setup, 'v4'), v6: await ipSet(setup, 'v6') };
  const second = await sweep();
  expect(second.messages).toHaveLength(0);
  expect(second.reportMessageId).toBeUndefined();
  expect(await reportsFor(setup, second.sweepId)).toHaveLength(0);
  expect(await reportsFor(setup, first.sweepId)).toHaveLength(1);
  const after = { v4: await ipSet(setup, 'v4'), v6: await ipSet(setup, 'v6') };
  // An unchanged LockToken proves that no UpdateIPSet was made.
  expect(after.v4.lockToken).toBe(before.v4.lockToken);
  expect(after.v6.lockToken).toBe(before.v6.lockToken);

  // The same advisory sent again is "already blocked", and still no write.
  await appendMessage(setup, await csvAdvisory('<csv-advisory-resent@cert.example>'));
  const third = await sweep();
  expect(third.block?.added).toEqual([]);
  expect(third.block?.alreadyPresent.sort()).toEqual(['185.220.101.47', '45.133.1.20', '91.215.85.0/24'].sort());
  expect((await ipSet(setup, 'v4')).lockToken).toBe(before.v4.lockToken);
  expect(await reportsFor(setup, third.sweepId)).toHaveLength(1);
});

test('unblock as Update and as Signal removes from WAF; a foreign entry survives every sync', async () => {
  await foreignWrite(setup, 'v4', (a) => [...a, '101.32.0.0/16']);
  const handle = w.client.workflow.getHandle(blocklistWorkflowId(setup.config.target.name));

  const viaUpdate = await handle.executeUpdate(unblockUpdate, {
    args: [{ value: '185.220.101.47', actor: 'test', reason: 'false positive' }],
  });
  expect(viaUpdate).toMatchObject({ removed: ['185.220.101.47'], synced: true });
  let v4 = await ipSet(setup, 'v4');
  expect(v4.addresses).not.toContain('185.220.101.47/32');
  expect(v4.addresses).toContain('101.32.0.0/16');

  await handle.signal(unblockSignal, { value: '2a03:b0c0:3:d0::1a4f:1', actor: 'web-ui', reason: 'customer' });
  await waitFor('the IPv6 entry to leave WAF', async () => (await ipSet(setup, 'v6')).addresses.length === 0);

  // mail2waf never removes what it did not add.
  const foreign = await handle.executeUpdate(unblockUpdate, {
    args: [{ value: '101.32.0.0/16', actor: 'test', reason: 'not ours' }],
  });
  expect(foreign.removed).toEqual([]);
  expect(foreign.notFound).toEqual(['101.32.0.0/16']);
  v4 = await ipSet(setup, 'v4');
  expect(v4.addresses).toContain('101.32.0.0/16');
  expect(v4.addresses).toContain('45.133.1.20/32');

  const entries = await handle.query(listQuery);
  expect(entries.map((e) => e.value)).not.toContain('185.220.101.47');
  expect(entries.find((e) => e.value === '45.133.1.20')?.sources[0]?.ref).toBe(mids.csv);
});
