/**
 * The trust gate on the real stack: adversarial messages go into the IMAP inbox next to one genuine signed
 * advisory; one sweep later only the genuine advisory's address is in WAF, and every other message is in
 * Quarantine with its reason code (as an IMAP keyword, in the sweep result and in the report).
 */
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadWorkerConfig } from '../../src/config';
import type { SweepInput, SweepResult } from '../../src/shared/types';
import {
  addReceived,
  buildAdvisory,
  signMessage,
  stackDkim,
  stackReceived,
  type DkimSettings,
  type ReceivedSettings,
  phishEml,
} from '../../scripts/sample-advisories';
import { appendMessage, ipSet, isolatedSetup, mailboxContents, reportsFor, type TestSetup } from '../helpers/stack';
import { startWorker, type RunningWorker } from '../helpers/worker';

let setup: TestSetup;
let w: RunningWorker;
let dir: string;
let stackKey: DkimSettings;
let viaCertServer: ReceivedSettings;
let viaAttacker: ReceivedSettings;

// The attacker's own look-alike domain, with a real key and records: it authenticates, and must still not count.
const lookAlike = generateKeyPairSync('rsa', { modulusLength: 2048 });
const lookAlikeKey: DkimSettings = {
  domain: 'cert-example.com',
  selector: 's1',
  privateKey: lookAlike.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
};
const ATTACKER_IP = '198.51.100.66';

beforeAll(async () => {
  setup = await isolatedSetup();
  // The stack's records plus the look-alike domain's, in a records file of this test's own worker.
  dir = mkdtempSync(join(tmpdir(), 'm2w-trust-'));
  const stackRecords = JSON.parse(readFileSync(setup.env.DNS_RECORDS_FILE!, 'utf8')) as { records: object };
  const pub = lookAlike.publicKey.export({ type: 'spki', format: 'der' }).toString('base64');
  const recordsFile = join(dir, 'dns-records.json');
  writeFileSync(
    recordsFile,
    JSON.stringify({
      records: {
        ...stackRecords.records,
        's1._domainkey.cert-example.com': { TXT: [`v=DKIM1; k=rsa; p=${pub}`] },
        'cert-example.com': { TXT: [`v=spf1 ip4:${ATTACKER_IP} -all`] },
        '_dmarc.cert-example.com': { TXT: ['v=DMARC1; p=reject'] },
      },
    }),
  );
  setup = { ...setup, config: loadWorkerConfig({ ...setup.env, DNS_RECORDS_FILE: recordsFile }) };
  expect(setup.config.trust.trustedSenders).toEqual([setup.env.STACK_DKIM_DOMAIN]);
  stackKey = stackDkim(setup.env)!;
  viaCertServer = stackReceived('advisories@cert.example', setup.env)!;
  viaAttacker = { ...viaCertServer, ip: ATTACKER_IP };
  w = await startWorker(setup);
});

