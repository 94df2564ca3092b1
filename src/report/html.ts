/**
 * The sweep report as an HTML document (the text part is render.ts): a summary, every address with what happened
 * to it, the message and place it came from and its expiry, the messages, the IP sets' fill, failures, and links
 * to the Web UI. Pure. Whoever writes an advisory controls subjects, senders, notes and places: every such value
 * passes `cell()` (oneLine, then HTML escaping), so no mail can add markup, a link or a forged row. Styles are
 * inline (many mail clients drop <style>), the layout is one table wide, no script, no remote image.
 */
import { oneLine } from '../shared/text';
import type { SweepResult } from '../shared/types';
import { addressRows, expiryWords, headline, refusalWords, type AddressFate, type IpSetFill } from './model';

/** HTML-escapes text for element content and double-quoted attributes. */
export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

/** Mail-controlled text as a table cell: one line (controls and bidi made visible), cut, then escaped. */
function cell(s: string | undefined, max = 300): string {
  return s === undefined || s === '' ? '<span style="color:#8a8f98">—</span>' : escapeHtml(oneLine(s, max));
}

/** Only http(s) links of our own settings reach an href; anything else is shown as text. */
function link(url: string | undefined, label: string): string {
  if (!url || !/^https?:\/\//i.test(url)) return escapeHtml(label);
  return `<a href="${escapeHtml(url)}" style="color:#1f5fbf">${escapeHtml(label)}</a>`;
}

const FATE_COLOURS: Record<AddressFate, [string, string]> = {
  blocked: ['#b42318', '#fee4e2'],
  'would block': ['#b54708', '#fef0c7'],
  renewed: ['#6941c6', '#f4ebff'],
  'already there': ['#475467', '#f2f4f7'],
  refused: ['#027a48', '#d1fadf'],
  'held for approval': ['#b54708', '#fef0c7'],
  'not blocked': ['#475467', '#f2f4f7'],
};

function badge(fate: AddressFate): string {
  const [fg, bg] = FATE_COLOURS[fate];
  return `<span style="display:inline-block;padding:2px 8px;border-radius:10px;font-size:12px;font-weight:600;color:${fg};background:${bg};white-space:nowrap">${escapeHtml(fate)}</span>`;
}

const TH = 'text-align:left;padding:6px 8px;border-bottom:2px solid #d0d5dd;font-size:12px;color:#475467';
const TD = 'padding:6px 8px;border-bottom:1px solid #eaecf0;vertical-align:top;font-size:13px';

function section(title: string, body: string): string {
  return `<h2 style="font-size:16px;margin:24px 0 8px;color:#101828">${escapeHtml(title)}</h2>${body}`;
}

function table(head: string[], rows: string[][]): string {
  return (
    `<table role="presentation" cellspacing="0" cellpadding="0" style="border-collapse:collapse;width:100%">` +
    `<tr>${head.map((h) => `<th style="${TH}">${escapeHtml(h)}</th>`).join('')}</tr>` +
    rows.map((r) => `<tr>${r.map((c) => `<td style="${TD}">${c}</td>`).join('')}</tr>`).join('') +
    `</table>`
  );
}

function fillBar(used: number, ceiling: number): string {
  const pct = ceiling > 0 ? Math.min(100, (used / ceiling) * 100) : 0;
  const colour = pct >= 80 ? '#d92d20' : pct >= 60 ? '#f79009' : '#12b76a';
  return (
    `<div style="width:180px;height:10px;background:#eaecf0;border-radius:5px;display:inline-block;vertical-align:middle">` +
    `<div style="width:${pct.toFixed(1)}%;height:10px;background:${colour};border-radius:5px"></div></div>` +
    ` <span style="font-size:12px;color:#475467">${used.toLocaleString('en-US')} / ${ceiling.toLocaleString('en-US')} (${pct.toFixed(pct < 1 && pct > 0 ? 2 : 0)} %)</span>`
  );
}

export interface HtmlReportOptions {
  subject: string;
  sweepUrl?: string;
  fill?: IpSetFill[];
  /** "now" for expiry words (tests pin it). */
  now?: number;
}

export function renderReportHtml(result: SweepResult, opts: HtmlReportOptions): string {
  const rows = addressRows(result);
  const h = headline(rows);
  const quarantined = result.messages.filter((m) => m.status === 'quarantined');
  const block = result.block;
  const now = opts.now ?? Date.now();

  const cards: [string, number, string][] = [
    [result.dryRun ? 'would block' : 'blocked', h.blocked, '#b42318'],
    ['renewed', h.renewed, '#6941c6'],
    ['already there', h.already, '#475467'],
    ['refused', h.refused, '#027a48'],
    ['held for approval', h.held, '#b54708'],
    ['messages quarantined', quarantined.length, '#b54708'],
  ];
  const summary =
    `<table role="presentation" cellspacing="0" cellpadding="0" style="border-collapse:separate;border-spacing:8px 0;margin:0 -8px"><tr>` +
    cards
      .map(
        ([label, n, colour]) =>
          `<td style="padding:10px 12px;border:1px solid #eaecf0;border-radius:8px;min-width:90px">` +
          `<div style="font-size:22px;font-weight:700;color:${n > 0 ? colour : '#98a2b3'}">${n}</div>` +
          `<div style="font-size:12px;color:#475467">${escapeHtml(label)}</div></td>`,
      )
      .join('') +
    `</tr></table>`;

  const problems: string[] = [];
  if (result.dryRun) problems.push('DRY RUN: nothing was written to AWS WAF and no message was moved.');
  if (!result.dryRun && block && !block.synced)
    problems.push('Some changes are recorded but not yet confirmed in AWS WAF; run `mail2waf status` to follow them.');
  for (const b of Object.values(result.blocks ?? (block ? { '': block } : {})))
    if (b.capacityWarning) problems.push(`Capacity: ${oneLine(b.capacityWarning, 500)}.`);
  for (const f of opts.fill ?? []) {
    if (f.lastSyncError)
      problems.push(`Blocklist ${f.target}: the last write to AWS WAF failed: ${oneLine(f.lastSyncError, 500)}`);
  }
  for (const m of quarantined.filter((q) => q.reasonCode === 'analysis-failed'))
    problems.push(`Message uid ${m.uid} could not be analysed: ${oneLine(m.reason, 500)}`);
  const failures = problems.length
    ? `<div style="margin:16px 0;padding:10px 14px;border-left:4px solid #f79009;background:#fffaeb;font-size:13px">` +
      problems.map((p) => `<div style="margin:2px 0">${escapeHtml(p)}</div>`).join('') +
      `</div>`
    : '';

  const several = rows.some((r) => r.target !== undefined);
  const addressTable = rows.length
    ? table(
        ['Address', 'What happened', ...(several ? ['Target'] : []), 'From message', 'Found in', 'Expires'],
        rows.map((r) => [
          `<code style="font-size:13px">${cell(r.value, 60)}</code>`,
          badge(r.fate) +
            (r.why || r.code
              ? `<div style="font-size:12px;color:#475467;margin-top:2px">${r.fate === 'refused' && r.code ? `${escapeHtml(refusalWords({ code: r.code }))}: ` : ''}${cell(r.why ?? r.code, 500)}</div>`
              : '') +
            (r.approvalId
              ? `<div style="font-size:12px;color:#475467">decide: <code>mail2waf approve|reject ${cell(r.approvalId, 200)}</code></div>`
              : ''),
          ...(several ? [cell(r.target)] : []),
          r.message
            ? `${cell(r.message.subject ?? '(no subject)', 200)}<div style="font-size:12px;color:#475467">${cell(r.message.from ?? 'unknown sender', 200)} · uid ${r.message.uid}</div>`
            : cell(undefined),
          cell(r.where, 320),
          r.fate === 'blocked' || r.fate === 'would block' || r.fate === 'renewed' || r.fate === 'already there'
            ? escapeHtml(expiryWords(r.expiresAt, now))
            : cell(undefined),
        ]),
      ) +
      (result.addressesLeftOut
        ? `<p style="font-size:12px;color:#475467">…and ${result.addressesLeftOut} more address(es): <code>mail2waf why &lt;ip&gt;</code> or the Web UI has each.</p>`
        : '')
    : '<p style="font-size:13px;color:#475467">No address in these messages.</p>';

  const lists: string[] = [];
  const expired = block?.expired ?? [];
  const evicted = block?.evicted ?? [];
  if (expired.length)
    lists.push(
      `Expired since the last report (removed from AWS WAF): ${expired.map((v) => oneLine(v, 60)).join(', ')}`,
    );
  if (evicted.length)
    lists.push(`Evicted to make room (IP set full): ${evicted.map((v) => oneLine(v, 60)).join(', ')}`);

  const messages = table(
    ['Message', 'Outcome', 'Addresses', 'Notes'],
    result.messages.map((m) => [
      `${cell(m.subject ?? '(no subject)', 200)}<div style="font-size:12px;color:#475467">${cell(m.from ?? 'unknown sender', 200)} · uid ${m.uid}${m.messageId ? ` · ${cell(m.messageId, 200)}` : ''}</div>`,
      `${escapeHtml(m.status)}${m.reasonCode ? `<div style="font-size:12px;color:#475467">${cell(m.reasonCode, 60)}: ${cell(m.reason, 500)}</div>` : ''}`,
      String(m.indicatorCount),
      m.notes.length ? m.notes.map((n) => cell(n, 300)).join('<br>') : cell(undefined),
    ]),
  );

  const fill = opts.fill?.length
    ? table(
        ['Target', 'IPv4 set', 'IPv6 set', 'Blocklist'],
        opts.fill.map((f) => [
          cell(f.target, 64),
          fillBar(f.v4, f.ceiling),
          fillBar(f.v6, f.ceiling),
          `${link(f.blocklistUrl, 'open in the Web UI')}${f.pendingChanges ? `<div style="font-size:12px;color:#b54708">${f.pendingChanges} change(s) waiting to be written</div>` : ''}`,
        ]),
      )
    : '';

  const title = `mail2waf report — ${result.mailbox}`;
  return [
    '<!DOCTYPE html>',
    '<html lang="en"><head><meta charset="utf-8">',
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    `<title>${cell(opts.subject, 300)}</title></head>`,
    '<body style="margin:0;padding:0;background:#f9fafb;font-family:-apple-system,Segoe UI,Roboto,Helvetica,Arial,sans-serif;color:#101828">',
    '<div style="max-width:960px;margin:0 auto;padding:20px">',
    '<div style="background:#ffffff;border:1px solid #eaecf0;border-radius:10px;padding:20px 24px">',
    `<div style="font-size:12px;letter-spacing:.04em;text-transform:uppercase;color:#667085">${escapeHtml(title)}</div>`,
    `<h1 style="font-size:20px;margin:4px 0 16px">${cell(opts.subject, 300)}</h1>`,
    summary,
    failures,
    section(`Addresses (${rows.length})`, addressTable),
    lists.length
      ? `<div style="font-size:13px;margin-top:8px">${lists.map((l) => `<div>${escapeHtml(l)}</div>`).join('')}</div>`
      : '',
    section(`Messages (${result.messages.length})`, messages),
    fill ? section('IP sets', fill) : '',
    section(
      'Links',
      `<div style="font-size:13px">Sweep ${cell(result.sweepId, 200)}: ${link(opts.sweepUrl, 'open in the Temporal Web UI')}</div>` +
        (opts.fill ?? [])
          .map(
            (f) =>
              `<div style="font-size:13px">Blocklist ${cell(f.target, 64)}: ${link(f.blocklistUrl, 'open in the Temporal Web UI')}</div>`,
          )
          .join(''),
    ),
    '<p style="font-size:12px;color:#667085;margin-top:20px">Unblock with <code>mail2waf unblock &lt;ip|cidr&gt; --reason "&lt;why&gt;"</code>, ' +
      'or send the <code>unblock</code> signal to the blocklist from the Web UI. This mail was sent automatically by mail2waf.</p>',
    '</div></div></body></html>',
  ].join('\n');
}
