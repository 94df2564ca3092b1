/**
 * Hosted-mail trust on the real stack (issue 12 §2): Gmail- and Microsoft 365-shaped deliveries
 * (test/fixtures/hosted/generate.ts) in the advisory mailbox in Dovecot, swept by a worker set up as an operator of
 * that provider would set it up (MTA_HOSTS patterns, TRUSTED_AUTHSERV_IDS), with the fixtures' DKIM and ARC keys in
 * its DNS records file. The tampered and forged deliveries are swept first and alone, so that the IP sets show what
 * they alone could do: nothing. Then the trusted delivery blocks its addresses.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { SweepInput, SweepResult } from '../../src/shared/types';
import { generate, HOSTED_SETTINGS } from '../fixtures/hosted/generate';
import { ipSet, isolatedSetup, mailboxContents, uniqueName, withImap, type TestSetup } from '../helpers/stack';
import { startWorker, type RunningWorker } from '../helpers/worker';

let dir: string;

beforeAll(async () => {
  // The worker judges as of now, and a signature older than MAX_ADVISORY_AGE is a replay: the committed fixtures
  // (dated FIXTURE_TIME for the offline tests) would all be stale-advisory, so this test builds a set of its own.
  // A minute back, so that no signature is in the future on the worker's clock.
  dir = mkdtempSync(join(tmpdir(), 'm2w-hosted-'));
  await generate(dir, new Date(Date.now() - 60_000));
});

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe.each(['gmail', 'm365'] as const)('%s', (provider) => {
  let setup: TestSetup;
  let w: RunningWorker;

  beforeAll(async () => {
    setup = await isolatedSetup(uniqueName(`hosted-${provider}`), {
      ...HOSTED_SETTINGS[provider],
      DNS_RECORDS_FILE: join(dir, 'dns-records.json'),
      // The advisory's 2a0b:4140:2c5::/48 is 65,536 IPv6 /64 networks, over the default guardrail (4096): the
      // sweep would hold it for a person. The guardrail is not what this test is about; trust is.
      MAX_NEW_ADDRESSES_PER_RUN: '70000',
    });
    expect(setup.config.trust.trustedAuthservIds).toEqual([HOSTED_SETTINGS[provider].TRUSTED_AUTHSERV_IDS]);
    w = await startWorker(setup);
  });

  afterAll(async () => {
    await w?.stop();
    await setup?.cleanup();
  });

  /** Appends one of the provider's fixtures; its UID (every fixture has the same Message-ID and subject). */
  async function append(kind: 'trusted' | 'tampered' | 'forged-ar'): Promise<number> {
    const raw = readFileSync(join(dir, `${provider}-${kind}.eml`));
    const appended = await withImap(setup.config, (c) => c.append(setup.config.mailbox, raw));
    const uid = appended ? appended.uid : undefined;
    if (uid === undefined) throw new Error('the IMAP server did not say which UID the appended message got');
    return uid;
  }

  async function sweep(): Promise<SweepResult> {
    // Nothing is held for a person: each message ends in Processed or in Quarantine with its code.
    const input: SweepInput = {
      target: setup.config.target,
      mailbox: setup.config.mailbox,
      maxMessages: 50,
      holdForApproval: [],
    };
    return w.client.workflow.execute('mailboxSweepWorkflow', {
      workflowId: `test-hosted-${provider}-${randomBytes(4).toString('hex')}`,
      taskQueue: setup.config.taskQueue,
      args: [input],
    });
  }

  const outcome = (result: SweepResult, uid: number) => {
    const m = result.messages.find((x) => x.uid === uid);
    return { uid, status: m?.status, code: m?.reasonCode };
  };

  test('tampered and forged deliveries are quarantined with their reason and block nothing; the trusted one blocks', async () => {
    const tampered = await append('tampered');
    const forged = await append('forged-ar');
    const refused = await sweep();
    expect(refused.messages).toHaveLength(2);
    expect(outcome(refused, tampered)).toEqual({ uid: tampered, status: 'quarantined', code: 'auth-failed' });
    expect(outcome(refused, forged)).toEqual({ uid: forged, status: 'quarantined', code: 'auth-failed' });
    expect(refused.block?.added ?? []).toEqual([]);
    expect((await ipSet(setup, 'v4')).addresses).toEqual([]);
    expect((await ipSet(setup, 'v6')).addresses).toEqual([]);
    const quarantined = await mailboxContents(setup, setup.config.quarantineMailbox);
    expect(quarantined).toHaveLength(2);
    for (const m of quarantined) expect(m.keywords).toContain('mail2waf-auth-failed');

    const trusted = await append('trusted');
    const blocked = await sweep();
    expect(outcome(blocked, trusted)).toEqual({ uid: trusted, status: 'processed', code: undefined });
    expect([...(blocked.block?.added ?? [])].sort()).toEqual(['185.220.101.47', '2a0b:4140:2c5::/48', '45.133.1.20']);
    expect(Object.fromEntries((blocked.block?.refused ?? []).map((r) => [r.value, r.code]))).toEqual({
      '91.0.0.0/8': 'too-broad',
      '10.20.0.0/16': 'private',
    });
    // 8.8.8.8, which only the tampered bodies carry, is not there.
    expect((await ipSet(setup, 'v4')).addresses).toEqual(['185.220.101.47/32', '45.133.1.20/32']);
    expect((await ipSet(setup, 'v6')).addresses).toEqual(['2a0b:4140:2c5::/48']);
    expect(await mailboxContents(setup, setup.config.processedMailbox)).toHaveLength(1);
  });
});
