/**
 * The Temporal Web UI in a real browser (Debian's headless Chromium, driven by playwright-core) with the codec
 * server configured: the browser signs in at the codec server's /login (the UI cannot send a bearer token of ours;
 * it sends cookies with "Include cross-origin credentials"), the UI's Codec Server settings point at the codec
 * server (through its Codec Server dialog, a browser setting: the shared dev server is not restarted with
 * --ui-codec-endpoint), the sweep is found through a search attribute, and its page shows the decoded result.
 * Screenshots go to docs/screenshots/ (the README shows them).
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { buildAdvisory } from '../../scripts/sample-advisories';
import type { SweepInput } from '../../src/shared/types';
import { appendMessage, isolatedSetup, repoRoot, waitFor, type TestSetup } from '../helpers/stack';
import { startWorker, type RunningWorker } from '../helpers/worker';
import { startCodecServer, stopChild } from '../helpers/codec-server';

// Browser globals in functions that run in the page (the project's TypeScript has no DOM library).
declare const document: { body?: { innerText: string } };

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const SHOTS = join(repoRoot, 'docs', 'screenshots');

let setup: TestSetup;
let w: RunningWorker;
let profile: string;
let browser: BrowserContext | undefined;

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`${CHROMIUM} is missing: npm run stack:up installs Debian's chromium (or set CHROMIUM_PATH)`);
  }
  setup = await isolatedSetup();
  w = await startWorker(setup);
  profile = mkdtempSync(join(tmpdir(), 'm2w-chromium-'));
});
afterAll(async () => {
  await browser?.close();
  if (profile) rmSync(profile, { recursive: true, force: true });
  await w?.stop();
  await setup?.cleanup();
});

/** The page's visible text contains `text` (the UI renders lazily and decodes asynchronously). */
async function waitForText(page: Page, text: string, timeout = 60_000) {
  await page.waitForFunction((t) => document.body?.innerText.includes(t), text, { timeout, polling: 250 });
}

test('the Web UI finds the sweep by a search attribute and shows its decoded result through the codec server', async () => {
  const tag = randomBytes(3).toString('hex');
  const subject = `FIN7 command-and-control servers (advisory ${tag})`;
  const address = `185.220.${100 + (parseInt(tag.slice(0, 2), 16) % 100)}.${parseInt(tag.slice(2, 4), 16)}`;
  await appendMessage(
    setup,
    await buildAdvisory({ subject, text: `Block ${address} now (C2).`, messageId: `<ui-${tag}@cert.example>` }),
  );
  const workflowId = `sweep-ui-${tag}`;
  const input: SweepInput = { target: setup.config.target, mailbox: setup.config.mailbox, searchAttributes: true };
  await w.client.workflow.execute('mailboxSweepWorkflow', {
    workflowId,
    taskQueue: setup.config.taskQueue,
    args: [input],
  });
  const query = `Mail2wafOutcome = "blocked" AND TaskQueue = "${setup.config.taskQueue}"`;
  await waitFor('the sweep in the visibility store', async () => {
    for await (const wf of w.client.workflow.list({ query })) if (wf.workflowId === workflowId) return true;
    return false;
  });

  const uiUrl = setup.env.TEMPORAL_UI_URL ?? 'http://127.0.0.1:8233';
  const token = randomBytes(24).toString('hex');
  const codec = await startCodecServer({ ...setup.env, CODEC_SERVER_TOKEN: token, CODEC_CORS_ORIGIN: uiUrl });
  try {
    browser = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      viewport: { width: 1440, height: 1000 },
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--no-first-run',
      ],
    });
    const page = browser.pages()[0] ?? (await browser.newPage());
    const decodeCalls: number[] = [];
    page.on('response', (r) => {
      if (r.url().startsWith(`${codec.url}/decode`)) decodeCalls.push(r.status());
    });

    // Sign this browser in at the codec server: the token goes into a form once, an HttpOnly cookie comes back.
    await page.goto(`${codec.url}/login`);
    await page.fill('input[name=token]', token);
    await Promise.all([page.waitForNavigation(), page.click('button[type=submit]')]);
    await waitForText(page, 'This browser is signed in');

    // Find the sweep through a search attribute.
    await page.goto(`${uiUrl}/namespaces/default/workflows?query=${encodeURIComponent(query)}`);
    const link = page.locator(`a[href*="/workflows/${workflowId}/"]`).first();
    await link.waitFor({ timeout: 60_000 });
    mkdirSync(SHOTS, { recursive: true });
    await page.screenshot({ path: join(SHOTS, 'web-ui-search.png') });

    // Without a codec endpoint the UI shows what the server stores: the ciphertext (a base64 blob), no subject.
    await link.click();
    await page.waitForFunction(() => /"[A-Za-z0-9+/]{200,}={0,2}"/.test(document.body?.innerText ?? ''), undefined, {
      timeout: 60_000,
      polling: 250,
    });
    expect(await page.innerText('body')).not.toContain(address);
    expect(await page.innerText('body')).not.toContain(subject);
    await page.screenshot({ path: join(SHOTS, 'web-ui-encrypted-sweep.png') });

    // The UI's codec server settings, through its dialog as a person sets them (stored in the browser): this
    // browser's endpoint over the cluster's (the shared dev server has none), with cookies sent along. Then the
    // same page again: the result, decrypted by the codec server, shows the advisory's subject and address.
    await page.click('button[aria-label="Configure Codec Server"]');
    await page.getByText('Use my browser setting and ignore Cluster-level setting.').click();
    await page.getByPlaceholder('Paste your endpoint here').fill(codec.url);
    await page.getByText('Include cross-origin credentials').click();
    await page.getByRole('button', { name: 'Apply' }).click();
    await page.reload();
    await waitForText(page, subject);
    await waitForText(page, address);
    expect(decodeCalls.length).toBeGreaterThan(0);
    expect(decodeCalls.every((s) => s === 200)).toBe(true);
    expect(await page.innerText('body')).not.toMatch(/"[A-Za-z0-9+/]{200,}={0,2}"/);
    // The subject sits further down the result: bring it into view for the screenshot.
    await page.getByText(subject).first().scrollIntoViewIfNeeded();
    await page.screenshot({ path: join(SHOTS, 'web-ui-decoded-sweep.png'), fullPage: false });
  } finally {
    await stopChild(codec.child);
  }
});
