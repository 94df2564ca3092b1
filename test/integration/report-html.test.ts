/**
 * The report for people, on the real stack: a real sweep of trusted advisories, a refusal, a reported phish
 * (held) and junk (quarantined) sends one mail with an HTML part and a plain-text alternative; both are read back
 * with mailparser from the security team's mailbox. The HTML is opened in headless Chromium; its screenshot is
 * kept in docs/screenshots/report.png (the README shows it) when missing or with UPDATE_SCREENSHOTS=1.
 */
import { execFile } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { randomBytes } from 'node:crypto';
import { simpleParser, type ParsedMail } from 'mailparser';
import { blocklistWorkflowId } from '../../src/shared/constants';
import type { SweepInput, SweepResult } from '../../src/shared/types';
import { buildAdvisory, csvAdvisory, defangedAdvisory, reportedPhish } from '../../scripts/sample-advisories';
import { appendMessage, isolatedSetup, repoRoot, withImap, type TestSetup } from '../helpers/stack';
import { startWorker, type RunningWorker } from '../helpers/worker';

jest.setTimeout(180_000);

let setup: TestSetup;
let w: RunningWorker;

beforeAll(async () => {
  setup = await isolatedSetup(undefined, { APPROVAL_TIMEOUT: '2h' });
  w = await startWorker(setup);
});

afterAll(async () => {
  if (w) {
    await w.client.workflow
      .getHandle(blocklistWorkflowId(setup.config.target.name))
      .terminate('test done')
      .catch(() => undefined);
    await w.stop();
  }
  await setup?.cleanup();
});

/** The report mail of one sweep, parsed from the team's mailbox. */
async function reportMail(sweepId: string): Promise<ParsedMail> {
  return withImap(
    setup.config,
    async (c) => {
      const lock = await c.getMailboxLock('INBOX');
      try {
        const uids = (await c.search({ header: { 'X-Mail2waf-Sweep': sweepId } }, { uid: true })) || [];
        expect(uids).toHaveLength(1);
        const m = await c.fetchOne(String(uids[0]), { source: true }, { uid: true });
        return simpleParser((m as { source: Buffer }).source);
      } finally {
        lock.release();
      }
    },
    setup.env.REPORT_IMAP_USER!,
    setup.env.REPORT_IMAP_PASSWORD!,
  );
}

test('one sweep, one mail: HTML and text parts, per address what happened, threaded per day; Chromium renders it', async () => {
  await appendMessage(setup, await csvAdvisory('<csv-report@cert.example>'));
  await appendMessage(setup, await defangedAdvisory('<defanged-report@cert.example>'));
  await appendMessage(
    setup,
    await buildAdvisory({
      subject: 'Scanner report <script>alert(1)</script> & friends',
      text: 'Scanner at 193.142.146.35. Also listed by mistake: our relay 10.1.2.3 and the whole internet 0.0.0.0/0.\n',
      messageId: '<refusals-report@cert.example>',
    }),
  );
  await appendMessage(setup, await reportedPhish('45.9.148.30'));
  await appendMessage(setup, Buffer.from('\u0000\u0001garbage that is not MIME\r\n\r\n\u0002 1.2.3.4\r\n', 'binary'));

  const sweepId = `test-report-${randomBytes(4).toString('hex')}`;
  const input: SweepInput = { target: setup.config.target, mailbox: setup.config.mailbox, maxMessages: 50 };
  const result: SweepResult = await w.client.workflow.execute('mailboxSweepWorkflow', {
    workflowId: sweepId,
    taskQueue: setup.config.taskQueue,
    args: [input],
  });
  expect(result.addresses?.length).toBeGreaterThan(0);
  for (const h of result.held ?? [])
    await w.client.workflow
      .getHandle(h.approvalId)
      .terminate('test done')
      .catch(() => undefined);

  const mail = await reportMail(sweepId);
  // Headers: automatic, threaded per mailbox and day.
  expect(mail.headers.get('auto-submitted')).toBe('auto-generated');
  const day = new Date().toISOString().slice(0, 10);
  expect(mail.inReplyTo).toBe(`<mail2waf-reports.${setup.config.mailbox}.${day}@mail2waf>`);
  expect(mail.references).toEqual(mail.inReplyTo);

  // The text part, as mailparser reads it from the real mailbox.
  const text = mail.text ?? '';
  expect(text).toMatch(/185\.220\.101\.47 — blocked — expires \d{4}-\d\d-\d\d \d\d:\d\d UTC \(in 30 days\) — from "/);
  expect(text).toMatch(/10\.1\.2\.3 — refused: a private network — /);
  expect(text).toMatch(/0\.0\.0\.0\/0 — refused: /);
  expect(text).toMatch(/45\.9\.148\.30 — held for approval/);
  expect(text).toContain('IP sets (entries of ours / ceiling per set)');
  expect(text).toMatch(new RegExp(`${setup.config.target.name}: IPv4 \\d+/10000`));
  expect(text).toContain(`/workflows/${sweepId}`);
  expect(text).toContain(`/workflows/${blocklistWorkflowId(setup.config.target.name)}`);

  // The HTML part: a document, the mail's own markup escaped, no script.
  const html = typeof mail.html === 'string' ? mail.html : '';
  expect(html).toMatch(/^<!DOCTYPE html>/);
  expect(html).toContain('Scanner report &lt;script&gt;alert(1)&lt;/script&gt; &amp; friends');
  expect(html).not.toMatch(/<script/i);
  expect(html).toContain('held for approval');
  expect(html).toContain(`/workflows/${sweepId}`);

  // Headless Chromium renders it; the screenshot is kept for the README.
  const dir = mkdtempSync(join(tmpdir(), 'm2w-report-'));
  try {
    const file = join(dir, 'report.html');
    const png = join(dir, 'report.png');
    writeFileSync(file, html);
    await promisify(execFile)(
      process.env.CHROMIUM ?? 'chromium',
      [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--no-first-run',
        `--user-data-dir=${join(dir, 'profile')}`,
        `--screenshot=${png}`,
        '--window-size=1000,1400',
        `file://${file}`,
      ],
      { timeout: 60_000 },
    );
    const bytes = readFileSync(png);
    expect(bytes.subarray(1, 4).toString()).toBe('PNG');
    // A blank page is a few KB; a rendered report with tables and text is far more.
    expect(statSync(png).size).toBeGreaterThan(30_000);
    // The README's copy is refreshed on demand (UPDATE_SCREENSHOTS=1), so that test runs leave the tree clean.
    const kept = join(repoRoot, 'docs', 'screenshots', 'report.png');
    if (process.env.UPDATE_SCREENSHOTS === '1' || !existsSync(kept)) copyFileSync(png, kept);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