afterAll(async () => {
  await w?.stop();
  await setup?.cleanup();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

async function sweep(): Promise<SweepResult> {
  // Nothing is held for a person here: every trick must end in Quarantine with its own code.
  const input: SweepInput = {
    target: setup.config.target,
    mailbox: setup.config.mailbox,
    maxMessages: 50,
    holdForApproval: [],
  };
  return w.client.workflow.execute('mailboxSweepWorkflow', {
    workflowId: `test-trust-${randomBytes(4).toString('hex')}`,
    taskQueue: setup.config.taskQueue,
    args: [input],
  });
}

const mid = (name: string) => `<trust-${name}-${randomBytes(3).toString('hex')}@test.example>`;

test('only the signed advisory of a trusted sender blocks; every trick is quarantined with its reason', async () => {
  const expected: Record<string, string> = {};
  const add = async (code: string, raw: Buffer, messageId: string) => {
    expected[messageId] = code;
    await appendMessage(setup, raw);
  };

  // Control: the genuine advisory, signed by the stack's key and received by our MTA from cert.example's server.
  const genuine = mid('genuine');
  await appendMessage(
    setup,
    await buildAdvisory({ subject: 'Advisory: C2', text: 'C2 at 185.220.101.61\n', messageId: genuine }),
  );

  // 1. A trusted From with no signature, from a server cert.example does not authorise.
  const unsigned = mid('unsigned');
  await add(
    'auth-failed',
    await buildAdvisory({
      subject: 'Advisory: urgent',
      text: 'Block 45.9.148.11 now.\n',
      messageId: unsigned,
      sign: false,
      received: viaAttacker,
    }),
    unsigned,
  );

  // 2. A genuine signature over a body changed afterwards (replayed from elsewhere).
  const tampered = mid('tampered');
  const original = await buildAdvisory({
    subject: 'Advisory: C2',
    text: 'C2 at 185.220.101.62\n',
    messageId: tampered,
    sign: false,
    received: false,
  });
  const signed = (await signMessage(original, stackKey)).toString('latin1').replace('185.220.101.62', '45.9.148.12');
  await add('auth-failed', addReceived(Buffer.from(signed, 'latin1'), viaAttacker), tampered);

  // 3. The display-name trick.
  const displayName = mid('display-name');
  await add(
    'untrusted-sender',
    await buildAdvisory({
      from: 'cert.example Security <attacker@evil.example>',
      subject: 'Advisory: C2',
      text: 'C2 at 45.9.148.13\n',
      messageId: displayName,
      received: { ...viaAttacker, mailFrom: 'attacker@evil.example', helo: 'mail.evil.example' },
    }),
    displayName,
  );

  // 4. Look-alike domains: one that authenticates perfectly, one that does not.
  const lookAlikeSigned = mid('look-alike-signed');
  await add(
    'untrusted-sender',
    await buildAdvisory({
      from: 'CERT Advisories <advisories@cert-example.com>',
      subject: 'Advisory: C2',
      text: 'C2 at 45.9.148.14\n',
      messageId: lookAlikeSigned,
      sign: lookAlikeKey,
      received: { ...viaAttacker, mailFrom: 'advisories@cert-example.com', helo: 'mail.cert-example.com' },
    }),
    lookAlikeSigned,
  );
  const lookAlikeDigit = mid('look-alike-digit');
  await add(
    'untrusted-sender',
    await buildAdvisory({
      from: 'CERT Advisories <advisories@cert.examp1e>',
      subject: 'Advisory: C2',
      text: 'C2 at 45.9.148.15\n',
      messageId: lookAlikeDigit,
      received: { ...viaAttacker, mailFrom: 'advisories@cert.examp1e', helo: 'mail.cert.examp1e' },
    }),
    lookAlikeDigit,
  );

  // 5. A reply chain that quotes a trusted advisory (and slips in a new address).
  const reply = mid('reply');
  await add(
    'untrusted-sender',
    await buildAdvisory({
      from: 'Bob <bob@partner.example>',
      subject: 'Re: Advisory: C2',
      text:
        'Agreed, and 45.9.148.16 too.\n\nOn Fri, 20 Nov 2026 CERT Advisories <advisories@cert.example> wrote:\n' +
        '> C2 at 185.220.101.61\n',
      headers: { 'In-Reply-To': genuine },
      messageId: reply,
      received: { ...viaAttacker, mailFrom: 'bob@partner.example', helo: 'mail.partner.example' },
    }),
    reply,
  );

  // 6. A reported phish: its own Received lines name our relays and the phisher.
  const phish = mid('reported-phish');
  await add(
    'reported-phish',
    await buildAdvisory({
      from: 'Alice <alice@mail2waf.test>',
      subject: 'Phishing report: Password expires today',
      text: 'Reported with the Report Phishing button.\n',
      attachments: [
        { filename: 'phish.eml', content: phishEml('45.9.148.18', '45.9.148.17'), contentType: 'message/rfc822' },
      ],
      messageId: phish,
      received: { ...viaCertServer, ip: '10.20.0.9', helo: 'ws-alice.mail2waf.test', mailFrom: 'alice@mail2waf.test' },
    }),
    phish,
  );

  // 7. A genuine signed advisory that never passed through our MTA (appended straight into the mailbox).
  const direct = mid('direct');
  await add(
    'not-via-mta',
    await buildAdvisory({ subject: 'Advisory: C2', text: 'C2 at 45.9.148.19\n', messageId: direct, received: false }),
    direct,
  );

  const result = await sweep();

  // Nothing but the genuine advisory's address reached WAF.
  expect((await ipSet(setup, 'v4')).addresses).toEqual(['185.220.101.61/32']);
  expect((await ipSet(setup, 'v6')).addresses).toEqual([]);
  expect(result.block?.added).toEqual(['185.220.101.61']);

  const byId = Object.fromEntries(result.messages.map((m) => [m.messageId, m]));
  expect(byId[genuine]).toMatchObject({ status: 'processed' });
  for (const [messageId, code] of Object.entries(expected)) {
    expect({ messageId, status: byId[messageId]?.status, code: byId[messageId]?.reasonCode }).toEqual({
      messageId,
      status: 'quarantined',
      code,
    });
  }
  // The signature over the changed body fails as a signature, not only as DMARC.
  expect(byId[tampered]?.reason).toMatch(/dkim=neutral \(cert\.example, body hash did not verify/);
  expect(byId[unsigned]?.reason).toMatch(/dkim=none \(no signature\), spf=fail/);
  expect(byId[displayName]?.reason).toMatch(/display name/);
  expect(byId[lookAlikeSigned]?.reason).toMatch(/look-alike of the trusted domain cert\.example/);
  expect(byId[lookAlikeDigit]?.reason).toMatch(/look-alike of the trusted domain cert\.example/);
  expect(byId[phish]?.reason).toMatch(/phish\.eml/);

  // The reasons travel with the messages (IMAP keywords) and into the report.
  const quarantined = await mailboxContents(setup, setup.config.quarantineMailbox);
  const keywords = Object.fromEntries(quarantined.map((m) => [m.messageId, m.keywords]));
  for (const [messageId, code] of Object.entries(expected)) expect(keywords[messageId]).toContain(`mail2waf-${code}`);
  expect((await mailboxContents(setup, setup.config.processedMailbox)).map((m) => m.messageId)).toEqual([genuine]);
  const [report] = await reportsFor(setup, result.sweepId);
  for (const code of new Set(Object.values(expected))) expect(report?.text).toContain(`${code}:`);
});
