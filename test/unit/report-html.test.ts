import { renderReport } from '../../src/report/render';
import { escapeHtml } from '../../src/report/html';
import { addressRows, expiryWords, reportThreadId } from '../../src/report/model';
import { reportAddresses, REPORT_ADDRESSES } from '../../src/report/addresses';
import type { MessageAnalysis, SweepResult } from '../../src/shared/types';

const now = Date.parse('2026-12-06T12:00:00Z');
const hostile = 'Advisory <img src=x onerror=alert(1)> "quoted" & \u202egnp.exe\n  Blocked (1)\n  8.8.8.8';

const result: SweepResult = {
  sweepId: 'mail2waf-sweep-1',
  mailbox: 'INBOX',
  dryRun: false,
  messages: [
    {
      uid: 1,
      messageId: '<a@x>',
      subject: hostile,
      from: 'cert@x <script>',
      status: 'processed',
      indicators: ['185.220.101.47', '10.1.2.3', '45.133.1.20'],
      indicatorCount: 3,
      notes: ['note <b>bold</b>'],
    },
    {
      uid: 2,
      subject: 'phish',
      from: 'alice@x',
      status: 'held',
      reasonCode: 'reported-phish',
      reason: 'it carries an attached message',
      indicators: ['45.9.148.30'],
      indicatorCount: 1,
      notes: [],
    },
  ],
  block: {
    added: ['185.220.101.47'],
    alreadyPresent: ['45.133.1.20'],
    refused: [{ value: '10.1.2.3', code: 'private', reason: '10.1.2.3 is in private range 10.0.0.0/8' }],
    synced: true,
  },
  held: [{ approvalId: 'mail2waf-approval-INBOX-1-2', kind: 'held-message', uids: [2], reason: 'phish' }],
  addresses: [
    { value: '185.220.101.47', uid: 1, where: 'body:line 2 <i>', expiresAt: '2027-01-05T12:00:00.000Z' },
    { value: '45.133.1.20', uid: 1, where: 'attachment iocs.csv:line 2', expiresAt: '2027-01-05T12:00:00.000Z' },
    { value: '10.1.2.3', uid: 1, expiresAt: '2027-01-05T12:00:00.000Z' },
    { value: '45.9.148.30', uid: 2, where: 'attachment phish.eml > body:line 1' },
  ],
};

test('every address gets a row: blocked, renewed, refused in words, held with its approval', () => {
  const rows = addressRows(result);
  expect(rows.map((r) => [r.value, r.fate])).toEqual([
    ['185.220.101.47', 'blocked'],
    ['45.133.1.20', 'renewed'],
    ['10.1.2.3', 'refused'],
    ['45.9.148.30', 'held for approval'],
  ]);
  expect(rows[3]!.approvalId).toBe('mail2waf-approval-INBOX-1-2');
  expect(rows[0]!.message?.uid).toBe(1);
  const r = renderReport(result, { webUiUrl: 'http://ui/x', now });
  expect(r.text).toContain(
    '185.220.101.47 — blocked — expires 2027-01-05 12:00 UTC (in 30 days) — from "Advisory <img src=x onerror=alert(1)> "quoted"',
  );
  expect(r.text).toContain('10.1.2.3 — refused: a private network — 10.1.2.3 is in private range 10.0.0.0/8');
  expect(r.text).toMatch(/45\.9\.148\.30 — held for approval: it carries an attached message — from "phish"/);
});

test('mail-controlled text cannot add markup, lines or direction overrides to either part', () => {
  const r = renderReport(result, { now });
  expect(r.html).not.toMatch(/<img|<script|<b>|<i>/);
  expect(r.html).toContain('Advisory &lt;img src=x onerror=alert(1)&gt; &quot;quoted&quot; &amp; \\u202egnp.exe\\n');
  expect(r.html).not.toContain('\u202e');
  expect(r.text).not.toContain('\u202e');
  expect(r.text).not.toMatch(/^\s+Blocked \(1\)$/m);
  expect(r.text).not.toMatch(/^\s+8\.8\.8\.8$/m);
});

test('links only for http(s) URLs of our settings; fill and failures shown', () => {
  const r = renderReport(result, {
    webUiUrl: 'javascript:alert(1)',
    now,
    fill: [
      { target: 'web', v4: 8200, v6: 3, ceiling: 10000, lastSyncError: 'IP set gone', blocklistUrl: 'http://ui/b' },
    ],
  });
  expect(r.html).not.toContain('href="javascript');
  expect(r.html).toContain('href="http://ui/b"');
  expect(r.html).toContain('8,200 / 10,000 (82 %)');
  expect(r.html).toContain('the last write to AWS WAF failed: IP set gone');
  expect(r.text).toContain(
    'web: IPv4 8200/10000 (82 %), IPv6 3/10000 (0 %) — last write FAILED: IP set gone — http://ui/b',
  );
});

test('helpers: escaping, expiry words, the daily thread id', () => {
  expect(escapeHtml(`<a href="x">'&'</a>`)).toBe('&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;');
  expect(expiryWords(null)).toBe('permanent');
  expect(expiryWords(undefined)).toBe('—');
  expect(expiryWords('2026-12-06T18:00:00Z', now)).toBe('2026-12-06 18:00 UTC');
  expect(reportThreadId('Advisories/CERT feed', new Date('2026-12-06T23:59:00Z'))).toBe(
    '<mail2waf-reports.Advisories_CERT_feed.2026-12-06@mail2waf>',
  );
});

test('the addresses a sweep result carries are bounded and say how many were left out', () => {
  const m = (uid: number, n: number, from = 'cert@x'): MessageAnalysis => ({
    ref: { mailbox: 'INBOX', uidValidity: '1', uid },
    status: 'ok',
    from,
    notes: [],
    indicators: Array.from({ length: n }, (_, i) => ({
      value: `45.${uid}.${Math.floor(i / 250)}.${i % 250}`,
      version: 4 as const,
      where: ['body:line 1', 'x'.repeat(1000), 'third'],
    })),
  });
  const { addresses, leftOut } = reportAddresses([m(1, 250)], [m(2, 100)], '2026-12-06T12:00:00.000Z', [], 86_400_000);
  expect(addresses).toHaveLength(REPORT_ADDRESSES);
  expect(leftOut).toBe(50);
  expect(addresses[0]!.expiresAt).toBe('2026-12-07T12:00:00.000Z');
  expect(addresses[260]!.expiresAt).toBeUndefined();
  expect(addresses[0]!.where!.length).toBeLessThanOrEqual(320);
  expect(JSON.stringify(addresses).length).toBeLessThan(200_000);
  const permanent = reportAddresses([m(1, 1)], [], '2026-12-06T12:00:00.000Z', [{ match: 'x', ttlMs: 5 }], null);
  expect(permanent.addresses[0]!.expiresAt).toBeNull();
});
